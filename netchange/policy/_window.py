"""May a change of a category run at a site from ``start`` for ``duration``? And if not, when?

Windows are written in local wall time (Europe/Paris) but a change lasts a real duration, so
every window is turned into intervals of absolute (UTC) time, day by day in the local calendar,
before any comparison: a DST night is then one hour shorter or longer, as on the clock on the
wall. Adjacent intervals merge, so a change fits when one merged interval covers it whole:
Friday 21:00 → Monday 06:00 is one closed period for a major change.

The earliest allowed start at or after a time is either that time or the start of an interval
(or the end of a freeze), so ``next_open`` only tests those candidates instead of every minute.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from netchange.errors import BadRequest
from netchange.policy._model import ClosedHours, DailyWindow, Freeze, Policy
from netchange.vocabulary import Category

UTC = dt.UTC
HORIZON = dt.timedelta(days=60)
"""How far ahead ``next_open`` looks; beyond it the answer is "not within 60 days" (None)."""

Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Verdict:
    """The window's answer for one change start; times are aware, in the site's time zone."""

    allowed: bool
    reason: str
    category: Category
    site: str
    start: dt.datetime
    end: dt.datetime
    next_open: dt.datetime | None
    freezes: tuple[Freeze, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "category": self.category.value,
            "site": self.site,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "next_open": self.next_open.isoformat() if self.next_open else None,
        }


# --- parsing command-line input ------------------------------------------------------------------


def parse_at(text: str) -> dt.datetime:
    """An ISO-8601 time with a UTC offset (``Z`` accepted); a time without one is ambiguous."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise BadRequest(f"--at {text!r} is not an ISO-8601 time (e.g. 2026-12-05T22:00+01:00)") from exc
    if value.tzinfo is None:
        raise BadRequest(f"--at {text!r} has no UTC offset (e.g. 2026-12-05T22:00+01:00 or ...Z)")
    return value


def parse_duration(text: str) -> dt.timedelta:
    """``30m``, ``2h``, ``1h30m``, ``90`` (minutes) or ISO ``PT1H30M``."""
    raw = text.strip().lower()
    if raw.startswith("pt"):
        raw = raw[2:]
    total = dt.timedelta(0)
    number = ""
    units = {
        "d": dt.timedelta(days=1),
        "h": dt.timedelta(hours=1),
        "m": dt.timedelta(minutes=1),
        "s": dt.timedelta(seconds=1),
    }
    seen = False
    for char in raw:
        if char.isdigit():
            number += char
        elif char in units and number:
            total += int(number) * units[char]
            number, seen = "", True
        else:
            raise BadRequest(f"duration {text!r} is not like 30m, 2h, 1h30m or PT1H30M")
    if number:
        if seen:
            raise BadRequest(f"duration {text!r}: a number without a unit")
        total += dt.timedelta(minutes=int(number))
    if total <= dt.timedelta(0):
        raise BadRequest(f"duration {text!r} must be positive")
    return total


# --- intervals -----------------------------------------------------------------------------------


def _at(policy: Policy, day: dt.date, time: dt.time) -> dt.datetime:
    """Local wall time ``day time`` as UTC. An hour skipped by DST maps forward, as clocks do."""
    local = dt.datetime.combine(day, time, tzinfo=policy.tz)
    return local.astimezone(UTC)


def _daily(policy: Policy, window: DailyWindow, day: dt.date) -> list[Interval]:
    days = {d.number for d in window.days}
    if day.weekday() not in days:
        return []
    if not window.on_holidays and policy.holiday(day):
        return []
    start = _at(policy, day, window.start)
    end_day = day if window.end > window.start else day + dt.timedelta(days=1)
    return [(start, _at(policy, end_day, window.end))]


def _closed(policy: Policy, hours: ClosedHours, day: dt.date) -> list[Interval]:
    next_day = day + dt.timedelta(days=1)
    whole = day.weekday() in {d.number for d in hours.closed_days} or (
        hours.holidays_closed and policy.holiday(day) is not None
    )
    if whole:
        return [(_at(policy, day, dt.time(0)), _at(policy, next_day, dt.time(0)))]
    return [
        (_at(policy, day, dt.time(0)), _at(policy, day, hours.night_end)),
        (_at(policy, day, hours.night_start), _at(policy, next_day, dt.time(0))),
    ]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def open_intervals(
    policy: Policy, category: Category, site: str, since: dt.datetime, until: dt.datetime
) -> list[Interval]:
    """The category's merged open intervals (UTC) that touch ``[since, until]``."""
    rules = policy.category(category)
    hours = policy.closed_hours_of(site)
    tz = policy.tz
    # One day of margin each side: a night window or a closed period may start the day before.
    first = since.astimezone(tz).date() - dt.timedelta(days=1)
    last = until.astimezone(tz).date() + dt.timedelta(days=1)
    raw: list[Interval] = []
    day = first
    while day <= last:
        if rules.closed_periods:
            raw.extend(_closed(policy, hours, day))
        for window in rules.windows:
            raw.extend(_daily(policy, window, day))
        day += dt.timedelta(days=1)
    return [iv for iv in _merge(raw) if iv[1] >= since and iv[0] <= until]


def _covering(intervals: list[Interval], start: dt.datetime) -> Interval | None:
    return next((iv for iv in intervals if iv[0] <= start < iv[1]), None)


# --- the verdict ---------------------------------------------------------------------------------


def fits(
    policy: Policy,
    category: Category,
    site: str,
    start: dt.datetime,
    duration: dt.timedelta,
    *,
    ignore_freezes: bool = False,
) -> bool:
    """Whether the change may start at ``start``: the verdict without its reason or next_open."""
    if duration > policy.category(category).max_duration:
        return False
    end = start + duration
    iv = _covering(open_intervals(policy, category, site, start, end), start)
    if iv is None or end > iv[1]:
        return False
    return ignore_freezes or not policy.freezes_overlapping(start, end)


def next_open(
    policy: Policy,
    category: Category,
    site: str,
    at: dt.datetime,
    duration: dt.timedelta,
    *,
    horizon: dt.timedelta = HORIZON,
) -> dt.datetime | None:
    """The earliest start ≥ ``at`` where the same change is allowed, within ``horizon``."""
    rules = policy.category(category)
    if duration > rules.max_duration:
        return None
    at = at.astimezone(UTC)
    limit = at + horizon
    intervals = open_intervals(policy, category, site, at, limit + duration)
    candidates = {at}
    candidates.update(iv[0] for iv in intervals if at <= iv[0] <= limit)
    for freeze in policy.freezes:
        end = dt.datetime.combine(freeze.end + dt.timedelta(days=1), dt.time(0), tzinfo=policy.tz)
        if at <= end <= limit:
            candidates.add(end.astimezone(UTC))
    for candidate in sorted(candidates):
        iv = _covering(intervals, candidate)
        if iv is None or candidate + duration > iv[1]:
            continue
        if not policy.freezes_overlapping(candidate, candidate + duration):
            return candidate.astimezone(policy.tz)
    return None


def evaluate(
    policy: Policy,
    category: Category | str,
    site: str,
    start: dt.datetime,
    duration: dt.timedelta,
    *,
    ignore_freezes: bool = False,
) -> Verdict:
    """The window verdict for a change starting at ``start`` (aware) and lasting ``duration``."""
    cat = _category(category)
    policy.site(site)  # unknown site → BadRequest
    if start.tzinfo is None:
        raise BadRequest("the start time must carry a UTC offset")
    if duration <= dt.timedelta(0):
        raise BadRequest("the duration must be positive")
    rules = policy.category(cat)
    tz = policy.tz
    local_start = start.astimezone(tz)
    local_end = (start.astimezone(UTC) + duration).astimezone(tz)
    window_text = _window_text(policy, cat, site)

    def verdict(allowed: bool, reason: str, freezes: tuple[Freeze, ...] = ()) -> Verdict:
        upcoming = local_start if allowed else next_open(policy, cat, site, start, duration)
        return Verdict(
            allowed=allowed,
            reason=reason,
            category=cat,
            site=site,
            start=local_start,
            end=local_end,
            next_open=upcoming,
            freezes=freezes,
        )

    if duration > rules.max_duration:
        return verdict(False, f"{_td(duration)} exceeds the {cat.value} maximum of {_td(rules.max_duration)}")
    # A week past the end so that "until" names where the merged period really ends.
    intervals = open_intervals(policy, cat, site, start, start + duration + dt.timedelta(days=7))
    iv = _covering(intervals, start.astimezone(UTC))
    if iv is None:
        holiday = policy.holiday(local_start.date())
        why = ""
        if holiday and not rules.closed_periods:
            why = f" ({local_start:%Y-%m-%d} is a public holiday: {holiday})"
        return verdict(
            False, f"{local_start:%a %Y-%m-%d %H:%M %Z} is outside the {cat.value} window{why}: {window_text}"
        )
    if start + duration > iv[1]:
        closes = iv[1].astimezone(tz)
        return verdict(
            False,
            f"would run until {local_end:%a %H:%M %Z}, past the end of the {cat.value} "
            f"window at {closes:%a %H:%M %Z} ({window_text})",
        )
    freezes = () if ignore_freezes else tuple(policy.freezes_overlapping(start, start + duration))
    if freezes:
        names = "; ".join(f"{f.start}..{f.end} {f.reason}" for f in freezes)
        return verdict(False, f"overlaps a freeze: {names}", freezes)
    until = iv[1].astimezone(tz)
    return verdict(True, f"inside the {cat.value} window until {until:%a %H:%M %Z} ({window_text})")


def _category(category: Category | str) -> Category:
    try:
        return Category(category)
    except ValueError as exc:
        raise BadRequest(f"unknown category {category!r} (known: minor, medium, major)") from exc


def _window_text(policy: Policy, category: Category, site: str) -> str:
    rules = policy.category(category)
    if rules.closed_periods:
        return f"while {site} is closed to users: {policy.closed_hours_of(site).describe()}"
    return "; ".join(w.describe() for w in rules.windows)


def _td(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h{mins:02d}" if hours else f"{mins}m"
