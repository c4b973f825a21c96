"""The offline plan of a change and its live plan agree (issue 14, done-when).

Each device's running configuration is read from the lab as a backup tool stores it (the switch's
``show running-config`` output as printed, banner lines included; the firewall's ``nft list
ruleset``; the load balancer's managed state), written to a directory of backups in Oxidized's
layout, and the same change is planned both ways through the command line: live (``--no-record``)
and ``--offline``. Diff, category, reasons and rollback lines must be the same on every host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]


def netchange(lab: LabManager, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETCHANGE_NORNIR_CONFIG": str(lab.nornir_config), "NETCHANGE_ACTOR": "dnguyen",
           "NETCHANGE_POLICY": str(REPO / "policy.yaml")}
    return subprocess.run([sys.executable, "-m", "netchange", *args], env=env, capture_output=True, text=True,
                          check=False, cwd=REPO, timeout=180)


def test_offline_and_live_plans_agree(lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    switch, firewall, balancer = "sw-doif-acc1", "fw-doif-a", "lb-doif"
    backups = tmp_path / "oxidized"
    for group, host, text in (
        ("switches", switch, open_driver(switch).device.send_command("show running-config")),
        ("firewalls", firewall, open_driver(firewall).get_config(retrieve="running")["running"]),
        ("balancers", balancer, open_driver(balancer).get_config(retrieve="running")["running"]),
    ):
        (backups / group).mkdir(parents=True, exist_ok=True)
        (backups / group / host).write_text(text)
    assert (backups / "switches" / switch).read_text().startswith("Building configuration")  # as printed

    change = tmp_path / "c.yaml"
    change.write_text(yaml.safe_dump({
        "id": "CHG-2026-0931", "title": "Offline and live", "ticket": "T-931", "requester": "amoreau",
        "steps": [
            {"type": "access_port", "targets": {"hosts": [switch]},
             "params": {"interfaces": ["FastEthernet0/12"], "description": "printer 12", "access_vlan": 20,
                        "enabled": True}},
            {"type": "vlan", "targets": {"hosts": [switch]}, "params": {"vlan_id": 931, "name": "offline"}},
            {"type": "fw_rule", "targets": {"hosts": [firewall]},
             "params": {"name": "offline-9931", "source": "10.201.1.0/24", "destination": "10.202.1.10/32",
                        "protocol": "tcp", "port": 9931}},
            {"type": "lb_member", "targets": {"hosts": [balancer]},
             "params": {"action": "weight", "backend": "be_web", "server": "web1", "weight": 7}},
        ]}))
    live = netchange(lab, "plan", str(change), "--json", "--no-record")
    offline = netchange(lab, "plan", str(change), "--json", "--offline", str(backups))
    assert live.returncode == 0, live.stdout[-2000:] + live.stderr
    assert offline.returncode == 0, offline.stdout[-2000:] + offline.stderr
    a, b = json.loads(live.stdout), json.loads(offline.stdout)
    assert a["category"] == b["category"] == "medium"  # the new VLAN
    assert a["reasons"] == b["reasons"]
    assert b["offline"] and a["offline"] is None

    def by_host(doc: dict[str, Any]) -> dict[str, Any]:
        hosts = doc["hosts"]
        return {h["name"] if "name" in h else h["host"]: h for h in hosts} if isinstance(hosts, list) else hosts

    for host in (switch, firewall, balancer):
        live_host, offline_host = by_host(a)[host], by_host(b)[host]
        assert live_host["diff"] and live_host["diff"] == offline_host["diff"], host
        assert live_host["category"] == offline_host["category"], host
        assert live_host["reasons"] == offline_host["reasons"], host
        assert live_host["candidate"] == offline_host["candidate"], host
        assert live_host["rollback"] == offline_host["rollback"], host
    # What only the device knows is not pretended offline: the pool's health was not read.
    checks = {c["name"]: c for c in by_host(b)[balancer]["pre_checks"]}
    assert checks["be_web keeps at least one server up"]["not_run"]
    assert {c["name"]: c for c in by_host(a)[balancer]["pre_checks"]}["be_web keeps at least one server up"]["passed"]
