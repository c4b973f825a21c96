"""The journal's device locks: which change holds which host."""

from __future__ import annotations

from collections.abc import Iterable

from netchange.errors import LockHeld
from netchange.journal.chain import JournalBase
from netchange.journal.encoding import _dt, _ts
from netchange.journal.records import LIVE_LOCK_STATES, EventKind, Lock, State


class Locks(JournalBase):
    """Device locks: one change holds a host; taken and released in one transaction each."""

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
                    EventKind.LOCK_RECLAIMED,
                    actor=actor or change_id,
                    host=host,
                    data={"stale_holder": row["change_id"], "holder_state": row["state"]},
                )
            for host in wanted:
                conn.execute(
                    "INSERT OR REPLACE INTO locks(host, change_id, actor, at) VALUES (?,?,?,?)",
                    (host, change_id, actor or change_id, now),
                )
            self._append(conn, change_id, EventKind.LOCKS_ACQUIRED, actor=actor or change_id, data={"hosts": wanted},
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
                conn, change_id, EventKind.LOCKS_RELEASED, actor=actor or change_id, data={"hosts": sorted(hosts)}
            )

    def locks(self) -> list[Lock]:
        return [
            Lock(host=r["host"], change_id=r["change_id"], actor=r["actor"], at=_dt(r["at"]))
            for r in self._read("SELECT * FROM locks ORDER BY host")
        ]
