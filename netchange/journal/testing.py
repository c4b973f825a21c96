"""Stand-in plans for tests of the journal, approvals, guard and reports.

They have the attributes those modules read of ``netchange.plan.Plan`` (``PlanLike`` and the
guard's ``GuardPlan``), without Nornir, devices or the classifier: a test of the guard should
fail because of the guard, not because a device could not be reached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict

from netchange.models import Category, ChangeRequest


class FakeRollback(BaseModel):
    model_config = ConfigDict(frozen=True)

    strategy: str = "lines"
    lines: str = ""


class FakeHostPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str
    site: str
    role: str = "switch"
    platform: str = "ios"
    diff: str = ""
    category: Category = Category.MINOR
    running_hash: str = ""
    rollback: FakeRollback | None = FakeRollback()
    has_post_checks: bool = True
    error: str | None = None


class FakePlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    change: ChangeRequest
    plan_hash: str
    created_at: dt.datetime
    created_by: str
    category: Category
    reasons: tuple[Any, ...] = ()
    requirements: tuple[str, ...] = ()
    policy_version: str = "test"
    rules_version: str = "test"
    hosts: tuple[FakeHostPlan, ...]


def make_plan(
    change_id: str = "CHG-2026-0001",
    *,
    category: Category = Category.MINOR,
    requester: str = "amoreau",
    created_by: str = "dnguyen",
    created_at: dt.datetime | None = None,
    hosts: tuple[tuple[str, str], ...] = (("sw-doif-1", "doif"),),
    diff: str = "+vlan 42\n+ name users\n",
    duration: dt.timedelta = dt.timedelta(minutes=30),
    outage: dt.timedelta = dt.timedelta(0),
    rollback: bool = True,
    post_checks: bool = True,
    salt: str = "",
) -> FakePlan:
    """A plan for ``change_id``; ``salt`` changes its hash (a re-plan with a different result)."""
    change = ChangeRequest.model_validate(
        {
            "id": change_id,
            "title": "Add VLAN 42 for users",
            "ticket": "INC-1234",
            "requester": requester,
            "estimated_duration": duration,
            "expected_outage": outage,
            "steps": [
                {"type": "vlan", "targets": {"hosts": [h for h, _ in hosts]}, "params": {"vlan_id": 42}}
            ],
        }
    )
    host_plans = tuple(
        FakeHostPlan(
            host=h,
            site=s,
            diff=diff,
            category=category,
            running_hash=hashlib.sha256(h.encode()).hexdigest(),
            rollback=FakeRollback(lines="-vlan 42\n") if rollback else None,
            has_post_checks=post_checks,
        )
        for h, s in hosts
    )
    digest = hashlib.sha256(f"{change.model_dump_json()}|{diff}|{category}|{salt}".encode()).hexdigest()
    return FakePlan(
        change=change,
        plan_hash=digest,
        created_at=created_at or dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
        created_by=created_by,
        category=category,
        hosts=host_plans,
    )
