"""Quarterly and weekly volumes: the steering committee's and the operations meeting's reports
(docs/quality-plan.md "Documents and reporting").

A change counts in the period it was requested (local time), under its category, under every
site it touched, and under its outcome. Emergencies, rollbacks and failures are counted apart:
they are what the committee reviews as possible non-conformities. A period is a quarter
(``2026Q4``) or an ISO 8601 week (``2026-W49``, Monday to Monday); the weekly report adds what
the operations meeting reviews: the changes running now, and those that ended in the week.

The figures are SQLite's ``GROUP BY`` over the journal (``netchange.journal.tallies``): a report
reads the changes it names, never the whole journal (issue 23 item 7).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netchange import redact
from netchange.errors import BadRequest
from netchange.journal import Journal
from netchange.policy import Policy
from netchange.report.render import render
from netchange.vocabulary import Category

if TYPE_CHECKING:
    from netchange.journal.tallies import Endings

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
YEARS = (1970, 9998)
"""The years a period may be in: no journal is older, and 9998Q4 still ends within datetime's range."""
EXPORTS = ("csv", "pdf")
"""The formats a report is exported in besides md, html and json."""


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


def parse_week(text: str, policy: Policy) -> tuple[dt.datetime, dt.datetime]:
    """``2026-W49`` (ISO 8601 week) → its Monday 00:00 and the next Monday's, local time."""
    m = _WEEK.match(text.strip())
    if not m:
        raise BadRequest(f"week {text!r} is not like 2026-W49")
    year, week = int(m.group(1)), int(m.group(2))
    if not YEARS[0] <= year <= YEARS[1]:
        raise BadRequest(f"week {text!r}: the year is not between {YEARS[0]} and {YEARS[1]}")
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise BadRequest(f"week {text!r}: {year} has no week {week}") from None
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=policy.tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=policy.tz)
    return start, end


def quarter_of(when: dt.datetime) -> str:
    return f"{when.year}Q{(when.month - 1) // 3 + 1}"


def week_of(when: dt.datetime | dt.date) -> str:
    iso = when.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@dataclass(frozen=True)
class PeriodStats:
    kind: str
    """``quarter`` or ``week``."""
    period: str
    """``2026Q4``, ``2026-W49``."""
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

    @property
    def outcomes(self) -> list[str]:
        """Every outcome counted, in a stable order (the report's columns)."""
        return sorted({o for per in self.by_category_outcome.values() for o in per} | set(self.by_outcome))

    def as_json(self) -> dict[str, Any]:
        return {
            self.kind: self.period,
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


def _stats(policy: Policy, journal: Journal, kind: str, period: str,
           span: tuple[dt.datetime, dt.datetime]) -> PeriodStats:
    since, until = span
    tally = journal.tally(since, until)
    by_category = {c.value: 0 for c in Category}
    matrix: dict[str, dict[str, int]] = {c.value: {} for c in Category}
    by_outcome: dict[str, int] = {}
    for (category, outcome), n in sorted(tally.by_category_outcome.items()):
        by_category[category] = by_category.get(category, 0) + n
        matrix.setdefault(category, {})[outcome] = n
        by_outcome[outcome] = by_outcome.get(outcome, 0) + n
    by_site = dict.fromkeys(policy.sites, 0)
    for site, n in tally.by_site.items():
        by_site[site] = by_site.get(site, 0) + n
    return PeriodStats(
        kind=kind,
        period=period,
        since=since,
        until=until,
        total=tally.total,
        by_category=by_category,
        by_site=by_site,
        by_outcome=dict(sorted(by_outcome.items())),
        by_category_outcome=matrix,
        emergencies=[{"id": cid, "category": cat, "reason": reason} for cid, cat, reason in tally.emergencies],
        rollbacks=tally.rollbacks,
        failures=tally.failures,
    )


def quarter_stats(policy: Policy, journal: Journal, quarter: str) -> PeriodStats:
    since, until = parse_quarter(quarter, policy)
    return _stats(policy, journal, "quarter", quarter.strip().upper().replace("-", ""), (since, until))


def week_stats(policy: Policy, journal: Journal, week: str) -> tuple[PeriodStats, Endings]:
    """The week's volumes, and the changes it ended (with those running now)."""
    since, until = parse_week(week, policy)
    iso = since.date().isocalendar()
    stats = _stats(policy, journal, "week", f"{iso.year}-W{iso.week:02d}", (since, until))
    return stats, journal.endings(since, until)


# --- documents ---------------------------------------------------------------------------------


def render_quarterly(policy: Policy, journal: Journal, quarter: str, *, fmt: str, now: dt.datetime) -> str:
    """The report, with the journal head it was made from (anchored wherever the report goes)."""
    head = journal.head()
    return _document(policy, quarter_stats(policy, journal, quarter), None, head, fmt=fmt, now=now)


def render_weekly(policy: Policy, journal: Journal, week: str, *, fmt: str, now: dt.datetime) -> str:
    head = journal.head()
    stats, endings = week_stats(policy, journal, week)
    return _document(policy, stats, endings, head, fmt=fmt, now=now)


def render_period(policy: Policy, journal: Journal, period: str, *, fmt: str, now: dt.datetime) -> str:
    """A quarter (``2026Q4``) or a week (``2026-W49``), as ``fmt`` (md, html, json, csv)."""
    if _WEEK.match(period.strip()):
        return render_weekly(policy, journal, period, fmt=fmt, now=now)
    return render_quarterly(policy, journal, period, fmt=fmt, now=now)


def _title(stats: PeriodStats) -> str:
    return f"{'Weekly' if stats.kind == 'week' else 'Quarterly'} change report {stats.period}"


def _document(policy: Policy, stats: PeriodStats, endings: Endings | None, head: tuple[int, str], *,
              fmt: str, now: dt.datetime) -> str:
    head_seq, head_hash = head
    if fmt == "json":
        data = {**stats.as_json(), "journal_head": {"seq": head_seq, "hash": head_hash}}
        if endings is not None:
            data["ended"] = {name: [r.id for r in rows] for name, rows in _endings(endings).items()}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return to_csv(stats, endings, head)
    return render(
        "quarterly",
        fmt,
        {
            "s": stats,
            "outcomes": stats.outcomes,
            "endings": _endings(endings) if endings is not None else None,
            "project": policy.project,
            "client": policy.client,
            "doc_title": _title(stats),
            "doc_version": f"{policy.version}/{head_seq}",
            "head_seq": head_seq,
            "head_hash": head_hash,
            "issued": now.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M %Z"),
            "tz": policy.tz,
        },
    )


def _endings(endings: Endings) -> dict[str, list[Any]]:
    """The operations meeting's lists, in the order it reads them."""
    return {
        "in progress now": endings.in_progress,
        "failed": endings.failed,
        "rolled back": endings.rolled_back,
        "emergencies": endings.emergencies,
        "completed": endings.completed,
    }


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A value a spreadsheet shows as text: one starting like a formula gets a leading quote
    (OWASP "CSV injection"): titles and emergency reasons are people's free text."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def to_csv(stats: PeriodStats, endings: Endings | None, head: tuple[int, str]) -> str:
    """The report as CSV: one section after another (a title row, a header row, the rows, a blank line)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    outcomes = stats.outcomes

    def section(title: str, header: list[str], rows: Sequence[Sequence[object]]) -> None:
        w.writerow([title])
        w.writerow(header)
        w.writerows([[_cell(v) for v in row] for row in rows])
        w.writerow([])

    section(_title(stats), ["since", "until", "total", "journal head seq", "journal head hash"],
            [[stats.since.isoformat(), stats.until.isoformat(), stats.total, head[0], head[1]]])
    section("Volumes per category and outcome", ["category", "total", *outcomes],
            [[cat, n, *(stats.by_category_outcome.get(cat, {}).get(o, 0) for o in outcomes)]
             for cat, n in stats.by_category.items()])
    section("Volumes per site", ["site", "changes"], [[site, n] for site, n in stats.by_site.items()])
    section("Emergencies", ["change", "category", "reason"],
            [[e["id"], e["category"], e["reason"]] for e in stats.emergencies])
    section("Rollbacks and failures", ["change", "outcome"],
            [[c, "rolled_back"] for c in stats.rollbacks] + [[c, "failed"] for c in stats.failures])
    if endings is not None:
        section("The week's changes", ["list", "change", "title", "category", "sites", "state", "updated"],
                [[name, r.id, r.title, r.category.value if r.category else "", " ".join(r.sites), r.state.value,
                  r.updated_at.isoformat()] for name, rows in _endings(endings).items() for r in rows])
    return redact.scrub(buf.getvalue())
