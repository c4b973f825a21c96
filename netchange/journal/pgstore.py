"""The journal's second storage: PostgreSQL 15 (issue 24 items 1 and 2), behind the journal's one seam.

The seam is the connection. Every part of the journal (``chain``, ``changes``, ``approvals``,
``locks``, ``verify``, ``worklist``, ``tallies``) talks to its connection as to SQLite's:
``execute(sql, args)`` with ``?`` placeholders, rows read by index or column name, ``lastrowid``,
explicit ``BEGIN``/``COMMIT``. :class:`PgConnection` gives a psycopg connection that face, and
:func:`translate` turns the few SQLite-only phrases the journal uses into PostgreSQL's:

- ``?`` → ``%s`` (a literal ``%`` doubled);
- ``INSERT OR IGNORE`` / ``INSERT OR REPLACE`` → ``ON CONFLICT DO NOTHING`` / ``DO UPDATE`` on the
  table's key;
- ``json_extract(x, '$.a.b')`` → ``x::jsonb #>> '{a,b}'``; ``rowid`` → ``n`` (a ``BIGSERIAL`` the
  PostgreSQL ``changes`` table has for it); ``+kind`` (SQLite's "not through this index") → ``kind``;
- ``sqlite_sequence`` (SQLite's high-water mark of ``events``) → no row: PostgreSQL refuses the
  deletion it would reveal (below), and the heads kept outside (anchors) still see a truncation;
- ``PRAGMA`` → nothing.

Serialised appends: the write transaction takes the chain head row ``FOR UPDATE`` before it reads
it (:meth:`PgConnection.begin_write`), where SQLite takes its database lock (``BEGIN IMMEDIATE``).

Append-only by construction (:data:`SCHEMA`, :func:`create_schema`): the tables belong to an owner
role; the application's role gets INSERT and SELECT only on ``events``, ``plans``, ``approvals``
and ``blobs`` (UPDATE too on ``changes``, whose state moves and which ``verify`` recomputes from
the events, and on ``chain_head``, the one row appends move). Row triggers refuse UPDATE and DELETE
of the history and a statement trigger refuses TRUNCATE, whoever asks, a writer granted more
rights included; the owner (or a superuser) can still drop the triggers, which is why the chain is
keyed: the HMAC key stays with the processes that append (``NETCHANGE_JOURNAL_KEY`` or the key
file), never in the database, and ``journal verify`` finds what such a hand changed.

The device leases (:mod:`netchange.apply.leases`) live in the same database: their table and token
sequence are created here too, the application's role may read, take, renew and give them back. So
does the mail outbox (``meta``, ``mails``: :mod:`netchange.notify.outbox`), which every machine and
replica then shares: its cursor and ``UNIQUE(event_seq, notice)`` queue each mail once.

Text columns are ``COLLATE "C"``: timestamps are ISO 8601 text compared as SQLite compares them
(byte order), whatever the database's own collation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netchange.errors import BadRequest, DatabaseRefused, DatabaseUnavailable
from netchange.journal.database import connect, where

if TYPE_CHECKING:
    import psycopg

GENESIS = "0" * 64
VERSION = 3
"""The SQLite schema's migration number this schema matches (``netchange.journal.schema``)."""

_T = 'TEXT COLLATE "C"'
SERVICE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS service_sessions (
    token_hash {_T} PRIMARY KEY,
    login {_T} NOT NULL,
    csrf {_T} NOT NULL,
    stamp {_T} NOT NULL,
    hold {_T},
    opened_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS service_sessions_login ON service_sessions(login);
CREATE TABLE IF NOT EXISTS service_throttle (
    key {_T} PRIMARY KEY,
    failures INTEGER NOT NULL,
    last DOUBLE PRECISION NOT NULL,
    until DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS service_guessing (
    login {_T} PRIMARY KEY,
    since DOUBLE PRECISION NOT NULL,
    failures INTEGER NOT NULL,
    addresses {_T} NOT NULL,
    reported BOOLEAN NOT NULL
);
"""
"""The approval service's state shared by its replicas (issue 24 item 5, ``netchange.service.shared``):
sessions (the SHA-256 of each session's token, never the token; expiry by the database's clock) and
sign-in throttling. Mutable state, not history: the application's role may change and delete it."""
SCHEMA = f"""
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE changes (
    n BIGSERIAL UNIQUE,
    id {_T} PRIMARY KEY,
    title {_T} NOT NULL,
    ticket {_T} NOT NULL,
    requester {_T} NOT NULL,
    category {_T},
    sites {_T} NOT NULL DEFAULT '',
    hosts {_T} NOT NULL DEFAULT '',
    state {_T} NOT NULL,
    outcome {_T},
    plan_hash {_T},
    emergency {_T},
    created_at {_T} NOT NULL,
    updated_at {_T} NOT NULL
);
CREATE INDEX changes_state ON changes(state, created_at);
CREATE TABLE plans (
    hash {_T} PRIMARY KEY,
    change_id {_T} NOT NULL REFERENCES changes(id),
    category {_T} NOT NULL,
    created_at {_T} NOT NULL,
    created_by {_T} NOT NULL,
    recorded_by {_T} NOT NULL,
    policy_version {_T} NOT NULL,
    rules_version {_T} NOT NULL,
    json {_T} NOT NULL
);
CREATE INDEX plans_change ON plans(change_id);
CREATE TABLE approvals (
    id BIGSERIAL PRIMARY KEY,
    change_id {_T} NOT NULL REFERENCES changes(id),
    plan_hash {_T} NOT NULL,
    approver {_T} NOT NULL,
    organisation {_T} NOT NULL,
    roles {_T} NOT NULL,
    decision {_T} NOT NULL,
    comment {_T} NOT NULL DEFAULT '',
    at {_T} NOT NULL
);
CREATE INDEX approvals_change ON approvals(change_id, plan_hash);
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    change_id {_T},
    at {_T} NOT NULL,
    kind {_T} NOT NULL,
    actor {_T} NOT NULL,
    host {_T},
    data {_T} NOT NULL,
    prev_hash {_T} NOT NULL,
    hash {_T} NOT NULL
);
CREATE INDEX events_change ON events(change_id);
CREATE INDEX events_kind ON events(kind);
CREATE TABLE chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash {_T} NOT NULL
);
CREATE TABLE blobs (
    sha {_T} PRIMARY KEY,
    kind {_T} NOT NULL,
    change_id {_T},
    host {_T},
    text {_T} NOT NULL,
    at {_T} NOT NULL
);
CREATE TABLE locks (
    host {_T} PRIMARY KEY,
    change_id {_T} NOT NULL,
    actor {_T} NOT NULL,
    at {_T} NOT NULL
);
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER plans_append_only BEFORE UPDATE OR DELETE ON plans
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER approvals_append_only BEFORE UPDATE OR DELETE ON approvals
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER blobs_append_only BEFORE UPDATE OR DELETE ON blobs
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER plans_no_truncate BEFORE TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER approvals_no_truncate BEFORE TRUNCATE ON approvals
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER blobs_no_truncate BEFORE TRUNCATE ON blobs
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
CREATE SEQUENCE device_lease_token;
CREATE TABLE device_leases (
    device {_T} PRIMARY KEY,
    token BIGINT NOT NULL,
    holder {_T} NOT NULL,
    change_id {_T} NOT NULL,
    action {_T} NOT NULL,
    actor {_T} NOT NULL,
    machine {_T} NOT NULL,
    home {_T} NOT NULL,
    pid INTEGER NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor BIGINT NOT NULL
);
CREATE TABLE mails (
    id BIGSERIAL PRIMARY KEY,
    event_seq BIGINT NOT NULL,
    change_id {_T} NOT NULL,
    notice {_T} NOT NULL,
    recipients {_T} NOT NULL,
    subject {_T} NOT NULL,
    body_text {_T} NOT NULL,
    body_html {_T} NOT NULL,
    link {_T} NOT NULL,
    created_at {_T} NOT NULL,
    state {_T} NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {_T} NOT NULL,
    lease_until {_T},
    last_error {_T},
    sent_at {_T},
    UNIQUE (event_seq, notice)
);
CREATE INDEX mails_due ON mails(state, next_attempt_at);
{SERVICE_SCHEMA}
INSERT INTO chain_head(id, seq, hash) VALUES (1, 0, '{GENESIS}');
INSERT INTO schema_version(version) VALUES ({VERSION});
"""  # noqa: S608 - constants only (the column type, the genesis hash, the version)

APPEND_ONLY = ("events", "plans", "approvals", "blobs")
"""The history: the application may only add and read."""
GRANTS = (
    "GRANT SELECT, INSERT ON events, plans, approvals, blobs TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON changes, chain_head TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON locks, device_leases TO {role}",
    "GRANT USAGE ON SEQUENCE device_lease_token TO {role}",
    "GRANT SELECT, INSERT, UPDATE ON meta, mails TO {role}",
    "GRANT USAGE ON SEQUENCE mails_id_seq TO {role}",
    "GRANT SELECT ON schema_version TO {role}",
    "GRANT USAGE ON SEQUENCE approvals_id_seq, changes_n_seq TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON service_sessions, service_throttle, service_guessing TO {role}",
)
"""What the application's role may do (docs/team-setup.md); nothing else, and it owns nothing."""


def create_schema(owner_url: str, *, app_role: str | None = None) -> None:
    """Create the journal's tables (as the owner of ``owner_url``) and grant ``app_role`` its rights.

    Refuses a database that already holds a journal: a schema is created once, by its owner.
    """
    from psycopg import sql

    with connect(owner_url) as conn:
        if _has_journal(conn):
            raise BadRequest(f"{where(owner_url)}: this database already holds a netchange journal")
        with conn.transaction():
            conn.execute(SCHEMA)
            if app_role:
                for grant in GRANTS:
                    conn.execute(sql.SQL(grant).format(role=sql.Identifier(app_role)))


def _has_journal(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()
    return bool(row and row[0])


def pseudo_path(url: str) -> Path:
    """A path naming the database (never its password): for messages and the heads kept outside."""
    return Path("/postgresql") / where(url).replace("/", "_")


# -- the dialect ----------------------------------------------------------------------------------
_CONFLICT_KEYS = {"chain_head": "id", "locks": "host", "meta": "id"}
_INSERT = re.compile(r"^\s*INSERT OR (IGNORE|REPLACE) INTO (\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_JSON = re.compile(r"json_extract\(([\w.]+), '\$\.([\w.]+)'\)")


@lru_cache(maxsize=512)
def translate(statement: str) -> str:
    """The journal's SQLite statement as PostgreSQL's (see the module)."""
    if "sqlite_sequence" in statement:
        return "SELECT NULL::bigint AS seq WHERE false"
    text = statement.replace("%", "%%").replace("?", "%s")
    text = _JSON.sub(lambda m: f"({m.group(1)}::jsonb #>> '{{{','.join(m.group(2).split('.'))}}}')", text)
    text = re.sub(r"\browid\b", "n", text)
    text = text.replace("+kind", "kind")
    found = _INSERT.match(text)
    if found:
        how, table, columns = found.group(1).upper(), found.group(2), found.group(3)
        text = text.replace(f"INSERT OR {found.group(1)} INTO", "INSERT INTO", 1)
        if how == "IGNORE":
            text += " ON CONFLICT DO NOTHING"
        else:
            key = _CONFLICT_KEYS[table]
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in (c.strip() for c in columns.split(",")) if c != key)
            text += f" ON CONFLICT ({key}) DO UPDATE SET {sets}"
    if re.match(r"^\s*INSERT INTO approvals\b", text):
        text += " RETURNING id"
    return text


class Row(tuple[Any, ...]):
    """A row read by index or by column name, as ``sqlite3.Row``."""

    _names: dict[str, int]

    def __new__(cls, names: dict[str, int], values: Sequence[Any]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        names.setdefault(column.name, i)  # the first of two same-named columns, as SQLite's Row

    def make(values: Sequence[Any]) -> Row:
        return Row(names, values)

    return make


class Cursor:
    """What ``execute`` returns: rows to fetch or iterate, and ``lastrowid`` of an approval."""

    def __init__(self, rows: list[Row], lastrowid: int | None, rowcount: int) -> None:
        self._rows = rows
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Row]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PgConnection:
    """A psycopg connection with the face the journal expects of SQLite's (see the module)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.raw = connect(url)
        self.raw.row_factory = _row_factory
        self._lock = threading.RLock()
        if not _has_journal(self.raw):
            raise BadRequest(f"{where(url)}: no netchange journal in this database (its owner creates it:"
                             " 'netchange journal migrate --to' or docs/team-setup.md)")

    def execute(self, statement: str, args: Sequence[Any] = ()) -> Cursor:
        import psycopg

        if statement.lstrip().upper().startswith("PRAGMA"):
            return Cursor([], None, 0)
        text = translate(statement)
        with self._lock:
            try:
                cur = self.raw.execute(text, tuple(args))
            except psycopg.OperationalError as exc:
                raise DatabaseUnavailable(f"{where(self.url)}: the journal's database stopped answering"
                                          f" ({_first_line(exc)})") from None
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable,
                    psycopg.errors.UndefinedColumn) as exc:
                raise DatabaseRefused(f"{where(self.url)}: the journal's database refused a statement"
                                      f" ({_first_line(exc)})") from None
            rows = list(cur.fetchall()) if cur.description is not None else []
        lastrowid = int(rows[0][0]) if rows and text.endswith("RETURNING id") else None
        return Cursor(rows, lastrowid, cur.rowcount)

    def executemany(self, statement: str, seq: Sequence[Sequence[Any]]) -> None:
        for args in seq:
            self.execute(statement, args)

    def begin_write(self) -> None:
        """Open a write transaction serialised with every other appender: the chain head row locked."""
        self.execute("BEGIN")
        self.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")

    def close(self) -> None:
        self.raw.close()
