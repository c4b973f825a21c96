"""Alarms say what happened (issue 21 item 5), on the lab: bgpd killed after a commit is a daemon
not answering, never "changed by someone else" (vtysh prints the running configuration without
bgpd's part, which the restore used to read as someone's removal of ``router bgp``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.drivers.errors import FailureCause, NotAnswering
from netchange.lab.manager import LabManager
from netchange.lab.routers import vtysh
from netchange.rollback import restore_host
from tests.integration.lab2_support import context
from tests.integration.test_every_platform_circular import CASES

pytestmark = pytest.mark.lab

ROUTER = "rtr-doso-a"


def test_a_dead_bgpd_is_not_answering_not_someone_else(
        lab: LabManager, nornir: Any, open_driver: Callable[[str], Any]) -> None:
    data = nornir.inventory.hosts[ROUTER].data
    run_dir, ns = Path(data["vty_socket"]), str(data["namespace"])
    before = vtysh(run_dir, "show running-config", ns=ns)
    dev = open_driver(ROUTER)
    snapshot = dev.get_config(retrieve="running")["running"]
    change_type, params = CASES["frr"]
    ct, ctx = context(nornir, ROUTER, dev, change_type, params(dict(data)))
    dev.load_merge_candidate(config=str(ct.render(ctx)))
    dev.commit_config()
    after = dev.get_config(retrieve="running")["running"]
    # bgpd dies (its pid file, in the router's run directory: the PID is the host's, no PID namespace)
    os.kill(int((run_dir / "bgpd.pid").read_text().split()[0]), signal.SIGKILL)
    try:
        with pytest.raises(NotAnswering, match="bgpd"):
            dev.cli(["show bgp summary json"])  # a post-check's reading
        report = restore_host(dev, snapshot, after=after)
        assert not report.verified and not report.foreign
        assert report.cause is FailureCause.NOT_ANSWERING, report.errors
        assert report.errors[0].startswith(FailureCause.NOT_ANSWERING.says) and "bgpd" in report.errors[0]
        assert "someone else" not in " ".join(report.errors)
        # A session opened after the death knows it too (bgpd's pid file names a dead process).
        fresh = open_driver(ROUTER)
        with pytest.raises(NotAnswering, match="bgpd"):
            fresh.get_config(retrieve="running")
    finally:
        lab.restart(ROUTER)  # bgpd back, from the run directory's frr.conf (the change not saved)
    assert vtysh(run_dir, "show running-config", ns=ns) == before


def test_a_daemon_stopped_before_the_session_without_its_pid_file_is_not_answering(
        lab: LabManager, nornir: Any, open_driver: Callable[[str], Any]) -> None:
    """bgpd stopped cleanly before anyone connected (its pid file removed, as a clean stop does):
    neither ``show daemons`` nor a pid file tells it; the router's ``daemons`` file (FRR's
    /etc/frr/daemons, which enables bgpd) does, so the reading is refused, not shown without BGP."""
    data = nornir.inventory.hosts[ROUTER].data
    run_dir, ns = Path(data["vty_socket"]), str(data["namespace"])
    before = vtysh(run_dir, "show running-config", ns=ns)
    assert "router bgp" in before
    pid_file = run_dir / "bgpd.pid"
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    pid_file.unlink()
    try:
        dev = open_driver(ROUTER)
        with pytest.raises(NotAnswering, match="bgpd"):
            dev.get_config(retrieve="running")
    finally:
        lab.restart(ROUTER)
    assert vtysh(run_dir, "show running-config", ns=ns) == before
