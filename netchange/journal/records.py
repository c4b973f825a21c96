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
    from netchange.vocabulary import Category


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
    # Re-planning is allowed until the change runs; a new plan voids earlier approvals. closed: a
    # plan with no change, applied (nothing to send, nothing to approve: issue 22 item 6).
    State.PLANNED: frozenset({State.PLANNED, State.APPROVED, State.CLOSED}),
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


class EventKind(enum.StrEnum):
    """What an event records: one member per kind netchange writes (issue 20, "one way per rule").

    Every write goes through ``JournalBase._append``, which refuses any other kind: a misspelt kind
    would be an event no reader (tracking sheet, mails, recover) ever looks at. Reading refuses
    nothing: journals written by older releases keep their kinds, so ``Event.kind`` stays a ``str``
    (a member compares equal to its value). What each records: docs/journal.md "The events it
    records", which ``tests/unit/test_event_kinds.py`` keeps in step with this list and the writers.
    """

    # The journal itself
    JOURNAL_KEYED = "journal_keyed"
    POLICY_PINNED = "policy_pinned"
    POLICY_ADOPTED = "policy_adopted"
    # A change, from request to approval
    REQUESTED = "requested"
    PLAN_RECORDED = "plan_recorded"
    APPROVALS_VOIDED = "approvals_voided"
    STATE = "state"
    APPROVAL = "approval"
    REJECTION = "rejection"
    GUARD = "guard"
    EMERGENCY = "emergency"
    # Device locks
    LOCKS_ACQUIRED = "locks_acquired"
    LOCKS_RELEASED = "locks_released"
    LOCK_RECLAIMED = "lock_reclaimed"
    # Apply, per change and per host
    APPLY_STARTED = "apply_started"
    APPLY_REFUSED = "apply_refused"
    SNAPSHOT = "snapshot"
    DRIFT = "drift"
    PREPARE_FAILED = "prepare_failed"
    COMMIT_STARTED = "commit_started"
    COMMIT_REFUSED = "commit_refused"
    COMMITTED = "committed"
    POST_CHECKS = "post_checks"
    CONFIRMED = "confirmed"
    SAVED = "saved"
    HOST_FAILED = "host_failed"
    INTERRUPTED = "interrupted"
    APPLY_FINISHED = "apply_finished"
    NO_CHANGE = "no_change"
    # Restores: apply's automatic rollback, a rollback on request, recover
    ROLLBACK_STARTED = "rollback_started"
    ROLLBACK_VERIFIED = "rollback_verified"
    ROLLBACK_FAILED = "rollback_failed"
    ROLLBACK_FINISHED = "rollback_finished"
    RECOVER_STARTED = "recover_started"
    RECOVER_FINISHED = "recover_finished"
    RECOVER_UNLOCKED = "recover_unlocked"
    # Closing
    CLOSE_VALIDATION = "close_validation"
    # Mails (netchange.notify)
    NOTIFICATION_SENT = "notification_sent"
    NOTIFICATION_FAILED = "notification_failed"
    NOTIFICATION_ABANDONED = "notification_abandoned"
    # The approval service's accounts
    SIGNIN = "signin"
    SIGNIN_FAILED = "signin_failed"
    SIGNIN_GUESSING = "signin_guessing"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event's name, not a password
    PASSWORD_RESET = "password_reset"  # noqa: S105
    PASSWORD_SET = "password_set"  # noqa: S105


def event_kind(kind: str) -> EventKind:
    """``kind`` as a member, or a ``ValueError`` naming it: the one check every write goes through."""
    if isinstance(kind, EventKind):
        return kind
    try:
        return EventKind(kind)
    except ValueError:
        raise ValueError(
            f"{kind!r} is not a journal event kind: the journal writes only the kinds of "
            "netchange.journal.EventKind (add a member there, with its readers, for a new kind)"
        ) from None


@dataclass(frozen=True)
class Event:
    seq: int
    change_id: str | None
    at: dt.datetime
    kind: str  # an EventKind's value, or a kind an older release wrote: reading refuses nothing
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
    category: Category | None
    """``None``: a plan with no change (issue 22 item 6)."""
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
