"""Plans for tests of the journal, approvals, guard and reports: real, sealed ``Plan`` documents.

They are built without Nornir, devices or the classifier (a test of the guard should fail
because of the guard, not because a device could not be reached), but they are the real typed
document with a hash that verifies, so the code under test loads and checks them as it would
a plan made by ``netchange plan``.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from netchange.models import ChangeRequest
from netchange.plan import HostPlan, Plan, Rollback, seal
from netchange.vocabulary import Category, Role


def make_plan(
    change_id: str = "CHG-2026-0001",
    *,
    category: Category | None = Category.MINOR,
    requester: str = "crenard",  # a client requester: the DOIF manager (amoreau) approves
    created_by: str = "dnguyen",
    created_at: dt.datetime | None = None,
    hosts: tuple[tuple[str, str], ...] = (("sw-doif-1", "doif"),),
    diff: str = "+vlan 42\n+ name users\n",
    duration: dt.timedelta = dt.timedelta(minutes=30),
    outage: dt.timedelta = dt.timedelta(0),
    rollback: bool = True,
    post_checks: bool = True,
    salt: str = "",
    policy_digest: str = "",
) -> Plan:
    """A sealed plan for ``change_id``; ``salt`` changes the devices' state, hence its hash (a re-plan).

    ``category=None`` with ``diff=""``: a plan with no change (every host already matches)."""
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
        HostPlan(
            host=h,
            site=s,
            role=Role.SWITCH,
            platform="ios",
            syntax="ios",
            steps=(0,),
            diff=diff,
            candidate="vlan 42\n name users\n",
            category=category,
            running_hash=hashlib.sha256(f"{h}|{salt}".encode()).hexdigest(),
            rollback=Rollback(strategy="lines", lines="no vlan 42\n") if rollback else None,
            has_post_checks=post_checks,
        )
        for h, s in hosts
    )
    return seal(
        Plan(
            change=change,
            plan_hash="",
            created_at=created_at or dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
            created_by=created_by,
            category=category,
            reasons=(),
            unclassified=(),
            requirements=(),
            policy_version="test",
            policy_digest=policy_digest,
            rules_version="test",
            hosts=host_plans,
        )
    )
