"""What the change page shows, gathered from the verified plan, the journal and the policy.

Nothing here decides: the approval status and who may approve come from
``netchange.guard._approvals``, the window verdict from ``netchange.policy._window``. Device text (diffs,
rollback lines, check details) is scrubbed of registered secrets here and escaped by the
templates: it is never markup.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from netchange import redact
from netchange.guard import (
    ApprovalStatus,
    Approvers,
    plan_sites,
    refusal_of,
    sites_each_approved,
    status_of_plan,
    who_may_approve,
)
from netchange.journal import ChangeRow, EventKind, Journal, State
from netchange.plan import HostPlan, Plan
from netchange.plan import store as planstore
from netchange.policy import Policy, Verdict, actor_for, evaluate, format_duration
from netchange.service.plandiff import PlanDiff, compare

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx"
    text: str


@dataclass(frozen=True)
class HostView:
    host: HostPlan
    diff: tuple[DiffLine, ...]
    rollback_words: str
    rollback_lines: str


@dataclass(frozen=True)
class ChangeView:
    row: ChangeRow
    plan: Plan
    status: ApprovalStatus
    approvers: tuple[Approvers, ...]
    verdicts: tuple[Verdict, ...]
    start: dt.datetime
    start_is_planned: bool
    duration: str
    hosts: tuple[HostView, ...]
    sites: tuple[str, ...]
    my_refusal: str | None
    """Why the signed-in person may not decide on this plan (None: they may)."""
    my_decision: str | None
    step_types: tuple[str, ...]
    voided_note: str | None
    requirements: tuple[str, ...]
    still_needed: tuple[Approvers, ...] = ()
    """The approvals not yet given, each with who may give it."""
    each_site: bool = False
    """The policy wants each site's approval of this plan (``approvals_across_sites: all_sites``)."""
    changed: PlanDiff | None = None
    """What changed since the plan the person read (or decided on, or the previous plan)."""
    changed_since: str = ""
    """Which earlier plan ``changed`` is measured from, in words."""

    @property
    def decidable(self) -> bool:
        return self.row.state in {State.PLANNED, State.APPROVED} and self.my_refusal is None


def diff_lines(diff: str) -> tuple[DiffLine, ...]:
    lines = []
    for line in redact.scrub(diff).splitlines():
        kind = "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"
        lines.append(DiffLine(kind, line))
    return tuple(lines)


def rollback_in_words(host: HostPlan) -> tuple[str, str]:
    """How the host comes back if the change fails: words, and the lines when they are short."""
    if not host.changes:
        return "nothing to roll back: the device already matches", ""
    if host.rollback is None:
        return "no rollback: the plan has none for this host", ""
    if host.rollback.strategy == "snapshot":
        return (
            "full restore: the running configuration read just before the change is put back whole, "
            "then read back and compared",
            "",
        )
    return "the inverse lines below undo exactly what the change adds, then the device is read back", redact.scrub(
        host.rollback.lines
    )


def _earlier(journal: Journal, plan: Plan, login: str, since: str) -> tuple[str, str] | None:
    """Which earlier plan to compare with, and why: the one the person read (``since``, from their
    form or link), else the last one they decided on, else the change's previous plan."""
    current, change_id = plan.plan_hash, plan.change.id
    if _HASH.fullmatch(since) and since != current and journal.plan_record(change_id, since) is not None:
        return since, "the plan you read"
    mine = [a.plan_hash for a in journal.approvals(change_id) if a.approver == login and a.plan_hash != current]
    if mine:
        return mine[-1], "the plan you decided on"
    recorded = [e.data.get("plan_hash") for e in journal.events(change_id) if e.kind == EventKind.PLAN_RECORDED]
    earlier = [h for h in recorded if isinstance(h, str) and h != current]
    return (earlier[-1], "the previous plan") if earlier else None


def still_needed(status: ApprovalStatus, approvers: tuple[Approvers, ...]) -> tuple[Approvers, ...]:
    """The approvals the plan still needs (per site under ``all_sites``), with who may give each."""
    if status.rejections:
        return ()
    return tuple(
        a for a in approvers
        if a.required and a.rule is not None and a.rule in status.missing and not status.given(a.rule, a.site)
    )


def build(
    policy: Policy, journal: Journal, plan: Plan, row: ChangeRow, *, login: str, now: dt.datetime, since: str = ""
) -> ChangeView:
    status = status_of_plan(policy, journal, plan, requester=row.requester)
    sites = plan_sites(plan)
    planned = plan.change.planned_start
    start = planned or now
    verdicts = tuple(
        evaluate(policy, plan.category, site, start, plan.change.estimated_duration)
        for site in sites
        if plan.category is not None and site in policy.sites
    )
    person = actor_for(policy, login).person
    if plan.no_change:
        refusal: str | None = "no change: every host already matches; nothing to approve ('netchange apply' closes it)"
    elif person is None:
        refusal = f"{login} is not a person of the policy: may read, not approve"
    elif plan.category is None:
        refusal = "the plan failed on every host; nothing to approve"
    else:
        refusal = refusal_of(
            policy, person, change_id=plan.change.id, category=plan.category, requester=row.requester,
            plan_author=plan.created_by, sites=sites,
        )
    if refusal is None and any(a.approver == login for a in status.rejections):
        refusal = "you rejected this plan: a rejection stands until the change is planned again"
    mine = [a for a in journal.approvals(plan.change.id, plan.plan_hash) if a.approver == login]
    voided = list(status.voided)
    voided_note = None
    if voided:
        names = ", ".join(sorted({a.approver for a in voided}))
        voided_note = (
            f"The change was planned again: {len(voided)} earlier decision(s) ({names}) were given to an earlier "
            "plan and no longer count."
        )
    approvers = who_may_approve(policy, plan, requester=row.requester)
    earlier = _earlier(journal, plan, login, since)
    old = planstore.from_journal(journal, plan.change.id, earlier[0]) if earlier else None
    hosts = []
    for h in plan.hosts:
        words, lines = rollback_in_words(h)
        hosts.append(HostView(host=h, diff=diff_lines(h.diff), rollback_words=words, rollback_lines=lines))
    return ChangeView(
        row=row,
        plan=plan,
        status=status,
        approvers=approvers,
        verdicts=verdicts,
        start=start.astimezone(policy.tz),
        start_is_planned=planned is not None,
        duration=format_duration(plan.change.estimated_duration),
        hosts=tuple(hosts),
        sites=sites,
        my_refusal=refusal,
        my_decision=f"{mine[-1].decision} at {mine[-1].at:%Y-%m-%d %H:%M} UTC" if mine else None,
        step_types=tuple(dict.fromkeys(s.type for s in plan.change.steps)),
        voided_note=voided_note,
        # The plan's own list (covered by its hash); a plan made without one shows the policy's.
        requirements=plan.requirements or (tuple(policy.requirements(plan.category)) if plan.category else ()),
        still_needed=still_needed(status, approvers),
        each_site=bool(sites_each_approved(policy, sites)),
        changed=compare(old, plan) if old is not None else None,
        changed_since=earlier[1] if earlier else "",
    )
