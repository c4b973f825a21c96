"""My queue: what awaits my decision, my requests, changes in progress and scheduled.

Read from the journal's change rows and plan records (indexed columns), without verifying each
plan: the queue is a list of links, and the change page verifies the plan it shows and binds
the decision to. Who may decide is ``netchange.guard._approvals.refusal_of``, as for the decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from netchange.guard import refusal_of
from netchange.journal import ChangeRow, Journal, State
from netchange.policy import Policy

LIMIT = 50
"""Rows per list on the page: a manager's queue is read, not scrolled through."""

OPEN = frozenset({State.REQUESTED, State.PLANNED, State.APPROVED, State.IN_PROGRESS})


@dataclass(frozen=True)
class QueueRow:
    row: ChangeRow
    planned_start: dt.datetime | None
    author: str


@dataclass(frozen=True)
class Queue:
    awaiting: tuple[QueueRow, ...]
    mine: tuple[QueueRow, ...]
    in_progress: tuple[QueueRow, ...]
    scheduled: tuple[QueueRow, ...]


def _when(text: str | None, policy: Policy) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text).astimezone(policy.tz) if text else None
    except ValueError:
        return None


def build_queue(policy: Policy, journal: Journal, login: str, *, now: dt.datetime, limit: int = LIMIT) -> Queue:
    """The four lists, newest first (scheduled: soonest first), at most ``limit`` rows each."""
    person = policy.person(login)

    def rows(found: Iterable[tuple[ChangeRow, str, str | None]]) -> Iterator[QueueRow]:
        return (QueueRow(row=r, planned_start=_when(p, policy), author=a) for r, a, p in found)

    awaiting: list[QueueRow] = []
    if person is not None:
        # Planned, not yet decided by me, needing an approval I may give (approvals.refusal_of).
        offset = 0
        while len(awaiting) < limit:
            # Page by page: the plan documents of rows never shown are not read.
            page = list(rows(journal.changes_with_plans(
                [State.PLANNED], undecided_by=login, limit=limit, offset=offset)))
            for item in page:
                row = item.row
                if (
                    item.author
                    and row.category is not None
                    and policy.category(row.category).approvals
                    and refusal_of(
                        policy, person, change_id=row.id, category=row.category, requester=row.requester,
                        plan_author=item.author, sites=row.sites,
                    )
                    is None
                ):
                    awaiting.append(item)
            if len(page) < limit:
                break
            offset += limit
        awaiting = awaiting[:limit]
    scheduled = [
        q for q in rows(journal.changes_with_plans([State.APPROVED], planned_start_set=True))
        if q.planned_start is not None and q.planned_start >= now
    ]
    scheduled.sort(key=lambda q: q.planned_start or now)
    return Queue(
        awaiting=tuple(awaiting),
        mine=tuple(rows(journal.changes_with_plans(OPEN, involving=login, limit=limit))),
        in_progress=tuple(rows(journal.changes_with_plans([State.IN_PROGRESS], limit=limit))),
        scheduled=tuple(scheduled[:limit]),
    )
