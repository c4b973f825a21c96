"""Routing changes on the lab's FRR routers, through the command line, as an engineer runs them.

- a minor prefix-list entry: applied, watched on the network (BGP Established, the new prefix
  received and in the kernel's table, a new TCP flow), rolled back on request byte for byte;
- the fault cases of the apply engine on a router, each ending with the configuration byte-equal
  to its snapshot **and the OSPF adjacency Full again** (the restored checks):
  a post-check that fails (an OSPF area moved on one side only), the session lost after the
  commit (the SSH connection killed while the post-check waits), netchange killed (SIGKILL)
  after the commit, then ``netchange recover``.

Times are printed (``pytest -s``): plan, apply, rollback, and from the failed post-check to the
verified rollback with the adjacency back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.demo._script import major_time
from netchange.journal import Journal
from netchange.lab.manager import LabManager
from netchange.lab.routers import ospf_full, vtysh
from tests.integration.test_e2e_apply import MINOR_TIME, netchange, running, write

pytestmark = pytest.mark.lab
ROUTER = "rtr-doso-a"
NEW_PREFIX = "192.0.2.0/24"  # announced by the upstream, filtered by FROM-UPSTREAM until the change


def _ns(nornir: Any) -> str:
    return str(nornir.inventory.hosts[ROUTER].data["namespace"])


def _full(lab: LabManager, nornir: Any) -> bool:
    del lab  # the router's vty sockets live where the lab says (FRR's user cannot enter the lab root)
    return ospf_full(Path(nornir.inventory.hosts[ROUTER].data["vty_socket"]), _ns(nornir))


def _kernel(nornir: Any) -> set[str]:
    out = subprocess.run(["ip", "-n", _ns(nornir), "-j", "route"], capture_output=True, text=True, check=True)
    return {r["dst"] for r in json.loads(out.stdout)}


def _summary(stdout: str) -> dict[str, Any]:
    """The run document of ``apply --json``, its hosts by name."""
    data: dict[str, Any] = json.loads(stdout[stdout.index("{\n"):])
    data["hosts"] = {h["name"]: h for h in data["hosts"]}
    return data


def _events(change_id: str, kind: str) -> list[Any]:
    with Journal(Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite") as journal:
        return [e for e in journal.events(change_id) if e.kind == kind]


def _ospf_area_change(lab: LabManager, tmp_path: Path, change_id: str, within: int) -> None:
    """Plan and approve (client manager + provider lead) an OSPF area move on ROUTER's core link."""
    change = write(tmp_path, f"{change_id}.yaml", {
        "id": change_id, "title": "Core link into area 1", "ticket": "T-1601", "requester": "crenard",
        "steps": [{"type": "ospf_interface", "targets": {"hosts": [ROUTER]},
                   "params": {"interface": "peer0", "area": 1, "converge_within": within}}]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert json.loads(planned.stdout)["category"] == "major"
    for person in ("bleroy", "gperrin"):
        approved = netchange(lab, "approve", change_id, actor=person)
        assert approved.returncode == 0, approved.stdout + approved.stderr


@pytest.fixture(autouse=True)
def _converged(lab: LabManager, nornir: Any) -> None:
    # Every test starts from a converged network: the previous one's rollback left it so.
    assert _full(lab, nornir), "OSPF is not Full before the test"


def _assert_network_back(lab: LabManager, nornir: Any, report: dict[str, Any] | None) -> None:
    assert _full(lab, nornir)
    if report is not None:
        names = [c["name"] for c in report.get("checks", [])]
        assert any("OSPF neighbour" in n for n in names) and all(c["passed"] for c in report["checks"]), report


def test_prefix_list_entry_applied_watched_and_rolled_back(lab: LabManager, nornir: Any, tmp_path: Path,
                                                           open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, ROUTER)
    assert NEW_PREFIX not in _kernel(nornir)
    change = write(tmp_path, "pl.yaml", {
        "id": "CHG-2026-1601", "title": "Accept one more upstream prefix", "ticket": "T-1601",
        "requester": "bleroy",
        "steps": [{"type": "prefix_list", "targets": {"hosts": [ROUTER]},
                   "params": {"name": "FROM-UPSTREAM",
                              "add": [{"seq": 15, "action": "permit", "prefix": NEW_PREFIX}]}}]})
    t0 = time.monotonic()
    planned = netchange(lab, "plan", change, "--json")
    t_plan = time.monotonic() - t0
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["category"] == "minor"
    t0 = time.monotonic()
    applied = netchange(lab, "apply", "CHG-2026-1601", "--json", now=MINOR_TIME)
    t_apply = time.monotonic() - t0
    assert applied.returncode == 0, applied.stdout + applied.stderr
    checks = {c["name"]: c for c in _summary(applied.stdout)["hosts"][ROUTER]["post_checks"]}
    assert any(NEW_PREFIX in name and "kernel" in name for name in checks), sorted(checks)
    assert any("Established" in name for name in checks) and all(c["passed"] for c in checks.values())
    assert NEW_PREFIX in _kernel(nornir)  # forwarding follows: the route is in the namespace's table
    t0 = time.monotonic()
    rolled = netchange(lab, "rollback", "CHG-2026-1601", now=MINOR_TIME)
    t_rollback = time.monotonic() - t0
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert running(open_driver, ROUTER) == before
    deadline = time.monotonic() + 15
    while NEW_PREFIX in _kernel(nornir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert NEW_PREFIX not in _kernel(nornir)
    print(f"\nfrr prefix-list (minor): plan {t_plan:.2f} s, apply {t_apply:.2f} s (post-checks included), "
          f"rollback on request {t_rollback:.2f} s (restored checks included)")


def test_post_check_failure_rolls_back_with_the_adjacency_back(lab: LabManager, nornir: Any, tmp_path: Path,
                                                              open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, ROUTER)
    _ospf_area_change(lab, tmp_path, "CHG-2026-1602", within=5)
    t0 = time.monotonic()
    applied = netchange(lab, "apply", "CHG-2026-1602", "--json", now=major_time())
    t_apply = time.monotonic() - t0
    assert applied.returncode == 1, applied.stdout + applied.stderr
    summary = _summary(applied.stdout)
    host = summary["hosts"][ROUTER]
    assert summary["outcome"] == "rolled_back" and "post-check failed" in host["error"], host
    assert "OSPF neighbour" in host["error"]
    assert host["restore"]["verified"], host["restore"]
    assert running(open_driver, ROUTER) == before
    _assert_network_back(lab, nornir, host["restore"])
    verified = _events("CHG-2026-1602", "rollback_verified")[-1].data
    print(f"\nfrr OSPF area change (major), post-check failed: apply {t_apply:.2f} s in all; from the failure to "
          f"the verified rollback with OSPF Full again: {verified['since_failure']:.2f} s "
          f"(restore and restored checks {verified['seconds']:.2f} s)")


def _sshd_sessions(namespace: str) -> list[int]:
    """The per-connection sshd processes inside the router's namespace (not the listener)."""
    out = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True, check=True).stdout
    pids = []
    for pid in map(int, out.split()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        if cmdline.startswith("sshd: ") and "[listener]" not in cmdline:
            pids.append(pid)
    return pids


def _apply_in_background(lab: LabManager, nornir: Any, change_id: str) -> subprocess.Popen[str]:
    """Start ``netchange apply`` and return once the router runs the change (the area moved).

    The journal's ``committed`` event is written with the host's post-checks, after them: the
    router itself says when the commit is done.
    """
    proc: subprocess.Popen[str] = netchange(lab, "apply", change_id, "--json", now=major_time(), wait=False)
    host = nornir.inventory.hosts[ROUTER]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if " network 10.210.2.0/30 area 1" in vtysh(Path(host.data["vty_socket"]), "show running-config",
                                                     ns=_ns(nornir)):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "apply finished before the fault could be injected"
    return proc


def test_session_lost_after_commit_rolls_back_in_a_new_session(lab: LabManager, nornir: Any, tmp_path: Path,
                                                               open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, ROUTER)
    _ospf_area_change(lab, tmp_path, "CHG-2026-1603", within=20)
    proc = _apply_in_background(lab, nornir, "CHG-2026-1603")
    time.sleep(0.5)  # the post-check is waiting for the adjacency
    killed = _sshd_sessions(_ns(nornir))
    assert killed, "no SSH session to the router"
    for pid in killed:
        os.kill(pid, signal.SIGKILL)  # the router's end of netchange's session (and of the test's)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    host = _summary(out)["hosts"][ROUTER]
    assert host["restore"]["verified"], host
    assert "snapshot" in host["restore"]["strategies"]  # a fresh session restored the full snapshot
    assert running(open_driver, ROUTER) == before
    _assert_network_back(lab, nornir, host["restore"])


def test_killed_after_commit_then_recover_restores_the_adjacency(lab: LabManager, nornir: Any, tmp_path: Path,
                                                                 open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, ROUTER)
    _ospf_area_change(lab, tmp_path, "CHG-2026-1604", within=20)
    proc = _apply_in_background(lab, nornir, "CHG-2026-1604")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert running(open_driver, ROUTER) != before  # the area moved: the commit happened
    assert not _full(lab, nornir)  # and the adjacency is gone
    listed = json.loads(netchange(lab, "list", "--json").stdout)["changes"]
    assert any(c["change_id"] == "CHG-2026-1604" and c["state"] == "in_progress" for c in listed)
    t0 = time.monotonic()
    recovered = netchange(lab, "recover", "CHG-2026-1604")
    t_recover = time.monotonic() - t0
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert running(open_driver, ROUTER) == before
    verified = _events("CHG-2026-1604", "rollback_verified")[-1].data
    _assert_network_back(lab, nornir, verified)
    assert json.loads(netchange(lab, "show", "CHG-2026-1604", "--json").stdout)["state"] == "rolled_back"
    print(f"\nfrr recover after SIGKILL: {t_recover:.2f} s, OSPF Full again and verified")
