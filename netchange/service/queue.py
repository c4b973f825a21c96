"""My queue: what awaits my decision, my requests, changes in progress and scheduled.

Read from the journal's change rows and plan records (indexed columns), without verifying each
plan: the queue is a list of links, and the change page verifies the plan it shows and binds
the decision to. Who may decide is ``netchange.approvals.refusal_of``, as for the decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from netchange.approvals import refusal_of
from netchange.journal import ChangeRow, Journal, State
from netchange.policy import Policy

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


def _planned_start(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def build_queue(policy: Policy, journal: Journal, login: str, *, now: dt.datetime, limit: int = 200) -> Queue:
    person = policy.person(login)
    awaiting: list[QueueRow] = []
    mine: list[QueueRow] = []
    running: list[QueueRow] = []
    scheduled: list[QueueRow] = []
    # Only the open changes (the journal's state index), and of their plans only the author and
    # planned start (json_extract in SQLite): the queue of a journal of years reads what it shows.
    rows = list(reversed(journal.changes(states=OPEN)))
    briefs = journal.plan_briefs(r.plan_hash for r in rows if r.plan_hash)
    for row in rows:
        brief = briefs.get(row.plan_hash or "")
        start = _planned_start(brief[1]) if brief else None
        author = brief[0] if brief else ""
        item = QueueRow(row=row, planned_start=start.astimezone(policy.tz) if start else None, author=author)
        if login in (row.requester, author):
            mine.append(item)
        if row.state is State.IN_PROGRESS:
            running.append(item)
        elif row.state is State.APPROVED and start is not None and start >= now:
            scheduled.append(item)
        if (
            person is not None
            and brief is not None
            and row.state is State.PLANNED
            and row.category is not None
            and policy.category(row.category).approvals
            and refusal_of(
                policy, person, change_id=row.id, category=row.category, requester=row.requester,
                plan_author=author, sites=row.sites,
            )
            is None
            and not any(a.approver == login for a in journal.approvals(row.id, row.plan_hash))
        ):
            awaiting.append(item)
    scheduled.sort(key=lambda q: q.planned_start or now)
    return Queue(
        awaiting=tuple(awaiting[:limit]),
        mine=tuple(mine[:limit]),
        in_progress=tuple(running[:limit]),
        scheduled=tuple(scheduled[:limit]),
    )
