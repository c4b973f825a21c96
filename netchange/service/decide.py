"""Approve or reject from the service: the same checks and records as ``netchange approve``.

The page's form (or the API call) carries the hash of the plan the person read; a decision for
any other hash is refused with "the plan changed". Everything else (who may decide, the state,
recording the approval against the plan hash, the state change) is ``netchange.guard._approvals``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netchange.errors import BadRequest, GuardRefused
from netchange.guard import ApprovalStatus, approve
from netchange.journal import Approval
from netchange.models import MAX_COMMENT, person_text
from netchange.plan import store as planstore
from netchange.policy import Policy, actor_for
from netchange.policy import pin as policypin
from netchange.service.state import Service

_HASH = re.compile(r"[0-9a-f]{64}")


class PlanChanged(GuardRefused):
    """The plan the person read is no longer the change's current plan."""


@dataclass(frozen=True)
class Decision:
    approval: Approval
    status: ApprovalStatus
    state: str


def clean_comment(comment: str) -> str:
    """A form's comment as the guard takes it: the browser's CR LF line ends made LF, blanks around
    removed; then prose (Unicode, bounded, no control character: ``netchange.models.person_text``)."""
    return person_text(comment.replace("\r\n", "\n").strip(), what="comment", max_length=MAX_COMMENT)


def decide(service: Service, login: str, change_id: str, *, plan_hash: str, reject: bool, comment: str,
           policy: Policy | None = None) -> Decision:
    """Record ``login``'s approval or rejection of plan ``plan_hash`` of ``change_id``.

    ``policy``: the policy as this person may act under it (``auth.policy_of``: their entry
    narrowed by their directory groups); the file in force when not given."""
    if not _HASH.fullmatch(plan_hash or ""):
        raise BadRequest("the decision must name the full hash of the plan read (plan_hash)")
    comment = clean_comment(comment)
    if reject and not comment:
        raise BadRequest("a rejection needs a comment: the requester reads why")
    policy = policy or service.policy()
    actor = actor_for(policy, login)
    with service.journal() as journal:
        policypin.require(policy, journal, actor=login)
        row = journal.require(change_id)
        if row.plan_hash != plan_hash:
            now = (row.plan_hash or "none")[:12]
            raise PlanChanged(
                f"the plan changed: you read plan {plan_hash[:12]}, the current plan of {change_id} is {now}; "
                "read the new plan before deciding"
            )
        # The stored plan the journal names current, verified both ways (as `netchange approve`).
        stored = planstore.current(service.settings.plans_dir, journal, change_id)
        approval, status = approve(
            policy, journal, change_id, actor, reject=reject, comment=comment, plan_hash=plan_hash, plan=stored
        )
        return Decision(approval=approval, status=status, state=journal.state(change_id))
