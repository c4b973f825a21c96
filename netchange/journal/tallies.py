"""The journal counted by SQLite: the volumes of a period and the changes that ended in it.

For the reports (issue 23 item 7): the quarterly and weekly figures are ``GROUP BY`` queries over
the ``changes`` table, so a report costs a few queries whatever the size of the journal, and only
the changes a report names (emergencies, rollbacks, failures, the week's endings) are read as rows.
The figures are those of counting the changes one by one (``tests/unit/test_report_tallies.py``
compares both on a filled journal).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from netchange.journal.chain import JournalBase
from netchange.journal.encoding import _change, _ts
from netchange.journal.records import ChangeRow, State

# A change with a plan and no category has a plan with no change (issue 22 item 6): counted as such.
_CATEGORY = ("CASE WHEN category IS NOT NULL AND category != '' THEN category"
             " WHEN plan_hash IS NOT NULL THEN 'no_change' ELSE 'unclassified' END")
_OUTCOME = "coalesce(nullif(outcome, ''), state)"
_EMERGENCY = "emergency IS NOT NULL AND emergency != ''"


@dataclass(frozen=True)
class Tally:
    """Changes requested in a period, counted: ``outcome`` is the outcome, else the state now."""

    total: int
    by_category_outcome: dict[tuple[str, str], int]
    by_site: dict[str, int]
    emergencies: list[tuple[str, str, str]]
    """(change, category, reason), in the order the changes were requested."""
    rollbacks: list[str]
    failures: list[str]


@dataclass(frozen=True)
class Endings:
    """What an operations meeting reviews for a span of time: the changes running now, and those
    that ended (completed, rolled back, failed) or ran as emergencies with their last step in it."""

    in_progress: list[ChangeRow]
    completed: list[ChangeRow]
    rolled_back: list[ChangeRow]
    failed: list[ChangeRow]
    emergencies: list[ChangeRow]


class Tallies(JournalBase):
    """Counts for the reports, made by SQLite."""

    def tally(self, since: dt.datetime, until: dt.datetime) -> Tally:
        """The changes requested in ``[since, until)``, counted by category and outcome, by site."""
        span = "created_at >= ? AND created_at < ?"
        args = (_ts(since), _ts(until))
        matrix = {
            (r[0], r[1]): int(r[2])
            for r in self._read(
                f"SELECT {_CATEGORY}, {_OUTCOME}, COUNT(*) FROM changes WHERE {span} GROUP BY 1, 2",  # noqa: S608 (fixed clauses)
                args,
            )
        }
        # A change on two sites counts under each: the distinct site lists are few, split here.
        by_site: Counter[str] = Counter()
        for r in self._read(f"SELECT sites, COUNT(*) FROM changes WHERE {span} GROUP BY sites", args):  # noqa: S608
            for site in str(r[0]).split(","):
                if site:
                    by_site[site] += int(r[1])
        named = self._read(
            f"SELECT id, {_CATEGORY} AS cat, emergency, outcome FROM changes WHERE {span}"  # noqa: S608 (fixed clauses)
            f" AND (({_EMERGENCY}) OR outcome IN (?, ?)) ORDER BY created_at, id",
            (*args, State.ROLLED_BACK.value, State.FAILED.value),
        )
        return Tally(
            total=sum(matrix.values()),
            by_category_outcome=matrix,
            by_site=dict(by_site),
            emergencies=[(r["id"], "" if r["cat"] in ("unclassified", "no_change") else r["cat"], r["emergency"])
                         for r in named if r["emergency"]],
            rollbacks=[r["id"] for r in named if r["outcome"] == State.ROLLED_BACK.value],
            failures=[r["id"] for r in named if r["outcome"] == State.FAILED.value],
        )

    def endings(self, since: dt.datetime, until: dt.datetime) -> Endings:
        """The changes in progress now, and those whose last step (``updated_at``) is in
        ``[since, until)`` with an outcome or an emergency, oldest first."""
        running = [_change(r) for r in self._read(
            "SELECT * FROM changes WHERE state = ? ORDER BY created_at, id", (State.IN_PROGRESS.value,))]
        ended = [_change(r) for r in self._read(
            "SELECT * FROM changes WHERE updated_at >= ? AND updated_at < ?"  # noqa: S608 (fixed clauses)
            f" AND (outcome IS NOT NULL OR ({_EMERGENCY})) ORDER BY created_at, id",
            (_ts(since), _ts(until)),
        )]
        return Endings(
            in_progress=running,
            completed=[r for r in ended if r.outcome is State.COMPLETED],
            rolled_back=[r for r in ended if r.outcome is State.ROLLED_BACK],
            failed=[r for r in ended if r.outcome is State.FAILED],
            emergencies=[r for r in ended if r.emergency],
        )
