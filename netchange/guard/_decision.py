"""The guard: may this plan run (or be rolled back) now, by this person? One place for every rule.

Apply calls :func:`check_apply` before touching any device (and before taking the device locks);
a rollback on request calls :func:`check_rollback`. Each check is a named rule of
:mod:`netchange.guard._rules` citing the quality-plan item it enforces (``docs/guard.md`` lists
them); the apply guard runs them all and reports every refusal in one line:

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

from netchange.errors import GuardRefused, LockHeld
from netchange.guard import _approvals as approvals_mod
from netchange.guard import _rules as rules_mod
from netchange.guard._rules import APPLY_RULES, ROLLBACK_RULES, RUNNABLE, Cite, Rule
from netchange.journal import EventKind, Journal, State
from netchange.models import person_text
from netchange.plan import Plan
from netchange.policy import Actor, Policy, Verdict, actor_for
from netchange.vocabulary import Category


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
    verdicts: tuple[Verdict, ...] = field(default=())
    approvals: approvals_mod.ApprovalStatus | None = None
    refused_by: tuple[str, ...] = ()
    """The names of the rules that refused (``netchange.guard._rules``)."""


def check_apply(
    plan: Plan,
    *,
    policy: Policy,
    journal: Journal,
    actor: Actor | str,
    now: dt.datetime,
    emergency: str | None = None,
) -> GuardDecision:
    """Allow ``plan`` to run at ``now`` by ``actor``, or raise ``GuardRefused`` saying why.

    Runs every rule of :data:`netchange.guard._rules.APPLY_RULES` and reports all refusals in one
    line (``LockHeld`` when the only refusals are device locks).
    """
    ctx, decision, refusals = _decide("apply", rules_mod.APPLY_RULES, plan, policy=policy, journal=journal,
                                      actor=actor, now=now, emergency=emergency)
    allowed, reasons = decision.allowed, decision.reasons
    _journal(journal, decision, row_known=ctx.row is not None)
    if not allowed:
        message = f"{plan.change.id} refused: " + "; ".join(reasons)
        raise (LockHeld(message) if not refusals else GuardRefused(message))
    if ctx.emergency:
        journal.mark_emergency(plan.change.id, ctx.emergency, actor=ctx.who.login)
    if ctx.row is not None and ctx.row.state is State.PLANNED and ctx.status is not None:
        journal.set_state(plan.change.id, State.APPROVED, actor=ctx.who.login, reason=ctx.status.summary())
    return decision


def check_rollback(
    plan: Plan,
    *,
    policy: Policy,
    journal: Journal,
    actor: Actor | str,
    now: dt.datetime,
    emergency: str | None = None,
) -> GuardDecision:
    """Allow a rollback on request of ``plan``'s change, or raise ``GuardRefused`` saying why.

    A rollback is a change too: :data:`netchange.guard._rules.ROLLBACK_RULES` (who may apply, the
    window of the change's category at each site, freezes) with the emergency path always open
    to it, and a freeze passed only where the freeze allows emergencies.
    """
    ctx, decision, _ = _decide("rollback", rules_mod.ROLLBACK_RULES, plan, policy=policy, journal=journal,
                               actor=actor, now=now, emergency=emergency)
    allowed, reasons, broken = decision.allowed, decision.reasons, list(decision.refused_by)
    journal.event(
        plan.change.id,
        EventKind.GUARD,
        actor=ctx.who.login,
        data={
            "action": "rollback",
            "allowed": allowed,
            "reasons": list(reasons) if not allowed else [],
            "notes": list(ctx.notes),
            "rules": list(broken),
            "emergency": ctx.emergency,
            "person": ctx.who.login,
            "policy_version": policy.version,
            "policy_digest": policy.digest,
            "at": now.isoformat(),
            "windows": [v.as_dict() for v in ctx.verdicts],
        },
    )
    if not allowed:
        raise GuardRefused(f"{plan.change.id} rollback refused: " + "; ".join(reasons))
    return decision


def _decide(
    action: rules_mod.Action,
    rules: tuple[rules_mod.Rule, ...],
    plan: Plan,
    *,
    policy: Policy,
    journal: Journal,
    actor: Actor | str,
    now: dt.datetime,
    emergency: str | None,
) -> tuple[rules_mod.Context, GuardDecision, list[str]]:
    """What apply and rollback share: the context, every rule run in order, the decision (all
    refusals as its reasons, else the rules' notes), and the refusals that are not device locks."""
    if emergency:
        person_text(emergency, what="emergency reason")  # prose for people, bounded (issue 22 item 7)
    ctx = _context(action, plan, policy=policy, journal=journal, actor=actor, now=now, emergency=emergency)
    refusals, lock_refusals, broken = _run(rules, ctx)
    allowed = not refusals and not lock_refusals
    reasons = tuple(refusals + lock_refusals) if not allowed else tuple(ctx.notes) or ("all checks passed",)
    return ctx, _decision(ctx, allowed, reasons, broken), refusals


def _context(
    action: rules_mod.Action,
    plan: Plan,
    *,
    policy: Policy,
    journal: Journal,
    actor: Actor | str,
    now: dt.datetime,
    emergency: str | None,
) -> rules_mod.Context:
    """Everything the rules read, worked out once: the verified plan's category and approvals."""
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    who = actor if isinstance(actor, Actor) else actor_for(policy, actor)
    plan.verify()  # a plan whose content does not match its hash is refused before anything else
    change = plan.change
    if plan.category is None:
        raise GuardRefused(f"{change.id} refused: the plan failed on every host; fix and plan again")
    category_refusals: list[str] = []
    category = _checked_category(plan, category_refusals)
    row = journal.change(change.id)
    status: approvals_mod.ApprovalStatus | None = None
    if row is not None and action == "apply":
        status = approvals_mod.status(
            policy,
            journal,
            change.id,
            plan_hash=plan.plan_hash,
            category=category,
            requester=change.requester,
            plan_author=plan.created_by,
            sites=approvals_mod.plan_sites(plan),
        )
    return rules_mod.Context(
        action=action,
        plan=plan,
        policy=policy,
        journal=journal,
        who=who,
        now=now,
        emergency=(emergency or "").strip() or None,
        category=category,
        rules=policy.category(category),
        row=row,
        status=status,
        category_refusals=tuple(category_refusals),
    )


def _run(rules: tuple[rules_mod.Rule, ...], ctx: rules_mod.Context) -> tuple[list[str], list[str], list[str]]:
    """Run ``rules`` in order: (refusals, lock refusals, names of the rules that refused)."""
    refusals: list[str] = []
    lock_refusals: list[str] = []
    broken: list[str] = []
    for rule in rules:
        found = rule.check(ctx)
        if found:
            broken.append(rule.name)
            (lock_refusals if rule.kind == "lock" else refusals).extend(found)
    return refusals, lock_refusals, broken


def _decision(
    ctx: rules_mod.Context, allowed: bool, reasons: tuple[str, ...], broken: list[str]
) -> GuardDecision:
    return GuardDecision(
        allowed=allowed,
        change_id=ctx.plan.change.id,
        plan_hash=ctx.plan.plan_hash,
        actor=ctx.who.login,
        at=ctx.now,
        policy_version=ctx.policy.version,
        policy_digest=ctx.policy.digest,
        reasons=reasons,
        emergency=ctx.emergency,
        verdicts=tuple(ctx.verdicts),
        approvals=ctx.status,
        refused_by=tuple(broken),
    )


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
        EventKind.GUARD,
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
            "rules": list(decision.refused_by),
        },
    )


__all__ = [
    "APPLY_RULES",
    "ROLLBACK_RULES",
    "RUNNABLE",
    "Cite",
    "GuardDecision",
    "Rule",
    "check_apply",
    "check_rollback",
]
