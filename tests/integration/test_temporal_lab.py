"""The Temporal runner on the lab (issue 25): a control worker and a doif site worker as processes.

1. examples/03 (its post-check fails on the firewall) planned and applied through the workflows: the automatic
   rollback runs on the site worker, every device read back (a plain session, not the driver)
   byte-equal to its state before.
2. The site worker SIGKILLed right after the canary switch committed (fail point
   ``apply.committed``): the workflow sees its heartbeat stop, journals the host failed, bumps the
   lease tokens and reconciles the switch on another doif worker: read, restored, verified; the
   devices byte-equal to before. The time from the kill to the compensation's start and to the
   verified restore is printed (docs/team-setup.md "Temporal").
3. The engineer's CLI with only the service's URL and a token (item 3): apply, a rollback-ending
   apply, a refusal and a rollback on request, each through ``netchange serve`` and the workers.
"""

from __future__ import annotations

import json
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


def _plan(lab: LabManager, tmp_path: Path, change_id: str, example: str = "03-vlan-and-rule-postcheck-fails.yaml",
          *, approve: bool = True) -> None:
    request = yaml.safe_load((EXAMPLES / example).read_text())
    request["id"] = change_id
    change = tmp_path / f"{change_id}.yaml"
    change.write_text(yaml.safe_dump(request))
    assert netchange(lab, "plan", str(change)).returncode == 0
    if approve:
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


ACCESS = ("sw-doif-acc1", "sw-doif-acc2")
"""The hosts of examples/01 (a minor change: no approval needed)."""


def test_the_cli_applies_and_rolls_back_through_the_service_only(lab: LabManager, tmp_path: Path,
                                                                  workers: Workers) -> None:
    """Item 3's last part: the engineer's CLI knows the service's URL and its own token, nothing
    else (no device logins, no Temporal address, no journal key, an empty home): ``apply`` and
    ``rollback`` go through ``POST /api/changes/ID/...``, the service starts the workflow as the
    token's owner (dnguyen, whatever NETCHANGE_ACTOR says), and the CLI prints each step as the
    change page words it, then the local command's outcome and exit code."""
    from netchange.service.launch import serving

    reader = Reader(lab)
    before = {h: reader.read(h) for h in (*EX03, *ACCESS)}
    workers.start("--control")
    workers.start("--site", "doif")
    _plan(lab, tmp_path, "CHG-2026-2504")  # its post-check fails: rolled back
    _plan(lab, tmp_path, "CHG-2026-2505", "01-access-port.yaml", approve=False)
    made = netchange(lab, "users", "token", "dnguyen", "--label", "laptop")
    assert made.returncode == 0, made.stderr
    laptop = tmp_path / "laptop"
    laptop.mkdir(mode=0o700)
    cli = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
    cli.update(NETCHANGE_HOME=str(laptop), NETCHANGE_API_TOKEN=made.stdout.strip(), NETCHANGE_ACTOR="gperrin",
               COLUMNS="200")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "netchange", *args], env=cli, capture_output=True, text=True,
                              check=False, cwd=tmp_path, timeout=180)

    with serving({**workers.env, "NETCHANGE_RUNNER": "temporal", "NETCHANGE_NOW": MEDIUM_TIME}) as base:
        cli["NETCHANGE_SERVER_URL"] = base
        done = run("apply", "CHG-2026-2505")
        assert done.returncode == 0, done.stdout + done.stderr
        steps = done.stdout.splitlines()
        for host in ACCESS:  # each host's steps, in the page's words, in the order they happened
            mine = [line.strip() for line in steps if line.strip().startswith(f"{host}: ")]
            assert mine.index(f"{host}: committed") < mine.index(f"{host}: confirmed"), mine
        assert any("device locks released" in line for line in steps), done.stdout
        assert "CHG-2026-2505: completed" in done.stdout and done.stderr == ""
        assert all(reader.read(h) != before[h] for h in ACCESS)

        failed = run("apply", "CHG-2026-2504")
        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert "post-checks failed" in failed.stdout and "restored (" in failed.stdout
        assert "CHG-2026-2504: rolled_back" in failed.stdout
        assert {h: reader.read(h) for h in EX03} == {h: before[h] for h in EX03}

        refused = run("apply", "CHG-2026-2504")  # rolled back: no longer approved; the guard says so
        assert refused.returncode == 3, refused.stdout + refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr

        back = run("rollback", "CHG-2026-2505", "--json")
        assert back.returncode == 0, back.stdout + back.stderr
        document = json.loads(back.stdout)
        assert document["command"] == "rollback" and document["exit_code"] == 0
        assert {h["name"]: h["status"] for h in document["hosts"]} == dict.fromkeys(ACCESS, "verified")
    assert {h: reader.read(h) for h in ACCESS} == {h: before[h] for h in ACCESS}
    actors = {(e.kind, e.actor) for e in _events("CHG-2026-2505") if e.kind in {"guard", "state"}}
    assert ("guard", "dnguyen") in actors and not any(actor == "gperrin" for _, actor in actors)
    assert not any(laptop.iterdir())  # the laptop kept nothing: no journal, no key, no snapshot
    assert netchange(lab, "journal", "verify").returncode == 0
