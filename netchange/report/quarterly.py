"""Quarterly volumes for the steering committee (docs/quality-plan.md "Documents and reporting").

A change counts in the quarter it was requested (local time), under its category, under every
site it touched, and under its outcome. Emergencies, rollbacks and failures are counted apart:
they are what the committee reviews as possible non-conformities.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from netchange.errors import BadRequest
from netchange.journal import ChangeRow, Journal, State
from netchange.models import Category
from netchange.policy import Policy
from netchange.report.render import render

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
YEARS = (1970, 9998)
"""The years a quarter may be in: no journal is older, and 9998Q4 still ends within datetime's range."""


def parse_quarter(text: str, policy: Policy) -> tuple[dt.datetime, dt.datetime]:
    """``2026Q4`` → its first instant and the first instant of the next quarter, local time."""
    m = _QUARTER.match(text.strip())
    if not m:
        raise BadRequest(f"quarter {text!r} is not like 2026Q4")
    year, q = int(m.group(1)), int(m.group(2))
    if not YEARS[0] <= year <= YEARS[1]:  # 9999Q4 would end in the year 10000, 0000Q1 begin in year 0
        raise BadRequest(f"quarter {text!r}: the year is not between {YEARS[0]} and {YEARS[1]}")
    start = dt.datetime(year, 3 * (q - 1) + 1, 1, tzinfo=policy.tz)
    end = (
        dt.datetime(year + 1, 1, 1, tzinfo=policy.tz)
        if q == 4
        else dt.datetime(year, 3 * q + 1, 1, tzinfo=policy.tz)
    )
    return start, end


def _outcome(c: ChangeRow) -> str:
    if c.outcome is not None:
        return c.outcome.value
    return c.state.value


@dataclass(frozen=True)
class QuarterStats:
    quarter: str
    since: dt.datetime
    until: dt.datetime
    total: int
    by_category: dict[str, int]
    by_site: dict[str, int]
    by_outcome: dict[str, int]
    by_category_outcome: dict[str, dict[str, int]]
    emergencies: list[dict[str, str]] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "total": self.total,
            "by_category": self.by_category,
            "by_site": self.by_site,
            "by_outcome": self.by_outcome,
            "by_category_outcome": self.by_category_outcome,
            "emergencies": self.emergencies,
            "rollbacks": self.rollbacks,
            "failures": self.failures,
        }


def quarter_stats(policy: Policy, journal: Journal, quarter: str) -> QuarterStats:
    since, until = parse_quarter(quarter, policy)
    rows = journal.changes(since, until)
    by_category = Counter({c.value: 0 for c in Category})
    by_site = Counter(dict.fromkeys(policy.sites, 0))
    by_outcome: Counter[str] = Counter()
    matrix: dict[str, Counter[str]] = {c.value: Counter() for c in Category}
    for row in rows:
        category = row.category.value if row.category else "unclassified"
        by_category[category] += 1
        for site in row.sites:
            by_site[site] += 1
        outcome = _outcome(row)
        by_outcome[outcome] += 1
        matrix.setdefault(category, Counter())[outcome] += 1
    return QuarterStats(
        quarter=quarter.upper().replace("-", ""),
        since=since,
        until=until,
        total=len(rows),
        by_category=dict(by_category),
        by_site=dict(by_site),
        by_outcome=dict(sorted(by_outcome.items())),
        by_category_outcome={k: dict(v) for k, v in matrix.items()},
        emergencies=[
            {"id": r.id, "category": r.category.value if r.category else "", "reason": r.emergency or ""}
            for r in rows
            if r.emergency
        ],
        rollbacks=[r.id for r in rows if r.outcome is State.ROLLED_BACK],
        failures=[r.id for r in rows if r.outcome is State.FAILED],
    )


def render_quarterly(policy: Policy, journal: Journal, quarter: str, *, fmt: str, now: dt.datetime) -> str:
    """The report, with the journal head it was made from (anchored wherever the report goes)."""
    head_seq, head_hash = journal.head()
    stats = quarter_stats(policy, journal, quarter)
    if fmt == "json":
        data = {**stats.as_json(), "journal_head": {"seq": head_seq, "hash": head_hash}}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    outcomes = sorted({o for per in stats.by_category_outcome.values() for o in per} | set(stats.by_outcome))
    return render(
        "quarterly",
        fmt,
        {
            "s": stats,
            "outcomes": outcomes,
            "project": policy.project,
            "client": policy.client,
            "doc_title": f"Quarterly change report {stats.quarter}",
            "doc_version": f"{policy.version}/{head_seq}",
            "head_seq": head_seq,
            "head_hash": head_hash,
            "issued": now.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M %Z"),
            "tz": policy.tz,
        },
    )
