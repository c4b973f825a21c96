"""Window verdicts for many starts at once: a list of changes (the approval service's queue).

:func:`netchange.policy._window.evaluate` works out a category's open intervals for each start it
judges; a page of fifty changes would do that fifty times (a few milliseconds each). A
:class:`WindowTable` works them out once per (category, site) over the span asked, then answers
"may it start here?" and "when next?" by the same rules as ``fits`` and ``next_open`` (a test
compares them with ``evaluate`` start by start). It gives no reason text: the change page does.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from netchange.policy._model import Policy
from netchange.policy._window import HORIZON, Interval, open_intervals
from netchange.vocabulary import Category

UTC = dt.UTC


@dataclass(frozen=True)
class Opening:
    """May the change start at ``start``; if not, the next start that is allowed (None: not within 60 days)."""

    allowed: bool
    next_open: dt.datetime | None


@dataclass
class WindowTable:
    """Open intervals per (category, site) between ``since`` and ``until`` plus the horizon."""

    policy: Policy
    since: dt.datetime
    until: dt.datetime
    _intervals: dict[tuple[Category, str], tuple[list[Interval], list[dt.datetime]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def _of(self, category: Category, site: str) -> tuple[list[Interval], list[dt.datetime]]:
        key = (category, site)
        if key not in self._intervals:
            longest = self.policy.category(category).max_duration
            found = open_intervals(
                self.policy, category, site, self.since.astimezone(UTC), self.until + HORIZON + longest
            )
            self._intervals[key] = (found, [iv[0] for iv in found])
        return self._intervals[key]

    def _fits(self, intervals: list[Interval], starts: list[dt.datetime], at: dt.datetime, end: dt.datetime) -> bool:
        i = bisect.bisect_right(starts, at) - 1
        if i < 0 or not (intervals[i][0] <= at < intervals[i][1]) or end > intervals[i][1]:
            return False
        return not self.policy.freezes_overlapping(at, end)

    def judge(self, category: Category, site: str, start: dt.datetime, duration: dt.timedelta) -> Opening:
        """As ``evaluate(...).allowed`` and ``.next_open`` for a start within the table's span."""
        if duration > self.policy.category(category).max_duration or duration <= dt.timedelta(0):
            return Opening(allowed=False, next_open=None)
        intervals, starts = self._of(category, site)
        at = start.astimezone(UTC)
        if self._fits(intervals, starts, at, at + duration):
            return Opening(allowed=True, next_open=start.astimezone(self.policy.tz))
        limit = at + HORIZON
        candidates = {iv[0] for iv in intervals[bisect.bisect_left(starts, at):] if iv[0] <= limit}
        for freeze in self.policy.freezes:
            end = dt.datetime.combine(freeze.end + dt.timedelta(days=1), dt.time(0), tzinfo=self.policy.tz)
            if at <= end <= limit:
                candidates.add(end.astimezone(UTC))
        for candidate in sorted(candidates):
            if self._fits(intervals, starts, candidate, candidate + duration):
                return Opening(allowed=False, next_open=candidate.astimezone(self.policy.tz))
        return Opening(allowed=False, next_open=None)
