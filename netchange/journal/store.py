"""The journal: the tracking sheet of every change, in one SQLite file.

Why SQLite: one file, transactions, and a lock that several processes respect, so that two
``netchange apply`` runs cannot both take the same device. WAL mode lets readers (``show``,
``report``) work while an apply writes.

Why a keyed hash chain: the quality plan wants every request and answer in writing. Each event's
hash is an HMAC-SHA256, under a key kept outside the journal file (``netchange.journal.key``), of
the previous event's hash and its own canonical content: a changed, deleted or re-ordered past row
breaks the chain, and recomputing the chain needs the key. ``netchange journal verify`` names the
first bad row. Plans and approvals are recorded as events carrying a digest of their whole row;
the ``changes`` and ``locks`` tables are recomputed from the events by ``verify``; so every table
a report or the guard reads is covered. Truncating the tail is only visible against a head kept
elsewhere: every report prints the head it was made from, ``netchange journal head`` prints it for
collection, and ``verify(heads=...)`` checks the journal against such heads.

Thread safety: apply runs hosts in threads; one connection is shared behind a re-entrant lock
and every write is one ``BEGIN IMMEDIATE`` transaction (which also serialises other processes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from netchange import redact
from netchange.errors import BadRequest, LockHeld, StateConflict
from netchange.journal.key import JournalKey, create_key, find_key
from netchange.journal.records import (
    LIVE_LOCK_STATES,
    OUTCOMES,
    TRANSITIONS,
    Approval,
    ChangeRow,
    Event,
    Lock,
    PlanRecord,
    State,
)
from netchange.journal.schema import migrate
from netchange.models import Category
from netchange.privatefile import create_private, narrow_file, private_dir

if TYPE_CHECKING:
    from netchange.plandoc import Plan

GENESIS = "0" * 64
KEYED = "journal_keyed"
"""The event from which the chain is keyed: the first event of a new journal, or the migration
event of a journal written before keys (its earlier events keep their plain SHA-256)."""


class StateError(StateConflict):
    """The change is not in a state that allows this step (e.g. closing a change still planned)."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ts(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("journal times must be aware")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _scrub(value: Any) -> Any:
    """Scrub secrets from every string inside ``value`` (before it is serialised)."""
    if isinstance(value, str):
        return redact.scrub(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact.scrub(str(value))


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@contextmanager
def _busy(path: Path) -> Iterator[None]:
    """SQLite's "database is locked" (after the busy timeout) as netchange's refusal, in one line."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise LockHeld(f"{path}: the journal is held by another netchange process; try again") from None


class Journal:
    """Open (and create or migrate) the journal at ``path``. Use it as a context manager."""

    def __init__(self, path: str | Path, *, clock: Callable[[], dt.datetime] = _utcnow,
                 busy_timeout: float = 30.0, key: str | bytes | None = None,
                 key_file: Path | None = None, migrate_unkeyed: bool = False) -> None:
        """``key`` (else ``netchange.journal.key.find_key``) keys the chain; an unkeyed journal
        with events is keyed on its first write only when its key is created then, or with
        ``migrate_unkeyed`` (``netchange journal migrate``): a key that already exists next to an
        unkeyed journal may mean the journal was rewritten without it."""
        self.path = Path(path)
        private_dir(self.path.parent)
        self._clock = clock
        self._lock = threading.RLock()
        if key is not None:
            material = key.encode() if isinstance(key, str) else key
            self._key = JournalKey(material, "the key given", None, existed=True)
        else:
            self._key = find_key(self.path, key_file)
        self._migrate_unkeyed = migrate_unkeyed
        # NETCHANGE_JOURNAL_SYSLOG=1: each committed head also goes to syslog, an anchor outside
        # the file as it grows ('journal verify --heads' reads those lines).
        self._syslog = os.environ.get("NETCHANGE_JOURNAL_SYSLOG", "") not in ("", "0")
        self._new_head: tuple[int, str] | None = None
        self._keyed_from: int | None = None
        self._key_checked = False
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

    # --- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Journal:
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
            self._new_head = None
            try:
                with _busy(self.path):
                    self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    self._keyed_from = keyed_from  # a keying event rolled back with the rest
                    raise
                self._conn.execute("COMMIT")
                if self._new_head is not None and self._syslog:
                    _to_syslog(self.path, *self._new_head)
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
            KEYED,
            actor="netchange",
            data={"key_check": self._key.check, "sealed_seq": sealed_seq, "sealed_hash": sealed_hash},
        )
        self._keyed_from = event.seq
        self._key_checked = True

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
        kind: str,
        *,
        actor: str,
        host: str | None = None,
        data: dict[str, Any] | None = None,
        at: dt.datetime | None = None,
    ) -> Event:
        if kind != KEYED:
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
            kind=kind,
            actor=actor_s,
            host=host_s,
            data=data_text,
            key=self._key.material,
        )
        conn.execute(
            "INSERT INTO events(seq, change_id, at, kind, actor, host, data, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (seq, change_id, at_text, kind, actor_s, host_s, data_text, prev_hash, digest),
        )
        conn.execute("INSERT OR REPLACE INTO chain_head(id, seq, hash) VALUES (1, ?, ?)", (seq, digest))
        self._new_head = (seq, digest)
        return Event(
            seq=seq,
            change_id=change_id,
            at=_dt(at_text),
            kind=kind,
            actor=actor_s,
            host=host_s,
            data=clean,
            hash=digest,
        )

    def event(
        self,
        change_id: str | None,
        kind: str,
        *,
        actor: str,
        host: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event to the change's history (and to the chain); secrets are scrubbed first."""
        with self._tx() as conn:
            self._append(conn, change_id, kind, actor=actor, host=host, data=data)

    def event_batch(self, change_id: str | None, items: Sequence[tuple[str, str | None, dict[str, Any] | None]],
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

    def event_if_latest(self, kinds: Iterable[str], seen: int, kind: str, *, actor: str,
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

    # --- changes and plans -----------------------------------------------------------------------

    def record_plan(self, plan: Plan, actor: str) -> None:
        """Record ``plan`` as the change's current plan and move the change to ``planned``.

        A plan with a new hash voids every approval given to an earlier one (they stay in the
        journal, bound to their hash, and no longer count).
        """
        change = plan.change
        if plan.category is None:
            # Every host failed: nothing was classified, nothing can be approved or applied.
            raise BadRequest(f"{change.id}: the plan failed on every host; it is not recorded")
        category = plan.category
        plan_json = redact.scrub(plan.model_dump_json())
        sites = ",".join(sorted({h.site for h in plan.hosts}))
        hosts = ",".join(sorted({h.host for h in plan.hosts}))
        with self._tx() as conn:
            row = conn.execute("SELECT state, plan_hash FROM changes WHERE id = ?", (change.id,)).fetchone()
            now_dt = self._clock()
            now = _ts(now_dt)
            if row is None:
                conn.execute(
                    "INSERT INTO changes(id, title, ticket, requester, category, sites, hosts, state,"
                    " plan_hash, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        change.id,
                        redact.scrub(change.title),
                        change.ticket,
                        change.requester,
                        category.value,
                        sites,
                        hosts,
                        State.REQUESTED.value,
                        None,
                        now,
                        now,
                    ),
                )
                self._append(
                    conn,
                    change.id,
                    "requested",
                    actor=actor,
                    data={
                        "title": change.title,
                        "ticket": change.ticket,
                        "requester": change.requester,
                        "request": change.model_dump(mode="json"),
                    },
                    at=now_dt,
                )
                state, old_hash = State.REQUESTED, None
            else:
                state, old_hash = State(row["state"]), row["plan_hash"]
            if State.PLANNED not in TRANSITIONS[state]:
                raise StateError(f"{change.id} is {state.value}: it cannot be planned again")
            conn.execute(
                "INSERT OR IGNORE INTO plans(hash, change_id, category, created_at, created_by, recorded_by,"
                " policy_version, rules_version, json) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    plan.plan_hash,
                    change.id,
                    category.value,
                    _ts(plan.created_at),
                    plan.created_by,
                    actor,
                    plan.policy_version,
                    plan.rules_version,
                    plan_json,
                ),
            )
            stored = conn.execute("SELECT * FROM plans WHERE hash = ?", (plan.plan_hash,)).fetchone()
            self._append(
                conn,
                change.id,
                "plan_recorded",
                actor=actor,
                data={
                    "plan_hash": plan.plan_hash,
                    "category": category.value,
                    "policy_version": plan.policy_version,
                    "rules_version": plan.rules_version,
                    "hosts": sorted({h.host for h in plan.hosts}),
                    "sites": sorted({h.site for h in plan.hosts}),
                    "title": change.title,
                    "created_by": plan.created_by,
                    "row_sha": _plan_row_sha(stored),
                },
            )
            if old_hash and old_hash != plan.plan_hash:
                voided = conn.execute(
                    "SELECT COUNT(*) FROM approvals WHERE change_id = ? AND plan_hash = ?",
                    (change.id, old_hash),
                ).fetchone()[0]
                if voided:
                    self._append(
                        conn,
                        change.id,
                        "approvals_voided",
                        actor=actor,
                        data={"old_plan_hash": old_hash, "new_plan_hash": plan.plan_hash, "count": voided},
                    )
            conn.execute(
                "UPDATE changes SET category = ?, sites = ?, hosts = ?, plan_hash = ?, title = ?,"
                " updated_at = ? WHERE id = ?",
                (
                    category.value,
                    sites,
                    hosts,
                    plan.plan_hash,
                    redact.scrub(change.title),
                    now,
                    change.id,
                ),
            )
            self._transition(
                conn, change.id, current=state, target=State.PLANNED, actor=actor, reason="plan recorded"
            )

    def plan_record(self, change_id: str, plan_hash: str | None = None) -> PlanRecord | None:
        """The stored plan (the change's current one unless ``plan_hash`` is given)."""
        if plan_hash is None:
            change = self.change(change_id)
            if change is None or change.plan_hash is None:
                return None
            plan_hash = change.plan_hash
        rows = self._read("SELECT * FROM plans WHERE hash = ? AND change_id = ?", (plan_hash, change_id))
        if not rows:
            return None
        r = rows[0]
        return PlanRecord(
            hash=r["hash"],
            change_id=r["change_id"],
            category=Category(r["category"]),
            created_at=_dt(r["created_at"]),
            created_by=r["created_by"],
            policy_version=r["policy_version"],
            rules_version=r["rules_version"],
            json=r["json"],
        )

    def change(self, change_id: str) -> ChangeRow | None:
        rows = self._read("SELECT * FROM changes WHERE id = ?", (change_id,))
        return _change(rows[0]) if rows else None

    def require(self, change_id: str) -> ChangeRow:
        found = self.change(change_id)
        if found is None:
            raise BadRequest(f"{change_id}: no such change in the journal (run 'netchange plan' first)")
        return found

    def state(self, change_id: str) -> str:
        """The change's state; ``requested`` never appears for an unknown id: that is an error."""
        return self.require(change_id).state.value

    def set_state(self, change_id: str, state: State | str, *, actor: str, reason: str = "") -> None:
        """Move the change along the state machine, or raise ``StateError``."""
        target = State(state)
        with self._tx() as conn:
            row = conn.execute("SELECT state FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                raise BadRequest(f"{change_id}: no such change in the journal")
            self._transition(
                conn, change_id, current=State(row["state"]), target=target, actor=actor, reason=reason
            )

    def _transition(
        self,
        conn: sqlite3.Connection,
        change_id: str,
        *,
        current: State,
        target: State,
        actor: str,
        reason: str,
    ) -> None:
        if target not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing"
            raise StateError(f"{change_id} is {current.value}: it can go to {allowed}, not {target.value}")
        outcome = ", outcome = ?" if target in OUTCOMES else ""
        at = self._clock()  # the row's updated_at is the state event's time (verify recomputes it)
        args: list[Any] = [target.value, _ts(at)]
        if outcome:
            args.append(target.value)
        conn.execute(
            f"UPDATE changes SET state = ?, updated_at = ?{outcome} WHERE id = ?",  # noqa: S608
            (*args, change_id),
        )
        self._append(
            conn,
            change_id,
            "state",
            actor=actor,
            data={"from": current.value, "to": target.value, "reason": reason},
            at=at,
        )

    def mark_emergency(self, change_id: str, reason: str, *, actor: str) -> None:
        """Flag the change as run under the emergency path (reports count these separately)."""
        with self._tx() as conn:
            conn.execute("UPDATE changes SET emergency = ? WHERE id = ?", (redact.scrub(reason), change_id))
            self._append(conn, change_id, "emergency", actor=actor, data={"reason": reason})

    def changes(self, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[ChangeRow]:
        """Changes requested in ``[since, until)`` (all when not given), oldest first."""
        sql, args = "SELECT * FROM changes WHERE 1=1", []
        if since is not None:
            sql += " AND created_at >= ?"
            args.append(_ts(since))
        if until is not None:
            sql += " AND created_at < ?"
            args.append(_ts(until))
        return [_change(r) for r in self._read(sql + " ORDER BY created_at, id", args)]

    def in_progress(self) -> list[str]:
        """Changes left ``in_progress`` (after a crash, ``netchange recover`` finishes them)."""
        return [
            r["id"]
            for r in self._read(
                "SELECT id FROM changes WHERE state = ? ORDER BY id", (State.IN_PROGRESS.value,)
            )
        ]

    # --- approvals ------------------------------------------------------------------------------

    def add_approval(
        self,
        change_id: str,
        plan_hash: str,
        *,
        approver: str,
        organisation: str,
        roles: Iterable[str],
        decision: str,
        comment: str = "",
        policy_digest: str | None = None,
    ) -> Approval:
        """Store an approval or rejection; the checks belong to ``netchange.approvals``.

        ``policy_digest``, the policy the approver was judged under, goes into the chained event:
        an approval given under another policy than the one pinned does not count.
        """
        roles_t = tuple(roles)
        comment = redact.scrub(comment)
        with self._tx() as conn:
            at = _ts(self._clock())
            cur = conn.execute(
                "INSERT INTO approvals(change_id, plan_hash, approver, organisation, roles, decision,"
                " comment, at) VALUES (?,?,?,?,?,?,?,?)",
                (change_id, plan_hash, approver, organisation, ",".join(roles_t), decision, comment, at),
            )
            approval_id = int(cur.lastrowid or 0)
            approval = Approval(
                id=approval_id,
                change_id=change_id,
                plan_hash=plan_hash,
                approver=approver,
                organisation=organisation,
                roles=roles_t,
                decision=decision,
                comment=comment,
                at=_dt(at),
            )
            self._append(
                conn,
                change_id,
                "approval" if decision == "approved" else "rejection",
                actor=approver,
                data={
                    "approval_id": approval_id,
                    "plan_hash": plan_hash,
                    "decision": decision,
                    "organisation": organisation,
                    "roles": list(roles_t),
                    "comment": comment,
                    "policy_digest": policy_digest,
                    "row_sha": sha256(canonical(_approval_content(approval))),
                },
            )
            return approval

    def approvals(self, change_id: str, plan_hash: str | None = None) -> list[Approval]:
        """Approvals and rejections of the change, for ``plan_hash`` only when given."""
        if plan_hash is None:
            rows = self._read("SELECT * FROM approvals WHERE change_id = ? ORDER BY id", (change_id,))
        else:
            rows = self._read(
                "SELECT * FROM approvals WHERE change_id = ? AND plan_hash = ? ORDER BY id",
                (change_id, plan_hash),
            )
        return [_approval(r) for r in rows]

    # --- blobs (snapshots) ------------------------------------------------------------------------

    def add_blob(self, kind: str, change_id: str | None, host: str | None, text: str) -> str:
        """Store ``text`` (scrubbed) by content; returns its SHA-256, the key to read it back."""
        clean = redact.scrub(text)
        digest = sha256(clean)
        with self._tx() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO blobs(sha, kind, change_id, host, text, at) VALUES (?,?,?,?,?,?)",
                (digest, kind, change_id, host, clean, _ts(self._clock())),
            )
        return digest

    def blob(self, sha: str) -> str:
        rows = self._read("SELECT text FROM blobs WHERE sha = ?", (sha,))
        if not rows:
            raise KeyError(sha)
        return str(rows[0]["text"])

    # --- device locks ---------------------------------------------------------------------------

    def acquire_locks(self, change_id: str, hosts: Iterable[str], *, actor: str = "") -> None:
        """Lock every host for ``change_id`` in one transaction, or none and raise ``LockHeld``.

        A lock whose change is neither approved nor in progress is stale (its change ended, or
        crashed and was re-planned) and is taken over, with an event saying so.
        """
        wanted = sorted(set(hosts))
        with self._tx() as conn:
            now_dt = self._clock()
            now = _ts(now_dt)
            for host in wanted:
                row = conn.execute(
                    "SELECT l.change_id, l.at, c.state FROM locks l LEFT JOIN changes c ON c.id = l.change_id"
                    " WHERE l.host = ?",
                    (host,),
                ).fetchone()
                if row is None or row["change_id"] == change_id:
                    continue
                holder_state = State(row["state"]) if row["state"] else None
                if holder_state in LIVE_LOCK_STATES:
                    raise LockHeld(
                        f"{host} is locked by {row['change_id']} ({holder_state} since {row['at']})"
                    )
                self._append(
                    conn,
                    change_id,
                    "lock_reclaimed",
                    actor=actor or change_id,
                    host=host,
                    data={"stale_holder": row["change_id"], "holder_state": row["state"]},
                )
            for host in wanted:
                conn.execute(
                    "INSERT OR REPLACE INTO locks(host, change_id, actor, at) VALUES (?,?,?,?)",
                    (host, change_id, actor or change_id, now),
                )
            self._append(conn, change_id, "locks_acquired", actor=actor or change_id, data={"hosts": wanted},
                         at=now_dt)

    def release_locks(self, change_id: str, hosts: Iterable[str] | None = None, *, actor: str = "") -> None:
        """Release ``change_id``'s locks on ``hosts`` (the ones this command took), or all of them.

        A command passes the hosts it locked itself: a command refused for the same change (a
        second apply of it) must never release what the running one holds.
        """
        with self._tx() as conn:
            held = {r[0] for r in conn.execute("SELECT host FROM locks WHERE change_id = ?", (change_id,))}
            hosts = sorted(held if hosts is None else held & set(hosts))
            if not hosts:
                return
            conn.executemany("DELETE FROM locks WHERE change_id = ? AND host = ?", [(change_id, h) for h in hosts])
            self._append(
                conn, change_id, "locks_released", actor=actor or change_id, data={"hosts": sorted(hosts)}
            )

    def locks(self) -> list[Lock]:
        return [
            Lock(host=r["host"], change_id=r["change_id"], actor=r["actor"], at=_dt(r["at"]))
            for r in self._read("SELECT * FROM locks ORDER BY host")
        ]

    # --- verification ---------------------------------------------------------------------------

    def verify(self, heads: Iterable[tuple[int, str]] = ()) -> list[str]:
        """What is wrong with the journal, the first bad row first; ``[]`` when it is intact.

        Checks the keyed chain (every event, in order, none missing), the head, every plan,
        approval and blob row against its event or digest, recomputes the ``changes`` and
        ``locks`` tables from the events, and compares the chain with ``heads`` collected
        elsewhere (``netchange journal head``): the only way to see a truncated tail.
        """
        with self._lock:
            conn = self._conn
            rows = list(conn.execute("SELECT * FROM events ORDER BY seq"))
            head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
            seq_row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
            tables = {
                "plans": list(conn.execute("SELECT * FROM plans")),
                "approvals": list(conn.execute("SELECT * FROM approvals")),
                "changes": list(conn.execute("SELECT * FROM changes")),
                "locks": list(conn.execute("SELECT * FROM locks")),
                "blobs": list(conn.execute("SELECT sha, text FROM blobs")),
            }
        found: list[tuple[float, str]] = []
        keyed_from = self._verify_chain(rows, head, seq_row, heads, found)
        _verify_rows(rows, keyed_from, tables, found)
        found.sort(key=lambda item: item[0])
        return [text for _, text in found]

    def _verify_chain(self, rows: list[sqlite3.Row], head: sqlite3.Row | None, seq_row: sqlite3.Row | None,
                      heads: Iterable[tuple[int, str]], found: list[tuple[float, str]]) -> int | None:
        """Chain checks; returns the seq from which events are keyed (None: never keyed)."""
        keying = next((r for r in rows if r["kind"] == KEYED), None)
        keyed_from = int(keying["seq"]) if keying is not None else None
        key = self._key.material
        if keyed_from is None and rows:
            found.append((0, "the journal is not keyed: written before keyed chains, or rewritten"
                             " without its key ('netchange journal migrate' keys an old journal)"))
        elif keying is not None and key is None:
            found.append((keyed_from or 0, f"cannot verify events {keyed_from} and later: the journal key"
                                           f" is missing ({self._key.where})"))
        elif keying is not None and _loads(keying["data"]).get("key_check") != self._key.check:
            found.append((keyed_from or 0, f"cannot verify events {keyed_from} and later: the journal key"
                                           f" ({self._key.where}) is not this journal's key"))
            key = None
        by_seq: dict[int, str] = {}
        prev_hash, expected = GENESIS, 1
        for r in rows:
            seq = int(r["seq"])
            keyed = keyed_from is not None and seq >= keyed_from
            if seq != expected:
                found.append((expected, f"events {expected}..{seq - 1} are missing (deleted)"))
            if r["prev_hash"] != prev_hash:
                found.append((seq, f"event {seq} ({r['kind']}, {r['change_id']}): does not chain to the"
                                   " event before it (deleted, inserted or swapped rows)"))
            if not keyed or key is not None:
                digest = event_hash(
                    r["prev_hash"], seq, change_id=r["change_id"], at=r["at"], kind=r["kind"],
                    actor=r["actor"], host=r["host"], data=r["data"], key=key if keyed else None,
                )
                if not hmac.compare_digest(digest, str(r["hash"])):
                    found.append((seq, f"event {seq} ({r['kind']}, {r['change_id']}): content modified"
                                       + (" or hash not made with this journal's key" if keyed else "")))
            if keyed_from is not None and seq == keyed_from:
                sealed = _loads(r["data"])
                if sealed.get("sealed_seq") != seq - 1 or sealed.get("sealed_hash") != r["prev_hash"]:
                    found.append((seq, f"event {seq} (journal keyed): does not seal the events before it"))
            by_seq[seq] = str(r["hash"])
            prev_hash, expected = str(r["hash"]), seq + 1
        last = expected - 1
        recorded_last = max(_as_int(head["seq"]) if head else 0, _as_int(seq_row["seq"]) if seq_row else 0)
        if recorded_last > last:
            found.append((last + 1, f"events {last + 1}..{recorded_last} are missing (deleted at the end)"))
        if head is not None and rows and head["seq"] == last and head["hash"] != prev_hash:
            found.append((last, "the chain head does not match the last event"))
        for seq, digest in heads:
            if seq > last:
                found.append((last + 0.5, f"event {seq} was recorded elsewhere but the journal ends at event"
                                          f" {last}: events {last + 1}..{seq} were removed (truncated)"))
            elif seq > 0 and by_seq.get(seq) != digest:
                found.append((seq, f"event {seq}: its hash differs from the head recorded elsewhere"
                                   " (the journal was rewritten)"))
        return keyed_from

    def verify_change(self, change_id: str) -> list[str]:
        """``verify`` restricted to one change, cheap enough to run before acting on it.

        Each of the change's events is checked against its key and linked to the event before
        it; the change's ``changes`` row is recomputed from them; its plan and approval rows are
        checked against their events. What the guard decides from is thus what was written, not
        a row or an event added in the file since (a full ``verify`` also finds truncation and
        foreign rows elsewhere).
        """
        with self._lock:
            conn = self._conn
            rows = list(conn.execute("SELECT * FROM events WHERE change_id = ? ORDER BY seq", (change_id,)))
            keying = conn.execute("SELECT * FROM events WHERE kind = ? ORDER BY seq LIMIT 1", (KEYED,)).fetchone()
            wanted = sorted({int(r["seq"]) - 1 for r in rows})
            before: dict[int, str] = {}
            for start in range(0, len(wanted), 500):
                part = wanted[start:start + 500]
                marks = ",".join("?" * len(part))
                before.update(
                    (int(r[0]), str(r[1]))
                    for r in conn.execute(f"SELECT seq, hash FROM events WHERE seq IN ({marks})", part)  # noqa: S608
                )
            tables = {
                "plans": list(conn.execute("SELECT * FROM plans WHERE change_id = ?", (change_id,))),
                "approvals": list(conn.execute("SELECT * FROM approvals WHERE change_id = ?", (change_id,))),
                "changes": list(conn.execute("SELECT * FROM changes WHERE id = ?", (change_id,))),
                "locks": [],
                "blobs": [],
            }
        found: list[tuple[float, str]] = []
        keyed_from = int(keying["seq"]) if keying is not None else None
        key = self._key.material
        # (A journal not keyed yet, from before keys, is checked with its plain hashes; the full
        # verify says it is not keyed, and its next write keys it.)
        if keying is not None and (key is None or _loads(keying["data"]).get("key_check") != self._key.check):
            found.append((0, f"the journal key ({self._key.where}) is missing or not this journal's key"))
            key = None
        for r in rows:
            seq = int(r["seq"])
            keyed = keyed_from is not None and seq >= keyed_from
            if before.get(seq - 1, GENESIS if seq == 1 else None) != r["prev_hash"]:
                found.append((seq, f"event {seq} ({r['kind']}, {change_id}): does not chain to the event before it"))
            if keyed and key is None:
                continue
            digest = event_hash(r["prev_hash"], seq, change_id=r["change_id"], at=r["at"], kind=r["kind"],
                                actor=r["actor"], host=r["host"], data=r["data"], key=key if keyed else None)
            if not hmac.compare_digest(digest, str(r["hash"])):
                found.append((seq, f"event {seq} ({r['kind']}, {change_id}): content modified"
                                   + (" or hash not made with this journal's key" if keyed else "")))
        _verify_rows(rows, keyed_from, tables, found, locks=False)
        found.sort(key=lambda item: item[0])
        return [text for _, text in found]

    def head(self) -> tuple[int, str]:
        """The last event's sequence number and hash: quote it elsewhere to anchor the chain."""
        rows = self._read("SELECT seq, hash FROM chain_head WHERE id = 1")
        return (int(rows[0]["seq"]), str(rows[0]["hash"])) if rows else (0, GENESIS)


def _to_syslog(path: Path, seq: int, digest: str) -> None:
    import syslog  # only when asked for; not on every platform

    syslog.openlog("netchange", syslog.LOG_PID, syslog.LOG_USER)
    syslog.syslog(syslog.LOG_INFO, f"journal {path.resolve()} head {seq} {digest}")


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


_UNKNOWN: Any = object()
"""A value the events of an older, unkeyed journal do not carry: not compared."""
_CHANGE_FIELDS = ("title", "ticket", "requester", "category", "sites", "hosts", "state", "outcome",
                  "plan_hash", "emergency", "created_at", "updated_at")


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _verify_rows(rows: list[sqlite3.Row], keyed_from: int | None, tables: dict[str, list[sqlite3.Row]],
                 found: list[tuple[float, str]], *, locks: bool = True) -> None:
    """Rows of the other tables against the events: digests, and what the events say they hold."""
    plan_sha: dict[str, tuple[int, str, bool]] = {}
    approval_sha: dict[int, tuple[int, str]] = {}
    changes: dict[str, dict[str, Any]] = {}
    held: dict[str, tuple[str, str, Any]] = {}
    for r in rows:
        seq, kind, cid = int(r["seq"]), str(r["kind"]), r["change_id"]
        try:
            keyed = keyed_from is not None and seq >= keyed_from
            data = _loads(r["data"])
            at = r["at"] if keyed else _UNKNOWN
            if kind == "plan_recorded":
                plan_sha[str(data.get("plan_hash"))] = (seq, str(data.get("row_sha")), keyed)
            elif kind in {"approval", "rejection"}:
                approval_sha[int(data.get("approval_id") or 0)] = (seq, str(data.get("row_sha")))
            elif kind == "locks_acquired":
                for host in data.get("hosts") or []:
                    held[str(host)] = (str(cid), str(r["actor"]), at)
            elif kind == "locks_released":
                for host in data.get("hosts") or []:
                    if held.get(str(host), ("",))[0] == cid:
                        del held[str(host)]
            if cid is None:
                continue
            if kind == "requested":
                changes[cid] = {
                    "seq": seq, "title": data.get("title"), "ticket": data.get("ticket"),
                    "requester": data.get("requester"), "category": None, "sites": "", "hosts": "",
                    "state": "requested", "outcome": None, "plan_hash": None, "emergency": None,
                    "created_at": at, "updated_at": at,
                }
            change = changes.get(cid)
            if change is None:
                continue
            change["seq"] = seq
            if kind == "plan_recorded":
                change["category"] = data.get("category")
                change["plan_hash"] = data.get("plan_hash")
                change["hosts"] = ",".join(sorted(str(h) for h in data.get("hosts") or []))
                change["sites"] = ",".join(str(x) for x in data["sites"]) if "sites" in data else _UNKNOWN
                change["title"] = data.get("title", _UNKNOWN)
            elif kind == "state":
                change["state"] = data.get("to")
                if data.get("to") in OUTCOMES:
                    change["outcome"] = data.get("to")
                change["updated_at"] = at
            elif kind == "emergency":
                change["emergency"] = data.get("reason")
        except (ValueError, TypeError, AttributeError, KeyError):
            # The attacker chose this row: report it, never fail on it.
            found.append((seq, f"event {seq} ({kind}, {cid}): its data is malformed"))
    end = float(len(rows) + 1)
    for p in tables["plans"]:
        seq, digest, keyed = plan_sha.pop(str(p["hash"]), (0, "", True))
        if digest != _plan_row_sha(p) and (keyed or digest != sha256(str(p["json"]))):
            found.append((seq or end, f"plan {str(p['hash'])[:12]} ({p['change_id']}): row does not match"
                                      f" its journal event{'' if seq else ' (it has none)'}"))
    for plan_hash, (seq, _, _) in plan_sha.items():
        found.append((seq, f"plan {plan_hash[:12]}: recorded by event {seq} but its row is missing"))
    for a in tables["approvals"]:
        seq, digest = approval_sha.pop(int(a["id"]), (0, ""))
        try:
            row_sha: str | None = sha256(canonical(_approval_content(_approval(a))))
        except (ValueError, TypeError, AttributeError):
            row_sha = None  # unreadable: never equal to a digest
        if digest != row_sha:
            found.append((seq or end, f"approval {a['id']} ({a['change_id']}): row does not match"
                                      f" its journal event{'' if seq else ' (it has none)'}"))
    for approval_id, (seq, _) in approval_sha.items():
        found.append((seq, f"approval {approval_id}: recorded by event {seq} but its row is missing"))
    for c in tables["changes"]:
        expected = changes.pop(str(c["id"]), None)
        if expected is None:
            found.append((end, f"changes row {c['id']}: no 'requested' event in the journal (inserted)"))
            continue
        wrong = [f for f in _CHANGE_FIELDS if expected[f] is not _UNKNOWN and c[f] != expected[f]]
        if wrong:
            found.append((expected["seq"], f"changes row {c['id']}: {', '.join(wrong)} do not match its events"
                                           f" (up to event {expected['seq']})"))
    for cid, expected in changes.items():
        found.append((expected["seq"], f"changes row {cid}: missing (its events end at {expected['seq']})"))
    for lock in tables["locks"]:
        want = held.pop(str(lock["host"]), None)
        if want is None or want[0] != lock["change_id"] or want[1] != lock["actor"] or (
            want[2] is not _UNKNOWN and want[2] != lock["at"]
        ):
            says = f"held by {want[0]}" if want else "free"
            found.append((end, f"locks row {lock['host']}: held by {lock['change_id']}, the events say {says}"))
    for host, (cid, _, _) in held.items() if locks else ():
        found.append((end, f"locks row {host}: missing, the events say it is held by {cid}"))
    for b in tables["blobs"]:
        if sha256(str(b["text"])) != b["sha"]:
            found.append((end, f"blob {str(b['sha'])[:12]}: content does not match its digest"))


def _plan_row_sha(r: sqlite3.Row) -> str:
    """Digest of a whole ``plans`` row: every column a report or the guard may read."""
    return sha256(canonical([r["hash"], r["change_id"], r["category"], r["created_at"], r["created_by"],
                             r["recorded_by"], r["policy_version"], r["rules_version"], r["json"]]))


def _approval_content(a: Approval) -> list[Any]:
    return [
        a.id,
        a.change_id,
        a.plan_hash,
        a.approver,
        a.organisation,
        list(a.roles),
        a.decision,
        a.comment,
        _ts(a.at),
    ]


def _event(r: sqlite3.Row) -> Event:
    return Event(
        seq=int(r["seq"]),
        change_id=r["change_id"],
        at=_dt(r["at"]),
        kind=r["kind"],
        actor=r["actor"],
        host=r["host"],
        data=json.loads(r["data"]),
        hash=r["hash"],
    )


def _approval(r: sqlite3.Row) -> Approval:
    return Approval(
        id=int(r["id"]),
        change_id=r["change_id"],
        plan_hash=r["plan_hash"],
        approver=r["approver"],
        organisation=r["organisation"],
        roles=tuple(x for x in str(r["roles"]).split(",") if x),
        decision=r["decision"],
        comment=r["comment"],
        at=_dt(r["at"]),
    )


def _change(r: sqlite3.Row) -> ChangeRow:
    return ChangeRow(
        id=r["id"],
        title=r["title"],
        ticket=r["ticket"],
        requester=r["requester"],
        category=Category(r["category"]) if r["category"] else None,
        sites=tuple(x for x in str(r["sites"]).split(",") if x),
        state=State(r["state"]),
        outcome=State(r["outcome"]) if r["outcome"] else None,
        plan_hash=r["plan_hash"],
        emergency=r["emergency"],
        created_at=_dt(r["created_at"]),
        updated_at=_dt(r["updated_at"]),
        hosts=tuple(x for x in str(r["hosts"]).split(",") if x),
    )
