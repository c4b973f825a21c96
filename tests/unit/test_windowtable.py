"""WindowTable (the queue's verdicts) answers as evaluate() does, start by start."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from netchange.policy import WindowTable, evaluate, load_policy
from netchange.vocabulary import Category

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")
T0 = dt.datetime(2026, 12, 21, 6, 15, tzinfo=dt.UTC)  # the week before the year-end freeze, a holiday


def test_the_table_agrees_with_evaluate_over_three_weeks_of_starts():
    table = WindowTable(POLICY, T0, T0 + dt.timedelta(days=21))
    checked = 0
    for hours in range(0, 21 * 24, 5):
        start = T0 + dt.timedelta(hours=hours, minutes=hours % 60)
        for category in Category:
            for duration in (dt.timedelta(minutes=30), dt.timedelta(hours=3), dt.timedelta(hours=13)):
                for site in ("doif", "doso"):
                    verdict = evaluate(POLICY, category, site, start, duration)
                    opening = table.judge(category, site, start, duration)
                    assert (opening.allowed, opening.next_open) == (verdict.allowed, verdict.next_open), (
                        category, site, start, duration, verdict.reason)
                    checked += 1
    assert checked > 1000
