"""``vlan``: create a VLAN, optionally with its SVI (routed interface).

Creating a VLAN with its routing is a medium change of the quality plan; the classifier decides
from the diff, this type only produces it.
"""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

from netchange.authoring import check, has_section, section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, DeviceText, SafeName, VlanId
from netchange.tasks._vlans import vlan_database_check, vlan_database_in_config, vlans_in_config
from netchange.vocabulary import Perimeter, Role

__all__ = ["Svi", "Vlan", "VlanParams", "vlans_in_config"]


class Svi(StrictModel):
    address: ipaddress.IPv4Interface
    description: DeviceText | None = None
    """The SVI's description, kept by the device (the platform's ``free_text`` rules)."""


class VlanParams(StrictModel):
    vlan_id: VlanId
    name: SafeName
    svi: Svi | None = None


class Vlan(ChangeType[VlanParams]):
    name = "vlan"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "netconf"})
    Params = VlanParams

    def pre_checks(self, ctx: Context[VlanParams]) -> list[CheckResult]:
        vid = ctx.params.vlan_id
        name = f"vlan {vid} is free"

        def from_config(vlans: set[int]) -> CheckResult:
            # The running configuration holds the VLAN database (IOS in VTP transparent/off mode,
            # the NETCONF model): it answers without another round trip to the device.
            free = vid not in vlans
            return check(name, free, "per running config" if free else f"VLAN {vid} exists (running config)")

        def vlan_database(rows: dict[str, dict[str, Any]]) -> CheckResult:
            # VTP server/client: normal-range VLANs live in vlan.dat, not in the running config,
            # so only the device can answer (an offline plan reports it not run).
            free = str(vid) not in rows
            return check(name, free, "per show vlan brief" if free else f"VLAN {vid} exists (show vlan brief)")

        checks = [vlan_database_check(ctx, name, vlan_database, from_config)]
        if ctx.params.svi and ctx.syntax == "ios":
            svi_free = not has_section(ctx.running, f"interface Vlan{vid}")
            checks.append(check(f"interface Vlan{vid} is free", svi_free))
        elif ctx.params.svi:
            # The NETCONF model (lab/yang/netchange-vlans.yang) has no routed interface.
            checks.append(check("an SVI is supported on this platform", False, f"no SVI in the {ctx.syntax} model"))
        return checks

    def post_checks(self, ctx: Context[VlanParams]) -> list[CheckResult]:
        vid, name = ctx.params.vlan_id, ctx.params.name
        if ctx.syntax == "ios" and vlan_database_in_config(ctx.running):
            # The read-back of the state left is the VLAN database (VTP transparent or off): a VLAN
            # there, named, neither suspended (``state suspend``) nor shut (``shutdown``) is active,
            # as show vlan says; the check passes without one more round trip (issue 27 item 1).
            # Anything else is the device's to say: show vlan brief below decides.
            lines = [line.strip() for line in section(ctx.running, f"vlan {vid}")]
            if (has_section(ctx.running, f"vlan {vid}") and f"name {name}" in lines
                    and not {"state suspend", "shutdown"} & set(lines)):
                return [check(f"vlan {vid} {name} is active", True, "per running config (the VLAN database)")]
        if ctx.syntax == "ios":
            rows = ctx.parse("show vlan brief")
            found = [r for r in rows if r.get("vlan_id") == str(vid)]
            ok = bool(found) and found[0].get("vlan_name") == name and found[0].get("status") == "active"
            detail = f"show vlan: {found[0] if found else 'absent'}"
            return [check(f"vlan {vid} {name} is active", ok, detail)]
        present = f"vlan {vid}" in {line.strip() for line in ctx.running.splitlines()}
        return [check(f"vlan {vid} is in the running datastore", present)]
