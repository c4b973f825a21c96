"""The journal in PostgreSQL is append-only by construction (issue 24 item 2), on the tests' own server.

Three hands try to rewrite the history: the application's own role (INSERT and SELECT only on the
history), a hostile writer granted every table right on it (UPDATE, DELETE, TRUNCATE; not the
owner), and a superuser, who can switch the triggers off: ``journal verify`` then names the row,
because the chain is keyed by an HMAC key the database never sees.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest

from netchange.journal import EventKind, Journal
from netchange.journal.testing import make_plan
from tests.pgserver import APP_ROLE, PgServer, journal_database

KEY = "5a" * 32
HISTORY = ("events", "plans", "approvals", "blobs")


@pytest.fixture
def app_url(postgres: PgServer) -> str:
    return journal_database(postgres)


def as_role(app_url: str, role: str) -> str:
    return app_url.replace(f"//{APP_ROLE}@", f"//{role}@")


def populated(app_url: str, tmp_path: Path) -> str:
    with Journal(tmp_path / "j.sqlite", database=app_url, key=KEY) as journal:
        plan = make_plan()
        journal.record_plan(plan, "dnguyen")
        journal.add_approval(plan.change.id, plan.plan_hash, approver="amoreau", organisation="client",
                             roles=("ops_manager",), decision="approved")
        journal.event(plan.change.id, EventKind.COMMITTED, actor="dnguyen", host="sw-doif-1", data={"ok": True})
    text = "hostname sw-doif-1\n"
    with psycopg.connect(app_url, autocommit=True) as conn:  # a stored text, as the history keeps them
        conn.execute("INSERT INTO blobs(sha, kind, change_id, host, text, at) VALUES (%s, 'snapshot', %s,"
                     " 'sw-doif-1', %s, '2026-12-01T09:00:00+00:00')",
                     (hashlib.sha256(text.encode()).hexdigest(), plan.change.id, text))
    with Journal(tmp_path / "j.sqlite", database=app_url, key=KEY) as journal:
        assert journal.verify() == []
        return plan.change.id


REWRITES = {
    "update": "UPDATE {t} SET {c} = {c}",
    "delete": "DELETE FROM {t}",
    "truncate": "TRUNCATE {t} CASCADE",
}
COLUMN = {"events": "data", "plans": "json", "approvals": "comment", "blobs": "text"}


@pytest.mark.parametrize("how", sorted(REWRITES))
def test_the_application_role_can_only_add_and_read_the_history(app_url: str, tmp_path: Path, how: str) -> None:
    populated(app_url, tmp_path)
    with psycopg.connect(app_url, autocommit=True) as conn:
        for table in HISTORY:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(REWRITES[how].format(t=table, c=COLUMN[table]))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor the triggers, owned by another role
            conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")


@pytest.mark.parametrize("how", sorted(REWRITES))
def test_a_hostile_writer_with_every_table_right_is_refused_by_the_triggers(
        postgres: PgServer, app_url: str, tmp_path: Path, how: str) -> None:
    populated(app_url, tmp_path)
    database = app_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS hostile_writer")
        admin.execute("CREATE ROLE hostile_writer LOGIN")
        admin.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO hostile_writer")
    with psycopg.connect(as_role(app_url, "hostile_writer"), autocommit=True) as conn:
        for table in HISTORY:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="the journal is append-only"):
                conn.execute(REWRITES[how].format(t=table, c=COLUMN[table]))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner"):
            conn.execute("ALTER TABLE events DISABLE TRIGGER ALL")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM changes")  # the change rows go with their history
    with Journal(tmp_path / "j.sqlite", database=app_url, key=KEY) as journal:
        assert journal.verify() == []
    with psycopg.connect(postgres.url(database), autocommit=True) as admin:
        admin.execute("DROP OWNED BY hostile_writer")
        admin.execute("DROP ROLE hostile_writer")


def test_journal_verify_catches_what_a_superuser_changes(postgres: PgServer, app_url: str, tmp_path: Path,
                                                          workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_cli_locks import call

    change_id = populated(app_url, tmp_path)
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", app_url)
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", KEY)
    assert call("journal", "verify") == 0
    database = app_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as superuser:
        superuser.execute("SET session_replication_role = replica")  # the triggers switched off
        superuser.execute("UPDATE events SET data = replace(data, 'true', 'false') WHERE kind = 'committed'")
    capsys.readouterr()
    assert call("journal", "verify") == 1
    err = capsys.readouterr().err
    assert f"committed, {change_id}): content modified" in err


def test_the_key_is_never_in_the_database(app_url: str, tmp_path: Path, postgres: PgServer) -> None:
    populated(app_url, tmp_path)
    database = app_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        dump = "".join(str(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    assert "events" in tables and len(dump) > 1000
    assert KEY not in dump and KEY.upper() not in dump


def test_the_application_role_cannot_rewrite_a_change_row_unseen(app_url: str, tmp_path: Path) -> None:
    """``changes`` moves (its state): the role may UPDATE it, and verify recomputes it from the events."""
    change_id = populated(app_url, tmp_path)
    with psycopg.connect(app_url, autocommit=True) as conn:
        conn.execute("UPDATE changes SET state = 'completed' WHERE id = %s", (change_id,))
    with Journal(tmp_path / "j.sqlite", database=app_url, key=KEY) as journal:
        problems = journal.verify()
    assert problems and f"changes row {change_id}: state do not match its events" in problems[0]


def superuser_edits(postgres: PgServer, app_url: str, *statements: str) -> None:
    """A superuser's hand: triggers off for the session, then the statements."""
    database = app_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)


@pytest.mark.parametrize(
    ("statements", "found"),
    [
        (["UPDATE events SET actor = 'mallory' WHERE kind = 'approval'"], "content modified"),
        (["DELETE FROM events WHERE seq = 3"], "events 3..3 are missing (deleted)"),
        (["UPDATE changes SET state = 'completed', outcome = 'completed'"], "state, outcome do not match"),
        (["UPDATE plans SET created_by = 'bleroy'"], "plan "),
        (["DELETE FROM approvals"], "approval 1: recorded by event"),
        (["UPDATE blobs SET text = 'hostname evil'"], "blob "),
        (["INSERT INTO locks(host, change_id, actor, at) VALUES ('fw-doif-1', 'CHG-2026-0001', 'x', '2026-12-01')"],
         "locks row "),
    ],
)
def test_what_a_superuser_edits_is_named_by_verify(postgres: PgServer, app_url: str, tmp_path: Path,
                                                   statements: list[str], found: str) -> None:
    populated(app_url, tmp_path)
    superuser_edits(postgres, app_url, *statements)
    with Journal(tmp_path / "j.sqlite", database=app_url, key=KEY) as journal:
        problems = journal.verify()
    assert any(found in p for p in problems), problems


def test_a_superuser_who_rechains_without_the_key_is_named_by_verify(
        postgres: PgServer, app_url: str, tmp_path: Path) -> None:
    """The thorough attacker: every hash recomputed after the edit, but without the key (not in the database)."""
    from netchange.journal.chain import GENESIS, event_hash

    populated(app_url, tmp_path)
    database = app_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE events SET actor = 'mallory' WHERE kind = 'approval'")
        rows = conn.execute("SELECT seq, change_id, at, kind, actor, host, data FROM events ORDER BY seq").fetchall()
        prev = GENESIS
        for seq, change_id, at, kind, actor, host, data in rows:
            digest = event_hash(prev, seq, change_id=change_id, at=at, kind=kind, actor=actor, host=host, data=data,
                                key=b"a guess at the key")
            conn.execute("UPDATE events SET prev_hash = %s, hash = %s WHERE seq = %s", (prev, digest, seq))
            prev = digest
        conn.execute("UPDATE chain_head SET seq = %s, hash = %s", (rows[-1][0], prev))
    with Journal(tmp_path / "j.sqlite", database=app_url, key=KEY) as journal:
        problems = journal.verify()
    assert problems and "content modified or hash not made with this journal's key" in " ".join(problems)


def test_a_backup_restored_elsewhere_verifies_and_goes_on(postgres: PgServer, app_url: str, tmp_path: Path) -> None:
    """pg_dump and pg_restore (docs/team-setup.md, "Backup and restore"): the tables, triggers and
    grants come back; the restored journal verifies with the key, which the dump does not hold."""
    import subprocess

    from tests.pgserver import BIN

    change_id = populated(app_url, tmp_path)
    database = app_url.rsplit("/", 1)[1]
    dump = tmp_path / "journal.dump"
    subprocess.run([str(BIN / "pg_dump"), "-Fc", "-f", str(dump), postgres.url(database)], check=True,
                   capture_output=True, timeout=60)
    assert KEY.encode() not in dump.read_bytes()
    restored = postgres.database("restored")
    subprocess.run([str(BIN / "pg_restore"), "--exit-on-error", "-d", restored, str(dump)], check=True,
                   capture_output=True, timeout=60)
    restored_app = postgres.url(restored.rsplit("/", 1)[1], user=APP_ROLE)
    with Journal(tmp_path / "j.sqlite", database=restored_app, key=KEY) as journal:
        assert journal.verify() == []
        journal.event(change_id, EventKind.POST_CHECKS, actor="dnguyen", data={"after": "restore"})
        assert journal.verify() == []
    with psycopg.connect(restored_app, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM events")  # the grants and triggers came back with it


def test_a_role_without_its_rights_is_refused_in_one_line(postgres: PgServer, app_url: str, tmp_path: Path,
                                                          workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_cli_locks import call

    populated(app_url, tmp_path)
    database = app_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS stranger")
        admin.execute("CREATE ROLE stranger LOGIN")
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", as_role(app_url, "stranger"))
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", KEY)
    assert call("journal", "verify") == 3
    err = capsys.readouterr().err
    assert "the journal's database refused a statement (permission denied" in err and "Traceback" not in err
    with psycopg.connect(postgres.url(database), autocommit=True) as admin:
        admin.execute("DROP ROLE stranger")


def test_a_database_without_a_journal_is_named_in_one_line(postgres: PgServer, workspace: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.test_cli_locks import call

    monkeypatch.setenv("NETCHANGE_DATABASE_URL", postgres.database("empty"))
    assert call("list") == 2
    err = capsys.readouterr().err
    assert "no netchange journal in this database" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
