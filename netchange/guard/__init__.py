"""May it run now: one small rule per quality-plan demand, approvals bound to a plan, the decision.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.guard._approvals import ApprovalStatus as ApprovalStatus
    from netchange.guard._approvals import Approvers as Approvers
    from netchange.guard._approvals import Pending as Pending
    from netchange.guard._approvals import approve as approve
    from netchange.guard._approvals import plan_sites as plan_sites
    from netchange.guard._approvals import refusal_of as refusal_of
    from netchange.guard._approvals import sites_each_approved as sites_each_approved
    from netchange.guard._approvals import status_of_current as status_of_current
    from netchange.guard._approvals import status_of_plan as status_of_plan
    from netchange.guard._approvals import statuses as statuses
    from netchange.guard._approvals import unfilled_roles as unfilled_roles
    from netchange.guard._approvals import who_may_approve as who_may_approve
    from netchange.guard._decision import check_apply as check_apply
    from netchange.guard._decision import check_rollback as check_rollback
    from netchange.guard._rules import APPLY_RULES as APPLY_RULES
    from netchange.guard._rules import ROLLBACK_RULES as ROLLBACK_RULES

_WHERE = {
    "unfilled_roles": "_approvals",
    "APPLY_RULES": "_rules",
    "ApprovalStatus": "_approvals",
    "Approvers": "_approvals",
    "Pending": "_approvals",
    "statuses": "_approvals",
    "ROLLBACK_RULES": "_rules",
    "approve": "_approvals",
    "check_apply": "_decision",
    "check_rollback": "_decision",
    "plan_sites": "_approvals",
    "refusal_of": "_approvals",
    "sites_each_approved": "_approvals",
    "status_of_current": "_approvals",
    "status_of_plan": "_approvals",
    "who_may_approve": "_approvals",
}

__all__ = [
    "APPLY_RULES",
    "ROLLBACK_RULES",
    "ApprovalStatus",
    "Approvers",
    "Pending",
    "approve",
    "check_apply",
    "check_rollback",
    "plan_sites",
    "refusal_of",
    "sites_each_approved",
    "status_of_current",
    "status_of_plan",
    "statuses",
    "unfilled_roles",
    "who_may_approve",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
