"""Approvals bound to one plan hash, checked against the category's rules in the policy.

An approval vouches for what the approver saw: the plan with that hash. A re-plan with another
hash therefore voids it (it stays in the journal, no longer counted). Nobody approves their own
request or their own plan: the requester and the plan's author never count. Each rule of the
category (e.g. a client ops_manager AND a provider project_manager) needs a different person.
A rejection stands until the change is planned again: the guard refuses to apply a plan that
someone entitled to decide on it rejected, and the rejecter cannot approve that same plan later
(an approval can still be turned into a rejection).

For a minor change the policy lists no approval: the quality plan says "the requester's
validation suffices", and the request itself, by a person with a role of ``requests.roles``, is
that validation; only a role of the category's ``extra_approval_roles`` may still record one.
No role is named in this module: who may approve what is the policy's data, versioned with it.

Two more things void an approval without a re-plan:

- it was given under another policy than the one pinned in the journal (``netchange.policy.pin``):
  each approval's event records the digest of the policy the approver was judged under;
- an apply attempt of the change ended ``rolled_back`` or ``failed`` after it: the approval
  vouched for that attempt, so re-planning to the same hash needs new approvals. This is read
  from the journal's chained state events, so no command can forget to consume them.

The plan approvals are judged on is the journal's copy, verified against its hash
(``planstore.from_journal``): its category and author are never taken from an unverified column.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from netchange.errors import BadRequest, GuardRefused
from netchange.journal import Approval, Event, Journal, State, StateError
from netchange.models import MAX_COMMENT, person_text
from netchange.plan import Plan
from netchange.plan import store as planstore
from netchange.policy import Actor, ApprovalRule, Person, Policy
from netchange.policy import pin as policypin
from netchange.vocabulary import Category

CONSUMING = frozenset({State.ROLLED_BACK.value, State.FAILED.value})
"""An attempt that ends in one of these states uses up the approvals given before it."""

APPROVABLE = frozenset({State.PLANNED, State.APPROVED})


@dataclass(frozen=True)
class ApprovalStatus:
    """Where the approvals of one plan hash stand against its category's rules."""

    change_id: str
    plan_hash: str
    category: Category | None
    """``None``: a plan with no change, which needs no approval (:func:`status_of_plan`)."""
    rules: tuple[ApprovalRule, ...]
    satisfied: tuple[tuple[ApprovalRule, Approval], ...]
    missing: tuple[ApprovalRule, ...]
    rejections: tuple[Approval, ...]
    ignored: tuple[tuple[Approval, str], ...] = field(default=())
    """Approvals on this hash that do not count, and why."""
    missing_sites: tuple[tuple[ApprovalRule, str], ...] = field(default=())
    """Under ``approvals_across_sites: all_sites``, each rule not yet given for a site the plan
    touches, with that site (the rule is in ``missing`` too)."""
    voided: tuple[Approval, ...] = field(default=())
    """Approvals given to earlier plans of the change."""
    requester_ok: bool = True

    @property
    def complete(self) -> bool:
        return not self.missing and not self.rejections and self.requester_ok

    @property
    def complete_for_one_site(self) -> bool:
        """Complete but for the sites still uncovered under ``all_sites`` (the guard's two rules)."""
        partly = {r for r, _ in self.missing_sites} & {r for r, _ in self.satisfied}
        return not set(self.missing) - partly and not self.rejections and self.requester_ok

    def needs(self) -> list[str]:
        """What is still needed, one entry per rule (per rule and site under ``all_sites``)."""
        per_site: dict[ApprovalRule, list[str]] = {}
        for rule, site in self.missing_sites:
            per_site.setdefault(rule, []).append(site)
        return [
            f"{r.describe()} for {' and '.join(per_site[r])}" if r in per_site else r.describe()
            for r in self.missing
        ]

    def given(self, rule: ApprovalRule, site: str | None = None) -> list[Approval]:
        """The approvals counted for ``rule`` (for ``site``, when each site needs its own)."""
        return [a for r, a in self.satisfied if r == rule and (site is None or site in self.covered.get(a.id, ()))]

    covered: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Approval id → the sites it answers for, among those the plan touches (all of them when
    approvals are not by site)."""

    @property
    def approvers(self) -> frozenset[str]:
        return frozenset(a.approver for _, a in self.satisfied)

    def summary(self) -> str:
        if self.rejections:
            return "rejected by " + ", ".join(
                f"{a.approver} ({a.comment or 'no comment'})" for a in self.rejections
            )
        if self.category is None:
            return "no change: nothing to approve ('netchange apply' closes the change)"
        if not self.requester_ok:
            return "the requester is not a requester of the policy, so the request is no validation"
        if self.missing:
            return "missing: " + " AND ".join(self.needs())
        if not self.rules:
            return "complete: the request is the requester's validation"
        return "complete: " + ", ".join(f"{r.describe()} = {a.approver}" for r, a in self.satisfied)


@dataclass(frozen=True)
class Decided:
    """What :func:`status` reads of one change, read beforehand for many changes at once (the
    queue: ``Journal.decisions_of``): its approvals of every hash, its approval, rejection and
    state events in order, and the digest of the policy pinned in the journal."""

    approvals: list[Approval]
    events: list[Event]
    pinned: str | None


def _read_decided(journal: Journal, change_id: str, decided: Decided | None) -> Decided:
    if decided is not None:
        return decided
    return Decided(
        approvals=journal.approvals(change_id), events=journal.events(change_id),
        pinned=policypin.pinned_digest(journal),
    )


def _chained_approvals(events: list[Event]) -> tuple[dict[int, tuple[int, str | None]], int]:
    """What the chained events say of each approval: approval id → its event's sequence number and
    policy digest; and the sequence number of the last attempt that ended rolled back or failed
    (approvals before it are used up), 0 if none."""
    given: dict[int, tuple[int, str | None]] = {}
    consumed_at = 0
    for event in events:
        if event.kind in {"approval", "rejection"} and isinstance(event.data.get("approval_id"), int):
            given[event.data["approval_id"]] = (event.seq, event.data.get("policy_digest"))
        elif event.kind == "state" and event.data.get("to") in CONSUMING:
            consumed_at = event.seq
    return given, consumed_at


def status(
    policy: Policy,
    journal: Journal,
    change_id: str,
    *,
    plan_hash: str,
    category: Category,
    requester: str,
    plan_author: str,
    sites: tuple[str, ...] = (),
    decided: Decided | None = None,
) -> ApprovalStatus:
    """Match the latest decision of each person on ``plan_hash`` to the category's rules.

    ``sites``: the sites the plan touches; under ``approvals_by_site`` an approver whose policy
    entry names sites counts only when the plan touches one of them.
    """
    rules = policy.category(category).approvals
    decided = _read_decided(journal, change_id, decided)
    given, consumed_at = _chained_approvals(decided.events)
    in_force = decided.pinned
    latest: dict[str, Approval] = {}
    rejected: dict[str, Approval] = {}
    ignored: list[tuple[Approval, str]] = []
    for approval in (a for a in decided.approvals if a.plan_hash == plan_hash):
        if approval.id not in given:
            ignored.append((approval, "no event of it in the journal's chain"))
            latest.pop(approval.approver, None)
            continue
        seq, digest = given[approval.id]
        if seq <= consumed_at:
            ignored.append((approval, "used up by an apply attempt that ended rolled back or failed"))
            latest.pop(approval.approver, None)
        elif in_force is not None and digest != in_force:
            ignored.append((approval, f"given under another policy ({(digest or 'unknown')[:12]})"))
            latest.pop(approval.approver, None)
        else:
            latest[approval.approver] = approval
            if approval.decision == "rejected":
                rejected.setdefault(approval.approver, approval)
    eligible: list[Approval] = []
    standing: list[Approval] = []
    for approval in latest.values():
        person = policy.person(approval.approver)
        first_rejection = rejected.get(approval.approver)
        if approval.approver in {requester, plan_author}:
            ignored.append((approval, "self-approval (requester or plan author)"))
        elif policy.approvals_by_site and person is not None and not person.answers_for(sites):
            ignored.append((approval, f"approves for {', '.join(person.sites)} only"))
        elif first_rejection is not None:
            # A rejection stands until the change is planned again, whatever its author does next.
            standing.append(first_rejection)
            if approval.decision == "approved":
                ignored.append((approval, "the same person rejected this plan before; the rejection stands"))
        elif approval.decision == "approved":
            eligible.append(approval)
    rejections = tuple(standing)
    satisfied, missing_sites, covered = _satisfaction(policy, rules, eligible, sites, requester)
    missing = tuple(
        r for r in rules if r not in {s for s, _ in satisfied} or r in {s for s, _ in missing_sites}
    )
    voided = tuple(a for a in decided.approvals if a.plan_hash != plan_hash)
    requester_person = policy.person(requester)
    requester_ok = bool(rules) or (
        requester_person is not None and bool(set(policy.requests.roles) & set(requester_person.roles))
    )
    return ApprovalStatus(
        change_id=change_id,
        plan_hash=plan_hash,
        category=category,
        rules=rules,
        satisfied=satisfied,
        missing=missing,
        rejections=rejections,
        ignored=tuple(ignored),
        voided=voided,
        requester_ok=requester_ok,
        missing_sites=missing_sites,
        covered=covered,
    )


@dataclass(frozen=True)
class Pending:
    """One change of a list, as its journal row says (unverified: for lists of links)."""

    change_id: str
    plan_hash: str
    category: Category
    requester: str
    plan_author: str
    sites: tuple[str, ...]


def statuses(policy: Policy, journal: Journal, pending: list[Pending]) -> dict[str, ApprovalStatus]:
    """The approval status of many changes, judged as :func:`status` judges one, read in three
    queries whatever their number (the approval service's queue)."""
    decided = journal.decisions_of(p.change_id for p in pending)
    pinned = policypin.pinned_digest(journal)
    return {
        p.change_id: status(
            policy, journal, p.change_id, plan_hash=p.plan_hash, category=p.category, requester=p.requester,
            plan_author=p.plan_author, sites=p.sites,
            decided=Decided(approvals=decided[p.change_id][0], events=decided[p.change_id][1], pinned=pinned),
        )
        for p in pending
    }


def sites_each_approved(policy: Policy, sites: tuple[str, ...]) -> tuple[str, ...]:
    """The sites that each need their own approval of every rule: those the plan touches, when the
    policy approves by site and asks ``approvals_across_sites: all_sites`` (PAQ "Roles": an
    operations manager per site); none otherwise (one approval per rule suffices)."""
    if policy.approvals_by_site and policy.approvals_across_sites == "all_sites" and len(sites) > 1:
        return tuple(sites)
    return ()


def _satisfaction(
    policy: Policy, rules: tuple[ApprovalRule, ...], eligible: list[Approval], sites: tuple[str, ...], requester: str
) -> tuple[
    tuple[tuple[ApprovalRule, Approval], ...], tuple[tuple[ApprovalRule, str], ...], dict[int, tuple[str, ...]]
]:
    """The approvals counted per rule, the (rule, site) still uncovered, and each approval's sites."""
    covered = {a.id: _covers(policy, a, sites) for a in eligible}
    each_site = sites_each_approved(policy, sites)
    if each_site:
        asked = policy.person(requester)
        by_request = [
            {s for s in each_site if asked is not None and rule.satisfied_by(asked) and asked.answers_for((s,))}
            for rule in rules
        ]
        satisfied, missing_sites = _match_every_site(rules, eligible, each_site, covered, by_request)
        return satisfied, missing_sites, covered
    return _match(rules, eligible), (), covered


def _covers(policy: Policy, approval: Approval, sites: tuple[str, ...]) -> tuple[str, ...]:
    person = policy.person(approval.approver)
    if not policy.approvals_by_site or person is None:
        return tuple(sites)
    return tuple(s for s in sites if person.answers_for((s,)))


_MAX_ASSIGNMENTS = 100_000
"""Brute force stays exact for the few people a policy lists; past this many, the first found."""


def _match_every_site(
    rules: tuple[ApprovalRule, ...], approvals: list[Approval], sites: tuple[str, ...],
    covered: dict[int, tuple[str, ...]], by_request: list[set[str]],
) -> tuple[tuple[tuple[ApprovalRule, Approval], ...], tuple[tuple[ApprovalRule, str], ...]]:
    """Each rule given for every one of ``sites``: a person counts for one rule only (each rule by
    another person), and for that rule on each site they answer for. Returns the approvals counted
    per rule and the (rule, site) still uncovered, choosing the assignment that completes the most
    rules, then covers the most sites, with the fewest approvals.

    ``by_request``: per rule, the sites whose share the request itself gives: a site manager who
    requests a change touching their site and another has validated their own site's side by
    asking (PAQ "Roles": the requester is a client operations manager); nobody approves their own
    request, so the rule still needs an approval by someone else, for the other sites."""
    choices = [[-1, *(i for i, r in enumerate(rules) if _satisfies(r, a))] for a in approvals]
    best: tuple[tuple[int, int, int], tuple[int, ...]] | None = None
    for count, assignment in enumerate(itertools.product(*choices)):
        if count > _MAX_ASSIGNMENTS:
            break
        per_rule: list[set[str]] = [set() for _ in rules]
        for approval, index in zip(approvals, assignment, strict=True):
            if index >= 0:
                per_rule[index] |= set(covered[approval.id]) | by_request[index]
        done = sum(1 for got in per_rule if got >= set(sites))
        score = (done, sum(len(got & set(sites)) for got in per_rule), -sum(1 for i in assignment if i >= 0))
        if best is None or score > best[0]:
            best = (score, assignment)
    assignment = best[1] if best is not None else ()
    satisfied = tuple(
        (rules[i], a) for i, a in sorted(
            ((i, a) for a, i in zip(approvals, assignment, strict=True) if i >= 0), key=lambda p: (p[0], p[1].id)
        )
    )
    uncovered = tuple(
        (rule, site) for i, rule in enumerate(rules) for site in sites
        if site not in by_request[i] and not any(site in covered[a.id] for r, a in satisfied if r is rules[i])
    )
    return satisfied, uncovered


def _satisfies(rule: ApprovalRule, approval: Approval) -> bool:
    # Judged on the roles the approver had when approving, as recorded in the journal.
    return approval.organisation == rule.organisation and rule.role in approval.roles


def _match(
    rules: tuple[ApprovalRule, ...], approvals: list[Approval]
) -> tuple[tuple[ApprovalRule, Approval], ...]:
    """The largest assignment of distinct people to rules (rules are few: brute force is exact)."""
    best: tuple[tuple[ApprovalRule, Approval], ...] = ()
    for size in range(min(len(rules), len(approvals)), 0, -1):
        for chosen in itertools.combinations(range(len(rules)), size):
            for people in itertools.permutations(approvals, size):
                pairs = tuple((rules[i], p) for i, p in zip(chosen, people, strict=True))
                if all(_satisfies(r, p) for r, p in pairs):
                    return pairs
    return best


def status_of_current(policy: Policy, journal: Journal, change_id: str) -> ApprovalStatus:
    """The approval status of the change's current plan (the journal's copy, verified)."""
    change = journal.require(change_id)
    plan = planstore.from_journal(journal, change_id)
    if plan is None:
        raise BadRequest(f"{change_id}: no plan recorded")
    return status_of_plan(policy, journal, plan, requester=change.requester)


def status_of_plan(policy: Policy, journal: Journal, plan: Plan, *, requester: str) -> ApprovalStatus:
    """The approval status of ``plan`` (verified), judged on its own category and author.

    A plan with no change needs no approval: its status has no rule and no category (pages and the
    tracking sheet show it as such; :func:`approve` refuses to record a decision on it)."""
    if plan.no_change:
        return ApprovalStatus(change_id=plan.change.id, plan_hash=plan.plan_hash, category=None, rules=(),
                              satisfied=(), missing=(), rejections=())
    if plan.category is None:
        raise GuardRefused(f"{plan.change.id}: the plan failed on every host; nothing to approve")
    return status(
        policy,
        journal,
        plan.change.id,
        plan_hash=plan.plan_hash,
        category=plan.category,
        requester=requester,
        plan_author=plan.created_by,
        sites=plan_sites(plan),
    )


def approve(
    policy: Policy,
    journal: Journal,
    change_id: str,
    actor: Actor,
    *,
    reject: bool = False,
    comment: str = "",
    plan_hash: str | None = None,
    plan: Plan | None = None,
) -> tuple[Approval, ApprovalStatus]:
    """Record ``actor``'s approval (or rejection) of the change's current plan, after the checks.

    ``plan_hash``, when given, must be the current plan's hash: the approver says which plan they
    read, and a re-plan in between makes the approval fail instead of landing on a plan unseen.
    ``plan`` is the stored plan the caller loaded (verified); without it the journal's copy is
    used, verified against its hash. The approval records the digest of ``policy``.
    """
    comment = person_text(comment, what="comment", max_length=MAX_COMMENT)
    person = actor.require("approve")
    change = journal.require(change_id)
    state = change.state
    if state not in APPROVABLE:
        raise StateError(f"{change_id} is {state.value}: only a planned change can be approved")
    record = planstore.from_journal(journal, change_id)
    if record is None:
        raise BadRequest(f"{change_id}: no plan recorded")
    if plan is not None and plan.verify().plan_hash != record.plan_hash:
        raise GuardRefused(f"{change_id}: plan {plan.plan_hash[:12]} is not the current plan")
    if record.no_change:
        raise GuardRefused(f"{change_id}: no change: every host already matches, nothing to approve "
                           "('netchange apply' closes the change)")
    if record.category is None:
        raise GuardRefused(f"{change_id}: the plan failed on every host; nothing to approve")
    if plan_hash and not record.plan_hash.startswith(plan_hash):
        raise GuardRefused(
            f"{change_id}: plan {plan_hash[:12]} is not the current plan ({record.plan_hash[:12]}):"
            " read the new plan and approve that one"
        )
    refusal = refusal_of(
        policy, person, change_id=change_id, category=record.category, requester=change.requester,
        plan_author=record.created_by, sites=plan_sites(record),
    )
    if refusal:
        raise GuardRefused(refusal)
    if not reject:
        before = status_of_plan(policy, journal, record, requester=change.requester)
        if any(a.approver == person.login for a in before.rejections):
            raise GuardRefused(
                f"{person.login} rejected plan {record.plan_hash[:12]} of {change_id}: a rejection stands until the "
                "change is planned again"
            )
    approval = journal.add_approval(
        change_id,
        record.plan_hash,
        approver=person.login,
        organisation=person.organisation,
        roles=person.roles,
        decision="rejected" if reject else "approved",
        comment=comment,
        policy_digest=policy.digest,
    )
    current = status_of_plan(policy, journal, record, requester=change.requester)
    if current.complete and state is State.PLANNED:
        journal.set_state(change_id, State.APPROVED, actor=person.login, reason=current.summary())
    elif not current.complete and state is State.APPROVED:
        journal.set_state(change_id, State.PLANNED, actor=person.login, reason=current.summary())
    return approval, current


def plan_sites(plan: Plan) -> tuple[str, ...]:
    """The sites a plan touches (of every host, planned or not), sorted."""
    return tuple(sorted({h.site for h in plan.hosts}))


def refusal_of(
    policy: Policy,
    person: Person,
    *,
    change_id: str,
    category: Category,
    requester: str,
    plan_author: str,
    sites: tuple[str, ...],
) -> str | None:
    """Why ``person`` may not approve (or reject) this plan, in one line; ``None`` if they may.

    The one statement of who may decide on a plan: :func:`approve` raises it, the approval
    service shows it beside the buttons and lists the people it lets through
    (:func:`who_may_approve`).
    """
    if person.login == requester:
        return f"{person.login} requested {change_id}: nobody approves their own request"
    if person.login == plan_author:
        return f"{person.login} made the plan of {change_id}: nobody approves their own plan"
    if policy.approvals_by_site and not person.answers_for(sites):
        return (
            f"{person.label()} approves for {', '.join(person.sites)} only; "
            f"{change_id} touches {', '.join(sites)}"
        )
    rules = policy.category(category).approvals
    if rules:
        if not any(rule.satisfied_by(person) for rule in rules):
            needed = " or ".join(r.describe() for r in rules)
            return f"{person.label()} cannot approve a {category.value} change (needs {needed})"
        return None
    extra = policy.category(category).extra_approval_roles
    if not set(extra) & set(person.roles):
        needs = (
            f"an extra approval needs the role {' or '.join(extra)}" if extra else "the policy takes no extra approval"
        )
        return f"{person.label()} cannot approve: a {category.value} change is validated by its request; " + needs
    return None


@dataclass(frozen=True)
class Approvers:
    """One approval a plan needs (or may take), and the people of the policy who may give it."""

    needed: str
    """What the approval is: "a client ops_manager", or "extra approval (not needed)"."""
    people: tuple[Person, ...]
    required: bool = True
    rule: ApprovalRule | None = None
    """The category's rule (None: an extra approval the category does not need)."""
    site: str | None = None
    """The site this approval is for, when each site needs its own (``approvals_across_sites``)."""


def who_may_approve(policy: Policy, plan: Plan, *, requester: str) -> tuple[Approvers, ...]:
    """Per approval the plan's category demands, who of the policy's people may give it, by name.

    A category that demands none (minor: the request is the validation) lists who may still
    record an extra approval. Judged by :func:`refusal_of`, as :func:`approve` judges.
    """
    if plan.category is None:
        return ()
    sites = plan_sites(plan)

    def allowed(person: Person) -> bool:
        return refusal_of(
            policy, person, change_id=plan.change.id, category=plan.category or Category.MAJOR,
            requester=requester, plan_author=plan.created_by, sites=sites,
        ) is None

    rules = policy.category(plan.category).approvals
    if not rules:
        return (
            Approvers(
                needed="an extra approval (not needed: the request is the validation)",
                people=tuple(p for p in policy.people if allowed(p)),
                required=False,
            ),
        )
    each_site = sites_each_approved(policy, sites)
    if each_site:
        asked = policy.person(requester)

        def by_request(rule: ApprovalRule, site: str) -> bool:
            return asked is not None and rule.satisfied_by(asked) and asked.answers_for((site,))

        return tuple(
            Approvers(
                needed=f"{r.describe()} for {site}", rule=r, site=site,
                people=tuple(
                    p for p in policy.people if r.satisfied_by(p) and allowed(p) and p.answers_for((site,))
                ),
            )
            for r in rules
            for site in each_site
            if not by_request(r, site)
        )
    return tuple(
        Approvers(needed=r.describe(), rule=r,
                  people=tuple(p for p in policy.people if r.satisfied_by(p) and allowed(p)))
        for r in rules
    )


def unfilled_roles(roles: tuple[str, ...], people: list[set[str]]) -> list[str]:
    """Roles that no assignment of distinct people can fill (few roles: brute force)."""
    best = list(roles)
    for order in itertools.permutations(range(len(people)), min(len(people), len(roles))):
        left = [r for i, r in enumerate(roles) if i >= len(order) or r not in people[order[i]]]
        if len(left) < len(best):
            best = left
    return best
