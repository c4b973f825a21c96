"""What the journal hands back: plain frozen records.

The plan it records is the typed document itself (``netchange.plan._document.Plan``), which imports
neither Nornir nor the planning pipeline.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the request models (pydantic) load with the first row that has a category
    from netchange.models import Category


class State(enum.StrEnum):
    """The life of a change (docs/design.md "The pipeline")."""

    REQUESTED = "requested"
    PLANNED = "planned"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    CLOSED = "closed"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.REQUESTED: frozenset({State.PLANNED}),
    # Re-planning is allowed until the change runs; a new plan voids earlier approvals.
    State.PLANNED: frozenset({State.PLANNED, State.APPROVED}),
    State.APPROVED: frozenset({State.PLANNED, State.IN_PROGRESS}),
    State.IN_PROGRESS: frozenset({State.COMPLETED, State.ROLLED_BACK, State.FAILED}),
    # in_progress again: a rollback on request of a completed change (it ends rolled_back/failed).
    State.COMPLETED: frozenset({State.CLOSED, State.IN_PROGRESS}),
    # After a rollback or a failure: close it, or plan again and re-apply.
    State.ROLLED_BACK: frozenset({State.PLANNED, State.CLOSED}),
    # in_progress again: ``recover``/``rollback`` bring back the devices a failed change left
    # changed (an alarm), once they are reachable.
    State.FAILED: frozenset({State.PLANNED, State.CLOSED, State.IN_PROGRESS}),
    State.CLOSED: frozenset(),
}
OUTCOMES = frozenset({State.COMPLETED, State.ROLLED_BACK, State.FAILED})
LIVE_LOCK_STATES = frozenset({State.APPROVED, State.IN_PROGRESS})
"""A lock held by a change in another state is stale: the change ended or crashed and was re-planned."""


@dataclass(frozen=True)
class Event:
    seq: int
    change_id: str | None
    at: dt.datetime
    kind: str
    actor: str
    host: str | None
    data: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class Approval:
    id: int
    change_id: str
    plan_hash: str
    approver: str
    organisation: str
    roles: tuple[str, ...]
    decision: str
    comment: str
    at: dt.datetime


@dataclass(frozen=True)
class PlanRecord:
    hash: str
    change_id: str
    category: Category
    created_at: dt.datetime
    created_by: str
    policy_version: str
    rules_version: str
    json: str


@dataclass(frozen=True)
class ChangeRow:
    id: str
    title: str
    ticket: str
    requester: str
    category: Category | None
    sites: tuple[str, ...]
    state: State
    outcome: State | None
    plan_hash: str | None
    emergency: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    hosts: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Lock:
    host: str
    change_id: str
    actor: str
    at: dt.datetime
