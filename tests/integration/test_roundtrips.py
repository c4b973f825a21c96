"""Round trips per host of an apply, counted at the session layer (issue 27 item 1).

The physical limit of a safe change is three round trips per host: read (the snapshot, which is
the drift check when it is taken at the host's turn, under the lock), configure, read back (the
state left, and what the post-checks read from the configuration). Each apply here runs as an
engineer runs it, through ``python -m tests.roundtrip_counter`` (netchange with netmiko's and
SshExec's senders counted: :mod:`tests.roundtrip_counter`), on the lab's stand-ins; a driver or an
engine change that adds an exchange fails here, not in a benchmark. What a platform sends beyond
the three is named in :data:`EXTRA` with its reason (the save and its read-back).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager
from tests.integration.test_e2e_apply import MEDIUM_TIME, MINOR_TIME, REPO, netchange, write

pytestmark = pytest.mark.lab

SETUP = ("terminal width", "terminal length", "terminal pager")
"""netmiko's own session preparation at login (the floor's session does the same): not counted."""

LIMIT = {"ios_cli": 5, "asa_cli": 5, "nftables": 6, "frr": 13}
"""Round trips per host of an apply, at most (before issue 27: ios_cli 9, asa_cli 8, nftables 10, frr 18).

IOS and ASA: the three, then the save. The reading at the host's turn, under the lock, just
before the commit (the snapshot and the drift check; the prepare phase only opens the sessions),
from which the commit's lines are computed: the commit writes without reading again, the reading
being the engine's and less than ``running_reuse_seconds`` old (``CliDriver._checked_fresh``);
the configuration; the read-back (the state left; the post-checks read the VLAN database from it).
The extra two are the save, which these platforms need because their running configuration is
lost at reload unless written to the startup: ``write memory`` and ``show startup-config``
(compared with the read-back, not with one more reading).
nftables: the reading at the host's turn (which the compare's prediction starts from and the
commit is checked against, without listing again while it is less than ``running_reuse_seconds``
old: ``NetchangeDriver._commit_check``), ``nft -c`` of the candidate, the prediction in a network
namespace, ``nft -f``, the driver's listing of the state it left (what a rollback is checked
against, kept in the driver for callers that do not read back), the engine's read-back (8 before).
FRR: 13 (18 before issue 27): the daemons answering at the session's opening (the prepare phase),
the reading at the host's turn (which the load's merge target, the compare and the commit start
from, and the commit's check, while it is less than ``running_reuse_seconds`` old), ``vtysh -C``
of the target, ``frr-reload.py --test`` (the compare's, whose commands the commit sends), the send,
the driver's reading of what it left and ``frr-reload.py --test`` of it (what did not take, or a
line typed during the write), the engine's read-back, the post-checks' two ``show … json``, then the
save through vtysh, the startup file and the running configuration it is compared with. Each
reading also lists the daemons and their pid files (one exec); the limit keeps it from growing."""


def counted_apply(lab: LabManager, tmp_path: Path, change_id: str, now: str,
                  expect: int = 0) -> tuple[dict[str, Any], dict[str, list[str]]]:
    out = tmp_path / f"{change_id}-roundtrips.json"
    env = {**os.environ, "NETCHANGE_NORNIR_CONFIG": str(lab.nornir_config), "NETCHANGE_ACTOR": "dnguyen",
           "NETCHANGE_POLICY": str(REPO / "policy.yaml"), "NETCHANGE_NOW": now, "NETCHANGE_ROUNDTRIPS": str(out),
           "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "tests.roundtrip_counter", "apply", change_id, "--json"], env=env,
                          capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
    assert proc.returncode == expect, proc.stdout + proc.stderr
    return json.loads(proc.stdout), json.loads(out.read_text())


def inventory(lab: LabManager) -> dict[str, Any]:
    options = yaml.safe_load(Path(lab.nornir_config).read_text())["inventory"]["options"]
    hosts: dict[str, Any] = yaml.safe_load(Path(options["host_file"]).read_text())
    return hosts


def sent_to(lab: LabManager, sent: dict[str, list[str]], host: str) -> list[str]:
    """What was sent to ``host`` of the inventory (counted by ``hostname:port``), session set-up aside."""
    entry = inventory(lab)[host]
    commands = sent.get(f"{entry.get('hostname', host)}:{entry.get('port', 22)}", [])
    return [c for c in commands if not c.removeprefix("config: ").startswith(SETUP)]


def plan_approve(lab: LabManager, tmp_path: Path, request: dict[str, Any], approvers: tuple[str, ...]) -> None:
    planned = netchange(lab, "plan", write(tmp_path, f"{request['id']}.yaml", request), "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    for person in approvers:
        approved = netchange(lab, "approve", request["id"], actor=person)
        assert approved.returncode == 0, approved.stdout + approved.stderr


CASES: dict[str, dict[str, Any]] = {
    "ios_cli": {"hosts": ["sw-doif-core1", "sw-doif-core2"], "now": MEDIUM_TIME, "approvers": ("amoreau",),
                "steps": [{"type": "vlan", "params": {"vlan_id": 327, "name": "roundtrips"}}]},
    "asa_cli": {"hosts": ["asa-doif"], "now": MINOR_TIME, "approvers": (),
                "steps": [{"type": "fw_object_group", "params": {"group": "Inside", "add": ["198.51.100.27/32"]}}]},
    "nftables": {"hosts": ["fw-doif-a"], "now": MINOR_TIME, "approvers": (),
                 "steps": [{"type": "fw_object_group", "params": {}}]},  # the lab firewall's probe group: below
    "frr": {"hosts": ["rtr-doso-a"], "now": MINOR_TIME, "approvers": (),
            "steps": [{"type": "prefix_list", "params": {"name": "FROM-UPSTREAM", "add": [
                {"seq": 27, "action": "deny", "prefix": "203.0.113.0/24"}]}}]},
}


@pytest.mark.parametrize("platform", list(CASES))
def test_round_trips_per_host_within_the_limit(lab: LabManager, tmp_path: Path, platform: str) -> None:
    case = CASES[platform]
    change_id = f"CHG-2026-27{list(CASES).index(platform):02d}"
    request: dict[str, Any] = {"id": change_id, "title": f"round trips on {platform}", "ticket": "T-27",
                               "requester": "crenard",
                               "rollout": {"canary": 1, "batch_size": 5},
                               "steps": [{**step, "targets": {"hosts": case["hosts"]}} for step in case["steps"]]}
    if platform == "nftables":  # the group and client the lab's firewall was built with
        probe = inventory(lab)["fw-doif-a"]["data"]["probe"]
        request["steps"][0]["params"] = {"group": probe["group"], "add": [probe["client_address"]]}
    plan_approve(lab, tmp_path, request, case["approvers"])
    summary, sent = counted_apply(lab, tmp_path, change_id, case["now"])
    assert summary["outcome"] == "completed", summary
    allowed = LIMIT[platform]
    for host in case["hosts"]:
        commands = sent_to(lab, sent, host)
        assert commands, f"{host}: nothing counted (keys: {sorted(sent)})"
        print(f"{platform} {host}: {len(commands)} round trips: {commands}")
        assert len(commands) <= allowed, f"{host}: {len(commands)} round trips (at most {allowed}): {commands}"


RESTORE_LIMIT = {"sw-doif-core1": 5 + 6, "sw-doif-core2": 5 + 6}
"""An apply rolled back after its post-checks: the apply's five, then the restore's six in the same
session (the reading before the restore, for someone else's lines; the inverse's re-read; the
inverse; the verification; the save and its read-back, compared with the verification's reading).
Before issue 27: 9 + 7; 6 + 6 before the reading at the host's turn. The reading before the
restore could be the post-checks' read-back, checked by the inverse's re-read, but then an edit
landing between the two is refused by the re-read instead of read and named first:
tests/integration/test_another_hand_platforms.py's restore case asserts the present order, kept.
The inverse's re-read stays too (``rollback`` always reads again): the reading before it is the
check for someone else's lines, not one the inverse was computed from."""


def test_round_trips_of_a_rollback_within_the_limit(lab: LabManager, tmp_path: Path) -> None:
    """Two switches and a firewall whose post-check fails (no server on port 9999): everything is
    rolled back, verified, and the switches' restores send what :data:`RESTORE_LIMIT` allows."""
    request = {"id": "CHG-2026-2790", "title": "round trips of a rollback", "ticket": "T-27",
               "requester": "crenard", "steps": [
                   {"type": "vlan", "targets": {"hosts": ["sw-doif-core1", "sw-doif-core2"]},
                    "params": {"vlan_id": 328, "name": "rollback"}},
                   {"type": "fw_rule", "targets": {"hosts": ["fw-doif-a"]},
                    "params": {"name": "rt-9999", "source": "10.201.1.0/24", "destination": "10.202.1.10/32",
                               "protocol": "tcp", "port": 9999}}]}
    plan_approve(lab, tmp_path, request, ("amoreau",))
    summary, sent = counted_apply(lab, tmp_path, "CHG-2026-2790", MEDIUM_TIME, expect=1)
    assert summary["outcome"] == "rolled_back", summary
    by_name = {h["name"]: h for h in summary["hosts"]}
    for host, allowed in RESTORE_LIMIT.items():
        assert by_name[host]["restore"]["verified"], by_name[host]
        commands = sent_to(lab, sent, host)
        print(f"rollback {host}: {len(commands)} round trips: {commands}")
        assert len(commands) <= allowed, f"{host}: {len(commands)} round trips (at most {allowed}): {commands}"
