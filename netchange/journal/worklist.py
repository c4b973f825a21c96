"""The journal read as a work list: open changes filtered, sorted and paged by SQLite.

For the approval service's queue (issue 23 item 3): a page of fifty rows out of ten thousand
changes is one indexed query with a count, and the approvals and decision events of the rows
shown are read in two more (``decisions_of``), whatever the number of rows. No plan document is
loaded or verified: the planned start and estimated duration are read by SQLite from the stored
JSON of the rows kept; a page that shows or acts on a plan loads it verified (``planstore``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from netchange.journal.chain import JournalBase
from netchange.journal.encoding import _approval, _change, _event
from netchange.journal.records import Approval, ChangeRow, Event, EventKind, State

SORTS: dict[str, str] = {
    "waiting": "c.updated_at",
    "requested": "c.created_at",
    "change": "c.id",
    "requester": "c.requester",
    "category": "CASE c.category WHEN 'minor' THEN 0 WHEN 'medium' THEN 1 WHEN 'major' THEN 2 ELSE 3 END",
    "sites": "c.sites",
    "hosts": "(length(c.hosts) - length(replace(c.hosts, ',', '')) + CASE WHEN c.hosts != '' THEN 1 ELSE 0 END)",
    "start": "coalesce(json_extract(p.json, '$.change.planned_start'), '9999')",
    "state": "c.state",
}
"""The columns a work list sorts on (``waiting``: since the change entered its state)."""

DECISION_KINDS = (EventKind.APPROVAL, EventKind.REJECTION, EventKind.STATE)
"""The events an approval status reads (``netchange.guard._approvals``)."""


@dataclass(frozen=True)
class WorkFilter:
    """Which changes: ``states``, and each other field when given."""

    states: tuple[State, ...]
    site: str | None = None
    category: str | None = None
    requester: str | None = None
    categories: tuple[str, ...] | None = None
    """Only these categories (e.g. those a person may approve)."""
    touching_one_of: tuple[str, ...] | None = None
    """Only changes touching one of these sites."""
    not_involving: str | None = None
    """Neither requested nor planned by this person."""
    undecided_by: str | None = None
    """Whose current plan this person has neither approved nor rejected."""


@dataclass(frozen=True)
class WorkRow:
    row: ChangeRow
    plan_author: str
    planned_start: str | None
    estimated_duration: str | None


def _where(f: WorkFilter) -> tuple[str, list[Any]]:
    states = sorted(State(s).value for s in f.states)
    where = [f"c.state IN ({','.join('?' * len(states))})"]
    args: list[Any] = list(states)
    if f.site:
        where.append("(',' || c.sites || ',') LIKE ?")
        args.append(f"%,{f.site},%")
    if f.category:
        where.append("c.category = ?")
        args.append(f.category)
    if f.requester:
        where.append("c.requester = ?")
        args.append(f.requester)
    if f.categories is not None:
        where.append(f"c.category IN ({','.join('?' * len(f.categories))})" if f.categories else "1 = 0")
        args.extend(f.categories)
    if f.touching_one_of is not None:
        ors = ["(',' || c.sites || ',') LIKE ?" for _ in f.touching_one_of] or ["1 = 0"]
        where.append("(" + " OR ".join(ors) + ")")
        args.extend(f"%,{s},%" for s in f.touching_one_of)
    if f.not_involving:
        where.append("c.requester != ? AND coalesce(p.created_by, '') != ?")
        args += [f.not_involving, f.not_involving]
    if f.undecided_by:
        where.append(
            "NOT EXISTS (SELECT 1 FROM approvals a WHERE a.change_id = c.id AND a.plan_hash = c.plan_hash"
            " AND a.approver = ?)"
        )
        args.append(f.undecided_by)
    return " AND ".join(where), args


class Worklist(JournalBase):
    """Open changes as a work list, and the decisions of the rows shown."""

    def worklist(
        self, f: WorkFilter, *, sort: str = "waiting", descending: bool = False, limit: int = 50, offset: int = 0
    ) -> tuple[list[WorkRow], int]:
        """The rows of one page, sorted on ``sort`` (a key of :data:`SORTS`), and how many match in all."""
        where, args = _where(f)
        joined = "FROM changes c LEFT JOIN plans p ON p.hash = c.plan_hash AND p.change_id = c.id"
        total = int(self._read(f"SELECT COUNT(*) {joined} WHERE {where}", args)[0][0])
        order = f"{SORTS[sort]} {'DESC' if descending else 'ASC'}, c.id {'DESC' if descending else 'ASC'}"
        inner = (
            f"SELECT c.*, p.created_by AS plan_author, {SORTS[sort]} AS sort_key {joined}"
            f" WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        # The plan's JSON is read for the rows kept only (after the limit).
        sql = (
            "SELECT i.*, json_extract(q.json, '$.change.planned_start') AS planned_start,"  # noqa: S608 (fixed clauses)
            " json_extract(q.json, '$.change.estimated_duration') AS estimated_duration"
            f" FROM ({inner}) i LEFT JOIN plans q ON q.hash = i.plan_hash AND q.change_id = i.id"
            f" ORDER BY i.sort_key {'DESC' if descending else 'ASC'}, i.id {'DESC' if descending else 'ASC'}"
        )
        rows = [
            WorkRow(row=_change(r), plan_author=r["plan_author"] or "", planned_start=r["planned_start"],
                    estimated_duration=r["estimated_duration"])
            for r in self._read(sql, [*args, int(limit), int(offset)])
        ]
        return rows, total

    def decisions_of(self, change_ids: Iterable[str]) -> dict[str, tuple[list[Approval], list[Event]]]:
        """Per change: its approvals (every plan hash) and its approval, rejection and state events,
        in order; two queries for the whole list."""
        ids: Sequence[str] = sorted(set(change_ids))
        found: dict[str, tuple[list[Approval], list[Event]]] = {cid: ([], []) for cid in ids}
        if not ids:
            return found
        marks = ",".join("?" * len(ids))
        for r in self._read(f"SELECT * FROM approvals WHERE change_id IN ({marks}) ORDER BY id", ids):  # noqa: S608
            found[r["change_id"]][0].append(_approval(r))
        kinds = ",".join("?" * len(DECISION_KINDS))
        # "+kind": read through the events_change index (a few events per change), never through
        # events_kind (every state event of the journal: 60 ms at 10,000 changes).
        for r in self._read(
            f"SELECT * FROM events WHERE change_id IN ({marks}) AND +kind IN ({kinds}) ORDER BY seq",  # noqa: S608
            [*ids, *DECISION_KINDS],
        ):
            found[r["change_id"]][1].append(_event(r))
        return found
