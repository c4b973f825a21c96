"""The whole pipeline on the lab's real stand-ins, through the command line as an engineer runs it.

- a change over two switches and a firewall whose post-check fails: the rollout stops, all three
  devices are rolled back, and each is byte for byte as before;
- netchange killed (SIGKILL) in the middle of an apply: the change is found in progress and
  ``netchange recover`` brings every touched device back to its snapshot;
- two applies on one device at once: the second is refused by the lock (exit 3).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager
from tests.integration.lab2_support import freeze_outside_a_transaction

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
MINOR_TIME = "2026-12-01T10:00:00+01:00"
MEDIUM_TIME = "2026-12-01T19:10:00+01:00"


def netchange(lab: LabManager, *args: str, actor: str = "dnguyen", now: str | None = None,
              wait: bool = True) -> Any:
    env = {**os.environ, "NETCHANGE_NORNIR_CONFIG": str(lab.nornir_config), "NETCHANGE_ACTOR": actor,
           "NETCHANGE_POLICY": str(REPO / "policy.yaml"), "COLUMNS": "200"}
    if now:
        env["NETCHANGE_NOW"] = now
    cmd = [sys.executable, "-m", "netchange", *args]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=REPO, timeout=180)


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def running(open_driver: Callable[[str], Any], *hosts: str) -> dict[str, str]:
    return {h: open_driver(h).get_config(retrieve="running")["running"] for h in hosts}


def test_post_check_failure_rolls_back_three_devices(lab: LabManager, tmp_path: Path,
                                                     open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doif-core1", "sw-doif-core2", "fw-doif-a")
    before = running(open_driver, *hosts)
    change = write(tmp_path, "c.yaml", {
        "id": "CHG-2026-0901", "title": "VLAN and flow", "ticket": "T-901", "requester": "crenard",
        "steps": [
            {"type": "vlan", "targets": {"hosts": ["sw-doif-core1", "sw-doif-core2"]},
             "params": {"vlan_id": 310, "name": "e2e"}},
            # No server listens on 9999: the NEW connection the post-check opens is refused.
            {"type": "fw_rule", "targets": {"hosts": ["fw-doif-a"]},
             "params": {"name": "e2e-9999", "source": "10.201.1.0/24", "destination": "10.202.1.10/32",
                        "protocol": "tcp", "port": 9999}},
        ]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["category"] == "medium"
    assert netchange(lab, "approve", "CHG-2026-0901", actor="amoreau").returncode == 0
    applied = netchange(lab, "apply", "CHG-2026-0901", "--json", now=MEDIUM_TIME)
    assert applied.returncode == 1, applied.stderr
    summary = json.loads(applied.stdout)  # one document under --json (progress: --json-lines)
    assert summary["outcome"] == "rolled_back"
    by_name = {h["name"]: h for h in summary["hosts"]}
    assert "post-check failed" in by_name["fw-doif-a"]["error"]
    for host in hosts:
        assert by_name[host]["restore"]["verified"], host
    assert running(open_driver, *hosts) == before
    shown = netchange(lab, "show", "CHG-2026-0901", "--json")
    assert json.loads(shown.stdout)["state"] == "rolled_back"
    assert netchange(lab, "journal", "verify").returncode == 0


def _committed(journal: Path, change_id: str) -> int:
    if not journal.exists():
        return 0
    # A plain connection, closed each time: read-only (mode=ro) connections left open on a WAL
    # database can see a torn view after a writer is killed.
    with closing(sqlite3.connect(journal, timeout=10)) as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE change_id = ? AND kind = 'committed'",
                           (change_id,)).fetchone()
    return int(row[0])


def apply_until_first_commit(lab: LabManager, change_id: str) -> subprocess.Popen[str]:
    """Start ``netchange apply`` and return once the journal shows its first committed host."""
    proc: subprocess.Popen[str] = netchange(lab, "apply", change_id, now=MINOR_TIME, wait=False)
    journal = Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite"
    deadline = time.monotonic() + 60
    while _committed(journal, change_id) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    return proc


def test_killed_mid_apply_then_recover(lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doso-core1", "sw-doso-core2", "sw-doso-acc1", "sw-doso-acc2")
    before = running(open_driver, *hosts)
    change = write(tmp_path, "k.yaml", {
        "id": "CHG-2026-0902", "title": "Ports", "ticket": "T-902", "requester": "bleroy",
        "rollout": {"canary": 1, "batch_size": 1},
        "steps": [{"type": "access_port", "targets": {"hosts": list(hosts)},
                   "params": {"interfaces": ["FastEthernet0/12"], "description": "killed mid apply"}}]})
    assert netchange(lab, "plan", change).returncode == 0
    proc = apply_until_first_commit(lab, "CHG-2026-0902")
    assert proc.poll() is None, "apply finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert running(open_driver, *hosts) != before  # at least the canary changed
    listed = netchange(lab, "list", "--json")
    assert any(c["change_id"] == "CHG-2026-0902" and c["state"] == "in_progress"
               for c in json.loads(listed.stdout)["changes"])
    recovered = netchange(lab, "recover", "CHG-2026-0902")
    assert recovered.returncode == 0, recovered.stderr + recovered.stdout
    assert running(open_driver, *hosts) == before
    shown = json.loads(netchange(lab, "show", "CHG-2026-0902", "--json").stdout)
    assert shown["state"] == "rolled_back"


def test_second_apply_on_the_same_device_is_refused(lab: LabManager, tmp_path: Path) -> None:
    common = {"ticket": "T-903", "requester": "amoreau", "rollout": {"canary": 1, "batch_size": 1}}
    first = write(tmp_path, "a.yaml", {**common, "id": "CHG-2026-0903", "title": "first", "steps": [
        {"type": "access_port", "targets": {"hosts": ["sw-doif-acc1", "sw-doif-acc2"]},
         "params": {"interfaces": ["FastEthernet0/3"], "description": "lock one"}}]})
    second = write(tmp_path, "b.yaml", {**common, "id": "CHG-2026-0904", "title": "second", "steps": [
        {"type": "access_port", "targets": {"hosts": ["sw-doif-acc2"]},
         "params": {"interfaces": ["FastEthernet0/2"], "description": "lock two"}}]})
    assert netchange(lab, "plan", first).returncode == 0
    assert netchange(lab, "plan", second).returncode == 0
    proc = apply_until_first_commit(lab, "CHG-2026-0903")
    # Freeze the first apply mid-rollout (its canary committed, sw-doif-acc2 not yet), so the two
    # applies overlap for certain; then let it finish.
    freeze_outside_a_transaction(proc, Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite")
    try:
        refused = netchange(lab, "apply", "CHG-2026-0904", now=MINOR_TIME)
    finally:
        proc.send_signal(signal.SIGCONT)
    proc.wait(timeout=120)
    assert proc.returncode == 0
    assert refused.returncode == 3, refused.stderr
    assert "locked by CHG-2026-0903" in refused.stderr


def _secret_values(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {str(v) for k, v in node.items() if k in ("password", "secret", "tsig_secret") and v}
        return found | {s for v in node.values() for s in _secret_values(v)}
    return set()


def test_no_secret_in_plans_journal_reports_or_output(lab: LabManager, tmp_path: Path) -> None:
    secrets = _secret_values(yaml.safe_load((lab.nornir_config.parent / "secrets.yaml").read_text()))
    assert secrets, "the lab generated no secret?"
    change = write(tmp_path, "s.yaml", {
        "id": "CHG-2026-0905", "title": "DNS name", "ticket": "T-905", "requester": "amoreau",
        "steps": [{"type": "dns_record", "targets": {"hosts": ["dns-doso"]},
                   "params": {"action": "add", "type": "A", "name": "leakcheck", "address": "192.0.2.99"}}]})
    outputs = [netchange(lab, "plan", change, "--json"), netchange(lab, "apply", "CHG-2026-0905", now=MINOR_TIME),
               netchange(lab, "report", "CHG-2026-0905", "--format", "html"), netchange(lab, "show", "CHG-2026-0905")]
    assert outputs[1].returncode == 0, outputs[1].stderr
    home = Path(os.environ["NETCHANGE_HOME"])
    written = [*(home / "plans").rglob("*.json"), home / "journal.sqlite"]
    blobs = [p.read_bytes() for p in written] + [(o.stdout + o.stderr).encode() for o in outputs]
    for secret in secrets:
        for blob in blobs:
            assert secret.encode() not in blob


def test_netconf_apply_uses_a_confirmed_commit_and_confirms_it(lab: LabManager, tmp_path: Path,
                                                               open_driver: Callable[[str], Any]) -> None:
    change = write(tmp_path, "n.yaml", {
        "id": "CHG-2026-0906", "title": "NETCONF VLAN", "ticket": "T-906", "requester": "crenard",
        "steps": [{"type": "vlan", "targets": {"hosts": ["nc-doif"]}, "params": {"vlan_id": 906, "name": "nc906"}}]})
    assert netchange(lab, "plan", change).returncode == 0
    assert netchange(lab, "approve", "CHG-2026-0906", actor="amoreau").returncode == 0
    applied = netchange(lab, "apply", "CHG-2026-0906", now=MEDIUM_TIME)
    assert applied.returncode == 0, applied.stderr + applied.stdout
    journal = Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite"
    with closing(sqlite3.connect(journal, timeout=10)) as conn:
        rows = conn.execute("SELECT kind, data FROM events WHERE change_id = 'CHG-2026-0906' AND host = 'nc-doif'"
                            " ORDER BY seq").fetchall()
    kinds = [k for k, _ in rows]
    # Saved once confirmed (the device keeps a startup datastore): issue 21 item 4.
    assert kinds[-5:] == ["commit_started", "committed", "post_checks", "confirmed", "saved"]
    assert json.loads(dict(rows)["commit_started"])["confirmed"] is True
    time.sleep(2.5)  # an unconfirmed commit would revert after ~1 s idle; a confirmed one stays
    assert "vlan 906" in open_driver("nc-doif").get_config(retrieve="running")["running"]


def test_ctrl_c_mid_apply_rolls_back(lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doso-core1", "sw-doso-core2", "sw-doso-acc1", "sw-doso-acc2")
    before = running(open_driver, *hosts)
    change = write(tmp_path, "i.yaml", {
        "id": "CHG-2026-0907", "title": "Ports", "ticket": "T-907", "requester": "bleroy",
        "rollout": {"canary": 1, "batch_size": 1},
        "steps": [{"type": "access_port", "targets": {"hosts": list(hosts)},
                   "params": {"interfaces": ["FastEthernet0/3"], "description": "interrupted"}}]})
    assert netchange(lab, "plan", change).returncode == 0
    proc = apply_until_first_commit(lab, "CHG-2026-0907")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, out
    assert "Traceback" not in err
    assert running(open_driver, *hosts) == before, out + err
    shown = json.loads(netchange(lab, "show", "CHG-2026-0907", "--json").stdout)
    assert shown["state"] == "rolled_back"


def test_rollback_on_request_restores_and_refuses_a_device_changed_since(
        lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doif-acc1", "sw-doif-acc2")
    before = running(open_driver, *hosts)
    for change_id, interface in (("CHG-2026-0908", "FastEthernet0/4"), ("CHG-2026-0909", "FastEthernet0/5")):
        change = write(tmp_path, f"{change_id}.yaml", {
            "id": change_id, "title": "Ports", "ticket": "T-908", "requester": "amoreau",
            "steps": [{"type": "access_port", "targets": {"hosts": list(hosts)},
                       "params": {"interfaces": [interface], "description": f"on request {change_id[-1]}"}}]})
        assert netchange(lab, "plan", change).returncode == 0
    assert netchange(lab, "apply", "CHG-2026-0908", now=MINOR_TIME).returncode == 0
    assert running(open_driver, *hosts) != before
    # Outside the minor window, a rollback on request is refused like the change itself.
    assert netchange(lab, "rollback", "CHG-2026-0908", now="2026-12-05T10:00:00+01:00").returncode == 3
    done = netchange(lab, "rollback", "CHG-2026-0908", now=MINOR_TIME)
    assert done.returncode == 0, done.stderr + done.stdout
    assert running(open_driver, *hosts) == before
    assert json.loads(netchange(lab, "show", "CHG-2026-0908", "--json").stdout)["state"] == "rolled_back"
    # A device changed after the apply (here by another change) is not silently overwritten.
    assert netchange(lab, "apply", "CHG-2026-0909", now=MINOR_TIME).returncode == 0
    dev = open_driver("sw-doif-acc1")
    dev.load_merge_candidate(config="interface FastEthernet0/6\n description out of band\n")
    dev.commit_config()
    refused = netchange(lab, "rollback", "CHG-2026-0909", now=MINOR_TIME)
    assert refused.returncode == 3 and "changed since the apply: sw-doif-acc1" in refused.stderr
