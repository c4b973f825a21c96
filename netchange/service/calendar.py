"""The calendar: per site and day for the coming weeks, the changes scheduled, the windows of each
category (from ``netchange.policy._window``, as the guard computes them), holidays and freezes.

A change is placed at its requested start (``planned_start``), judged against its category's
window for the estimated duration; a planned or approved change without a planned start is placed
at the next opening of its window from now (``next_open``, as the change page's "Next opening"),
marked so, since that is when it could run at the earliest; a change in progress or completed
without one is placed when it last moved. The same entries feed the page and the iCalendar feed
(``ical``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from netchange.errors import BadRequest
from netchange.journal import ChangeRow, Journal, State
from netchange.policy import Freeze, Policy, fits, next_open, open_intervals
from netchange.vocabulary import Category

SHOWN = frozenset({State.PLANNED, State.APPROVED, State.IN_PROGRESS, State.COMPLETED})
WAITING = frozenset({State.PLANNED, State.APPROVED})
"""Changes that may still run: without a planned start, they are shown at their next window opening."""
DEFAULT_DURATION = dt.timedelta(minutes=30)
"""A request's default ``estimated_duration`` (``netchange.models.ChangeRequest``)."""

_DURATION: TypeAdapter[dt.timedelta] = TypeAdapter(dt.timedelta)


@dataclass(frozen=True)
class Entry:
    """One change at one site, where the calendar places it."""

    row: ChangeRow
    site: str
    start: dt.datetime
    """Local (the policy's time zone)."""
    end: dt.datetime
    placed: str
    """Why it is there: "requested start", "next window opening" (no planned start) or "last update"."""
    window: str
    """Its category's open hours that day at that site, e.g. "medium window 19:00–20:00"."""
    allowed: bool | None
    """Whether the window allows it (None: not judged, e.g. an unknown site or no category)."""

    @property
    def requested(self) -> bool:
        return self.placed == "requested start"


@dataclass
class Day:
    date: dt.date
    holiday: str | None
    freezes: list[Freeze]
    windows: dict[str, dict[str, str]]
    """site → category → the open hours that day, e.g. "19:00–20:00"."""
    changes: dict[str, list[Entry]] = field(default_factory=dict)
    """site → the changes placed that day, by start."""


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


def check_site(policy: Policy, site: str | None) -> str | None:
    """``site`` when the policy knows it (None: every site); another value is a 400."""
    if site in (None, ""):
        return None
    if site not in policy.sites:
        raise BadRequest(f"unknown site {site[:40]!r} (known: {', '.join(policy.sites)})")
    return site


def _time(text: str | None, policy: Policy) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value.astimezone(policy.tz) if value is not None and value.tzinfo is not None else None


def _duration(text: str | None) -> dt.timedelta:
    if not text:
        return DEFAULT_DURATION
    try:
        return _DURATION.validate_python(text)
    except ValidationError:
        return DEFAULT_DURATION


Openings = dict[tuple[Category, str, dt.timedelta], dt.datetime | None]


def _placed(
    policy: Policy, row: ChangeRow, site: str, *, cat: Category | None, planned: dt.datetime | None,
    duration: dt.timedelta, now: dt.datetime, openings: Openings,
) -> tuple[dt.datetime, str] | None:
    """Where a change goes at ``site`` and why (``cat``: None when it cannot be judged there)."""
    if planned is not None:
        return planned, "requested start"
    if row.state not in WAITING:
        return row.updated_at.astimezone(policy.tz), "last update"
    if cat is None:
        return None
    key = (cat, site, duration)
    if key not in openings:
        openings[key] = next_open(policy, cat, site, now, duration)
    opening = openings[key]
    return (opening, "next window opening") if opening is not None else None  # None: beyond the horizon


def entries(
    policy: Policy, journal: Journal, *, now: dt.datetime, since: dt.datetime, until: dt.datetime,
    site: str | None = None, hours: dict[tuple[Category, str, dt.date], str] | None = None,
) -> list[Entry]:
    """The changes placed in ``[since, until)`` (at ``site`` only when given), by start.

    One query for the rows (``Journal.schedule``); the next opening is computed once per
    (category, site, duration), the same for every waiting change that shares them, a window's
    verdict once per (category, site, start, duration), a day's hours once (``hours``: those known).
    """
    found: list[Entry] = []
    openings: Openings = {}
    verdicts: dict[tuple[Category, str, dt.datetime, dt.timedelta], bool] = {}
    hours = {} if hours is None else hours
    for row, planned_text, duration_text in journal.schedule(SHOWN):
        duration = _duration(duration_text)
        planned = _time(planned_text, policy)
        for s in row.sites or ("?",):
            cat = row.category if s in policy.sites else None  # None: not judged
            where = None if site is not None and s != site else _placed(
                policy, row, s, cat=cat, planned=planned, duration=duration, now=now, openings=openings)
            if where is None or not since <= where[0] < until:
                continue
            start, placed = where
            window, allowed = "", None
            if cat is not None:
                day_key = (cat, s, start.date())
                if day_key not in hours:
                    hours[day_key] = _hours(policy, cat, s, start.date())
                window = f"{cat.value} window {hours[day_key]}"
                allowed = None if placed == "last update" else True
                if placed == "requested start":
                    key = (cat, s, start, duration)
                    if key not in verdicts:
                        verdicts[key] = fits(policy, cat, s, start, duration)
                    allowed = verdicts[key]
            found.append(Entry(row=row, site=s, start=start, end=start + duration, placed=placed,
                               window=window, allowed=allowed))
    found.sort(key=lambda e: (e.start, e.row.id, e.site))
    return found


def build_calendar(
    policy: Policy, journal: Journal, *, now: dt.datetime, weeks: int = 3, site: str | None = None
) -> list[Day]:
    """``weeks`` weeks from this week's Monday, day by day; ``site``: that site only."""
    today = now.astimezone(policy.tz).date()
    first = today - dt.timedelta(days=today.weekday())
    sites = [site] if site is not None else list(policy.sites)
    days: list[Day] = []
    for i in range(7 * weeks):
        day = first + dt.timedelta(days=i)
        start = dt.datetime.combine(day, dt.time(0), tzinfo=policy.tz)
        days.append(
            Day(
                date=day,
                holiday=policy.holiday(day),
                freezes=policy.freezes_overlapping(start, start + dt.timedelta(days=1)),
                windows={s: {c.value: _hours(policy, c, s, day) for c in Category} for s in sites},
            )
        )
    by_date = {d.date: d for d in days}
    since = dt.datetime.combine(first, dt.time(0), tzinfo=policy.tz)
    until = since + dt.timedelta(days=7 * weeks)
    known = {(c, s, d.date): text for d in days for s, per in d.windows.items()
             for c in Category for text in (per[c.value],)}
    for entry in entries(policy, journal, now=now, since=since, until=until, site=site, hours=known):
        by_date[entry.start.date()].changes.setdefault(entry.site, []).append(entry)
    return days
