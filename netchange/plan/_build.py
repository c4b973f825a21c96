"""``plan``: what a change will do on every target, without changing any device.

Per host, in parallel through Nornir: connect, run the pre-checks, read the running state (the
snapshot the plan is bound to), render the candidate, diff it through the driver, derive the
rollback, discard the candidate, classify the diff (an empty one is "no change", unclassified). Then
aggregate: the change's category is the highest of the changing hosts and escalations (none when no
host could be planned, or none has anything to change: ``Plan.no_change``), and the plan hash
covers the whole document (``netchange.plan._document``): the request, every host's candidate, diff,
rollback and running-state hash, the category, the requirements, the policy's version and digest
and the rules version. An approval is given to that hash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from nornir.core import Nornir
from nornir.core.task import Result, Task

from netchange import redact
from netchange.changetype import ChangeType, Context, get_change_type, refused_device_text, text_hash
from netchange.classifiers import Classification, classify_change, classify_diff, load_ruleset
from netchange.classifiers.model import RuleSet
from netchange.drivers.contract import DriverProtocol, normalize, rollback_preview
from netchange.errors import BadRequest, NetchangeError, UnknownReference
from netchange.inventory import CONNECTION_NAME, host_role, host_site, resolve_targets
from netchange.models import ChangeRequest, CheckResult
from netchange.plan._document import (
    HostPlan,
    NotApplicable,
    Plan,
    Rollback,
    compute_plan_hash,
)
from netchange.plan._places import place_check
from netchange.plan._references import reference_check
from netchange.platforms import syntax_of
from netchange.request import check_host_count
from netchange.vocabulary import Category, Role

if TYPE_CHECKING:
    from nornir.core.inventory import Host


@dataclass(frozen=True)
class BoundStep:
    """A request step with its change type and validated params."""

    index: int
    change_type: ChangeType[Any]
    params: Any
    hosts: tuple[str, ...]
    not_applicable: tuple[NotApplicable, ...] = ()
    """Hosts the targets selected (by role, site, groups) that the change type cannot run on."""


@dataclass(frozen=True)
class PlanTarget:
    """One host of the plan: its facts, worked out once from the inventory when the steps are
    bound (platform, configuration syntax, role, site, the data its templates read), and the
    steps that run on it. Every context and the host's :class:`HostPlan` are built from it."""

    host: str
    platform: str
    syntax: str
    role: Role
    site: str
    data: Mapping[str, Any] = field(default_factory=dict)
    steps: tuple[BoundStep, ...] = ()

    @classmethod
    def of(cls, host: Host) -> PlanTarget:
        platform = host.platform or ""
        return cls(host=host.name, platform=platform, syntax=syntax_of(platform, host.get("syntax")),
                   role=host_role(host), site=host_site(host), data=dict(host.items()))

    def contexts(self, driver: DriverProtocol, running: str, change_id: str) -> list[tuple[BoundStep, Context[Any]]]:
        """One context per step of this host, in request order."""
        return [(step, Context(host=self.host, platform=self.platform, syntax=self.syntax, role=self.role,
                               site=self.site, data=dict(self.data), params=step.params, driver=driver,
                               running=running, change_id=change_id))
                for step in self.steps]

    def planned(
        self,
        *,
        pre_checks: tuple[CheckResult, ...] = (),
        running_hash: str = "",
        candidate: str = "",
        diff: str = "",
        rollback: Rollback | None = None,
        has_post_checks: bool = False,
        classification: Classification | None = None,
        error: str | None = None,
    ) -> HostPlan:
        """This host's part of the plan (``error``: its planning failed, no category)."""
        return HostPlan(
            host=self.host, site=self.site, role=self.role, platform=self.platform, syntax=self.syntax,
            steps=tuple(step.index for step in self.steps), pre_checks=pre_checks, running_hash=running_hash,
            candidate=candidate, diff=diff, rollback=rollback, has_post_checks=has_post_checks,
            category=classification.category if classification else None,
            reasons=classification.reasons if classification else (),
            unclassified=classification.unclassified if classification else (),
            error=error,
        )


def bind(change: ChangeRequest, nr: Nornir) -> tuple[list[BoundStep], dict[str, PlanTarget]]:
    """Validate every step's params and resolve its targets: all bad input surfaces here.

    Returns the bound steps and the plan's targets (host → :class:`PlanTarget`, in step order:
    the rollout follows it), each host's facts worked out once. A host named in
    ``targets.hosts`` that the change type cannot run on is bad input; one that a role, a site or
    groups selected is left out of the step and listed as not applicable. A step left with no
    host is bad input (it would silently do nothing).
    """
    facts: dict[str, PlanTarget] = {}
    bound = []
    for index, step in enumerate(change.steps):
        where = f"steps.{index}"
        change_type = get_change_type(step.type)
        params = change_type.validate(step.params, where=f"{where}.params")
        hosts = resolve_targets(nr, step.targets, where=f"{where}.targets")
        runs, skipped = [], []
        judged: dict[tuple[str, str], str | None] = {}  # free text per (platform, syntax): once each
        for name in hosts:
            target = facts.get(name) or facts.setdefault(name, PlanTarget.of(nr.inventory.hosts[name]))
            why = change_type.supports(target.syntax, target.role)
            if why and name in step.targets.hosts:
                raise BadRequest(f"{where}: host {name}: {why}")
            if why:
                skipped.append(NotApplicable(host=name, step=index, reason=why))
                continue
            kind = (target.platform, target.syntax)
            text = judged[kind] if kind in judged else judged.setdefault(
                kind, refused_device_text(params, *kind))
            if text:  # a description the device would not keep as written: bad input, per field
                raise BadRequest(f"{where}.params.{text}; host {name}")
            runs.append(name)
        if not runs:
            first = skipped[0]
            raise BadRequest(f"{where}: no selected host can run change type {change_type.name!r} "
                             f"({len(skipped)} selected; {first.host}: {first.reason}); narrow the targets "
                             "with platform: or syntax:")
        bound.append(BoundStep(index=index, change_type=change_type, params=params, hosts=tuple(runs),
                               not_applicable=tuple(skipped)))
    names = dict.fromkeys(h for s in bound for h in s.hosts)
    check_host_count(len(names))  # bounded before any host is contacted, or judged by the policy
    targets = {name: replace(facts[name], steps=tuple(s for s in bound if name in s.hosts)) for name in names}
    return bound, targets


def plan_contexts(plan: Plan, host: HostPlan, *, driver: DriverProtocol, running: str,
                  data: dict[str, Any]) -> list[tuple[ChangeType[Any], Context[Any]]]:
    """The executor's contexts for one host, built from the verified plan, not from the inventory.

    The host's platform, syntax, role, site and steps are the ones the plan recorded (and its
    hash covers): the inventory may have changed since, and what is executed is what was
    approved. Each step's params are validated again into their typed model from the plan's own
    request (validation is pure; the plan was refused at plan time if they were bad).
    """
    contexts: list[tuple[ChangeType[Any], Context[Any]]] = []
    for index in host.steps:
        step = plan.change.steps[index]
        change_type = get_change_type(step.type)
        params = change_type.validate(step.params, where=f"steps.{index}.params")
        contexts.append((change_type, Context(
            host=host.host, platform=host.platform, syntax=host.syntax, role=host.role, site=host.site,
            data=data, params=params, driver=driver, running=running, change_id=plan.change.id)))
    return contexts


def restored_checks(plan: Plan, host: HostPlan) -> Callable[[DriverProtocol, dict[str, Any]], list[CheckResult]] | None:
    """The restore runner's check for one host: every step's ``restored_checks``, on the device
    read after the restore; ``None`` when no change type of the host has any."""
    types = [get_change_type(plan.change.steps[i].type) for i in host.steps]
    if all(type(t).restored_checks is ChangeType.restored_checks for t in types):
        return None

    def run(driver: DriverProtocol, data: dict[str, Any]) -> list[CheckResult]:
        running = driver.get_config(retrieve="running")["running"]
        return [check for change_type, ctx in plan_contexts(plan, host, driver=driver, running=running, data=data)
                for check in change_type.restored_checks(ctx)]

    return run


def classify_platform(platform: str, syntax: str, ruleset: RuleSet | None = None) -> str:
    """The platform name the classifier's rules know.

    A platform the rules do not list (NAPALM's mock driver, a test double, a new NAPALM driver of a
    known family) is classified by its configuration syntax.
    """
    return platform if platform in (ruleset or load_ruleset()).platforms else syntax


def _plan_host(task: Task, targets: Mapping[str, PlanTarget], change: ChangeRequest, ruleset: RuleSet,
               keep: Callable[[str], object] | None = None) -> Result:
    host = task.host
    target = targets[host.name]
    try:
        driver: DriverProtocol = host.get_connection(CONNECTION_NAME, task.nornir.config)
        running = driver.get_config(retrieve="running")["running"]
        if keep is not None:
            # The planned state itself, by the hash the plan holds: an apply that finds the host
            # drifted at its turn names the lines that differ from it (rollback.SnapshotStore).
            keep(normalize(driver, running))
        contexts = target.contexts(driver, running, change.id)
        checks = tuple(check for step, ctx in contexts for check in step.change_type.pre_checks(ctx))
        if any(c.failed for c in checks):  # a check not run (offline) is not a failure
            failed = ", ".join(c.name for c in checks if c.failed)
            plan = target.planned(pre_checks=checks, running_hash=text_hash(normalize(driver, running)),
                                  error=f"pre-check failed: {failed}")
            return Result(host=host, result=plan, failed=True)
        candidate = "".join(_ensure_newline(step.change_type.render(ctx)) for step, ctx in contexts)
        if len(contexts) > 1:  # steps placed against the same running configuration may collide
            places = place_check(candidate)
            checks = (*checks, places)
            if places.failed:
                plan = target.planned(pre_checks=checks, running_hash=text_hash(normalize(driver, running)),
                                      error=f"pre-check failed: {places.name}")
                return Result(host=host, result=plan, failed=True)
        driver.load_merge_candidate(config=candidate)
        try:
            diff = driver.compare_config()
            lines = rollback_preview(driver)
            rollback = Rollback(strategy="snapshot") if lines is None else Rollback(strategy="lines", lines=lines)
        finally:
            # Plan never commits: the candidate is always dropped, whatever happened.
            driver.discard_config()
        # Names the change leaves used and undefined, judged on the configuration it leads to
        # (issue 22 item 4): a pre-check that needs the candidate, so it runs once it is known.
        references = reference_check(running, candidate, platform=target.platform,
                                     syntax=target.syntax) if diff.strip() else None
        if references is not None:
            checks = (*checks, references)
            if references.failed:
                plan = target.planned(pre_checks=checks, running_hash=text_hash(normalize(driver, running)),
                                      error=f"pre-check failed: {references.name}")
                return Result(host=host, result=plan, failed=True)
        # An empty diff is no change, not a minor one: the host gets no category (issue 22 item 6).
        classification = classify_diff(
            diff, platform=classify_platform(target.platform, target.syntax, ruleset), role=target.role,
            change_type=",".join(sorted({step.change_type.name for step, _ in contexts})), ruleset=ruleset,
            running=running,  # context rules: uplinks, bound ACLs, subnets (issue 13)
        ) if diff.strip() else None
        has_post = any(type(step.change_type).post_checks is not ChangeType.post_checks for step, _ in contexts)
        plan = target.planned(
            pre_checks=checks,
            running_hash=text_hash(normalize(driver, running)),
            candidate=candidate,
            diff=diff,
            rollback=rollback,
            has_post_checks=has_post,
            classification=classification,
        )
        return Result(host=host, result=plan, diff=diff, changed=False)
    except UnknownReference as exc:  # bad input found on the device: build_plan stops the whole plan
        return Result(host=host, result=target.planned(error=str(exc)), failed=True, exception=exc)
    except NetchangeError as exc:
        return Result(host=host, result=target.planned(error=str(exc)), failed=True)
    except Exception as exc:  # a device or driver failure is data for this host, not a crash
        return Result(host=host, result=target.planned(error=f"{type(exc).__name__}: {exc}"), failed=True)


def _scrub_messages(host: HostPlan) -> HostPlan:
    """Scrub the free text a device wrote (errors, check details) before the plan is sealed.

    Messages are only read, so masking a secret in them costs nothing; the candidate, the diff
    and the rollback are executed or compared at apply time and are never altered (a plan whose
    candidate or diff carries a secret is refused by the plan store instead).
    """
    checks = tuple(c.model_copy(update={"detail": redact.scrub(c.detail)}) for c in host.pre_checks)
    error = redact.scrub(host.error) if host.error is not None else None
    return host.model_copy(update={"error": error, "pre_checks": checks})


def _ensure_newline(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def build_plan(
    change: ChangeRequest,
    nr: Nornir,
    *,
    actor: str,
    policy_version: str,
    policy_digest: str = "",
    requirements: Callable[[Category], Sequence[str]],
    now: dt.datetime | None = None,
    bound: tuple[list[BoundStep], dict[str, PlanTarget]] | None = None,
    keep: Callable[[str], object] | None = None,
) -> Plan:
    """Plan ``change`` on its targets. Never commits; a host's failure is recorded in its HostPlan.

    ``bound``: the change already bound to the inventory by :func:`bind` (the pipeline binds
    once, checks logins or loads stored configurations for those hosts, then plans them).
    ``keep``: given each host's running state as read, normalized (whose SHA-256 is the plan's
    ``running_hash``): the pipeline keeps it in the snapshot store, so that an apply finding a
    host drifted names the lines.
    """
    steps, targets = bound if bound is not None else bind(change, nr)
    # One rule set for the whole plan: every host is judged by the same rules, looked up once.
    ruleset = load_ruleset()
    hosts = plan_hosts(change, nr, targets, ruleset, keep=keep)
    return seal_plan(change, steps, hosts, actor=actor, policy_version=policy_version, policy_digest=policy_digest,
                     requirements=requirements, now=now, ruleset=ruleset)


def plan_hosts(change: ChangeRequest, nr: Nornir, targets: Mapping[str, PlanTarget],
               ruleset: RuleSet | None = None, *, keep: Callable[[str], object] | None = None,
               ) -> tuple[HostPlan, ...]:
    """Each target's part of the plan (read, render, compare, classify), in step order; the devices'
    side of :func:`build_plan` (a site worker runs it for its hosts: :mod:`netchange.workflow`)."""
    ruleset = ruleset or load_ruleset()
    # Hosts in step order (the rollout follows it): a change's steps are a sequence.
    names = list(targets)
    wanted = set(names)
    try:
        result = nr.filter(filter_func=lambda h: h.name in wanted).run(
            task=_plan_host, targets=targets, change=change, ruleset=ruleset, keep=keep, name="plan",
            on_failed=True)
    finally:
        nr.close_connections(on_good=True, on_failed=True)
    for name in names:
        if isinstance(result[name][0].exception, UnknownReference):
            raise UnknownReference(f"host {name}: {result[name][0].exception}")
    return tuple(_scrub_messages(result[name][0].result) for name in names)


def seal_plan(
    change: ChangeRequest,
    steps: Sequence[BoundStep],
    hosts: tuple[HostPlan, ...],
    *,
    actor: str,
    policy_version: str,
    policy_digest: str = "",
    requirements: Callable[[Category], Sequence[str]],
    now: dt.datetime | None = None,
    ruleset: RuleSet | None = None,
) -> Plan:
    """The plan of ``hosts`` (:func:`plan_hosts`): the change's category from the hosts that change,
    its requirements, sealed by its hash; the central side of :func:`build_plan`."""
    ruleset = ruleset or load_ruleset()
    per_host = [
        (h.host, classify_platform(h.platform, h.syntax, ruleset), h.role, h.diff,
         Classification(category=h.category or Category.MINOR, reasons=h.reasons, unclassified=h.unclassified))
        for h in hosts
        if h.ok and h.changes
    ]
    # The category comes from the hosts that change. None change (every host failed, or every
    # host already matches): nothing was classified, so the plan carries no category, never a
    # made-up "minor" — unless hardware work was declared on a planned host, which no diff shows.
    declared = change.hardware and any(h.ok for h in hosts)
    overall = classify_change(per_host, request=change, ruleset=ruleset) if per_host or declared else None
    unsealed = Plan(
        change=change,
        plan_hash="",
        created_at=now or dt.datetime.now(dt.UTC),
        created_by=actor,
        category=overall.category if overall else None,
        reasons=overall.reasons if overall else (),
        unclassified=overall.unclassified if overall else (),
        requirements=tuple(requirements(overall.category)) if overall else (),
        policy_version=policy_version,
        policy_digest=policy_digest,
        rules_version=ruleset.version,
        rules_digest=ruleset.digest,
        hosts=hosts,
        not_applicable=tuple(na for s in steps for na in s.not_applicable),
    )
    return unsealed.model_copy(update={"plan_hash": compute_plan_hash(unsealed)})
