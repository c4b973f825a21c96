"""The classifier's verdict, as the plan keeps it: a category and the reasons behind it.

Apart from the rule models (:mod:`netchange.classifiers.model`) because a stored plan holds
verdicts, not rules: ``show`` and the service read plans without building the rule set's models
(start-up, issue 20 item 5).
"""

from __future__ import annotations

from netchange.basemodels import FrozenModel
from netchange.vocabulary import Category


class Reason(FrozenModel):
    """Why a change got (at least) a category: one rule, the plan item it encodes, the lines."""

    rule: str
    category: Category
    paq_item: str
    description: str
    lines: tuple[str, ...] = ()


class Classification(FrozenModel):
    """A category with every reason behind it; ``unclassified`` lists lines no rule knows."""

    category: Category
    reasons: tuple[Reason, ...] = ()
    unclassified: tuple[str, ...] = ()


