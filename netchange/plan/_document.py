"""The plan as one typed document, and the hash that binds approvals to all of it.

A plan is what an approver reads and what apply executes, so every field of it is covered by its
hash: the request, who made it and when, the category with its reasons, the requirements shown,
the policy (version and digest of the file), the rules (version and digest), and each host's
full part (its site, role, platform, steps, pre-checks, running-state hash, candidate, diff,
rollback, classification and error). :func:`compute_plan_hash` is that hash; :meth:`Plan.verify`
recomputes it and refuses a document that does not match (:class:`PlanTampered`, exit 3).

This module imports neither Nornir nor the command line: the guard, the approvals, the journal's
reports and the plan store read plans without loading the planning pipeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from pydantic import Field

from netchange.basemodels import FrozenModel
from netchange.classifiers.verdict import Reason
from netchange.errors import GuardRefused
from netchange.models import ChangeRequest, CheckResult
from netchange.vocabulary import Category, Role


class PlanTampered(GuardRefused):
    """A stored plan does not match its hash (edited after it was made), or not the journal's copy."""


class Rollback(FrozenModel):
    """How a host will be brought back if the change fails."""

    strategy: str = Field(description="'lines': precise inverse lines; 'snapshot': restore the full running state")
    lines: str = ""


class HostPlan(FrozenModel):
    """One host's part of a plan. A host whose planning failed has an ``error`` and no category."""

    host: str
    site: str
    role: Role
    platform: str
    syntax: str
    steps: tuple[int, ...]
    pre_checks: tuple[CheckResult, ...] = ()
    running_hash: str = ""
    candidate: str = ""
    diff: str = ""
    rollback: Rollback | None = None
    has_post_checks: bool = False
    category: Category | None = None
    reasons: tuple[Reason, ...] = ()
    unclassified: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def changes(self) -> bool:
        return bool(self.diff.strip())

    @property
    def no_change(self) -> bool:
        """Planned, and nothing to change: the device already holds what the request asks.

        Such a host is not classified (``category`` is ``None``): an empty diff has no category,
        and a change's category comes from the hosts that change (issue 22 item 6)."""
        return self.ok and not self.changes


class NotApplicable(FrozenModel):
    """A host a step's targets selected but its change type cannot run on (another syntax or role):
    left out of that step, listed so that a reviewer sees it was not forgotten."""

    host: str
    step: int
    reason: str


class Plan(FrozenModel):
    """The whole plan of a change: what approvals are given to, by its hash.

    ``category`` is ``None`` when there is nothing to classify: no host could be planned, or
    every host was planned and none has anything to change (:attr:`no_change`, told apart by
    that property). Either way there is nothing to approve; a plan with no change is applied by
    closing the change, with nothing sent to any device.
    """

    change: ChangeRequest
    plan_hash: str
    created_at: dt.datetime
    created_by: str
    category: Category | None
    reasons: tuple[Reason, ...]
    unclassified: tuple[str, ...]
    requirements: tuple[str, ...]
    policy_version: str
    policy_digest: str = Field(description="SHA-256 of the policy file the plan was made under")
    rules_version: str
    rules_digest: str = Field(default="", description="SHA-256 of the classifier's rule files")
    hosts: tuple[HostPlan, ...]
    not_applicable: tuple[NotApplicable, ...] = ()
    """Hosts selected by a step's role, site or groups that its change type cannot run on."""

    @property
    def ok(self) -> bool:
        return all(h.ok for h in self.hosts)

    @property
    def no_change(self) -> bool:
        """Every host was planned and none has anything to change, and no declared work (hardware)
        gave the plan a category: a result, not a failure (Terraform's "No changes").

        Plans made before issue 22 classified an empty diff as minor: they keep their category,
        and this is ``False`` for them."""
        return bool(self.hosts) and self.category is None and all(h.no_change for h in self.hosts)

    @property
    def unchanged(self) -> tuple[str, ...]:
        """The hosts planned with nothing to change (in a plan with changes elsewhere too)."""
        return tuple(h.host for h in self.hosts if h.no_change)

    def host(self, name: str) -> HostPlan:
        for host in self.hosts:
            if host.host == name:
                return host
        raise KeyError(name)

    def verify(self) -> Plan:
        """This plan, if its ``plan_hash`` is the hash of its content; else ``PlanTampered``."""
        actual = compute_plan_hash(self)
        if actual != self.plan_hash:
            raise PlanTampered(
                f"{self.change.id}: plan {self.plan_hash[:12]} does not match its content "
                f"(hash {actual[:12]}): it was edited after it was made; refused"
            )
        return self


def plan_document(plan: Plan | dict[str, Any]) -> dict[str, Any]:
    """The plan as JSON data without its ``plan_hash`` field: what the hash is computed over."""
    data = plan.model_dump(mode="json") if isinstance(plan, Plan) else dict(plan)
    data.pop("plan_hash", None)
    if not data.get("not_applicable", True):
        del data["not_applicable"]  # absent from plans made before the field existed: same hash
    return data


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one text for one content, whoever serialises it."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_plan_hash(plan: Plan | dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the whole plan document except its ``plan_hash`` field.

    Every field the guard, the approvers or the executor read is inside: editing any of them
    (a category, a candidate, a requirement, a host's rollback) changes the hash, and a plan
    whose stored hash no longer matches is refused when loaded. ``plan`` may be a ``Plan`` or
    its ``model_dump(mode="json")``.
    """
    return hashlib.sha256(canonical_json(plan_document(plan)).encode()).hexdigest()


def seal(plan: Plan) -> Plan:
    """``plan`` with ``plan_hash`` set to the hash of its content."""
    return plan.model_copy(update={"plan_hash": compute_plan_hash(plan)})


