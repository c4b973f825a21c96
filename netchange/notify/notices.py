"""Which journal events tell whom what: the quality plan's procedure, step by step.

The quality plan (docs/quality-plan.md) "How a change runs": the engineer "tells the parties it is
taken", the operations manager validates and plans, the requester is told of the execution, and the
tracking sheet is closed. Every one of those steps is already a journal event, so the notices are
derived from the events alone (:func:`notices_for`), after they are written; nothing in the change's
own path sends mail.

Who is told comes from the policy: the approvers are the people who *can* give a missing approval
of the plan's category (its rules), for the sites the plan touches (``Person.sites``), never the
requester or the plan's author (they cannot approve it); the person who acted is not told of their
own act.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from netchange.errors import NetchangeError
from netchange.guard import refusal_of
from netchange.journal import ChangeRow, Event, EventKind, Journal, State
from netchange.plan import Plan
from netchange.plan import store as planstore
from netchange.policy import Person, Policy


class Notice(enum.StrEnum):
    """The steps of the procedure that are mailed (the subject's word for each)."""

    TAKEN = "taken"
    """The first plan of a request: the change is taken and planned."""
    REPLANNED = "re-planned"
    APPROVAL_REQUESTED = "approval requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    """Every approval the category needs is given: it may run in its window (or at its planned start)."""
    APPLIED = "applied"
    ROLLED_BACK = "rolled back"
    FAILED = "FAILED"
    CLOSED = "closed"


IGNORED_PREFIX = "notification_"
"""The notifier's own events (a delivery journaled) never make a notice."""


@dataclass(frozen=True)
class Draft:
    """One mail to write: what happened, to whom, and what the template needs."""

    notice: Notice
    event: Event
    change: ChangeRow
    recipients: tuple[Person, ...]
    headline: str
    """One sentence: what happened, by whom."""
    plan: Plan | None = None
    comment: str = ""
    details: tuple[str, ...] = field(default=())
    show_diff: bool = False


def notices_for(policy: Policy, journal: Journal, event: Event) -> list[Draft]:
    """The mails ``event`` calls for (often none)."""
    if event.change_id is None or event.kind.startswith(IGNORED_PREFIX):
        return []
    change = journal.change(event.change_id)
    if change is None:
        return []
    maker = _MAKERS.get(event.kind)
    if maker is None:
        return []
    drafts = maker(_Ctx(policy, journal, event, change))
    return [d for d in drafts if d.recipients]


class _Ctx:
    def __init__(self, policy: Policy, journal: Journal, event: Event, change: ChangeRow) -> None:
        self.policy = policy
        self.journal = journal
        self.event = event
        self.change = change
        self._plan: Plan | None = None
        self._plan_read = False

    def plan(self, plan_hash: str | None = None) -> Plan | None:
        """The plan of the event (its hash when the event names one), verified; ``None`` if it is not."""
        if not self._plan_read:
            self._plan_read = True
            wanted = plan_hash or self.event.data.get("plan_hash") or self.change.plan_hash
            try:
                self._plan = planstore.from_journal(self.journal, self.change.id, str(wanted) if wanted else None)
            except NetchangeError:
                self._plan = None  # a plan that does not verify is not quoted in a mail
        return self._plan

    def person(self, login: str | None) -> Person | None:
        return self.policy.person(login) if login else None

    def name(self, login: str) -> str:
        person = self.person(login)
        return f"{person.name} ({login})" if person else login

    def sites(self) -> tuple[str, ...]:
        plan = self.plan()
        return tuple(sorted({h.site for h in plan.hosts})) if plan else self.change.sites

    def author(self) -> str | None:
        plan = self.plan()
        return plan.created_by if plan else None

    def parties(self) -> list[Person]:
        """The requester and the plan's author: told of every step."""
        return [p for p in (self.person(self.change.requester), self.person(self.author())) if p]

    def approvers_asked(self) -> list[Person]:
        """People who can give an approval the plan's category needs: judged as the approval itself
        is (:func:`netchange.guard._approvals.refusal_of`: role, organisation, sites, never the requester
        or the plan's author)."""
        plan = self.plan()
        if plan is None or plan.category is None:
            return []
        rules = self.policy.category(plan.category).approvals
        return [p for p in self.policy.people
                if any(r.satisfied_by(p) for r in rules)
                and refusal_of(self.policy, p, change_id=self.change.id, category=plan.category,
                               requester=self.change.requester, plan_author=plan.created_by,
                               sites=self.sites()) is None]

    def approvers_given(self) -> list[Person]:
        """People whose approval of the current plan is recorded."""
        plan_hash = self.change.plan_hash
        if plan_hash is None:
            return []
        logins = {a.approver for a in self.journal.approvals(self.change.id, plan_hash) if a.decision == "approved"}
        return [p for p in self.policy.people if p.login in logins]

    def draft(self, notice: Notice, people: Iterable[Person], headline: str, **extra: object) -> Draft:
        seen: dict[str, Person] = {}
        for p in people:
            if p.login != self.event.actor and p.email:
                seen.setdefault(p.login, p)
        return Draft(notice=notice, event=self.event, change=self.change, recipients=tuple(seen.values()),
                     headline=headline, plan=self.plan(), **extra)  # type: ignore[arg-type]


def _plan_recorded(c: _Ctx) -> list[Draft]:
    first = not any(e.kind == EventKind.PLAN_RECORDED and e.seq < c.event.seq for e in c.journal.events(c.change.id))
    plan = c.plan()
    category = (plan.category.value if plan and plan.category else "no change" if plan and plan.no_change
                else str(c.event.data.get("category") or "?"))
    by = c.name(c.event.actor)
    drafts = [
        c.draft(Notice.TAKEN if first else Notice.REPLANNED, c.parties(),
                f"{'Taken and planned' if first else 'Planned again'} by {by}: {category}"
                + ("" if first else "; approvals given to the earlier plan no longer count"),
                show_diff=False)
    ]
    asked = c.approvers_asked()
    if asked and plan is not None and plan.category is not None:
        rules = c.policy.category(plan.category).approvals
        drafts.append(c.draft(
            Notice.APPROVAL_REQUESTED, asked,
            f"Your approval is requested for this {category} change (planned by {by})",
            details=("needs: " + " AND ".join(r.describe() for r in rules)
                     + " (different people; never the requester or the plan's author)",),
            show_diff=True,
        ))
    return drafts


def _decision(c: _Ctx) -> list[Draft]:
    rejected = c.event.kind == EventKind.REJECTION
    comment = str(c.event.data.get("comment") or "")
    verb = "Rejected" if rejected else "Approved"
    people = [*c.parties(), *(c.approvers_asked() if rejected else [])]
    return [c.draft(Notice.REJECTED if rejected else Notice.APPROVED, people,
                    f"{verb} by {c.name(c.event.actor)}", comment=comment)]


def _state(c: _Ctx) -> list[Draft]:
    target = c.event.data.get("to")
    reason = str(c.event.data.get("reason") or "")
    by = c.name(c.event.actor)
    everyone = [*c.parties(), *c.approvers_given()]
    if target == State.APPROVED.value:
        plan = c.plan()
        if plan is None or plan.category is None or not c.policy.category(plan.category).approvals:
            return []  # the request was its validation (minor): nothing new to tell before it runs
        start = _planned_start(c)
        when = (f"planned start {start}" if start else "it may run in its window")
        return [c.draft(Notice.SCHEDULED, everyone, f"Every approval is given: {when}", details=(reason,))]
    if target == State.COMPLETED.value:
        return [c.draft(Notice.APPLIED, everyone, f"Applied by {by}; post-checks passed")]
    if target == State.ROLLED_BACK.value:
        return [c.draft(Notice.ROLLED_BACK, everyone, f"Rolled back ({by})", details=_causes(reason))]
    if target == State.FAILED.value:
        appliers = [p for p in c.policy.people if set(p.roles) & set(c.policy.apply.roles) and p.covers(c.sites())]
        return [c.draft(Notice.FAILED, [*everyone, *appliers],
                        f"FAILED ({by}): devices may not be as they were; act now",
                        details=_causes(reason) + _alarms(c))]
    if target == State.CLOSED.value and c.event.data.get("from") == State.PLANNED.value:
        # A plan with no change, applied: closed with nothing sent (issue 22 item 6).
        return [c.draft(Notice.CLOSED, everyone, f"Closed with no change ({by}): every host already matched; "
                        "nothing was sent")]
    if target == State.CLOSED.value:
        return [c.draft(Notice.CLOSED, everyone, f"Closed: final validation complete ({by})")]
    return []


def _causes(reason: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in reason.split("; ") if part.strip())


def _alarms(c: _Ctx) -> tuple[str, ...]:
    """Each host whose last restore before this event did not verify, with what happened, in its
    cause's own words (as the terminal and the tracking sheet say it)."""
    from netchange.rollback import alarm_text

    events = [e for e in c.journal.events(c.change.id) if e.seq < c.event.seq]
    started = max((i for i, e in enumerate(events) if e.kind == EventKind.APPLY_STARTED), default=0)
    last: dict[str, Event] = {}
    for e in events[started:]:
        if e.host and e.kind in (EventKind.ROLLBACK_VERIFIED, EventKind.ROLLBACK_FAILED):
            last[e.host] = e
    return tuple(f"{host}: ALARM — {alarm_text(e.data)}" for host, e in sorted(last.items())
                 if e.kind == EventKind.ROLLBACK_FAILED)


def _planned_start(c: _Ctx) -> str | None:
    plan = c.plan()
    start = plan.change.planned_start if plan else None
    if start is None:
        return None
    local = start.astimezone(c.policy.tz)
    return f"{local:%A %d %B %Y %H:%M} ({c.policy.timezone})"


_MAKERS: dict[str, Callable[[_Ctx], list[Draft]]] = {
    EventKind.PLAN_RECORDED: _plan_recorded,
    EventKind.APPROVAL: _decision,
    EventKind.REJECTION: _decision,
    EventKind.STATE: _state,
}


def local_time(policy: Policy, at: dt.datetime) -> str:
    return f"{at.astimezone(policy.tz):%Y-%m-%d %H:%M} ({policy.timezone})"
