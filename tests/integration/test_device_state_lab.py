"""Device state, not text, on the lab (issue 22 item 1, finding 1).

A lab switch is put in VTP server mode (``vtp mode server``: the launcher's adjustment 6, as a
Catalyst keeps its normal-range VLANs in vlan.dat, ``show running-config`` no longer lists them
while ``show vlan brief`` still does). On it, ``access_port`` into VLAN 20:

- planned live, "vlan 20 exists" passes from the switch's own ``show vlan brief`` (it failed: the
  check read the running configuration, which has no ``vlan 20`` section any more);
- planned offline from the same switch's backup, the check is "not run offline", never failed;
- a VLAN the switch does not have fails live from ``show vlan brief`` (exit 1, nothing sent);
- the live plan is applied (its post-check passes), rolled back, and the switch is byte for byte
  as before; ``vtp mode transparent`` then gives back the switch's running configuration.

fake-switches' ``show vlan brief`` prints in IOS's layout, parsed by the ntc-templates template the
check uses: the live reading is the real code path against the stand-in's own output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netchange.lab.manager import LabManager
from tests.integration.test_e2e_apply import MINOR_TIME, netchange, write

pytestmark = pytest.mark.lab
SWITCH = "sw-doso-acc2"


def _change(tmp_path: Path, change_id: str, vlan: int) -> str:
    return write(tmp_path, f"{change_id}.yaml", {
        "id": change_id, "title": "Port d'imprimante au VLAN serveurs", "ticket": "T-2201", "requester": "bleroy",
        "steps": [{"type": "access_port", "targets": {"hosts": [SWITCH]},
                   "params": {"interfaces": ["FastEthernet0/12"], "description": "printer 12", "access_vlan": vlan,
                              "enabled": True}}]})


def _host(result: Any) -> dict[str, Any]:
    assert result.stdout.strip(), result.stderr
    hosts = json.loads(result.stdout)["hosts"]
    host: dict[str, Any] = {h["name"]: h for h in hosts}[SWITCH] if isinstance(hosts, list) else hosts[SWITCH]
    return host


@pytest.fixture
def vtp_server(lab: LabManager, open_driver: Callable[[str], Any]) -> Iterator[str]:
    """The switch in VTP server mode for the test; its running configuration as it was before."""
    session = open_driver(SWITCH).device
    before = session.send_command("show running-config")
    assert "\nvlan 20\n" in before
    session.send_config_set(["vtp mode server"])
    try:
        yield before
    finally:
        session.send_config_set(["vtp mode transparent"])
        assert session.send_command("show running-config") == before


def test_access_port_on_a_vtp_server_reads_the_vlan_from_the_switch(
        lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any], vtp_server: str) -> None:
    session = open_driver(SWITCH).device
    text = session.send_command("show running-config")
    assert "vlan 20" not in text.splitlines() and " switchport access vlan 10" in text.splitlines()
    assert any(line.split()[:2] == ["20", "servers"] for line in session.send_command("show vlan brief").splitlines())

    planned = netchange(lab, "plan", _change(tmp_path, "CHG-2026-2211", 20), "--json")
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr  # was 1: "vlan 20 exists" failed
    checks = {c["name"]: c for c in _host(planned)["pre_checks"]}
    assert checks["vlan 20 exists"]["passed"], checks
    assert checks["vlan 20 exists"]["detail"] == "per show vlan brief: servers active"

    backups = tmp_path / "oxidized" / "switches"
    backups.mkdir(parents=True)
    (backups / SWITCH).write_text(text)
    offline = netchange(lab, "plan", _change(tmp_path, "CHG-2026-2212", 20), "--json", "--offline",
                        str(tmp_path / "oxidized"))
    assert offline.returncode == 0, offline.stdout[-3000:] + offline.stderr
    not_run = {c["name"]: c for c in _host(offline)["pre_checks"]}["vlan 20 exists"]
    assert not_run["passed"] is False and not_run["not_run"] == "not run offline: needs the live device"
    assert _host(offline)["diff"] == _host(planned)["diff"]

    missing = netchange(lab, "plan", _change(tmp_path, "CHG-2026-2213", 103), "--json", "--no-record")
    assert missing.returncode == 1, missing.stdout[-3000:] + missing.stderr
    failed = {c["name"]: c for c in _host(missing)["pre_checks"]}["vlan 103 exists"]
    assert not failed["passed"] and failed["detail"].startswith("VLAN 103 is not in show vlan brief")

    applied = netchange(lab, "apply", "CHG-2026-2211", now=MINOR_TIME)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    port = session.send_command("show running-config interface FastEthernet0/12")
    assert " switchport access vlan 20" in port.splitlines(), port
    rolled = netchange(lab, "rollback", "CHG-2026-2211", now=MINOR_TIME)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert session.send_command("show running-config") == text
