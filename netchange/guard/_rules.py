"""The guard's rules: one small function each, named, citing the quality-plan item it enforces.

A rule reads a :class:`Context` (the verified plan, the policy, the journal, who and when) and
returns its refusals (an empty list: nothing to say). The apply guard runs :data:`APPLY_RULES`
in order, the rollback guard :data:`ROLLBACK_RULES`, a subset of the same functions: a rollback
on request is a change too, judged by the same person, window and freeze rules.

Each rule cites where its demand comes from: a heading and a phrase of the quality plan
(``docs/quality-plan.md``, the digest of the client's document) and the ``policy.yaml`` key that
carries it as data. A test keeps every citation true (the phrase is in the plan, the key is in the
policy model), and ``docs/guard.md`` lists them. The order of the rules is the order of the refusals in the one line
the guard prints, so it is kept stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from netchange.guard import _approvals as approvals_mod
from netchange.journal import ChangeRow, Journal, State
from netchange.journal.records import LIVE_LOCK_STATES
from netchange.plan import Plan
from netchange.policy import Actor, CategoryPolicy, Policy, Verdict, evaluate, format_duration
from netchange.policy import pin as policypin
from netchange.vocabulary import Category

Action = Literal["apply", "rollback"]
RUNNABLE = frozenset({State.PLANNED, State.APPROVED})


@dataclass(frozen=True)
class Cite:
    """Where a rule's demand comes from: ``section`` of docs/quality-plan.md, a ``phrase`` quoted
    from it, and the ``policy`` key (dotted; ``<c>`` stands for any category) that holds it as data
    ('' when the rule is the software's own duty, e.g. the plan's integrity)."""

    section: str
    phrase: str
    policy: str = ""

    def describe(self) -> str:
        where = f' — policy `{self.policy}`' if self.policy else ""
        return f'PAQ "{self.section}": "{self.phrase}"{where}'


@dataclass
class Context:
    """What every rule reads, worked out once per guard call."""

    action: Action
    plan: Plan
    policy: Policy
    journal: Journal
    who: Actor
    now: dt.datetime
    emergency: str | None
    category: Category
    rules: CategoryPolicy
    row: ChangeRow | None
    status: approvals_mod.ApprovalStatus | None
    category_refusals: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def emergency_open(self) -> bool:
        """The emergency path is open: asked for, and allowed to the category (to a rollback always:
        undoing a change restores the service, which no window should forbid)."""
        return bool(self.emergency) and (self.action == "rollback" or self.rules.emergency_allowed)


Check = Callable[[Context], list[str]]


@dataclass(frozen=True)
class Rule:
    name: str
    cite: Cite
    check: Check
    kind: Literal["guard", "lock"] = "guard"
    """A ``lock`` refusal alone is a lock conflict (``LockHeld``), not a refusal of the plan."""


# --- the rules --------------------------------------------------------------------------------


def category_not_lowered(ctx: Context) -> list[str]:
    """The plan's category is not below a host's, nor below what the request raised it to."""
    return list(ctx.category_refusals)


def policy_pin(ctx: Context) -> list[str]:
    """The plan was made under the policy pinned in the journal (``netchange.policy.pin``)."""
    pinned = policypin.pinned_digest(ctx.journal)
    plan = ctx.plan
    if pinned is not None and plan.policy_digest != pinned:
        return [
            f"the plan was made under policy {plan.policy_version} ({plan.policy_digest[:12] or 'unknown'}), "
            f"not the policy in force ({pinned[:12]}): plan again"
        ]
    return []


def who_may_apply(ctx: Context) -> list[str]:
    """The actor is a person of the policy with a role of ``apply.roles``."""
    who, roles = ctx.who, ctx.policy.apply.roles
    verb = "apply" if ctx.action == "apply" else "roll back"
    if who.person is None:
        return [f"{who.login} is not a person of the policy"]
    if not set(roles) & set(who.person.roles):
        return [f"{who.login} may not {verb} (needs role {' or '.join(roles)})"]
    return []


def current_plan(ctx: Context) -> list[str]:
    """The plan is the change's current plan in the journal (approvals are bound to its hash)."""
    if ctx.row is None:
        return [f"{ctx.plan.change.id} has no plan in the journal"]
    if ctx.row.plan_hash != ctx.plan.plan_hash:
        current = (ctx.row.plan_hash or "none")[:12]
        return [f"plan {ctx.plan.plan_hash[:12]} is not the current plan ({current})"]
    return []


def runnable_state(ctx: Context) -> list[str]:
    """The change is planned or approved: a change that ran is planned again before it runs again."""
    if ctx.row is not None and ctx.row.state not in RUNNABLE:
        return [f"{ctx.plan.change.id} is {ctx.row.state.value}: plan it again before applying"]
    return []


def approvals_complete(ctx: Context) -> list[str]:
    """The approvals the category's policy lists are given to this plan hash, none rejected (for
    one site at least: the other sites' share is :func:`approvals_across_sites`)."""
    if ctx.status is not None and not ctx.status.complete_for_one_site:
        return [f"approvals {ctx.status.summary()}"]
    return []


def approvals_across_sites(ctx: Context) -> list[str]:
    """Under ``approvals_across_sites: all_sites``, a plan touching several sites has each approval
    given for every one of them (each site's operations manager), not by one site alone."""
    status = ctx.status
    if status is not None and status.complete_for_one_site and status.missing_sites:
        sites = ", ".join(sorted({h.site for h in ctx.plan.hosts}))
        return [
            f"approvals missing for every site the change touches ({sites}): {' AND '.join(status.needs())}"
        ]
    return []


def separation_of_duties(ctx: Context) -> list[str]:
    """Whoever applies a change that needs approval is not its only approver."""
    status, login = ctx.status, ctx.who.login
    if (
        status is not None
        and status.complete
        and ctx.rules.approvals
        and status.approvers == {login}
    ):
        return [f"{login} is the only approver of this {ctx.category.value} change"]
    return []


def plan_hosts(ctx: Context) -> list[str]:
    """Every host was planned without error, and there is at least one."""
    refusals = []
    failed = [h.host for h in ctx.plan.hosts if h.error]
    if failed:
        refusals.append(f"the plan failed on {', '.join(failed)}")
    if not ctx.plan.hosts:
        refusals.append("the plan has no host")
    return refusals


def plan_demands(ctx: Context) -> list[str]:
    """What the category demands of the plan, read from the policy (never from the plan's text)."""
    refusals = []
    category = ctx.category.value
    if "rollback" in ctx.rules.plan_demands:
        missing = [h.host for h in ctx.plan.hosts if h.rollback is None]
        if missing:
            refusals.append(f"a {category} change needs a rollback for every host: none for {', '.join(missing)}")
    if "post_checks" in ctx.rules.plan_demands:
        missing = [h.host for h in ctx.plan.hosts if not h.has_post_checks]
        if missing:
            refusals.append(f"a {category} change needs post-checks: none for {', '.join(missing)}")
    return refusals


def outage(ctx: Context) -> list[str]:
    """The expected outage is within the category's maximum."""
    limit, expected = ctx.rules.max_outage, ctx.plan.change.expected_outage
    if limit is not None and expected > limit:
        return [
            f"expected outage {format_duration(expected)} exceeds the "
            f"{ctx.category.value} maximum {format_duration(limit)}"
        ]
    return []


def lead_time(ctx: Context) -> list[str]:
    """A category with a lead time (major: 1 day) was planned that long before now."""
    lead = ctx.rules.lead_time
    if lead and ctx.now - ctx.plan.created_at < lead:
        ready = (ctx.plan.created_at + lead).astimezone(ctx.policy.tz)
        return [
            f"a {ctx.category.value} change must be planned {format_duration(lead)} ahead: "
            f"not before {ready.isoformat(timespec='minutes')}"
        ]
    return []


def emergency_path(ctx: Context) -> list[str]:
    """``--emergency`` only for a category whose policy allows it (a rollback always may)."""
    if ctx.emergency and not ctx.emergency_open:
        return [f"the emergency path is not open to {ctx.category.value} changes"]
    return []


def window_open(ctx: Context) -> list[str]:
    """The category's window is open at every target host's site for the change's whole duration."""
    refusals = []
    for site in sorted({h.site for h in ctx.plan.hosts}):
        verdict = evaluate(
            ctx.policy, ctx.category, site, ctx.now, ctx.plan.change.estimated_duration, ignore_freezes=True
        )
        ctx.verdicts.append(verdict)
        if verdict.allowed:
            continue
        if ctx.emergency_open:
            ctx.notes.append(f"emergency at {site}: {verdict.reason}")
            continue
        when = f"; next opens {verdict.next_open.isoformat(timespec='minutes')}" if verdict.next_open else ""
        refusals.append(f"{site}: {verdict.reason}{when}")
    return refusals


def no_freeze(ctx: Context) -> list[str]:
    """No freeze overlaps the change; the emergency path passes only a freeze that allows it."""
    refusals = []
    now = ctx.now
    for freeze in ctx.policy.freezes_overlapping(now, now + ctx.plan.change.estimated_duration):
        if ctx.emergency_open and freeze.allow_emergency:
            ctx.notes.append(f"emergency during freeze {freeze.start}..{freeze.end} ({freeze.reason})")
        else:
            refusals.append(f"freeze {freeze.start}..{freeze.end}: {freeze.reason}")
    return refusals


def device_locks(ctx: Context) -> list[str]:
    """No other live change holds a lock on one of the plan's hosts."""
    hosts = {h.host for h in ctx.plan.hosts}
    refusals = []
    for lock in ctx.journal.locks():
        if lock.host in hosts and lock.change_id != ctx.plan.change.id:
            holder = ctx.journal.change(lock.change_id)
            if holder is None or holder.state in LIVE_LOCK_STATES:
                refusals.append(f"{lock.host} is locked by {lock.change_id}")
    return refusals


# --- the lists --------------------------------------------------------------------------------

_CLASSIFICATION = "Classification of changes"
_PROCEDURE = "How a change runs (operating procedure)"
_ROLES = "Roles"
_DOCUMENTS = "Documents and reporting"
_SERVICE = "Service constraint"

CATEGORY = Rule("category", Cite(_CLASSIFICATION, "Three categories", "categories"), category_not_lowered)
POLICY_PIN = Rule(
    "policy-pin",
    Cite(_DOCUMENTS, "every change records the version it was judged under", "version"),
    policy_pin,
)
WHO_MAY_APPLY = Rule(
    "who-may-apply",
    Cite(_ROLES, "opens the tracking sheet, studies, executes, validates", "apply.roles"),
    who_may_apply,
)
CURRENT_PLAN = Rule(
    "current-plan", Cite(_ROLES, "Every request and answer must exist in writing", "categories.<c>.approvals"),
    current_plan,
)
RUNNABLE_STATE = Rule(
    "runnable-state", Cite(_PROCEDURE, "tracking sheet completed and closed", "close.roles"), runnable_state
)
APPROVALS = Rule(
    "approvals", Cite(_CLASSIFICATION, "who validates", "categories.<c>.approvals"), approvals_complete
)
ACROSS_SITES = Rule(
    "approvals-across-sites",
    Cite(_ROLES, "(client, per site) — validates and plans medium changes", "approvals_across_sites"),
    approvals_across_sites,
)
SEPARATION_OF_DUTIES = Rule(
    "separation-of-duties",
    Cite(_CLASSIFICATION, "validated and planned with the operations manager", "categories.<c>.approvals"),
    separation_of_duties,
)
PLAN_HOSTS = Rule(
    "plan-hosts", Cite(_SERVICE, "Changes must not impact production networks beyond what their category allows"),
    plan_hosts,
)
PLAN_DEMANDS = Rule(
    "plan-demands",
    Cite(_CLASSIFICATION, "validates the rollback path", "categories.<c>.plan_demands"),
    plan_demands,
)
OUTAGE = Rule(
    "outage", Cite(_CLASSIFICATION, "may cause a short outage (< 15 min", "categories.<c>.max_outage"), outage
)
LEAD_TIME = Rule(
    "lead-time", Cite(_CLASSIFICATION, "up to 1 day of preparation", "categories.<c>.lead_time"), lead_time
)
EMERGENCY = Rule(
    "emergency-path", Cite(_CLASSIFICATION, "an urgent path exists", "categories.<c>.emergency_allowed"),
    emergency_path,
)
WINDOW = Rule("window", Cite(_CLASSIFICATION, "when it may run", "categories.<c>.windows"), window_open)
FREEZE = Rule(
    "freeze", Cite(_SERVICE, "Changes must not impact production networks", "freezes"), no_freeze
)
LOCKS = Rule(
    "device-locks",
    Cite(_SERVICE, "Changes must not impact production networks beyond what their category allows"),
    device_locks,
    kind="lock",
)

APPLY_RULES: tuple[Rule, ...] = (
    CATEGORY,
    POLICY_PIN,
    WHO_MAY_APPLY,
    CURRENT_PLAN,
    RUNNABLE_STATE,
    APPROVALS,
    ACROSS_SITES,
    SEPARATION_OF_DUTIES,
    PLAN_HOSTS,
    PLAN_DEMANDS,
    OUTAGE,
    LEAD_TIME,
    EMERGENCY,
    WINDOW,
    FREEZE,
    LOCKS,
)
"""Every rule an apply passes, in the order their refusals are printed."""

ROLLBACK_RULES: tuple[Rule, ...] = (WHO_MAY_APPLY, WINDOW, FREEZE)
"""A rollback on request: the same person, window and freeze rules as the change it undoes.
Approvals, lead time and plan demands judged the change before it ran; they are not asked again,
and the device locks are taken by the rollback itself."""

DRIFT_NOTE = (
    "drift (a device changed since the snapshot) is checked under the device lock, after the guard: "
    "see netchange.apply._applier / netchange.rollback.restore (refuse_if_changed_since)"
)
