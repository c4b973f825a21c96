"""Classify a change as minor, medium or major from its diff, following the client's quality plan.

Rules are data (``classifiers/rules/*.yaml``, versioned); this package reads a driver's diff,
applies the rules for the host's platform and role perimeter, and says why, rule by rule.

    >>> verdict = classify_diff(diff, platform="ios", role=Role.SWITCH)
    >>> verdict.category, [r.rule for r in verdict.reasons]
"""

from netchange.classifiers.engine import classify_change, classify_diff
from netchange.classifiers.loader import load_ruleset
from netchange.classifiers.model import Classification, Reason, Rule, RuleSet

__all__ = ["Classification", "Reason", "Rule", "RuleSet", "classify_change", "classify_diff", "load_ruleset"]
