"""Classify a change as minor, medium or major from its diff, following the client's quality plan.

Rules are data (``classifiers/rules/*.yaml``, versioned); this package reads a driver's diff,
applies the rules for the host's platform and role perimeter, and says why, rule by rule.

    >>> verdict = classify_diff(diff, platform="ios", role=Role.SWITCH)
    >>> verdict.category, [r.rule for r in verdict.reasons]

Names load on first use (:mod:`netchange._face`): a plan read from the journal needs the rules'
models (``classifiers.model``), not the engine, the rule files or the drivers' diff parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.classifiers.engine import classify_change as classify_change
    from netchange.classifiers.engine import classify_diff as classify_diff
    from netchange.classifiers.loader import load_ruleset as load_ruleset
    from netchange.classifiers.model import Rule as Rule
    from netchange.classifiers.model import RuleSet as RuleSet
    from netchange.classifiers.verdict import Classification as Classification
    from netchange.classifiers.verdict import Reason as Reason

_WHERE = {
    "classify_change": "engine",
    "classify_diff": "engine",
    "load_ruleset": "loader",
    "Classification": "verdict",
    "Reason": "verdict",
    "Rule": "model",
    "RuleSet": "model",
}

__all__ = ["Classification", "Reason", "Rule", "RuleSet", "classify_change", "classify_diff", "load_ruleset"]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
