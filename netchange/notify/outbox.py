"""The outbox: mails queued from journal events, delivered later, retried with backoff.

A SQLite file beside the journal (``journal.sqlite`` → ``journal.outbox.sqlite``), 0600 from
creation, or, when the journal is in PostgreSQL, two tables of that database (shared by every
machine and replica: each mail is queued once whatever their number): it holds mail bodies with
diffs. It is apart from the journal's tables so that delivery, which may fail and retry for hours,
never writes into the change's transactions; what the journal records of it is one event per
delivery (sent, or failed with the next attempt).

``cursor`` is the last journal event turned into mails: queuing reads the events after it and
moves it, in one transaction with the rows it adds, so two netchange processes finishing at once
queue each mail once (``UNIQUE(event_seq, notice)`` as the second guard). A mail being sent is
leased (``lease_until``): a process that dies mid-send leaves it to be sent again after the lease.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self, cast

from netchange.notify.compose import Composed
from netchange.privatefile import create_private, private_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq INTEGER NOT NULL,
    change_id TEXT NOT NULL,
    notice TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    sent_at TEXT,
    UNIQUE (event_seq, notice)
);
CREATE INDEX IF NOT EXISTS mails_due ON mails(state, next_attempt_at);
"""

PENDING, SENDING, SENT, ABANDONED = "pending", "sending", "sent", "abandoned"
LEASE = dt.timedelta(minutes=5)


def outbox_path(journal: Path) -> Path:
    return journal.with_name(f"{journal.stem}.outbox{journal.suffix or '.sqlite'}")


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Mail:
    id: int
    event_seq: int
    change_id: str
    notice: str
    recipients: tuple[tuple[str, str, str], ...]
    subject: str
    text: str
    html: str
    link: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    sent_at: dt.datetime | None

    @property
    def logins(self) -> list[str]:
        return [login for login, _, _ in self.recipients]


def _mail(row: sqlite3.Row) -> Mail:
    return Mail(
        id=int(row["id"]), event_seq=int(row["event_seq"]), change_id=row["change_id"], notice=row["notice"],
        recipients=tuple((str(a), str(b), str(c)) for a, b, c in json.loads(row["recipients"])),
        subject=row["subject"], text=row["body_text"], html=row["body_html"], link=row["link"],
        state=row["state"], attempts=int(row["attempts"]),
        next_attempt_at=dt.datetime.fromisoformat(row["next_attempt_at"]),
        last_error=row["last_error"],
        sent_at=dt.datetime.fromisoformat(row["sent_at"]) if row["sent_at"] else None,
    )


_OUTBOX_LOCK = 0x6E63_6F62
"""PostgreSQL: the advisory lock that serialises the outbox's transactions, as SQLite's
``BEGIN IMMEDIATE`` does (every machine and replica queues and claims under it)."""


class Outbox:
    def __init__(self, path: Path, *, busy_timeout: float = 30.0, database: str | None = None) -> None:
        """The outbox beside the journal at ``path``, or, with ``database`` (a ``postgresql://``
        URL: the team's, docs/team-setup.md), the one in that database."""
        self.path = path
        self.database = database
        if database is not None:
            from netchange.journal.pgstore import PgConnection

            self._conn = cast("sqlite3.Connection", PgConnection(database))  # the same face as SQLite's
            return
        private_dir(path.parent)
        create_private(path)
        old = os.umask(0o077)  # -wal and -shm too
        try:
            self._conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)
        finally:
            os.umask(old)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if self.database is None:
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            self._conn.execute("BEGIN")
            self._conn.execute("SELECT pg_advisory_xact_lock(?)", (_OUTBOX_LOCK,))
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # --- queueing ---------------------------------------------------------------------------------

    def cursor(self) -> int | None:
        row = self._conn.execute("SELECT cursor FROM meta WHERE id = 1").fetchone()
        return int(row[0]) if row else None

    @contextmanager
    def queueing(self, start: int) -> Iterator[_Queue]:
        """One transaction: read the cursor (``start`` for a new outbox), add mails, move the cursor."""
        with self._tx() as conn:
            row = conn.execute("SELECT cursor FROM meta WHERE id = 1").fetchone()
            queue = _Queue(conn, int(row[0]) if row else start)
            yield queue
            conn.execute("INSERT OR REPLACE INTO meta(id, cursor) VALUES (1, ?)", (queue.cursor,))

    # --- delivery -----------------------------------------------------------------------------------

    def claim(self, now: dt.datetime, *, due_only: bool = True, limit: int = 50) -> list[Mail]:
        """Lease the mails to send now: pending and due (every pending one with ``due_only=False``),
        or left ``sending`` by a process whose lease ran out."""
        with self._tx() as conn:
            due = " AND next_attempt_at <= ?" if due_only else ""
            args: list[object] = [PENDING, *([_ts(now)] if due_only else []), SENDING, _ts(now), limit]
            rows = conn.execute(
                f"SELECT * FROM mails WHERE (state = ?{due}) OR (state = ? AND lease_until < ?)"  # noqa: S608
                " ORDER BY id LIMIT ?", args).fetchall()
            ids = [int(r["id"]) for r in rows]
            conn.executemany("UPDATE mails SET state = ?, lease_until = ? WHERE id = ?",
                             [(SENDING, _ts(now + LEASE), i) for i in ids])
        return [_mail(r) for r in rows]

    def sent(self, mail_id: int, now: dt.datetime) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE mails SET state = ?, sent_at = ?, attempts = attempts + 1, lease_until = NULL,"
                         " last_error = NULL WHERE id = ?", (SENT, _ts(now), mail_id))

    def failed(self, mail_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt: pending again at ``retry_at``, or abandoned (``None``)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE mails SET state = ?, attempts = attempts + 1, lease_until = NULL, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
                (PENDING if retry_at else ABANDONED, error, _ts(retry_at) if retry_at else None, mail_id))

    def mails(self, *, states: tuple[str, ...] = (PENDING, SENDING, SENT, ABANDONED),
              change_id: str | None = None) -> list[Mail]:
        marks = ",".join("?" * len(states))
        sql = f"SELECT * FROM mails WHERE state IN ({marks})"  # noqa: S608
        args: list[object] = list(states)
        if change_id is not None:
            sql += " AND change_id = ?"
            args.append(change_id)
        return [_mail(r) for r in self._conn.execute(sql + " ORDER BY id", args).fetchall()]


class _Queue:
    def __init__(self, conn: sqlite3.Connection, cursor: int) -> None:
        self._conn = conn
        self.cursor = cursor
        self.added = 0

    def add(self, event_seq: int, notice: str, composed: Composed, now: dt.datetime) -> None:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO mails(event_seq, change_id, notice, recipients, subject, body_text, body_html,"
            " link, created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (event_seq, composed.change_id, notice, json.dumps([list(r) for r in composed.recipients]),
             composed.subject, composed.text, composed.html, composed.link, _ts(now), _ts(now)))
        self.added += cur.rowcount
