"""The apply guard: may this plan run now, by this person? One place for every rule.

Apply calls :func:`check_apply` before touching any device (and before taking the device locks).
It checks, and reports all that fail in one line:

- the plan's content matches its hash (``Plan.verify``), its category is not below any host's,
  and it was made under the policy pinned in the journal (its digest; else: plan again);
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
The guard decides only from the verified plan and the policy: what a category demands is read
from the policy for the plan's category, never from the plan's ``requirements`` text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from netchange import approvals as approvals_mod
from netchange import policypin, window
from netchange.errors import GuardRefused, LockHeld
from netchange.identity import Actor, actor_for
from netchange.journal import Journal, State
from netchange.journal.records import LIVE_LOCK_STATES
from netchange.models import Category
from netchange.plandoc import Plan
from netchange.policy import Policy, format_duration

RUNNABLE = frozenset({State.PLANNED, State.APPROVED})


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
    policy_digest: str = ""
    emergency: str | None = None
    verdicts: tuple[window.Verdict, ...] = field(default=())
    approvals: approvals_mod.ApprovalStatus | None = None


def check_apply(
    plan: Plan,
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
    plan.verify()  # a plan whose content does not match its hash is refused before anything else
    change = plan.change
    if plan.category is None:
        raise GuardRefused(f"{change.id} refused: the plan failed on every host; fix and plan again")
    refusals: list[str] = []
    category = _checked_category(plan, refusals)
    rules = policy.category(category)
    pinned = policypin.pinned_digest(journal)
    if pinned is not None and plan.policy_digest != pinned:
        refusals.append(
            f"the plan was made under policy {plan.policy_version} ({plan.policy_digest[:12] or 'unknown'}), "
            f"not the policy in force ({pinned[:12]}): plan again"
        )
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
            category=category,
            requester=change.requester,
            plan_author=plan.created_by,
        )
        if not status.complete:
            refusals.append(f"approvals {status.summary()}")
        elif rules.approvals and who.login in status.approvers and status.approvers == {who.login}:
            refusals.append(f"{who.login} is the only approver of this {category.value} change")
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
                f"a {category.value} change needs a rollback for every host: none for "
                f"{', '.join(missing)}"
            )
    if "post_checks" in rules.plan_demands:
        missing = [h.host for h in plan.hosts if not h.has_post_checks]
        if missing:
            refusals.append(
                f"a {category.value} change needs post-checks: none for {', '.join(missing)}"
            )
    if rules.max_outage is not None and change.expected_outage > rules.max_outage:
        refusals.append(
            f"expected outage {format_duration(change.expected_outage)} exceeds the "
            f"{category.value} maximum {format_duration(rules.max_outage)}"
        )
    if rules.lead_time and now - plan.created_at < rules.lead_time:
        ready = (plan.created_at + rules.lead_time).astimezone(policy.tz)
        refusals.append(
            f"a {category.value} change must be planned {format_duration(rules.lead_time)} ahead: "
            f"not before {ready.isoformat(timespec='minutes')}"
        )

    # When: the window at every site, and freezes.
    if emergency and not rules.emergency_allowed:
        refusals.append(f"the emergency path is not open to {category.value} changes")
    verdicts = []
    for site in sorted({h.site for h in plan.hosts}):
        verdict = window.evaluate(
            policy, category, site, now, change.estimated_duration, ignore_freezes=True
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
        policy_digest=policy.digest,
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


def _checked_category(plan: Plan, refusals: list[str]) -> Category:
    """The plan's category, refused if lower than one of its hosts' (a category is never lowered).

    The hash already covers every category; this recomputation is the guard's own check that
    what it decides from is consistent, not a trust in the writer of the plan.
    """
    assert plan.category is not None
    hosts = [h.category for h in plan.hosts if h.ok and h.category is not None]
    highest = Category.highest(hosts)
    if hosts and highest.rank > plan.category.rank:
        refusals.append(
            f"the plan says {plan.category.value} but a host is {highest.value}: refused"
        )
        return highest
    raised = plan.change.category
    if raised is not None and Category(raised).rank > plan.category.rank:
        refusals.append(f"the plan says {plan.category.value} but the request raised it to {raised}: refused")
        return Category(raised)
    return plan.category


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
            "policy_digest": decision.policy_digest,
            "at": decision.at.isoformat(),
            "windows": [v.as_dict() for v in decision.verdicts],
        },
    )
