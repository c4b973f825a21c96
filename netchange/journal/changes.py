"""The journal's changes: their plans, their states and the transitions between them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from netchange import redact
from netchange.errors import BadRequest, StateConflict
from netchange.journal.chain import JournalBase
from netchange.journal.encoding import _change, _dt, _plan_row_sha, _ts
from netchange.journal.records import OUTCOMES, TRANSITIONS, ChangeRow, EventKind, PlanRecord, State
from netchange.vocabulary import Category

if TYPE_CHECKING:
    from netchange.plan import Plan

class StateError(StateConflict):
    """The change is not in a state that allows this step (e.g. closing a change still planned)."""



class Changes(JournalBase):
    """Changes, their plans and their states (the state machine of ``records.TRANSITIONS``)."""

    def record_plan(self, plan: Plan, actor: str) -> None:
        """Record ``plan`` as the change's current plan and move the change to ``planned``.

        A plan with a new hash voids every approval given to an earlier one (they stay in the
        journal, bound to their hash, and no longer count). A plan with no change is recorded
        without a category (the ``plans`` row holds ``''``, the change's ``NULL``): ``apply``
        closes it (:meth:`close_no_change`).
        """
        change = plan.change
        if plan.category is None and not plan.no_change:
            # Nothing was classified for a failure: nothing can be approved or applied.
            failed = ", ".join(h.host for h in plan.hosts if not h.ok)
            raise BadRequest(f"{change.id}: the plan failed on {failed or 'every host'}; it is not recorded")
        category = plan.category.value if plan.category is not None else None
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
                        category,
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
                    EventKind.REQUESTED,
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
                    category or "",  # NOT NULL column: '' is a plan with no change
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
                EventKind.PLAN_RECORDED,
                actor=actor,
                data={
                    "plan_hash": plan.plan_hash,
                    "category": category,
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
                        EventKind.APPROVALS_VOIDED,
                        actor=actor,
                        data={"old_plan_hash": old_hash, "new_plan_hash": plan.plan_hash, "count": voided},
                    )
            conn.execute(
                "UPDATE changes SET category = ?, sites = ?, hosts = ?, plan_hash = ?, title = ?,"
                " updated_at = ? WHERE id = ?",
                (
                    category,
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

    def close_no_change(self, change_id: str, plan_hash: str, *, actor: str, hosts: Iterable[str]) -> None:
        """Close a change whose current plan (``plan_hash``) has no change: applied, it had nothing
        to do (issue 22 item 6). One transaction: the ``no_change`` event, then ``planned`` →
        ``closed``; refused (``StateError``) unless the change is planned under that very plan."""
        with self._tx() as conn:
            row = conn.execute("SELECT state, plan_hash FROM changes WHERE id = ?", (change_id,)).fetchone()
            if row is None:
                raise BadRequest(f"{change_id}: no such change in the journal")
            state = State(row["state"])
            if row["plan_hash"] != plan_hash:
                raise StateError(f"{change_id}: plan {plan_hash[:12]} is not its current plan")
            if state is not State.PLANNED:
                raise StateError(f"{change_id} is {state.value}: only a planned change is closed for having no change")
            self._append(conn, change_id, EventKind.NO_CHANGE, actor=actor,
                         data={"plan_hash": plan_hash, "hosts": sorted(hosts)})
            self._transition(conn, change_id, current=state, target=State.CLOSED, actor=actor,
                             reason="no change: every host already matched its plan; nothing was sent")

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
            category=Category(r["category"]) if r["category"] else None,
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
            EventKind.STATE,
            actor=actor,
            data={"from": current.value, "to": target.value, "reason": reason},
            at=at,
        )

    def mark_emergency(self, change_id: str, reason: str, *, actor: str) -> None:
        """Flag the change as run under the emergency path (reports count these separately)."""
        with self._tx() as conn:
            conn.execute("UPDATE changes SET emergency = ? WHERE id = ?", (redact.scrub(reason), change_id))
            self._append(conn, change_id, EventKind.EMERGENCY, actor=actor, data={"reason": reason})

    def changes(self, since: dt.datetime | None = None, until: dt.datetime | None = None, *,
                states: Iterable[State] | None = None) -> list[ChangeRow]:
        """Changes requested in ``[since, until)`` (all when not given), in ``states`` only when
        given (read through the ``changes_state`` index), oldest first."""
        sql, args = "SELECT * FROM changes WHERE 1=1", []
        if states is not None:
            wanted = sorted(State(s).value for s in states)
            sql += f" AND state IN ({','.join('?' * len(wanted))})"
            args.extend(wanted)
        if since is not None:
            sql += " AND created_at >= ?"
            args.append(_ts(since))
        if until is not None:
            sql += " AND created_at < ?"
            args.append(_ts(until))
        return [_change(r) for r in self._read(sql + " ORDER BY created_at, id", args)]

    def changes_page(self, after: int = 0, limit: int = 100) -> list[tuple[int, ChangeRow]]:
        """Up to ``limit`` changes recorded after the one numbered ``after`` (0: from the first), each
        with its number, in the order they were recorded: the numbers (SQLite's rowid) only grow, so a
        reader paging with the last number it saw neither misses nor repeats one when changes are
        added meanwhile (the API's cursor)."""
        rows = self._read("SELECT rowid AS n, * FROM changes WHERE rowid > ? ORDER BY rowid LIMIT ?",
                          (int(after), int(limit)))
        return [(int(r["n"]), _change(r)) for r in rows]

    def changes_with_plans(
        self,
        states: Iterable[State],
        *,
        involving: str | None = None,
        undecided_by: str | None = None,
        planned_start_set: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[tuple[ChangeRow, str, str | None]]:
        """Changes in ``states``, newest first, each with its current plan's author and planned start.

        For lists (the service's queue and calendar): one query, the planned start read by SQLite
        from the stored JSON, no plan document loaded or verified (a page that shows or acts on a
        plan loads it verified, ``planstore``). ``involving``: only changes that person requested
        or planned; ``undecided_by``: only changes whose current plan that person has neither
        approved nor rejected; ``planned_start_set``: only plans with a planned start. Rows are
        turned into records as they are consumed: a caller that stops early pays for what it read.
        """
        wanted = sorted(State(s).value for s in states)
        where = [f"c.state IN ({','.join('?' * len(wanted))})"]
        args: list[Any] = list(wanted)
        if involving is not None:
            where.append("(c.requester = ? OR p.created_by = ?)")
            args += [involving, involving]
        if undecided_by is not None:
            where.append(
                "NOT EXISTS (SELECT 1 FROM approvals a WHERE a.change_id = c.id AND a.plan_hash = c.plan_hash"
                " AND a.approver = ?)"
            )
            args.append(undecided_by)
        if planned_start_set:
            where.append("json_extract(p.json, '$.change.planned_start') IS NOT NULL")
        inner = (
            "SELECT c.*, p.created_by AS plan_author"  # noqa: S608 (fixed clauses, values as placeholders)
            " FROM changes c LEFT JOIN plans p ON p.hash = c.plan_hash AND p.change_id = c.id"
            f" WHERE {' AND '.join(where)} ORDER BY c.created_at DESC, c.id DESC"
        )
        if limit is not None:
            inner += " LIMIT ? OFFSET ?"
            args += [int(limit), int(offset)]
        # The planned start is read from the plan's JSON only for the rows kept (after the limit).
        sql = (
            "SELECT i.*, (SELECT json_extract(q.json, '$.change.planned_start') FROM plans q"  # noqa: S608 (fixed clauses)
            f" WHERE q.hash = i.plan_hash AND q.change_id = i.id) AS planned_start FROM ({inner}) i"
            " ORDER BY i.created_at DESC, i.id DESC"
        )
        for r in self._read(sql, args):
            yield _change(r), r["plan_author"] or "", r["planned_start"]

    def schedule(self, states: Iterable[State]) -> Iterator[tuple[ChangeRow, str | None, str | None]]:
        """Changes in ``states``, each with its current plan's planned start and estimated duration as
        stored (ISO 8601 text, or None): for the calendar, one query, no plan document loaded."""
        wanted = sorted(State(s).value for s in states)
        sql = (
            "SELECT c.*, json_extract(p.json, '$.change.planned_start') AS planned_start,"  # noqa: S608 (fixed clauses)
            " json_extract(p.json, '$.change.estimated_duration') AS estimated_duration"
            " FROM changes c LEFT JOIN plans p ON p.hash = c.plan_hash AND p.change_id = c.id"
            f" WHERE c.state IN ({','.join('?' * len(wanted))}) ORDER BY c.created_at, c.id"
        )
        for r in self._read(sql, wanted):
            yield _change(r), r["planned_start"], r["estimated_duration"]

    def in_progress(self) -> list[str]:
        """Changes left ``in_progress`` (after a crash, ``netchange recover`` finishes them)."""
        return [
            r["id"]
            for r in self._read(
                "SELECT id FROM changes WHERE state = ? ORDER BY id", (State.IN_PROGRESS.value,)
            )
        ]
