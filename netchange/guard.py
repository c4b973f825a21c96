"""The apply guard: may this plan run now, by this person? One place for every rule.

Apply calls :func:`check_apply` before touching any device (and before taking the device locks).
It checks, and reports all that fail in one line:

- the actor is a person of the policy with a role that applies changes;
- the plan is the change's current plan in the journal, its hosts all planned without error,
  and the change is in a state that may run (planned or approved);
- the approvals of the category are given to this plan hash, none rejected, and the actor is
  not the only approver of a medium or major change;
- what the category demands of the plan (a rollback per host; post-checks) and its outage;
- the lead time (major: the plan existed 24 h before now);
- the window at every target host's site, and freezes;
- no other live change holds a lock on one of the hosts.

The emergency path (``--emergency WHY``) lets a category that allows it run outside its window,
never without its approvals; it is recorded with its reason and counted apart in reports.
Every decision, allowed or refused, is journaled with the policy version it was judged under.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from netchange import approvals as approvals_mod
from netchange import window
from netchange.errors import GuardRefused, LockHeld
from netchange.identity import Actor, actor_for
from netchange.journal import Journal, State
from netchange.journal.records import LIVE_LOCK_STATES, HostLike, PlanLike
from netchange.policy import Policy, format_duration

RUNNABLE = frozenset({State.PLANNED, State.APPROVED})


class GuardHost(HostLike, Protocol):
    """What the guard reads of a ``HostPlan`` beyond what the journal does."""

    @property
    def rollback(self) -> object | None: ...

    @property
    def has_post_checks(self) -> bool: ...

    @property
    def error(self) -> str | None: ...


class GuardPlan(PlanLike, Protocol):
    """What the guard reads of ``netchange.plan.Plan`` (a Protocol: no Nornir import for the guard)."""

    @property
    def hosts(self) -> Sequence[GuardHost]: ...


@dataclass(frozen=True)
class GuardDecision:
    """An allowed apply: what was checked, for the journal and the tracking sheet."""

    allowed: bool
    change_id: str
    plan_hash: str
    actor: str
    at: dt.datetime
    policy_version: str
    reasons: tuple[str, ...]
    emergency: str | None = None
    verdicts: tuple[window.Verdict, ...] = field(default=())
    approvals: approvals_mod.ApprovalStatus | None = None


def check_apply(
    plan: GuardPlan,
    *,
    policy: Policy,
    journal: Journal,
    actor: Actor | str,
    now: dt.datetime,
    emergency: str | None = None,
) -> GuardDecision:
    """Allow ``plan`` to run at ``now`` by ``actor``, or raise ``GuardRefused`` saying why."""
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    who = actor if isinstance(actor, Actor) else actor_for(policy, actor)
    change = plan.change
    rules = policy.category(plan.category)
    refusals: list[str] = []
    lock_refusals: list[str] = []
    notes: list[str] = []
    emergency = (emergency or "").strip() or None

    # Who.
    if who.person is None:
        refusals.append(f"{who.login} is not a person of the policy")
    elif not set(policy.apply.roles) & set(who.person.roles):
        refusals.append(f"{who.login} may not apply (needs role {' or '.join(policy.apply.roles)})")

    # Which plan, in which state.
    row = journal.change(change.id)
    status: approvals_mod.ApprovalStatus | None = None
    if row is None:
        refusals.append(f"{change.id} has no plan in the journal")
    else:
        if row.plan_hash != plan.plan_hash:
            current = (row.plan_hash or "none")[:12]
            refusals.append(f"plan {plan.plan_hash[:12]} is not the current plan ({current})")
        if row.state not in RUNNABLE:
            refusals.append(f"{change.id} is {row.state.value}: plan it again before applying")
        status = approvals_mod.status(
            policy,
            journal,
            change.id,
            plan_hash=plan.plan_hash,
            category=plan.category,
            requester=change.requester,
            plan_author=plan.created_by,
        )
        if not status.complete:
            refusals.append(f"approvals {status.summary()}")
        elif rules.approvals and who.login in status.approvers and status.approvers == {who.login}:
            refusals.append(f"{who.login} is the only approver of this {plan.category.value} change")
    failed_hosts = [h.host for h in plan.hosts if h.error]
    if failed_hosts:
        refusals.append(f"the plan failed on {', '.join(failed_hosts)}")
    if not plan.hosts:
        refusals.append("the plan has no host")

    # What the category demands of the plan.
    if "rollback" in rules.plan_demands:
        missing = [h.host for h in plan.hosts if h.rollback is None]
        if missing:
            refusals.append(
                f"a {plan.category.value} change needs a rollback for every host: none for "
                f"{', '.join(missing)}"
            )
    if "post_checks" in rules.plan_demands:
        missing = [h.host for h in plan.hosts if not h.has_post_checks]
        if missing:
            refusals.append(
                f"a {plan.category.value} change needs post-checks: none for {', '.join(missing)}"
            )
    if rules.max_outage is not None and change.expected_outage > rules.max_outage:
        refusals.append(
            f"expected outage {format_duration(change.expected_outage)} exceeds the "
            f"{plan.category.value} maximum {format_duration(rules.max_outage)}"
        )
    if rules.lead_time and now - plan.created_at < rules.lead_time:
        ready = (plan.created_at + rules.lead_time).astimezone(policy.tz)
        refusals.append(
            f"a {plan.category.value} change must be planned {format_duration(rules.lead_time)} ahead: "
            f"not before {ready.isoformat(timespec='minutes')}"
        )

    # When: the window at every site, and freezes.
    if emergency and not rules.emergency_allowed:
        refusals.append(f"the emergency path is not open to {plan.category.value} changes")
    verdicts = []
    for site in sorted({h.site for h in plan.hosts}):
        verdict = window.evaluate(
            policy, plan.category, site, now, change.estimated_duration, ignore_freezes=True
        )
        verdicts.append(verdict)
        if verdict.allowed:
            continue
        if emergency and rules.emergency_allowed:
            notes.append(f"emergency at {site}: {verdict.reason}")
            continue
        when = f"; next opens {verdict.next_open.isoformat(timespec='minutes')}" if verdict.next_open else ""
        refusals.append(f"{site}: {verdict.reason}{when}")
    for freeze in policy.freezes_overlapping(now, now + change.estimated_duration):
        if emergency and rules.emergency_allowed and freeze.allow_emergency:
            notes.append(f"emergency during freeze {freeze.start}..{freeze.end} ({freeze.reason})")
        else:
            refusals.append(f"freeze {freeze.start}..{freeze.end}: {freeze.reason}")

    # Locks held by another live change on the same devices.
    hosts = {h.host for h in plan.hosts}
    for lock in journal.locks():
        if lock.host in hosts and lock.change_id != change.id:
            holder = journal.change(lock.change_id)
            if holder is None or holder.state in LIVE_LOCK_STATES:
                lock_refusals.append(f"{lock.host} is locked by {lock.change_id}")

    allowed = not refusals and not lock_refusals
    reasons = tuple(refusals + lock_refusals) if not allowed else tuple(notes) or ("all checks passed",)
    decision = GuardDecision(
        allowed=allowed,
        change_id=change.id,
        plan_hash=plan.plan_hash,
        actor=who.login,
        at=now,
        policy_version=policy.version,
        reasons=reasons,
        emergency=emergency,
        verdicts=tuple(verdicts),
        approvals=status,
    )
    _journal(journal, decision, row_known=row is not None)
    if not allowed:
        message = f"{change.id} refused: " + "; ".join(reasons)
        raise (LockHeld(message) if not refusals else GuardRefused(message))
    if emergency:
        journal.mark_emergency(change.id, emergency, actor=who.login)
    if row is not None and row.state is State.PLANNED and status is not None:
        journal.set_state(change.id, State.APPROVED, actor=who.login, reason=status.summary())
    return decision


def _journal(journal: Journal, decision: GuardDecision, *, row_known: bool) -> None:
    journal.event(
        decision.change_id if row_known else None,
        "guard",
        actor=decision.actor,
        data={
            "change_id": decision.change_id,
            "allowed": decision.allowed,
            "reasons": list(decision.reasons),
            "emergency": decision.emergency,
            "plan_hash": decision.plan_hash,
            "policy_version": decision.policy_version,
            "at": decision.at.isoformat(),
            "windows": [v.as_dict() for v in decision.verdicts],
        },
    )
