"""``netchange journal migrate --to postgresql://...`` (issue 24 item 4): a SQLite journal copied into
PostgreSQL with its chain intact, verified before and after; a journal that does not verify is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from netchange.journal import EventKind, Journal
from netchange.journal.testing import make_plan
from tests.pgserver import APP_ROLE, PgServer
from tests.unit.test_cli_locks import call


def local_journal(home: Path) -> tuple[int, str]:
    """A SQLite journal in ``home`` (its key beside it, as the command line keeps it) with history."""
    with Journal(home / "journal.sqlite", database="") as journal:
        for n in range(1, 4):
            plan = make_plan(f"CHG-2026-{n:04d}")
            journal.record_plan(plan, "dnguyen")
            journal.add_approval(plan.change.id, plan.plan_hash, approver="amoreau", organisation="client",
                                 roles=("ops_manager",), decision="approved")
            journal.set_state(plan.change.id, "approved", actor="amoreau")
            journal.event(plan.change.id, EventKind.COMMITTED, actor="dnguyen", host="sw-doif-1")
        return journal.head()


@pytest.fixture
def empty_database(postgres: PgServer) -> tuple[str, str]:
    """A database with no journal: the owner's URL (copies and creates the schema) and the application's."""
    owner = postgres.database("migrate")
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
    return owner, postgres.url(owner.rsplit("/", 1)[1], user=APP_ROLE)


def test_a_journal_is_copied_with_its_chain_and_goes_on_in_postgresql(
        workspace: Path, empty_database: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    owner, app = empty_database
    head = local_journal(workspace / "home")
    assert call("journal", "migrate", "--to", owner, "--app-role", APP_ROLE) == 0
    out = capsys.readouterr().out
    assert f"{head[0]} events, head {head[1][:16]} (verified before and after" in out and "3 approvals" in out
    # The team now works in PostgreSQL, as the application's role, with the same key.
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", app)
    assert call("journal", "verify") == 0
    capsys.readouterr()
    assert call("journal", "head") == 0
    assert capsys.readouterr().out.strip() == f"{head[0]} {head[1]}"
    key = (workspace / "home" / "journal.key").read_text().strip()
    with Journal(workspace / "home" / "journal.sqlite", database=app, key=key) as journal:
        assert [c.id for c in journal.changes(None, None)] == ["CHG-2026-0001", "CHG-2026-0002", "CHG-2026-0003"]
        plan = make_plan("CHG-2026-0004")
        journal.record_plan(plan, "dnguyen")
        approval = journal.add_approval(plan.change.id, plan.plan_hash, approver="amoreau", organisation="client",
                                        roles=("ops_manager",), decision="approved")
        assert approval.id == 4  # the numbers go on after the copied ones
        assert journal.head()[0] > head[0]
        assert journal.verify() == []


def test_a_journal_that_does_not_verify_is_not_copied(
        workspace: Path, empty_database: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    owner, _ = empty_database
    local_journal(workspace / "home")
    conn = sqlite3.connect(workspace / "home" / "journal.sqlite")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET actor = 'someone' WHERE seq = 3")
    conn.commit()
    conn.close()
    assert call("journal", "migrate", "--to", owner) == 3
    err = capsys.readouterr().err
    assert "the journal does not verify, it is not copied: event 3" in err
    with psycopg.connect(owner) as pg:
        assert pg.execute("SELECT to_regclass('events')").fetchone() == (None,)  # nothing created


def test_a_database_that_holds_a_journal_already_is_refused(
        workspace: Path, empty_database: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    owner, _ = empty_database
    local_journal(workspace / "home")
    assert call("journal", "migrate", "--to", owner) == 0
    capsys.readouterr()
    assert call("journal", "migrate", "--to", owner) == 3
    assert "already holds a journal of" in capsys.readouterr().err


def test_bad_input(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert call("journal", "migrate", "--to", "sqlite:///x") == 2
    assert call("journal", "migrate", "--to", "postgresql://h/d", "--app-role", "Robert'); DROP") == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
