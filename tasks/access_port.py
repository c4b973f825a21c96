"""``access_port``: description, admin state and access VLAN of existing switch ports (minor)."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator
from ttp import ttp

from netchange.authoring import check, has_section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, DeviceText, InterfaceName, VlanId
from netchange.tasks._vlans import vlan_exists_check
from netchange.vocabulary import Perimeter, Role

_TTP = files(__package__ or "netchange.tasks") / "templates" / "access_port" / "ios_interfaces.ttp"


class AccessPortParams(StrictModel):
    interfaces: Annotated[tuple[InterfaceName, ...], Field(min_length=1, max_length=48)]
    description: DeviceText | None = None
    """The ports' description, kept by the device: checked against each host's platform rules
    (``free_text`` of its profile; IOS: printable ASCII, no ``?``, 240 characters)."""
    enabled: bool | None = None
    access_vlan: VlanId | None = None

    @model_validator(mode="after")
    def _at_least_one_setting(self) -> AccessPortParams:
        if self.description is None and self.enabled is None and self.access_vlan is None:
            raise ValueError("give at least one of description, enabled, access_vlan")
        return self


class AccessPort(ChangeType[AccessPortParams]):
    name = "access_port"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios"})
    Params = AccessPortParams

    def pre_checks(self, ctx: Context[AccessPortParams]) -> list[CheckResult]:
        checks = [
            check(f"{ifname} exists", has_section(ctx.running, f"interface {ifname}"))
            for ifname in ctx.params.interfaces
        ]
        if ctx.params.access_vlan is not None:
            # Read where the switch keeps its VLANs: a VTP server's are in vlan.dat, not in the text.
            checks.append(vlan_exists_check(ctx, ctx.params.access_vlan))
        return checks

    def post_checks(self, ctx: Context[AccessPortParams]) -> list[CheckResult]:
        ports = parse_interfaces(ctx.running)
        p = ctx.params
        checks = []
        for ifname in p.interfaces:
            port = ports.get(ifname, {})
            missing = []
            if p.description is not None and port.get("description") != p.description:
                missing.append(f"description is {port.get('description')!r}")
            if p.access_vlan is not None and port.get("access_vlan") != p.access_vlan:
                missing.append(f"access vlan is {port.get('access_vlan')}")
            if p.enabled is not None and bool(port.get("shutdown")) == p.enabled:
                missing.append("admin state")
            checks.append(check(f"{ifname} configured", bool(port) and not missing, ", ".join(missing)))
        return checks


def parse_interfaces(running: str) -> dict[str, dict[str, Any]]:
    """Interface blocks of an IOS running config, parsed with TTP (``ios_interfaces.ttp``)."""
    parser = ttp(data=running, template=_TTP.read_text())
    parser.parse()
    found = parser.result(structure="flat_list")
    rows = found[0].get("interfaces", []) if found and isinstance(found[0], dict) else []
    if isinstance(rows, dict):  # TTP returns a lone match as a dict
        rows = [rows]
    return {row["interface"]: row for row in rows}
