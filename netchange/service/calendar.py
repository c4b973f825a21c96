"""The calendar: per site and day for the coming weeks, the changes scheduled, the windows of each
category (from ``netchange.policy._window``, as the guard computes them), holidays and freezes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from netchange.journal import ChangeRow, Journal, State
from netchange.models import Category
from netchange.policy import Freeze, Policy, open_intervals

SHOWN = frozenset({State.PLANNED, State.APPROVED, State.IN_PROGRESS, State.COMPLETED})


@dataclass
class Day:
    date: dt.date
    holiday: str | None
    freezes: list[Freeze]
    windows: dict[str, dict[str, str]]
    """site → category → the open hours that day, e.g. "19:00–20:00"."""
    changes: dict[str, list[tuple[str, ChangeRow]]] = field(default_factory=dict)
    """site → (local start time, change)."""


def _hours(policy: Policy, category: Category, site: str, day: dt.date) -> str:
    tz = policy.tz
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    end = start + dt.timedelta(days=1)
    parts = []
    for a, b in open_intervals(policy, category, site, start, end):
        lo, hi = max(a, start), min(b, end)
        if hi <= lo:
            continue
        lo_l, hi_l = lo.astimezone(tz), hi.astimezone(tz)
        hi_text = "24:00" if hi_l.date() > day else f"{hi_l:%H:%M}"
        parts.append(f"{lo_l:%H:%M}–{hi_text}")
    return ", ".join(parts) or "closed"


def build_calendar(policy: Policy, journal: Journal, *, today: dt.date, weeks: int = 3) -> list[Day]:
    first = today - dt.timedelta(days=today.weekday())
    days: list[Day] = []
    for i in range(7 * weeks):
        day = first + dt.timedelta(days=i)
        start = dt.datetime.combine(day, dt.time(0), tzinfo=policy.tz)
        days.append(
            Day(
                date=day,
                holiday=policy.holiday(day),
                freezes=policy.freezes_overlapping(start, start + dt.timedelta(days=1)),
                windows={s: {c.value: _hours(policy, c, s, day) for c in Category} for s in policy.sites},
            )
        )
    by_date = {d.date: d for d in days}
    for row, _author, planned in journal.changes_with_plans(SHOWN, planned_start_set=True):
        try:
            when = dt.datetime.fromisoformat(planned).astimezone(policy.tz) if planned else None
        except ValueError:
            when = None
        if when is None or when.date() not in by_date:
            continue
        for s in row.sites or ("?",):
            by_date[when.date()].changes.setdefault(s, []).append((f"{when:%H:%M}", row))
    return days
