"""Device leases with fencing tokens, in the team's PostgreSQL database (issue 24 item 3).

The OS locks of :mod:`netchange.apply.locks` hold on one machine. When a database is configured
(``NETCHANGE_DATABASE_URL``), the device lock is a lease row per device instead, shared by every
engineer's machine:

- ``device_leases(device, token, holder, change_id, action, actor, machine, home, pid,
  acquired_at, expires_at)``, one row per device identity (the same identity the OS locks use);
- the expiry is measured by the database's clock (``now()``), never by a machine's own: two
  machines whose clocks disagree still agree on who holds a device;
- the token comes from one sequence (``device_lease_token``): each acquisition gets a larger one
  than any before it, on any device (it only grows).

A lease is taken for ``ttl`` seconds and renewed by a background thread (every third of it) and by
every check. A holder that stops renewing (paused, partitioned from the database, killed) loses its
lease at expiry; another holder may then take it over, with a larger token.

Fencing (Kleppmann, "How to do distributed locking", 2016): a lease alone does not stop a paused
holder that wakes up after its lease expired and goes on writing. So every journal write and every
device call of a holder first checks, in the database, that its token is still the device's current
one and unexpired (:meth:`HeldLeases.check`); a holder whose lease was taken over gets
:class:`~netchange.errors.LeaseLost` and writes nothing more. The check also renews the lease. Where
the journal is in the same database the check runs inside the journal's own transaction, holding the
lease rows (``FOR SHARE``) until the write commits; with a journal on the machine (SQLite) and for a
device, which knows nothing of tokens, the check comes just before the write: what is left is the
time between the check and the write (one call), not the whole pause.

The journal's ``locks`` table stays the record of who held what, and when, as with the OS locks.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netchange.errors import DatabaseRefused, DatabaseUnavailable, LeaseLost, LockHeld
from netchange.journal.database import connect, where

if TYPE_CHECKING:
    import psycopg

DEFAULT_TTL = 60.0
"""Seconds a lease lasts without renewal (``NETCHANGE_LEASE_SECONDS``)."""

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS device_lease_token;
CREATE TABLE IF NOT EXISTS device_leases (
    device TEXT PRIMARY KEY,
    token BIGINT NOT NULL,
    holder TEXT NOT NULL,
    change_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    machine TEXT NOT NULL,
    home TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
"""
_SCHEMA_LOCK = 0x6E63_6C73  # pg_advisory_xact_lock key: two first users never create the tables at once


def ensure_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the lease table and token sequence if missing (one transaction, serialised)."""
    row = conn.execute("SELECT to_regclass('device_leases') IS NOT NULL").fetchone()
    if row is not None and row[0]:
        return  # the usual case: one round trip, no lock
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for statement in filter(None, (s.strip() for s in SCHEMA.split(";"))):
            conn.execute(statement)


def machine_name() -> str:
    return socket.gethostname()


@dataclass
class Holder:
    """Who takes a lease: written in the row, named in the refusal of whoever comes next."""

    change_id: str
    action: str
    actor: str
    home: str
    machine: str = field(default_factory=machine_name)
    pid: int = field(default_factory=os.getpid)
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    """This acquisition's own identity (one process may hold leases for two commands)."""


def _describe(row: Mapping[str, Any]) -> str:
    until = row["expires_at"].astimezone(dt.UTC)
    return (f"{row['change_id']} ({row['action']} by {row['actor']} on {row['machine']}, pid {row['pid']}, "
            f"home {row['home']}, lease token {row['token']}, until {until:%H:%M:%S} UTC)")


class HeldLeases:
    """The leases one command holds: checked (fencing), renewed, and released once."""

    def __init__(self, conn: psycopg.Connection[Any], url: str, tokens: dict[str, int],
                 names: dict[str, str], ttl: float, *, renew: bool = True) -> None:
        self._conn = conn
        self.url = url
        self.tokens = tokens
        """Device identity → this holder's fencing token."""
        self.names = names
        """Device identity → the inventory name it was locked under (for messages)."""
        self.ttl = ttl
        self._lock = threading.Lock()
        self._released = False
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew_loop, name="netchange-lease-renewal", daemon=True)
        if tokens and renew:
            self._renewer.start()

    # -- fencing ---------------------------------------------------------------------------------
    def check(self, conn: psycopg.Connection[Any] | None = None) -> None:
        """Raise :class:`LeaseLost` unless every lease is still this holder's (token current,
        unexpired by the database's clock); renew them on the way.

        ``conn``: a connection of the same database inside a transaction (the journal's, when it
        lives there): the lease rows are then locked until that transaction ends, so a takeover
        waits for the write the check allowed.
        """
        if not self.tokens:
            return
        if self._released:
            raise LeaseLost("the device leases were released: this command may no longer write")
        if conn is not None:
            self._check_on(conn, lock_rows=True)
            return
        with self._lock:
            self._check_on(self._conn, lock_rows=False)

    def _check_on(self, conn: psycopg.Connection[Any], *, lock_rows: bool) -> None:
        import psycopg

        devices, tokens = list(self.tokens), [self.tokens[d] for d in self.tokens]
        try:
            renewed = conn.execute(
                "UPDATE device_leases l SET expires_at = now() + make_interval(secs => %s)"
                " FROM unnest(%s::text[], %s::bigint[]) AS mine(device, token)"
                " WHERE l.device = mine.device AND l.token = mine.token AND l.expires_at > now()"
                " RETURNING l.device", (self.ttl, devices, tokens)).fetchall()
            if lock_rows and len(renewed) == len(devices):
                conn.execute("SELECT 1 FROM device_leases WHERE device = ANY(%s) FOR SHARE", (devices,))
        except psycopg.Error as exc:
            _translate(exc, self.url, "the lease could not be checked: nothing more is written nor sent")
            raise
        if len(renewed) == len(devices):
            return
        lost = sorted(set(devices) - {r[0] for r in renewed})
        raise LeaseLost(self._why_lost(conn, lost))

    def _why_lost(self, conn: psycopg.Connection[Any], lost: list[str]) -> str:
        from psycopg.rows import dict_row

        with conn.cursor(row_factory=dict_row) as cur:
            rows = {r["device"]: r for r in cur.execute(
                "SELECT *, expires_at <= now() AS expired FROM device_leases WHERE device = ANY(%s)", (lost,))}
        device = lost[0]
        name = f"{self.names.get(device, device)} ({device})"
        row = rows.get(device)
        mine = self.tokens[device]
        if row is None:
            return f"{name}: the lease (token {mine}) is no longer held: this command may no longer write"
        if int(row["token"]) == mine:
            return f"{name}: the lease (token {mine}) expired: this command may no longer write"
        return (f"{name}: the lease (token {mine}) was taken over by {_describe(row)}:"
                " this command may no longer write")

    # -- renewal and release ---------------------------------------------------------------------
    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                self.check()
            except (LeaseLost, DatabaseUnavailable):
                return  # the next write's own check says why, and refuses it
            except Exception:  # the connection closed by release() meanwhile
                return

    def close(self) -> None:
        """Stop checking (the connection closed), leaving the leases to their holder (:func:`fence`)."""
        self._released = True
        with self._lock, suppress(Exception):
            self._conn.close()

    def release(self) -> None:
        """Give the leases back (only rows still carrying this holder's tokens: never a newer one's)."""
        if self._released:
            return
        self._released = True
        self._stop.set()
        with self._lock:
            try:
                if self.tokens:
                    self._conn.execute(
                        "DELETE FROM device_leases l USING unnest(%s::text[], %s::bigint[]) AS mine(device, token)"
                        " WHERE l.device = mine.device AND l.token = mine.token",
                        (list(self.tokens), list(self.tokens.values())))
            except Exception:  # noqa: S110 - unreachable database: the leases expire by themselves
                pass
            finally:
                with suppress(Exception):
                    self._conn.close()
        if self._renewer.is_alive() and self._renewer is not threading.current_thread():
            self._renewer.join(5)


def bump(held: HeldLeases) -> dict[str, int]:
    """Give ``held``'s leases new, larger tokens (the rows stay this holder's, their expiry renewed):
    whoever still acts under the old tokens (a site worker presumed dead, say) is fenced out from
    its next call on. ``LeaseLost`` when a lease is no longer ``held``'s. Returns the new tokens."""
    devices, tokens = list(held.tokens), [held.tokens[d] for d in held.tokens]
    with held._lock:
        rows = held._conn.execute(
            "UPDATE device_leases l SET token = nextval('device_lease_token'),"
            " expires_at = now() + make_interval(secs => %s)"
            " FROM unnest(%s::text[], %s::bigint[]) AS mine(device, token)"
            " WHERE l.device = mine.device AND l.token = mine.token AND l.expires_at > now()"
            " RETURNING l.device, l.token", (held.ttl, devices, tokens)).fetchall()
        if len(rows) != len(devices):
            lost = sorted(set(devices) - {r[0] for r in rows})
            raise LeaseLost(held._why_lost(held._conn, lost))
        held.tokens.update({str(r[0]): int(r[1]) for r in rows})
    return dict(held.tokens)


def fence(url: str, tokens: Mapping[str, int], names: Mapping[str, str], ttl: float) -> HeldLeases:
    """A check of leases another process holds (the control worker, :mod:`netchange.workflow`):
    the device's side of the fence for a worker that acts under those tokens. It renews on each
    check but never in the background, and :meth:`HeldLeases.close` leaves the rows alone."""
    conn = connect(url)
    return HeldLeases(conn, url, dict(tokens), dict(names), ttl, renew=False)


def acquire(devices: Mapping[str, str], *, change_id: str, action: str, actor: str, home: Path, url: str,
            ttl: float = DEFAULT_TTL) -> HeldLeases:
    """Lease every device (inventory name → identity) or none, and raise ``LockHeld`` naming the holder.

    Non-blocking as the OS locks: a device another holder leases, unexpired, is a refusal now
    (exit 3). An expired lease is taken over, with a new (larger) token.
    """
    from psycopg.rows import dict_row

    who = Holder(change_id=change_id, action=action, actor=actor, home=str(Path(home).resolve()))
    conn = connect(url)
    try:
        ensure_schema(conn)
        names: dict[str, str] = {}
        for name, identity in sorted(devices.items(), key=lambda item: item[1]):
            names.setdefault(identity, name)
        tokens: dict[str, int] = {}
        # One transaction, devices in identity order: all or none, and two holders of overlapping
        # sets wait on each other's rows in the same order (never a deadlock).
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            for identity in sorted(names):
                row = cur.execute(
                    "INSERT INTO device_leases AS l (device, token, holder, change_id, action, actor, machine,"
                    " home, pid, acquired_at, expires_at)"
                    " VALUES (%(device)s, nextval('device_lease_token'), %(holder)s, %(change)s, %(action)s,"
                    " %(actor)s, %(machine)s, %(home)s, %(pid)s, now(), now() + make_interval(secs => %(ttl)s))"
                    " ON CONFLICT (device) DO UPDATE SET token = EXCLUDED.token, holder = EXCLUDED.holder,"
                    " change_id = EXCLUDED.change_id, action = EXCLUDED.action, actor = EXCLUDED.actor,"
                    " machine = EXCLUDED.machine, home = EXCLUDED.home, pid = EXCLUDED.pid,"
                    " acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at"
                    " WHERE l.expires_at <= now()"
                    " RETURNING token",
                    {"device": identity, "holder": who.holder, "change": change_id, "action": action,
                     "actor": actor, "machine": who.machine, "home": who.home, "pid": who.pid, "ttl": ttl},
                ).fetchone()
                if row is None:
                    holder = cur.execute("SELECT * FROM device_leases WHERE device = %s", (identity,)).fetchone()
                    raise LockHeld(f"{names[identity]} ({identity}) is locked by "
                                   + (_describe(holder) if holder else "another netchange process"))
                tokens[identity] = int(row["token"])
    except BaseException as exc:
        with suppress(Exception):
            conn.close()
        _translate(exc, url, "the device leases could not be taken")
        raise
    return HeldLeases(conn, url, tokens, names, ttl)


def _translate(exc: BaseException, url: str, what: str) -> None:
    """A database error as netchange's refusal, in one line (others pass through unchanged)."""
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        raise DatabaseUnavailable(f"{where(url)}: {what} ({str(exc).strip() or type(exc).__name__})") from None
    if isinstance(exc, psycopg.Error):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseRefused(f"{where(url)}: {what} ({first})") from None


@contextmanager
def leased(devices: Mapping[str, str], *, change_id: str, action: str, actor: str, home: Path, url: str,
           ttl: float = DEFAULT_TTL) -> Iterator[HeldLeases]:
    """:func:`acquire` for a ``with`` block; released on the way out, however it is left."""
    held = acquire(devices, change_id=change_id, action=action, actor=actor, home=home, url=url, ttl=ttl)
    try:
        yield held
    finally:
        held.release()


def holders(url: str) -> list[dict[str, Any]]:
    """Every lease row, with whether it is still live (``netchange`` status views, tests)."""
    from psycopg.rows import dict_row

    with connect(url) as conn:
        ensure_schema(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            return list(cur.execute("SELECT *, expires_at > now() AS live FROM device_leases ORDER BY device"))


__all__ = ["DEFAULT_TTL", "HeldLeases", "Holder", "acquire", "bump", "ensure_schema", "fence", "holders", "leased",
           "machine_name"]
