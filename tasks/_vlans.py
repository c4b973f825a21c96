"""Where an IOS switch keeps its VLANs, and how a check reads them from there.

A switch in VTP transparent (or off) mode keeps its VLANs in the running configuration: ``vlan N``
sections, what a backup holds. A VTP server or client keeps the normal-range VLANs (1-1005) in
``vlan.dat``, which ``show running-config`` does not print: its configuration says nothing about
which VLANs exist, and a check that reads the text would fail for a VLAN the switch uses on
another port (issue 22, finding 1). Only the device answers then (``show vlan brief``); an offline
plan reports such a check "not run offline" (:meth:`Context.device_check`), never passed or failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netchange.authoring import check
from netchange.changetype import Context
from netchange.models import CheckResult

VLAN_DATABASE_MODES = frozenset({"server", "client"})
"""VTP modes whose normal-range VLANs live in vlan.dat, outside the running configuration."""


def vlans_in_config(running: str) -> set[int]:
    """VLAN ids defined by top-level ``vlan N`` lines of a configuration."""
    found = set()
    for line in running.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "vlan" and words[1].isdigit() and not line.startswith(" "):
            found.add(int(words[1]))
    return found


def vtp_mode(running: str) -> str | None:
    """The mode of a top-level ``vtp mode X`` line, if the configuration prints one."""
    for line in running.splitlines():
        words = line.split()
        if len(words) == 3 and words[:2] == ["vtp", "mode"] and not line.startswith(" "):
            return words[2]
    return None


def vlan_database_in_config(running: str) -> bool:
    """Whether the running configuration is the switch's VLAN database.

    Not when it says ``vtp mode server`` or ``client``, nor when it has no normal-range ``vlan N``
    section at all (a VTP server, the default mode, prints neither): the VLANs are then in
    vlan.dat and only ``show vlan brief`` lists them.
    """
    if vtp_mode(running) in VLAN_DATABASE_MODES:
        return False
    return any(2 <= v <= 1001 for v in vlans_in_config(running))


def vlan_rows(ctx: Context[Any]) -> dict[str, dict[str, Any]]:
    """``show vlan brief`` of the device, parsed with ntc-templates, by VLAN id (as text)."""
    return {str(row.get("vlan_id")): row for row in ctx.parse("show vlan brief")}


def vlan_database_check(ctx: Context[Any], name: str, judge: Callable[[dict[str, dict[str, Any]]], CheckResult],
                        from_config: Callable[[set[int]], CheckResult]) -> CheckResult:
    """A check on the switch's VLANs, read where the switch keeps them.

    ``from_config`` judges the VLAN ids of the running configuration when it is the VLAN database
    (VTP transparent/off, or a syntax whose configuration always is: NETCONF); otherwise ``judge``
    gets the rows of the device's ``show vlan brief`` live, and offline the check is reported not
    run (``name``), never decided from the text.
    """
    if ctx.syntax != "ios" or vlan_database_in_config(ctx.running):
        return from_config(vlans_in_config(ctx.running))
    return ctx.device_check(name, lambda: judge(vlan_rows(ctx)))


def vlan_exists_check(ctx: Context[Any], vid: int) -> CheckResult:
    """``vlan N exists`` (and is active), from the VLAN database where the switch keeps it."""
    name = f"vlan {vid} exists"
    if vid == 1:
        return check(name, True, "VLAN 1 always exists")

    def from_config(vlans: set[int]) -> CheckResult:
        found = vid in vlans
        return check(name, found, "per running config" if found else f"no vlan {vid} in the running config")

    def judge(rows: dict[str, dict[str, Any]]) -> CheckResult:
        row = rows.get(str(vid))
        if row is None:
            return check(name, False, f"VLAN {vid} is not in show vlan brief (the switch's VLAN database)")
        status = str(row.get("status", ""))
        if status != "active":
            return check(name, False, f"VLAN {vid} is {status or 'not active'} (show vlan brief)")
        return check(name, True, f"per show vlan brief: {row.get('vlan_name', '')} active")

    note = vtp_mode(ctx.running)
    where = f"VTP {note}" if note in VLAN_DATABASE_MODES else "no vlan in the running config"
    result = vlan_database_check(ctx, name, judge, from_config)
    if result.not_run:
        return result.model_copy(update={"detail": f"{where}: the VLANs are in vlan.dat (show vlan brief)"})
    return result
