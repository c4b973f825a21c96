"""The journal: state machine, hash chain and tamper detection, locks under concurrency."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from netchange import redact
from netchange.cli.main import main
from netchange.errors import LockHeld
from netchange.journal import EventKind, Journal, State, StateError
from netchange.journal.testing import make_plan
from netchange.vocabulary import Category
from tests.pgserver import journal_database

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    """A fixed clock that moves one second per reading: tests never read the wall clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request, tmp_path):
    """The journal on each storage (issue 24 item 1): the same tests, SQLite and PostgreSQL."""
    database = journal_database(request.getfixturevalue("postgres")) if request.param == "postgresql" else None
    with Journal(tmp_path / "journal.sqlite", clock=Clock(), database=database) as j:
        yield j


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request, tmp_path):
    """Opens journals (separate connections, like separate commands) on one storage of each kind."""
    database = journal_database(request.getfixturevalue("postgres")) if request.param == "postgresql" else None
    return lambda: Journal(tmp_path / "j.sqlite", database=database)


@pytest.fixture
def sqlite_journal(tmp_path):
    """For what only SQLite has: its file, its triggers, its write-ahead log."""
    with Journal(tmp_path / "journal.sqlite", clock=Clock()) as j:
        yield j


def test_schema_is_created_with_a_version_and_reopens(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        assert j.schema_version == 3
    with Journal(path) as j:
        assert j.schema_version == 3
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == 3
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_state_machine(journal):
    plan = make_plan()
    journal.record_plan(plan, "dnguyen")
    cid = plan.change.id
    assert journal.state(cid) == "planned"
    with pytest.raises(StateError, match="not in_progress"):
        journal.set_state(cid, "in_progress", actor="dnguyen")
    journal.set_state(cid, State.APPROVED, actor="amoreau")
    journal.record_plan(make_plan(salt="again"), "dnguyen")  # re-plan from approved
    assert journal.state(cid) == "planned"
    journal.set_state(cid, "approved", actor="amoreau")
    journal.set_state(cid, "in_progress", actor="dnguyen")
    assert journal.in_progress() == [cid]
    with pytest.raises(StateError):
        journal.record_plan(make_plan(salt="during"), "dnguyen")
    journal.set_state(cid, "rolled_back", actor="dnguyen")
    assert journal.change(cid).outcome is State.ROLLED_BACK
    journal.record_plan(make_plan(salt="retry"), "dnguyen")  # re-apply after a new plan is allowed
    journal.set_state(cid, "approved", actor="amoreau")
    journal.set_state(cid, "in_progress", actor="dnguyen")
    journal.set_state(cid, "completed", actor="dnguyen")
    journal.set_state(cid, "closed", actor="amoreau")
    with pytest.raises(StateError):
        journal.set_state(cid, "planned", actor="x")
    kinds = [(e.data.get("from"), e.data.get("to")) for e in journal.events(cid) if e.kind == "state"]
    assert kinds[0] == ("requested", "planned")
    assert kinds[-1] == ("completed", "closed")


def test_new_plan_voids_approvals(journal):
    plan = make_plan()
    journal.record_plan(plan, "dnguyen")
    journal.add_approval(
        plan.change.id,
        plan.plan_hash,
        approver="amoreau",
        organisation="client",
        roles=("ops_manager",),
        decision="approved",
    )
    assert len(journal.approvals(plan.change.id, plan.plan_hash)) == 1
    new = make_plan(salt="x")
    journal.record_plan(new, "dnguyen")
    assert journal.approvals(plan.change.id, new.plan_hash) == []
    assert any(e.kind == "approvals_voided" for e in journal.events(plan.change.id))


def _populate(journal):
    plan = make_plan()
    journal.record_plan(plan, "dnguyen")
    journal.add_approval(
        plan.change.id,
        plan.plan_hash,
        approver="amoreau",
        organisation="client",
        roles=("ops_manager",),
        decision="approved",
        comment="ok",
    )
    journal.event(plan.change.id, EventKind.COMMITTED, actor="dnguyen", host="sw-doif-1", data={"ok": True})
    journal.event(plan.change.id, EventKind.POST_CHECKS, actor="dnguyen", host="sw-doif-1", data={"passed": 3})
    return plan


def _tamper(path, *statements):
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    for s in statements:
        conn.execute(s)
    conn.commit()
    conn.close()


def test_verify_passes_on_an_untouched_journal(journal):
    _populate(journal)
    assert journal.verify() == []


def test_triggers_refuse_updates(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    _populate(journal)
    conn = sqlite3.connect(journal.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events WHERE seq = 1")


def test_verify_detects_a_modified_row(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    _populate(journal)
    _tamper(journal.path, "UPDATE events SET data = '{\"ok\":false}' WHERE kind = 'committed'")
    problems = journal.verify()
    assert any("content modified" in p for p in problems)


def test_verify_detects_a_deleted_row(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    _populate(journal)
    _tamper(journal.path, "DELETE FROM events WHERE kind = 'committed'")
    assert any("missing" in p for p in journal.verify())


def test_verify_detects_a_deleted_last_row(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    _populate(journal)
    _tamper(journal.path, "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
    assert any("deleted at the end" in p for p in journal.verify())


def test_verify_detects_a_rewritten_chain_suffix(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    _populate(journal)
    # Recomputing one row's hash is not enough: the next row no longer chains to it.
    # (The first hex digit is flipped, whatever it was: the key makes hashes differ per run.)
    _tamper(journal.path, "UPDATE events SET actor = 'mallory',"
            " hash = (CASE WHEN hash LIKE 'f%' THEN 'e' ELSE 'f' END) || substr(hash, 2) WHERE seq = 2")
    problems = journal.verify()
    assert any("event 2" in p for p in problems)
    assert any("event 3" in p for p in problems)


def test_verify_detects_a_modified_approval_or_plan_row(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    _populate(journal)
    _tamper(journal.path, "UPDATE approvals SET approver = 'gperrin'", "UPDATE plans SET json = '{}'")
    problems = journal.verify()
    assert any("approval 1" in p for p in problems)
    assert any(p.startswith("plan ") for p in problems)


def test_verify_command_exit_code(tmp_path, monkeypatch, capsys):
    path = tmp_path / "journal.sqlite"
    with Journal(path) as j:
        _populate(j)
    monkeypatch.setenv("NETCHANGE_JOURNAL", str(path))
    monkeypatch.setenv("NETCHANGE_HOME", str(tmp_path))  # where the CLI finds the journal's key
    monkeypatch.delenv("NETCHANGE_SECRETS", raising=False)
    with pytest.raises(SystemExit) as exit_ok:
        main(["journal", "verify"])
    assert exit_ok.value.code in (0, None)
    _tamper(path, "DELETE FROM events WHERE seq = 2")
    with pytest.raises(SystemExit) as broken:
        main(["journal", "verify"])
    assert broken.value.code == 1
    assert "missing" in capsys.readouterr().err


def test_secrets_are_scrubbed_before_writing(sqlite_journal):
    journal = sqlite_journal  # its file read or edited with sqlite3
    redact.register("S3cretP@ss")
    plan = make_plan()
    journal.record_plan(plan, "dnguyen")
    journal.event(
        plan.change.id, EventKind.HOST_FAILED, actor="dnguyen", data={"output": "enable secret S3cretP@ss", "n": [1]}
    )
    raw = journal.path.read_bytes() + journal.path.with_name(journal.path.name + "-wal").read_bytes()
    assert b"S3cretP@ss" not in raw
    assert journal.verify() == []


def _approved(journal, cid, host="sw-doif-1"):
    plan = make_plan(cid, hosts=((host, "doif"),))
    journal.record_plan(plan, "dnguyen")
    journal.set_state(cid, "approved", actor="amoreau")
    return plan


def test_locks_are_atomic_and_reclaimable_when_stale(journal):
    _approved(journal, "CHG-2026-0001")
    _approved(journal, "CHG-2026-0002")
    journal.acquire_locks("CHG-2026-0001", ["sw-doif-1", "sw-doif-2"])
    journal.acquire_locks("CHG-2026-0001", ["sw-doif-1"])  # re-entrant for the same change
    with pytest.raises(LockHeld, match="sw-doif-1 is locked by CHG-2026-0001"):
        journal.acquire_locks("CHG-2026-0002", ["sw-doif-3", "sw-doif-1"])
    assert {lock.host for lock in journal.locks()} == {"sw-doif-1", "sw-doif-2"}  # nothing half-taken
    journal.set_state("CHG-2026-0001", "in_progress", actor="dnguyen")
    journal.set_state("CHG-2026-0001", "failed", actor="dnguyen")  # crashed without releasing
    journal.acquire_locks("CHG-2026-0002", ["sw-doif-1"])
    assert any(e.kind == "lock_reclaimed" for e in journal.events("CHG-2026-0002"))
    journal.release_locks("CHG-2026-0002")
    assert {lock.change_id for lock in journal.locks()} == {"CHG-2026-0001"}


def test_two_threads_one_device_only_one_wins(storage):
    with storage() as j:
        for i in range(1, 9):
            _approved(j, f"CHG-2026-{i:04d}")
    barrier = threading.Barrier(8)
    wins, losses = [], []

    def contender(i: int) -> None:
        with storage() as mine:  # separate connections, like separate commands
            barrier.wait()
            try:
                mine.acquire_locks(f"CHG-2026-{i:04d}", ["sw-doif-1"])
                wins.append(i)
            except LockHeld:
                losses.append(i)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert len(losses) == 7
    with storage() as j:
        assert j.verify() == []


def test_appends_from_many_connections_are_serialised_on_the_chain_head(storage):
    """Eight writers, each its own connection (eight commands, or eight machines on one database):
    every append reads the head and writes after it, one at a time; the chain has no fork or gap."""
    with storage() as j:
        _approved(j, "CHG-2026-0001")
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        with storage() as mine:
            barrier.wait()
            for k in range(15):
                mine.event("CHG-2026-0001", EventKind.POST_CHECKS, actor="dnguyen", host=f"h{n}", data={"k": k})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with storage() as j:
        assert j.verify() == []
        seqs = [e.seq for e in j.events()]
        assert seqs == list(range(1, len(seqs) + 1))
        assert sum(e.kind == EventKind.POST_CHECKS for e in j.events("CHG-2026-0001")) == 120


def test_threads_sharing_one_journal_keep_the_chain(storage):
    with storage() as j:
        _approved(j, "CHG-2026-0001")

        def writer(n: int) -> None:
            for k in range(20):
                j.event("CHG-2026-0001", EventKind.POST_CHECKS, actor="dnguyen", host=f"h{n}", data={"k": k})

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert j.verify() == []
        assert sum(1 for e in j.events("CHG-2026-0001") if e.kind == EventKind.POST_CHECKS) == 120


def _process_contender(path: str, change_id: str, start, results) -> None:
    with Journal(path) as j:
        start.wait()
        try:
            j.acquire_locks(change_id, ["fw-doso-1"])
            results.put(("won", change_id))
        except LockHeld:
            results.put(("lost", change_id))


def test_two_processes_one_device_only_one_wins(tmp_path):
    path = str(tmp_path / "j.sqlite")
    with Journal(path) as j:
        _approved(j, "CHG-2026-0101", host="fw-doso-1")
        _approved(j, "CHG-2026-0102", host="fw-doso-1")
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_process_contender, args=(path, cid, start, results))
        for cid in ("CHG-2026-0101", "CHG-2026-0102")
    ]
    for p in procs:
        p.start()
    start.set()
    outcomes = sorted(results.get(timeout=60)[0] for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert outcomes == ["lost", "won"]
    with Journal(path) as j:
        assert j.verify() == []


def test_changes_for_reports(journal):
    _approved(journal, "CHG-2026-0001")
    rows = journal.changes(T0, T0 + dt.timedelta(days=1))
    assert [r.id for r in rows] == ["CHG-2026-0001"]
    assert rows[0].category is Category.MINOR
    assert rows[0].sites == ("doif",)
    assert journal.changes(T0 + dt.timedelta(days=1), None) == []


def test_a_journal_held_by_another_process_is_a_refusal_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite"
    Journal(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LockHeld, match="held by another netchange process"):
            Journal(path, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_lists_read_the_same_on_both_storages(journal):
    """The work list, the API's pages, the calendar and the report's counts: the queries PostgreSQL
    reads through the dialect (JSON of the plan, the change numbers, sites matched as a list)."""
    from netchange.journal.worklist import WorkFilter

    _approved(journal, "CHG-2026-0001", host="sw-doif-1")
    plan = make_plan("CHG-2026-0002", category=Category.MAJOR, created_by="efaure",
                     hosts=(("fw-doso-1", "doso"), ("fw-doso-2", "doso")))
    journal.record_plan(plan, "efaure")
    journal.add_approval("CHG-2026-0002", plan.plan_hash, approver="bleroy", organisation="client",
                         roles=("ops_manager",), decision="approved")
    _approved(journal, "CHG-2026-0003", host="sw-doif-2")
    journal.set_state("CHG-2026-0003", "in_progress", actor="dnguyen")
    journal.set_state("CHG-2026-0003", "rolled_back", actor="dnguyen")

    rows, total = journal.worklist(WorkFilter(states=(State.PLANNED, State.APPROVED)), sort="hosts", descending=True)
    assert total == 2 and [r.row.id for r in rows] == ["CHG-2026-0002", "CHG-2026-0001"]
    assert (rows[0].plan_author, rows[0].planned_start, rows[0].estimated_duration) == ("efaure", None, "PT30M")
    doso, _ = journal.worklist(WorkFilter(states=(State.PLANNED, State.APPROVED), touching_one_of=("doso",)))
    assert [r.row.id for r in doso] == ["CHG-2026-0002"]
    assert journal.worklist(WorkFilter(states=(State.PLANNED,), categories=()))[1] == 0
    undecided, _ = journal.worklist(WorkFilter(states=(State.PLANNED,), undecided_by="amoreau"))
    assert [r.row.id for r in undecided] == ["CHG-2026-0002"]
    decisions = journal.decisions_of(["CHG-2026-0002"])
    assert [a.approver for a in decisions["CHG-2026-0002"][0]] == ["bleroy"]

    page = journal.changes_page(after=0, limit=2)
    assert [c.id for _, c in page] == ["CHG-2026-0001", "CHG-2026-0002"]
    assert [c.id for _, c in journal.changes_page(after=page[-1][0])] == ["CHG-2026-0003"]
    scheduled = list(journal.schedule([State.PLANNED]))
    assert [(c.id, start, duration) for c, start, duration in scheduled] == [("CHG-2026-0002", None, "PT30M")]
    with_plans = list(journal.changes_with_plans([State.APPROVED, State.PLANNED], limit=5))
    assert [(c.id, author) for c, author, _ in with_plans] == [("CHG-2026-0002", "efaure"),
                                                                ("CHG-2026-0001", "dnguyen")]
    assert list(journal.changes_with_plans([State.PLANNED], planned_start_set=True)) == []

    tally = journal.tally(T0 - dt.timedelta(days=30), T0 + dt.timedelta(days=30))
    assert tally.total == 3 and tally.rollbacks == ["CHG-2026-0003"]
    assert tally.by_site == {"doif": 2, "doso": 1}
    assert journal.event_if_latest(["policy_pinned"], 0, EventKind.POLICY_PINNED, actor="x", data={"v": 1})
    assert not journal.event_if_latest(["policy_pinned"], 0, EventKind.POLICY_PINNED, actor="x", data={"v": 2})
    assert journal.verify() == []
