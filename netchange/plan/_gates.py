"""The verdict of a plan for a pipeline: its exit code and why, and the category gate (``--fail-on``).

Exit codes (the command line's, see ``netchange/cli/main.py``): 0 the plan is made and no gate is
reached; 1 the plan failed on some host (a pre-check failed: reason ``precheck_failed``; any other
error: ``host_failed``) or no host could be planned (``no_category``: nothing was classified, so
the plan has no category, never "minor"); 4 the category reached the ``--fail-on`` threshold
(``gate``). Bad input (2) never gets this far. A failure wins over the gate: a failed plan's
category says nothing certain.

No change is a result (issue 22 item 6): when every host was planned and none has anything to
change, the reason is ``no_change``, the plan has no category, and no gate is ever reached (exit
0). Terraform's ``-detailed-exitcode`` tells "no changes" from "changes" by the exit code;
``--detailed-exitcode`` does the same here with the codes left free: 0 means no change, 5 means
changes below any gate (4 and 1 keep their meaning, 2 and 3 are taken by bad input and refusals).
Without it a plan with changes below the gate exits 0, as it always has.
"""

from __future__ import annotations

from typing import Literal

from netchange.basemodels import FrozenModel
from netchange.plan._document import HostPlan, Plan
from netchange.vocabulary import Category

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_GATE = 4
EXIT_CHANGES = 5
"""``plan --detailed-exitcode``: the plan has changes and reaches no gate (0 is then "no change")."""

Reason = Literal["ok", "gate", "precheck_failed", "host_failed", "no_category", "no_change"]


class Verdict(FrozenModel):
    """What a CI job needs to know of a plan: the exit code and its reason, in words."""

    exit_code: int
    reason: Reason
    category: Category | None
    fail_on: Category | None = None
    gate_reached: bool = False
    precheck_failed: tuple[str, ...] = ()
    """Hosts whose pre-checks failed."""
    host_failed: tuple[str, ...] = ()
    """Hosts that failed for another reason (connection, driver, rendering)."""
    no_change: tuple[str, ...] = ()
    """Hosts planned with nothing to change (every host, when the reason is ``no_change``)."""


def precheck_failed(host: HostPlan) -> bool:
    """The host's plan stopped on a pre-check that ran and failed (not one that was not run)."""
    return host.error is not None and any(c.failed for c in host.pre_checks)


def verdict(plan: Plan, fail_on: Category | None = None, *, detailed: bool = False) -> Verdict:
    """``plan`` judged for a pipeline; ``detailed``: ``--detailed-exitcode`` (changes exit 5)."""
    checks = tuple(h.host for h in plan.hosts if precheck_failed(h))
    others = tuple(h.host for h in plan.hosts if h.error is not None and h.host not in checks)
    reached = fail_on is not None and plan.category is not None and plan.category.rank >= fail_on.rank
    reason: Reason
    if checks:
        reason, code = "precheck_failed", EXIT_FAILED
    elif others:
        reason, code = "host_failed", EXIT_FAILED
    elif plan.no_change:
        reason, code = "no_change", EXIT_OK
    elif plan.category is None:
        reason, code = "no_category", EXIT_FAILED
    elif reached:
        reason, code = "gate", EXIT_GATE
    else:
        reason, code = "ok", EXIT_CHANGES if detailed else EXIT_OK
    return Verdict(exit_code=code, reason=reason, category=plan.category, fail_on=fail_on, gate_reached=reached,
                   precheck_failed=checks, host_failed=others, no_change=plan.unchanged)


__all__ = ["EXIT_CHANGES", "EXIT_FAILED", "EXIT_GATE", "EXIT_OK", "Verdict", "precheck_failed", "verdict"]
