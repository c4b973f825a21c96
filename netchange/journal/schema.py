"""The journal's SQLite schema, as numbered migrations applied in order.

``schema_version`` holds the number of the last migration applied; opening a journal applies the
missing ones in one transaction, so an older file is brought up to date by the code that reads it.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: the tracking sheet's tables.
    """
    CREATE TABLE changes (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        ticket TEXT NOT NULL,
        requester TEXT NOT NULL,
        category TEXT,
        sites TEXT NOT NULL DEFAULT '',
        hosts TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        outcome TEXT,
        plan_hash TEXT,
        emergency TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE plans (
        hash TEXT PRIMARY KEY,
        change_id TEXT NOT NULL REFERENCES changes(id),
        category TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        rules_version TEXT NOT NULL,
        json TEXT NOT NULL
    );
    CREATE INDEX plans_change ON plans(change_id);
    CREATE TABLE approvals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        change_id TEXT NOT NULL REFERENCES changes(id),
        plan_hash TEXT NOT NULL,
        approver TEXT NOT NULL,
        organisation TEXT NOT NULL,
        roles TEXT NOT NULL,
        decision TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX approvals_change ON approvals(change_id, plan_hash);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        change_id TEXT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        host TEXT,
        data TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX events_change ON events(change_id);
    -- Append-only: ordinary code cannot rewrite history. Someone with the file can drop these
    -- triggers, which is why every row is also chained by hash (journal verify).
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE blobs (
        sha TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        change_id TEXT,
        host TEXT,
        text TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE locks (
        host TEXT PRIMARY KEY,
        change_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL
    );
    """,
    # 2: the chain is keyed (HMAC-SHA256, netchange.journal.key) from a ``journal_keyed`` event on;
    # events before it (an older, unkeyed journal) keep their plain SHA-256 and are sealed by it.
    # The index finds that event without reading the whole table at each open.
    """
    CREATE INDEX events_kind ON events(kind);
    """,
    # 3: the approval service's queue reads the open changes of a journal of years (B6 bench:
    # 10,000 changes): by state, newest first, without reading the closed ones.
    """
    CREATE INDEX changes_state ON changes(state, created_at);
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations; returns the schema version now in force."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise RuntimeError(f"journal schema {current} is newer than this netchange ({len(MIGRATIONS)})")
        for number in range(current, len(MIGRATIONS)):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
        if row is None:
            conn.execute("INSERT INTO schema_version(version) VALUES (?)", (len(MIGRATIONS),))
        else:
            conn.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a migration on statement ends, keeping trigger bodies whole."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
