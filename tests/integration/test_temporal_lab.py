"""The Temporal runner on the lab (issue 25): a control worker and a doif site worker as processes.

1. examples/03 (its post-check fails on the firewall) planned and applied through the workflows: the automatic
   rollback runs on the site worker, every device read back (a plain session, not the driver)
   byte-equal to its state before.
2. The site worker SIGKILLed right after the canary switch committed (fail point
   ``apply.committed``): the workflow sees its heartbeat stop, journals the host failed, bumps the
   lease tokens and reconciles the switch on another doif worker: read, restored, verified; the
   devices byte-equal to before. The time from the kill to the compensation's start and to the
   verified restore is printed (docs/team-setup.md "Temporal").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.journal import Journal
from netchange.lab.manager import LabManager
from netchange.workflow import DevServer
from tests.integration.test_crash_matrix import EX03, EXAMPLES, Reader
from tests.integration.test_e2e_apply import MEDIUM_TIME, REPO, netchange
from tests.temporalserver import terminate_running

pytestmark = pytest.mark.lab
CANARY = "sw-doif-core1"


class Workers:
    """``netchange worker`` processes of this test, stopped by their PIDs."""

    def __init__(self, lab: LabManager, server: DevServer) -> None:
        self.env = {**os.environ, "NETCHANGE_NORNIR_CONFIG": str(lab.nornir_config),
                    "NETCHANGE_POLICY": str(REPO / "policy.yaml"), "NETCHANGE_TEMPORAL_ADDRESS": server.address}
        self.env.pop("NETCHANGE_FAILPOINT", None)
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, *args: str, failpoint: str | None = None) -> subprocess.Popen[str]:
        env = {**self.env, **({"NETCHANGE_FAILPOINT": failpoint} if failpoint else {})}
        process = subprocess.Popen([sys.executable, "-m", "netchange", "worker", *args], env=env, cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.processes.append(process)
        assert process.stderr is not None
        line = process.stderr.readline()  # "worker on ...": connected, polling
        assert "worker on" in line, line
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(5)


@pytest.fixture
def workers(lab: LabManager, temporal_server: DevServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    monkeypatch.setenv("NETCHANGE_RUNNER", "temporal")
    monkeypatch.setenv("NETCHANGE_TEMPORAL_ADDRESS", temporal_server.address)
    running = Workers(lab, temporal_server)
    try:
        yield running
    finally:
        running.stop()
        terminate_running(temporal_server)


def _plan(lab: LabManager, tmp_path: Path, change_id: str) -> None:
    request = yaml.safe_load((EXAMPLES / "03-vlan-and-rule-postcheck-fails.yaml").read_text())
    request["id"] = change_id
    change = tmp_path / f"{change_id}.yaml"
    change.write_text(yaml.safe_dump(request))
    assert netchange(lab, "plan", str(change)).returncode == 0
    assert netchange(lab, "approve", change_id, actor="amoreau").returncode == 0


def _events(change_id: str) -> list[Any]:
    from netchange.journal.key import KEY_FILE_NAME, JournalSetup, configure

    home = Path(os.environ["NETCHANGE_HOME"])
    configure(JournalSetup(key_file=home / KEY_FILE_NAME, database_url=os.environ.get("NETCHANGE_DATABASE_URL")))
    try:
        with Journal(home / "journal.sqlite") as journal:
            return list(journal.events(change_id))
    finally:
        configure(None)


def test_an_apply_through_the_site_worker_rolls_back_verified(lab: LabManager, tmp_path: Path,
                                                              workers: Workers) -> None:
    reader = Reader(lab)
    before = {h: reader.read(h) for h in EX03}
    workers.start("--control")
    workers.start("--site", "doif")
    _plan(lab, tmp_path, "CHG-2026-2501")  # the plan too: its device reads on the doif worker
    done = netchange(lab, "apply", "CHG-2026-2501", now=MEDIUM_TIME)
    assert done.returncode == 1, done.stdout + done.stderr
    kinds = [(e.kind, e.host) for e in _events("CHG-2026-2501")]
    assert ("rollback_verified", CANARY) in kinds and ("apply_finished", None) in kinds
    assert {h: reader.read(h) for h in EX03} == before
    assert netchange(lab, "journal", "verify").returncode == 0


@pytest.mark.parametrize("storage", ["sqlite", "postgresql"])
def test_a_site_worker_killed_mid_commit_is_reconciled(lab: LabManager, tmp_path: Path, workers: Workers,
                                                       storage: str, request: pytest.FixtureRequest,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With PostgreSQL, the journal and leases are the team's: the reconciliation runs under bumped
    lease tokens, and every lease is given back at the end."""
    change_id = "CHG-2026-2502" if storage == "sqlite" else "CHG-2026-2503"
    url = None
    if storage == "postgresql":
        from tests.pgserver import journal_database

        url = journal_database(request.getfixturevalue("postgres"))
        monkeypatch.setenv("NETCHANGE_DATABASE_URL", url)
        workers.env["NETCHANGE_DATABASE_URL"] = url
    reader = Reader(lab)
    before = {h: reader.read(h) for h in EX03}
    workers.start("--control")
    doomed = workers.start("--site", "doif", failpoint=f"apply.committed@{CANARY}:kill")
    _plan(lab, tmp_path, change_id)
    apply = netchange(lab, "apply", change_id, now=MEDIUM_TIME, wait=False)
    assert doomed.wait(120) == -signal.SIGKILL
    killed = time.time()
    assert "vlan 30\n" in reader.read(CANARY)  # committed, and its worker gone
    workers.start("--site", "doif")  # another worker of the site
    out, err = apply.communicate(timeout=120)
    assert apply.returncode == 1, out + err
    events = _events(change_id)
    mine = [e for e in events if e.host == CANARY]
    lost = next(e for e in mine if e.kind == "host_failed")
    assert "site worker was lost" in lost.data["error"]
    started = next(e for e in mine if e.kind == "rollback_started" and e.seq > lost.seq)
    verified = next(e for e in mine if e.kind == "rollback_verified" and e.seq > started.seq)
    assert {h: reader.read(h) for h in EX03} == before  # byte-equal to the snapshots, read independently
    assert netchange(lab, "journal", "verify").returncode == 0
    if url is not None:
        from netchange.apply import leases

        assert leases.holders(url) == []  # the bumped leases given back by their holder
    # The workflow journals host_failed when it presumes the worker dead, then bumps the leases and
    # reconciles: that is the compensation's start; the restore's events are journaled once verified.
    print(f"\n{storage}: worker killed → compensation started (host_failed): {lost.at.timestamp() - killed:.2f} s; "
          f"→ restore verified: {verified.at.timestamp() - killed:.2f} s")
