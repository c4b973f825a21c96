"""Device leases with fencing tokens in PostgreSQL (issue 24 item 3), against the tests' own server.

The library first (acquire, refuse naming the holder, expire, take over, tokens that only grow),
then the fence at both places a holder writes: the journal and the device. Then two engineers on
two machines (two processes, two homes, two host names through UTS namespaces, one database) race
on one device; and a holder paused past its lease wakes up to find it taken over.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netchange.apply import leases
from netchange.drivers.fencing import FencedDriver, fenced, install
from netchange.errors import LeaseLost, LockHeld
from netchange.journal import Journal
from netchange.journal.database import where
from tests.pgserver import PgServer, journal_database
from tests.unit.test_cli_locks import call, write_change

SW1 = {"sw1": "sw1.mgmt.example.net:22"}


@pytest.fixture
def db(postgres: PgServer) -> str:
    return postgres.database("leases")


def take(db: str, devices: dict[str, str], change_id: str, actor: str, tmp_path: Path, *,
         ttl: float = 60.0) -> leases.HeldLeases:
    return leases.acquire(devices, change_id=change_id, action="apply", actor=actor, home=tmp_path / actor,
                          url=db, ttl=ttl)


def expire_now(db: str) -> None:
    """The database's clock moves past every lease (as a paused holder's lease runs out)."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE device_leases SET expires_at = now() - interval '1 second'")


def test_one_holder_per_device_and_the_refusal_names_it(db: str, tmp_path: Path) -> None:
    held = take(db, SW1, "CHG-2026-0042", "dnguyen", tmp_path)
    with pytest.raises(LockHeld) as refused:
        take(db, {"doif-sw-1": "sw1.mgmt.example.net:22"}, "CHG-2026-0050", "efaure", tmp_path)
    assert refused.value.exit_code == 3
    message = str(refused.value)
    assert message.startswith("doif-sw-1 (sw1.mgmt.example.net:22) is locked by CHG-2026-0042 (apply by dnguyen on ")
    assert leases.machine_name() in message and f"pid {os.getpid()}" in message
    held.check()  # the refused command took nothing from the holder
    held.release()
    take(db, SW1, "CHG-2026-0050", "efaure", tmp_path).release()
    assert leases.holders(db) == []


def test_all_or_nothing(db: str, tmp_path: Path) -> None:
    first = take(db, {"b": "b:22"}, "CHG-1", "dnguyen", tmp_path)
    with pytest.raises(LockHeld, match="locked by CHG-1"):
        take(db, {"a": "a:22", "b": "b:22", "c": "c:22"}, "CHG-2", "efaure", tmp_path)
    assert [row["device"] for row in leases.holders(db)] == ["b:22"]  # a and c were not left taken
    first.release()


def test_an_expired_lease_is_taken_over_with_a_larger_token_and_fences_the_old_holder(
        db: str, tmp_path: Path) -> None:
    old = take(db, SW1, "CHG-2026-0042", "dnguyen", tmp_path)
    expire_now(db)
    with pytest.raises(LeaseLost, match="expired"):
        old.check()  # expired, not yet taken over: already no more writes
    new = take(db, SW1, "CHG-2026-0050", "efaure", tmp_path)
    identity = SW1["sw1"]
    assert new.tokens[identity] > old.tokens[identity]
    with pytest.raises(LeaseLost) as lost:
        old.check()
    assert lost.value.exit_code == 3
    assert f"taken over by CHG-2026-0050 (apply by efaure on {leases.machine_name()}" in str(lost.value)
    old.release()  # the old holder's release never removes the new holder's row
    new.check()
    assert [(r["change_id"], r["token"]) for r in leases.holders(db)] == [("CHG-2026-0050", new.tokens[identity])]
    new.release()


def test_a_lease_is_renewed_by_its_holder_and_measured_by_the_database_clock(db: str, tmp_path: Path) -> None:
    held = take(db, SW1, "CHG-2026-0042", "dnguyen", tmp_path, ttl=3)
    time.sleep(4)  # past the first expiry: the renewal thread (every second) kept it
    held.check()
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT expires_at - now() FROM device_leases").fetchone()
    assert row is not None and 0 < row[0].total_seconds() <= 3.1  # a renewal may commit as this reads
    held.release()


def test_the_journal_refuses_the_writes_of_a_holder_whose_lease_was_taken_over(db: str, tmp_path: Path) -> None:
    old = take(db, SW1, "CHG-2026-0042", "dnguyen", tmp_path)
    with Journal(tmp_path / "journal.sqlite", key=b"k" * 32) as journal:
        journal.fence = old.check
        journal.event(None, "policy_pinned", actor="dnguyen", data={"note": "while the lease is ours"})  # type: ignore[arg-type]
        head = journal.head()
        expire_now(db)
        new = take(db, SW1, "CHG-2026-0050", "efaure", tmp_path)
        with pytest.raises(LeaseLost, match="taken over by CHG-2026-0050"):
            journal.event(None, "policy_pinned", actor="dnguyen", data={"note": "after the takeover"})  # type: ignore[arg-type]
        assert journal.head() == head  # nothing was written
        assert journal.verify() == []
    old.release()
    new.release()


class RecordingDriver:
    """A device session that records what reached it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_config(self, retrieve: str = "all") -> dict[str, str]:
        self.calls.append("get_config")
        return {"running": "hostname sw1\n"}

    def commit_config(self, message: str = "") -> None:
        self.calls.append("commit_config")

    def close(self) -> None:
        self.calls.append("close")


def test_a_device_call_of_a_holder_whose_lease_was_taken_over_never_reaches_the_device(
        db: str, tmp_path: Path) -> None:
    from nornir.core.configuration import Config

    old = take(db, SW1, "CHG-2026-0042", "dnguyen", tmp_path)
    config = Config()
    device = RecordingDriver()
    assert fenced(device, config) is device  # no fence installed: the driver itself
    install(config, old.check)
    driver = fenced(device, config)
    assert isinstance(driver, FencedDriver)
    assert driver.get_config(retrieve="running")["running"] == "hostname sw1\n"
    expire_now(db)
    new = take(db, SW1, "CHG-2026-0050", "efaure", tmp_path)
    with pytest.raises(LeaseLost):
        driver.commit_config(message="CHG-2026-0042")
    driver.close()  # closing a session is always allowed
    assert device.calls == ["get_config", "close"]
    old.release()
    new.release()


def test_a_bumped_lease_fences_out_the_worker_that_acted_under_the_old_token(db: str, tmp_path: Path) -> None:
    """Issue 25: a Temporal site worker acts under the control worker's tokens (``leases.fence``);
    presumed dead, it is fenced out by ``leases.bump`` (same holder, new larger token) while the
    reconciling worker, given the new token, goes on, and the holder keeps renewing and releasing."""
    from nornir.core.configuration import Config

    held = take(db, SW1, "CHG-2026-0042", "dnguyen", tmp_path)
    identity = SW1["sw1"]
    first = held.tokens[identity]
    old_worker = leases.fence(db, dict(held.tokens), held.names, held.ttl)
    config, device = Config(), RecordingDriver()
    install(config, old_worker.check)
    driver = fenced(device, config)
    assert driver.get_config(retrieve="running")["running"] == "hostname sw1\n"
    bumped = leases.bump(held)
    assert bumped[identity] > first and held.tokens == bumped
    with pytest.raises(LeaseLost, match=f"token {first}"):
        driver.commit_config(message="CHG-2026-0042")  # the old worker's commit never reaches the device
    assert device.calls == ["get_config"]
    new_worker = leases.fence(db, bumped, held.names, held.ttl)
    new_worker.check()
    held.check()  # the holder renews under its new token
    old_worker.close()
    new_worker.close()  # a worker's fence leaves the lease to its holder
    assert [r["token"] for r in leases.holders(db)] == [bumped[identity]]
    held.release()
    assert leases.holders(db) == []


def test_a_fenced_session_keeps_its_driver_s_features() -> None:
    """A fenced ios_cli session normalises its configuration as the driver does (it read as drift
    before: ``isinstance`` of the wrapper was false), and only its device calls pay the check."""
    from nornir.core.configuration import Config

    from netchange.drivers.contract import features, is_offline, normalize
    from netchange.drivers.ios_cli import IosCliDriver

    checks: list[int] = []
    config = Config()
    install(config, lambda: checks.append(1))
    device = IosCliDriver("127.0.0.1", "netops", "unused", timeout=1)
    driver = fenced(device, config)
    text = "Building configuration...\n\nCurrent configuration : 74 bytes\n!\nhostname sw1\n!\nend\n"
    assert normalize(driver, text) == normalize(device, text) != text.strip()
    assert features(driver) is driver  # used through the fence
    assert not is_offline(driver)
    assert checks == []  # normalising a text already read is no device call


def test_the_url_never_names_its_password() -> None:
    assert where("postgresql://netchange:s3cret@db.example.net:5433/netchange") == "db.example.net:5433/netchange"


# -- two engineers on two machines ------------------------------------------------------------------
TUESDAY_1930 = "2026-12-01T19:30:00+01:00"


def ready(monkeypatch: pytest.MonkeyPatch, root: Path, home: Path, change_id: str, engineer: str) -> None:
    """``change_id`` planned by ``engineer`` and approved, in ``home``."""
    monkeypatch.setenv("NETCHANGE_ACTOR", engineer)
    assert call("--home", str(home), "plan", write_change(root, change_id)) == 0
    monkeypatch.setenv("NETCHANGE_ACTOR", "amoreau")
    assert call("--home", str(home), "approve", change_id) == 0


def on_machine(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """``argv`` in a process whose host name is ``name`` (its own UTS namespace: another machine)."""
    unshare = ["unshare", "--uts"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--uts"]
    script = f'hostname {name} && exec "$@"'
    return subprocess.Popen([*unshare, "sh", "-c", script, "sh", *argv], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def engineer_env(base: Path, engineer: str, db: str, **more: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"NETCHANGE_ACTOR": engineer, "NETCHANGE_NOW": TUESDAY_1930, "NETCHANGE_DATABASE_URL": db,
                # Each machine its own OS lock directory: only the database can make them meet.
                "NETCHANGE_LOCK_DIR": str(base / f"locks-{engineer}"), **more})
    return env


def stopped(proc: subprocess.Popen[str]) -> bool:
    try:
        return Path(f"/proc/{proc.pid}/stat").read_text().split(")")[1].split()[0] == "T"
    except FileNotFoundError:
        return False


def wait_for(predicate: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def team_db(postgres: PgServer) -> str:
    """The team's database: the journal (created by its owner) and the leases, as the application's role."""
    return journal_database(postgres)


@pytest.fixture
def two_machines(workspace: Path, monkeypatch: pytest.MonkeyPatch, team_db: str) -> Path:
    """One device in a mock inventory both engineers use; the team's journal in PostgreSQL and one
    key for it (given to every appending process, never stored in the database); a change each,
    planned from each engineer's home and approved."""
    from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

    devs = [MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n",
                       cli={"show vlan brief": SHOW_VLAN_BRIEF})]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", team_db)
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", TEAM_KEY)
    ready(monkeypatch, workspace, workspace / "home-a", "CHG-2026-0042", "dnguyen")
    ready(monkeypatch, workspace, workspace / "home-b", "CHG-2026-0050", "efaure")
    return workspace


TEAM_KEY = "7e" * 32


def team_journal(db: str) -> Journal:
    return Journal(Path("unused.sqlite"), database=db, key=TEAM_KEY)


def apply_argv(home: Path, change_id: str) -> list[str]:
    return [sys.executable, "-m", "netchange", "--home", str(home), "apply", change_id]


def test_two_engineers_on_two_machines_race_for_one_device(two_machines: Path, team_db: str) -> None:
    root, db = two_machines, team_db
    # Each stops (SIGSTOP) once its leases and journal locks are taken: the winner waits there.
    pause = {"NETCHANGE_FAILPOINT": "apply.locked:stop"}
    procs = {
        "eng-a": on_machine("eng-a", apply_argv(root / "home-a", "CHG-2026-0042"),
                            engineer_env(root, "dnguyen", db, **pause)),
        "eng-b": on_machine("eng-b", apply_argv(root / "home-b", "CHG-2026-0050"),
                            engineer_env(root, "efaure", db, **pause)),
    }
    try:
        wait_for(lambda: all(stopped(p) or p.poll() is not None for p in procs.values()))
        winners = [m for m, p in procs.items() if stopped(p)]
        losers = [m for m, p in procs.items() if not stopped(p)]
        assert len(winners) == 1 and len(losers) == 1, (winners, losers)
        winner, loser = winners[0], losers[0]
        _, err = procs[loser].communicate(timeout=30)
        assert procs[loser].returncode == 3
        change, actor = ("CHG-2026-0042", "dnguyen") if winner == "eng-a" else ("CHG-2026-0050", "efaure")
        assert f"sw1 (127.0.0.1:default) is locked by {change} (apply by {actor} on {winner}, pid " in err
        assert "Traceback" not in err
        [lease] = leases.holders(db)
        assert (lease["machine"], lease["change_id"], lease["actor"]) == (winner, change, actor)
        # The winner goes on to its end (the mock never shows the VLAN: rolled back, exit 1).
        procs[winner].send_signal(signal.SIGCONT)
        procs[winner].communicate(timeout=120)
        assert procs[winner].returncode == 1
        assert leases.holders(db) == []
        other = "CHG-2026-0050" if change == "CHG-2026-0042" else "CHG-2026-0042"
        with team_journal(db) as journal:  # one journal for the team
            assert not any(e.kind == "apply_started" for e in journal.events(other))
            assert journal.state(other) == "approved"
            assert sum(e.kind == "apply_started" for e in journal.events(change)) == 1
            assert journal.verify() == []
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def test_a_holder_paused_past_its_lease_writes_nothing_once_it_is_taken_over(
        two_machines: Path, team_db: str) -> None:
    root, db = two_machines, team_db
    env = engineer_env(root, "dnguyen", db, NETCHANGE_FAILPOINT="apply.locked:stop", NETCHANGE_LEASE_SECONDS="1")
    proc = on_machine("eng-a", apply_argv(root / "home-a", "CHG-2026-0042"), env)
    try:
        wait_for(lambda: stopped(proc) or proc.poll() is not None)
        assert stopped(proc)
        with team_journal(db) as journal:
            before = journal.head()
        [paused] = leases.holders(db)
        wait_for(lambda: not leases.holders(db)[0]["live"], 10)  # by the database's clock
        # Another engineer, on another machine, takes the device over.
        taker = leases.acquire({"sw1": paused["device"]}, change_id="CHG-2026-0050", action="apply",
                               actor="efaure", home=root / "home-b", url=db)
        proc.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 3, err
        assert "the lease (token" in err and "was taken over by CHG-2026-0050 (apply by efaure" in err
        assert "Traceback" not in err
        with team_journal(db) as journal:
            assert journal.head() == before  # not one more event: no snapshot, no state, no unlock
            assert journal.state("CHG-2026-0042") == "approved"
            assert journal.verify() == []
        [lease] = leases.holders(db)  # the taker's lease survived the old holder's release
        assert (lease["change_id"], lease["token"]) == ("CHG-2026-0050", taker.tokens[paused["device"]])
        assert lease["token"] > paused["token"]
        taker.release()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("url", ["mysql://db/netchange", "postgresql://db:notaport/netchange"])
def test_a_database_url_that_is_not_postgresql_is_bad_input(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str) -> None:
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", url)
    assert call("list") == 2
    err = capsys.readouterr().err
    assert "NETCHANGE_DATABASE_URL" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_unreachable_database_refuses_the_apply_before_any_device(
        two_machines: Path, team_db: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from tests.pgserver import _free_port

    monkeypatch.setenv("NETCHANGE_DATABASE_URL", f"postgresql://netchange:pw-never-shown@127.0.0.1:{_free_port()}/x")
    monkeypatch.setenv("NETCHANGE_ACTOR", "dnguyen")
    monkeypatch.setenv("NETCHANGE_NOW", TUESDAY_1930)
    assert call("--home", str(two_machines / "home-a"), "apply", "CHG-2026-0042") == 3
    err = capsys.readouterr().err
    assert "the database cannot be reached" in err and "pw-never-shown" not in err
    with team_journal(team_db) as journal:
        assert journal.state("CHG-2026-0042") == "approved"
        assert not any(e.kind == "apply_started" for e in journal.events("CHG-2026-0042"))


def test_a_role_without_rights_on_the_leases_is_refused_in_one_line(postgres: PgServer, tmp_path: Path) -> None:
    from netchange.errors import DatabaseRefused

    url = journal_database(postgres)
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS reader")
        admin.execute("CREATE ROLE reader LOGIN")
    with pytest.raises(DatabaseRefused, match=r"the device leases could not be taken \(permission denied"):
        take(url.replace("netchange_app@", "reader@"), SW1, "CHG-2026-0042", "dnguyen", tmp_path)
    with psycopg.connect(postgres.url(database), autocommit=True) as admin:
        admin.execute("DROP ROLE reader")
