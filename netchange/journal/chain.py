"""The journal's connection, write transactions and keyed hash chain of events.

Why a keyed hash chain: each event's hash is an HMAC-SHA256, under a key kept outside the journal
file (``netchange.journal.key``), of the previous event's hash and its own canonical content: a
changed, deleted or re-ordered past row breaks the chain, and recomputing the chain needs the key.
Whoever holds the state directory holds the key too: each committed head is therefore also kept
outside it (:mod:`netchange.journal.anchors`), which such a rewrite cannot match.

Thread safety: apply runs hosts in threads; one connection is shared behind a re-entrant lock
and every write is one ``BEGIN IMMEDIATE`` transaction (which also serialises other processes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

from netchange import redact
from netchange.errors import BadRequest, LockHeld
from netchange.journal.encoding import _dt, _event, _loads, _scrub, _ts, _utcnow, canonical
from netchange.journal.key import JournalKey, create_key, find_key
from netchange.journal.key import setup as journal_setup
from netchange.journal.records import Event, EventKind, event_kind
from netchange.journal.schema import migrate
from netchange.privatefile import create_private, narrow_file, private_dir

if TYPE_CHECKING:
    from netchange.journal.pgstore import PgConnection

GENESIS = "0" * 64
KEYED = EventKind.JOURNAL_KEYED
"""The event from which the chain is keyed: the first event of a new journal, or the migration
event of a journal written before keys (its earlier events keep their plain SHA-256)."""


def event_hash(
    prev_hash: str,
    seq: int,
    *,
    change_id: str | None,
    at: str,
    kind: str,
    actor: str,
    host: str | None,
    data: str,
    key: bytes | None = None,
) -> str:
    """The chain: HMAC-SHA256 (plain SHA-256 before the journal was keyed) over the previous hash
    and this row's canonical content."""
    content = (prev_hash + canonical([seq, change_id, at, kind, actor, host, data])).encode()
    if key is None:
        return hashlib.sha256(content).hexdigest()
    return hmac.new(key, content, hashlib.sha256).hexdigest()


@contextmanager
def _busy(path: Path) -> Iterator[None]:
    """SQLite's "database is locked" (after the busy timeout) as netchange's refusal, in one line."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise LockHeld(f"{path}: the journal is held by another netchange process; try again") from None



def pgstore_path(url: str) -> Path:
    """The path that names a journal kept in PostgreSQL (messages, heads kept outside)."""
    from netchange.journal.pgstore import pseudo_path

    return pseudo_path(url)


class JournalBase:
    """The connection, its transactions and the keyed chain of events; every part of ``Journal``
    builds on these."""

    def __init__(self, path: str | Path, *, clock: Callable[[], dt.datetime] = _utcnow,
                 busy_timeout: float = 30.0, key: str | bytes | None = None,
                 key_file: Path | None = None, migrate_unkeyed: bool = False,
                 syslog: bool | None = None, anchors: Path | None = None,
                 database: str | None = None) -> None:
        """``key`` (else ``netchange.journal.key.find_key``) keys the chain; an unkeyed journal
        with events is keyed on its first write only when its key is created then, or with
        ``migrate_unkeyed`` (``netchange journal migrate``): a key that already exists next to an
        unkeyed journal may mean the journal was rewritten without it. ``syslog`` (else the
        process's setting, ``netchange.journal.key.configure``): each committed head also goes to
        syslog. ``anchors`` (else the process's setting): the directory where each committed head
        is kept, outside the state directory (:mod:`netchange.journal.anchors`). ``database``
        (else the process's setting, ``NETCHANGE_DATABASE_URL``; ``""``: SQLite whatever the setting):
        a ``postgresql://`` URL, the journal is then in that database (:mod:`netchange.journal.pgstore`)
        and ``path`` only says where its key is looked for beside it."""
        url = (database if database is not None else journal_setup().database_url) or None  # "": SQLite
        self.database = url
        """The PostgreSQL URL of a journal kept there; ``None``: the SQLite file at ``path``."""
        self.path = Path(path) if url is None else pgstore_path(url)
        if url is None:
            private_dir(self.path.parent)
        self._clock = clock
        self._lock = threading.RLock()
        if key is not None:
            material = key.encode() if isinstance(key, str) else key
            self._key = JournalKey(material, "the key given", None, existed=True)
        else:
            self._key = find_key(Path(path), key_file)
        self._migrate_unkeyed = migrate_unkeyed
        # NETCHANGE_JOURNAL_SYSLOG=1 (a setting): each committed head also goes to syslog, an
        # anchor outside the file as it grows ('journal verify --heads' reads those lines).
        self._syslog = journal_setup().syslog if syslog is None else syslog
        # Heads kept outside the state directory, by default (the CLI's settings): what a rewrite
        # by the directory's owner, key in hand, cannot change (netchange.journal.anchors).
        self._anchors = anchors if anchors is not None else journal_setup().anchors
        self._state_dir = journal_setup().state_dir
        self._new_head: tuple[int, str] | None = None
        self._created: str | None = None
        self._keyed_from: int | None = None
        self._key_checked = False
        self.fence: Callable[..., None] | None = None
        """Called at the start of every write transaction, before anything is written: a command
        holding device leases sets it to their check (fencing, :mod:`netchange.apply.leases`), so a
        holder whose lease was taken over writes nothing more; it raises to refuse the write. A
        journal in PostgreSQL passes its connection, inside the write's own transaction."""
        if url is not None:
            self._open_postgresql(url)
            return
        # The database, its -wal and -shm are private from creation: the file is made 0600
        # before SQLite opens it (SQLite gives -wal and -shm the database file's mode), and the
        # umask covers what SQLite creates while connecting. Files of an older release are narrowed.
        create_private(self.path)
        for suffix in ("-wal", "-shm"):
            narrow_file(self.path.with_name(self.path.name + suffix))
        old_umask = os.umask(0o077)
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE) so that the write lock
            # is taken before the chain head is read.
            self._conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: each commit is synced to disk before the device action it announces.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            with self._lock, _busy(self.path):
                self.schema_version = migrate(self._conn)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                raise
            raise BadRequest(f"{self.path}: not a netchange journal ({exc})") from None
        finally:
            os.umask(old_umask)

    def _open_postgresql(self, url: str) -> None:
        from netchange.journal.pgstore import VERSION, PgConnection

        # The same face as SQLite's connection (pgstore's module docstring says which differences).
        self._conn = cast("sqlite3.Connection", PgConnection(url))
        row = self._conn.execute("SELECT version FROM schema_version").fetchone()
        self.schema_version = int(row[0]) if row else 0
        if self.schema_version != VERSION:
            self._conn.close()
            raise BadRequest(f"{self.path}: journal schema {self.schema_version}, this netchange needs {VERSION}")

    # --- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. ``durable=False`` skips the disk sync of this commit.

        In WAL mode the log is written in order, so the next durable commit syncs the frames of
        the non-durable ones before it: a process crash loses nothing, a power loss can lose only
        non-durable events written since the last durable one.
        """
        with self._lock:
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            keyed_from = self._keyed_from
            self._new_head = self._created = None
            try:
                with _busy(self.path):
                    if self.database is None:
                        self._conn.execute("BEGIN IMMEDIATE")
                    else:  # the chain head row locked: appends serialised across machines
                        cast("PgConnection", self._conn).begin_write()
                        if not durable:
                            self._conn.execute("SET LOCAL synchronous_commit = off")
                try:
                    if self.fence is not None and self.database is not None:
                        self.fence(cast("PgConnection", self._conn).raw)  # inside this transaction
                    elif self.fence is not None:
                        self.fence()
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    self._keyed_from = keyed_from  # a keying event rolled back with the rest
                    raise
                self._conn.execute("COMMIT")
                if self._new_head is not None and self._syslog:
                    _to_syslog(self.path, *self._new_head)
                if self._new_head is not None and self._anchors is not None and durable:
                    # Only durable heads: a power cut may take a non-durable commit but keep its
                    # head, which would then read as a truncation. The next durable one anchors it.
                    self._keep_head(self._anchors, *self._new_head)
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous=FULL")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, tuple(args)).fetchall())

    # --- the key ------------------------------------------------------------------------------

    def _keying(self, conn: sqlite3.Connection) -> None:
        """Make sure the chain is keyed before an event is appended (inside the write transaction).

        A keyed journal needs its key (a missing or different key is refused: events written
        under another key could never be verified). A journal without its keying event gets one:
        a new journal as its first event; an older, unkeyed one as the event that seals its
        plain-hashed past (see ``migrate_unkeyed``).
        """
        if self._keyed_from is None:
            row = conn.execute(
                "SELECT seq, data FROM events WHERE kind = ? ORDER BY seq LIMIT 1", (KEYED,)
            ).fetchone()
            if row is not None:
                self._keyed_from = int(row["seq"])
                self._require_key(_loads(row["data"]))
                return
            self._key_journal(conn)
        elif not self._key_checked:
            row = conn.execute("SELECT data FROM events WHERE seq = ?", (self._keyed_from,)).fetchone()
            self._require_key(_loads(row["data"]) if row else {})

    def _require_key(self, keying: dict[str, Any]) -> None:
        if self._key.material is None and self._key.file is not None:
            self._key = find_key(self.path, self._key.file)  # another process may have keyed it since
        if self._key.material is None:
            raise BadRequest(
                f"{self.path}: the journal key is missing ({self._key.where}); this journal is keyed"
                " and cannot be extended or verified without it: restore the key file or set"
                " NETCHANGE_JOURNAL_KEY"
            )
        if keying.get("key_check") != self._key.check:
            raise BadRequest(f"{self.path}: the journal key ({self._key.where}) is not this journal's key")
        self._key_checked = True

    def _key_journal(self, conn: sqlite3.Connection) -> None:
        head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
        sealed_seq, sealed_hash = (int(head["seq"]), str(head["hash"])) if head else (0, GENESIS)
        if self._key.material is None and self._key.file is not None:
            self._key = find_key(self.path, self._key.file)
        if self._key.material is None:
            self._key = create_key(self._key)
        elif sealed_seq and self._key.existed and not self._migrate_unkeyed:
            raise BadRequest(
                f"{self.path}: the journal is not keyed but a journal key exists ({self._key.where}):"
                " if the journal predates keyed chains, key it with 'netchange journal migrate';"
                " otherwise it may have been rewritten without its key"
            )
        event = self._append(
            conn,
            None,
            EventKind.JOURNAL_KEYED,
            actor="netchange",
            data={"key_check": self._key.check, "sealed_seq": sealed_seq, "sealed_hash": sealed_hash},
        )
        self._keyed_from = event.seq
        self._key_checked = True
        if event.seq == 1:
            self._created = event.hash  # a new journal: its heads file starts again (anchors.py)

    def _keep_head(self, directory: Path, seq: int, digest: str) -> None:
        from netchange.journal import anchors

        heads = [(1, self._created, True)] if self._created is not None else []
        if (seq, digest) != (1, self._created):
            heads.append((seq, digest, False))
        anchors.record(directory, self.path, heads)

    def migrate_unkeyed(self) -> int:
        """Key an unkeyed journal from now on (its past keeps plain hashes); returns the keying seq."""
        self._migrate_unkeyed = True
        with self._tx() as conn:
            self._keying(conn)
        return int(self._keyed_from or 0)

    # --- events ---------------------------------------------------------------------------------

    def _append(
        self,
        conn: sqlite3.Connection,
        change_id: str | None,
        kind: EventKind,
        *,
        actor: str,
        host: str | None = None,
        data: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> Event:
        """Append one event inside ``conn``'s write transaction: every event is written here.

        An unknown ``kind`` is refused before anything is written (``event_kind``): a programming
        error, which the transaction's rollback also takes back for the events of a batch before it.
        """
        kind = event_kind(kind)
        if kind is not EventKind.JOURNAL_KEYED:
            self._keying(conn)
        head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
        prev_seq, prev_hash = (int(head["seq"]), str(head["hash"])) if head else (0, GENESIS)
        seq = prev_seq + 1
        at = at or self._clock()
        at_text = _ts(at)
        actor_s, host_s = redact.scrub(actor), redact.scrub(host) if host is not None else None
        clean = _scrub(data or {})
        data_text = canonical(clean)
        digest = event_hash(
            prev_hash,
            seq,
            change_id=change_id,
            at=at_text,
            kind=kind.value,
            actor=actor_s,
            host=host_s,
            data=data_text,
            key=self._key.material,
        )
        conn.execute(
            "INSERT INTO events(seq, change_id, at, kind, actor, host, data, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (seq, change_id, at_text, kind.value, actor_s, host_s, data_text, prev_hash, digest),
        )
        conn.execute("INSERT OR REPLACE INTO chain_head(id, seq, hash) VALUES (1, ?, ?)", (seq, digest))
        self._new_head = (seq, digest)
        return Event(
            seq=seq,
            change_id=change_id,
            at=_dt(at_text),
            kind=kind.value,
            actor=actor_s,
            host=host_s,
            data=clean,
            hash=digest,
        )

    def event(
        self,
        change_id: str | None,
        kind: EventKind,
        *,
        actor: str,
        host: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event to the change's history (and to the chain); secrets are scrubbed first."""
        with self._tx() as conn:
            self._append(conn, change_id, kind, actor=actor, host=host, data=data)

    def event_batch(self, change_id: str | None,
                    items: Sequence[tuple[EventKind, str | None, dict[str, Any] | None]],
                    *, actor: str, durable: bool = True) -> None:
        """Append several events ``(kind, host, data)`` in one transaction (one disk sync at most).

        For steps whose events only matter together: a crash loses all of them or none.
        ``durable=False`` for what recovery can do without (see :meth:`_tx`).
        """
        if not items:
            return
        with self._tx(durable=durable) as conn:
            for kind, host, data in items:
                self._append(conn, change_id, kind, actor=actor, host=host, data=data)

    def last_event(self, kinds: Iterable[str]) -> Event | None:
        """The journal's latest event of one of ``kinds``, whatever its change (e.g. the policy pin)."""
        wanted = sorted(set(kinds))
        marks = ",".join("?" * len(wanted))
        rows = self._read(f"SELECT * FROM events WHERE kind IN ({marks}) ORDER BY seq DESC LIMIT 1", wanted)  # noqa: S608
        return _event(rows[0]) if rows else None

    def event_if_latest(self, kinds: Iterable[str], seen: int, kind: EventKind, *, actor: str,
                        data: dict[str, Any]) -> bool:
        """Append a journal-wide event only if the latest event of ``kinds`` is still ``seen`` (0: none).

        Compare-and-set in one transaction: two shells pinning or adopting a policy at once
        cannot both win; the loser gets ``False`` and reads the winner's event.
        """
        wanted = sorted(set(kinds))
        marks = ",".join("?" * len(wanted))
        with self._tx() as conn:
            row = conn.execute(f"SELECT MAX(seq) FROM events WHERE kind IN ({marks})", wanted).fetchone()  # noqa: S608
            if int(row[0] or 0) != seen:
                return False
            self._append(conn, None, kind, actor=actor, data=data)
            return True

    def events(self, change_id: str | None = None) -> list[Event]:
        rows = (
            self._read("SELECT * FROM events WHERE change_id = ? ORDER BY seq", (change_id,))
            if change_id is not None
            else self._read("SELECT * FROM events ORDER BY seq")
        )
        return [_event(r) for r in rows]

    def events_after(self, seq: int, limit: int = 1000, *, change_id: str | None = None) -> list[Event]:
        """Events with a sequence number above ``seq``, oldest first (a reader following the journal);
        ``change_id``: that change's only (read through the ``events_change`` index)."""
        if change_id is not None:
            rows = self._read("SELECT * FROM events WHERE change_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                              (change_id, seq, limit))
        else:
            rows = self._read("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [_event(r) for r in rows]

    def first_seq_since(self, at: dt.datetime) -> int:
        """The sequence number before the first event written at or after ``at`` (the head if none)."""
        rows = self._read("SELECT MIN(seq) FROM events WHERE at >= ?", (_ts(at),))
        first = rows[0][0] if rows else None
        return int(first) - 1 if first is not None else self.head()[0]

    def head(self) -> tuple[int, str]:
        """The last event's sequence number and hash: quote it elsewhere to anchor the chain."""
        rows = self._read("SELECT seq, hash FROM chain_head WHERE id = 1")
        return (int(rows[0]["seq"]), str(rows[0]["hash"])) if rows else (0, GENESIS)



def _to_syslog(path: Path, seq: int, digest: str) -> None:
    import syslog  # only when asked for; not on every platform

    syslog.openlog("netchange", syslog.LOG_PID, syslog.LOG_USER)
    syslog.syslog(syslog.LOG_INFO, f"journal {path.resolve()} head {seq} {digest}")
