"""Safety promises on the lab, attacked the way issue 11 did (items 2, 3 and 6).

- a VLAN pushed out of band to a later switch after the canary's commit is seen before that
  switch commits: it is not committed, the change is rolled back, the VLAN stays;
- a line added out of band to a committed switch is never erased by the automatic rollback: an
  alarm names the switch and the line; once the line is gone, ``recover`` finishes the job;
- SIGTERM and SIGHUP during an apply roll back and verify, like Ctrl-C;
- a second change on the same device from another state directory is refused (exit 3).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from netchange.lab.manager import LabManager
from tests.integration.lab2_support import freeze_outside_a_transaction
from tests.integration.test_e2e_apply import (
    MEDIUM_TIME,
    MINOR_TIME,
    netchange,
    running,
    write,
)

pytestmark = pytest.mark.lab


def journal_path() -> Path:
    return Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite"


def committed_hosts(change_id: str) -> list[str]:
    if not journal_path().exists():
        return []
    with closing(sqlite3.connect(journal_path(), timeout=10)) as conn:
        rows = conn.execute("SELECT host FROM events WHERE change_id = ? AND kind = 'committed' ORDER BY seq",
                            (change_id,)).fetchall()
    return [str(r[0]) for r in rows]


def apply_frozen_after_first_commit(lab: LabManager, change_id: str, now: str) -> tuple[subprocess.Popen[str], str]:
    """Start an apply; once its canary is committed, freeze it (SIGSTOP); return it and the canary."""
    proc: subprocess.Popen[str] = netchange(lab, "apply", change_id, now=now, wait=False)
    deadline = time.monotonic() + 60
    while not committed_hosts(change_id) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "apply finished before it could be frozen"
    freeze_outside_a_transaction(proc, journal_path())
    return proc, committed_hosts(change_id)[0]


def push(open_driver: Callable[[str], Any], host: str, lines: str) -> None:
    """Someone else's change, made directly on the device (not through netchange)."""
    dev = open_driver(host)
    dev.load_merge_candidate(config=lines)
    dev.commit_config()


def test_out_of_band_vlan_on_a_later_switch_is_seen_before_its_commit(
        lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doso-core1", "sw-doso-core2", "sw-doso-acc1", "sw-doso-acc2")
    before = running(open_driver, *hosts)
    change = write(tmp_path, "d.yaml", {
        "id": "CHG-2026-0921", "title": "Ports", "ticket": "T-921", "requester": "bleroy",
        "rollout": {"canary": 1, "batch_size": 1},
        "steps": [{"type": "access_port", "targets": {"hosts": list(hosts)},
                   "params": {"interfaces": ["FastEthernet0/7"], "description": "drift during apply"}}]})
    planned = netchange(lab, "plan", change)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    proc, canary = apply_frozen_after_first_commit(lab, "CHG-2026-0921", MINOR_TIME)
    last = next(h for h in reversed(hosts) if h != canary)
    try:
        push(open_driver, last, "vlan 921\n name oob921\n")
    finally:
        proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, out + err
    # Read at its turn (issue 27 item 1: the snapshot is the drift check): refused, not committed,
    # the lines named against the planned state the planning process kept.
    assert f"{last}: running state differs from the plan's, not committed" in out, out
    assert "+vlan 921" in out, out
    after = running(open_driver, *hosts)
    assert "vlan 921" in after[last] and "drift during apply" not in after[last]
    for host in hosts:
        if host != last:
            assert after[host] == before[host], host
    shown = json.loads(netchange(lab, "show", "CHG-2026-0921", "--json").stdout)
    assert shown["state"] == "rolled_back"
    push(open_driver, last, "no vlan 921\n")
    assert running(open_driver, last)[last] == before[last]


def test_a_rollback_never_erases_a_line_added_since_and_recover_finishes_once_it_is_gone(
        lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doif-core1", "sw-doif-core2", "fw-doif-a")
    before = running(open_driver, *hosts)
    change = write(tmp_path, "f.yaml", {
        "id": "CHG-2026-0922", "title": "VLAN and flow", "ticket": "T-922", "requester": "crenard",
        "rollout": {"canary": 1, "batch_size": 1},
        "steps": [
            {"type": "vlan", "targets": {"hosts": ["sw-doif-core1", "sw-doif-core2"]},
             "params": {"vlan_id": 322, "name": "e2e922"}},
            # No server listens on 9999: the post-check's new connection is refused.
            {"type": "fw_rule", "targets": {"hosts": ["fw-doif-a"]},
             "params": {"name": "e2e-9922", "source": "10.201.1.0/24", "destination": "10.202.1.10/32",
                        "protocol": "tcp", "port": 9999}},
        ]})
    planned = netchange(lab, "plan", change)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert netchange(lab, "approve", "CHG-2026-0922", actor="amoreau").returncode == 0
    proc, canary = apply_frozen_after_first_commit(lab, "CHG-2026-0922", MEDIUM_TIME)
    try:
        push(open_driver, canary, "vlan 923\n name oob923\n")
    finally:
        proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, out + err
    assert "ALARM" in err and canary in err
    assert "changed by someone else since the change: not restored" in err and "+vlan 923" in err, err
    assert "vlan 923" in running(open_driver, canary)[canary]  # someone else's VLAN is still there
    for host in hosts:
        if host != canary:
            assert running(open_driver, host)[host] == before[host], host
    assert json.loads(netchange(lab, "show", "CHG-2026-0922", "--json").stdout)["state"] == "failed"
    # recover refuses as long as the foreign line is there (an alarm again, nothing erased) ...
    again = netchange(lab, "recover", "CHG-2026-0922")
    assert again.returncode == 1 and "+vlan 923" in again.stderr
    assert "vlan 923" in running(open_driver, canary)[canary]
    # ... and, once its owner has removed it, brings the canary back, verified.
    push(open_driver, canary, "no vlan 923\n")
    recovered = netchange(lab, "recover", "CHG-2026-0922")
    assert recovered.returncode == 0, recovered.stderr + recovered.stdout
    assert running(open_driver, *hosts) == before
    assert json.loads(netchange(lab, "show", "CHG-2026-0922", "--json").stdout)["state"] == "rolled_back"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_roll_back_and_verify(lab: LabManager, tmp_path: Path, signum: int,
                                                 open_driver: Callable[[str], Any]) -> None:
    hosts = ("sw-doso-core1", "sw-doso-core2", "sw-doso-acc1", "sw-doso-acc2")
    before = running(open_driver, *hosts)
    change_id = f"CHG-2026-093{int(signum) % 10}"
    change = write(tmp_path, "t.yaml", {
        "id": change_id, "title": "Ports", "ticket": "T-930", "requester": "bleroy",
        "rollout": {"canary": 1, "batch_size": 1},
        "steps": [{"type": "access_port", "targets": {"hosts": list(hosts)},
                   "params": {"interfaces": ["FastEthernet0/8"], "description": "terminated"}}]})
    planned = netchange(lab, "plan", change)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    proc: subprocess.Popen[str] = netchange(lab, "apply", change_id, now=MINOR_TIME, wait=False)
    deadline = time.monotonic() + 60
    while not committed_hosts(change_id) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "apply finished before the signal"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err
    assert running(open_driver, *hosts) == before, out + err
    shown = json.loads(netchange(lab, "show", change_id, "--json").stdout)
    assert shown["state"] == "rolled_back"
    assert any(e["kind"] == "interrupted" for e in shown["events"])


def test_another_state_directory_cannot_take_a_device_in_use(lab: LabManager, tmp_path: Path) -> None:
    common = {"ticket": "T-940", "requester": "amoreau", "rollout": {"canary": 1, "batch_size": 1}}
    first = write(tmp_path, "a.yaml", {**common, "id": "CHG-2026-0940", "title": "first", "steps": [
        {"type": "access_port", "targets": {"hosts": ["sw-doif-acc1", "sw-doif-acc2"]},
         "params": {"interfaces": ["FastEthernet0/9"], "description": "home one"}}]})
    second = write(tmp_path, "b.yaml", {**common, "id": "CHG-2026-0941", "title": "second", "steps": [
        {"type": "access_port", "targets": {"hosts": ["sw-doif-acc2"]},
         "params": {"interfaces": ["FastEthernet0/10"], "description": "home two"}}]})
    other_home = tmp_path / "other-home"
    assert netchange(lab, "plan", first).returncode == 0
    assert netchange(lab, "--home", str(other_home), "plan", second).returncode == 0
    proc, _ = apply_frozen_after_first_commit(lab, "CHG-2026-0940", MINOR_TIME)
    try:
        refused = netchange(lab, "--home", str(other_home), "apply", "CHG-2026-0941", now=MINOR_TIME)
    finally:
        proc.send_signal(signal.SIGCONT)
    proc.wait(timeout=120)
    assert proc.returncode == 0
    assert refused.returncode == 3, refused.stderr
    assert "locked by CHG-2026-0940" in refused.stderr and "sw-doif-acc" in refused.stderr
