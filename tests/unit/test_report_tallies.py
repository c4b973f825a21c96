"""The reports counted by SQLite give the figures of counting the changes one by one (issue 23 item 7).

``old_quarter`` and ``old_week`` are the per-change computations the reports used before
(``quarter_stats`` at 7dfdd60, and the service's "this week" lists), kept here as the reference;
the journal is filled with changes of every category, site, state and outcome, emergencies among
them, spread over four quarters and across week boundaries.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from pathlib import Path

import pytest

from netchange.journal import ChangeRow, Journal, State
from netchange.journal.testing import make_plan
from netchange.policy import load_policy
from netchange.report import parse_week, quarter_stats, render_period, week_stats
from netchange.report.quarterly import parse_quarter, to_csv
from netchange.vocabulary import Category

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "policy.yaml")
START = dt.datetime(2026, 8, 3, 7, 0, tzinfo=dt.UTC)


def old_quarter(rows: list[ChangeRow]) -> dict[str, object]:
    """quarter_stats at 7dfdd60, on the rows ``journal.changes(since, until)`` gave."""
    by_category = Counter({c.value: 0 for c in Category})
    by_site = Counter(dict.fromkeys(POLICY.sites, 0))
    by_outcome: Counter[str] = Counter()
    matrix: dict[str, Counter[str]] = {c.value: Counter() for c in Category}
    for row in rows:
        category = row.category.value if row.category else "unclassified"
        by_category[category] += 1
        for site in row.sites:
            by_site[site] += 1
        outcome = row.outcome.value if row.outcome is not None else row.state.value
        by_outcome[outcome] += 1
        matrix.setdefault(category, Counter())[outcome] += 1
    return {
        "total": len(rows),
        "by_category": dict(by_category),
        "by_site": dict(by_site),
        "by_outcome": dict(sorted(by_outcome.items())),
        "by_category_outcome": {k: dict(v) for k, v in matrix.items()},
        "emergencies": [{"id": r.id, "category": r.category.value if r.category else "", "reason": r.emergency or ""}
                        for r in rows if r.emergency],
        "rollbacks": [r.id for r in rows if r.outcome is State.ROLLED_BACK],
        "failures": [r.id for r in rows if r.outcome is State.FAILED],
    }


def old_week(rows: list[ChangeRow], since: dt.datetime, until: dt.datetime) -> dict[str, list[str]]:
    """The service's "this week" lists before (every change read), over ``[since, until)``."""
    recent = [r for r in rows if since <= r.updated_at < until]
    return {
        "in progress now": [r.id for r in rows if r.state.value == "in_progress"],
        "failed": [r.id for r in recent if r.outcome is not None and r.outcome.value == "failed"],
        "rolled back": [r.id for r in recent if r.outcome is not None and r.outcome.value == "rolled_back"],
        "emergencies": [r.id for r in recent if r.emergency],
        "completed": [r.id for r in recent if r.outcome is not None and r.outcome.value == "completed"],
    }


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Journal:
    """260 changes, one every 19 hours from August 2026 to March 2027, every path of the procedure."""
    rng = random.Random(23)
    clock = [START]
    journal = Journal(tmp_path_factory.mktemp("tallies") / "journal.sqlite", clock=lambda: clock[0])
    journal._conn.execute("PRAGMA synchronous=OFF")  # a test file: the figures are of reading
    hosts = {"doif": (("sw-doif-1", "doif"),), "doso": (("sw-doso-1", "doso"),),
             "both": (("sw-doif-1", "doif"), ("fw-doso-1", "doso"))}
    for i in range(260):
        clock[0] = START + dt.timedelta(hours=19 * i)
        cid = f"CHG-T-{i:04d}"
        plan = make_plan(cid, category=rng.choice(list(Category)), hosts=hosts[rng.choice(list(hosts))],
                         created_at=clock[0], salt=str(i))
        journal.record_plan(plan, "dnguyen")
        roll = rng.random()
        if roll < 0.15:
            continue  # planned
        if rng.random() < 0.1:
            journal.mark_emergency(cid, rng.choice(["core down", "=HYPERLINK(\"x\")", "fibre cut"]), actor="dnguyen")
        journal.set_state(cid, State.APPROVED, actor="dnguyen")
        if roll < 0.22:
            continue
        clock[0] += dt.timedelta(hours=rng.choice([1, 30, 80]))  # some end in the next week
        journal.set_state(cid, State.IN_PROGRESS, actor="dnguyen")
        if roll < 0.27:
            continue
        end = rng.choice([State.COMPLETED] * 6 + [State.ROLLED_BACK, State.FAILED])
        journal.set_state(cid, end, actor="dnguyen")
        if rng.random() < 0.5:
            clock[0] += dt.timedelta(hours=rng.choice([2, 50]))
            journal.set_state(cid, State.CLOSED, actor="amoreau")
    return journal


@pytest.mark.parametrize("quarter", ["2026Q3", "2026Q4", "2027Q1", "2027Q2"])
def test_the_quarter_counted_by_sqlite_is_the_quarter_counted_change_by_change(filled: Journal, quarter: str):
    since, until = parse_quarter(quarter, POLICY)
    expected = old_quarter(filled.changes(since, until))
    got = quarter_stats(POLICY, filled, quarter).as_json()
    assert {k: got[k] for k in expected} == expected
    assert got["quarter"] == quarter


def test_the_filled_journal_has_something_to_count(filled: Journal):
    stats = quarter_stats(POLICY, filled, "2026Q4").as_json()
    assert stats["total"] > 80
    assert stats["emergencies"] and stats["rollbacks"] and stats["failures"]
    assert set(stats["by_outcome"]) >= {"completed", "planned", "approved", "in_progress", "rolled_back", "failed"}


@pytest.mark.parametrize("week", ["2026-W32", "2026-W40", "2026-W44", "2026-W53", "2027-W01", "2027-W05"])
def test_the_week_counted_by_sqlite_is_the_week_counted_change_by_change(filled: Journal, week: str):
    since, until = parse_week(week, POLICY)
    stats, endings = week_stats(POLICY, filled, week)
    expected = old_quarter(filled.changes(since, until))
    assert {k: stats.as_json()[k] for k in expected} == expected
    lists = old_week(filled.changes(), since, until)
    got = {"in progress now": endings.in_progress, "failed": endings.failed, "rolled back": endings.rolled_back,
           "emergencies": endings.emergencies, "completed": endings.completed}
    assert {k: [r.id for r in v] for k, v in got.items()} == lists


def test_weeks_are_iso_weeks_in_local_time():
    since, until = parse_week("2026-W53", POLICY)
    assert since.isoformat() == "2026-12-28T00:00:00+01:00"
    assert until.isoformat() == "2027-01-04T00:00:00+01:00"
    assert parse_week("2027W1", POLICY)[0] == until


@pytest.mark.parametrize("text", ["2025-W53", "2026-W00", "2026-W54", "9999-W01", "0000-W01", "2026W", "W49"])
def test_a_week_that_does_not_exist_is_refused(text: str):
    from netchange.errors import BadRequest

    with pytest.raises(BadRequest):
        parse_week(text, POLICY)


def test_the_csv_export_reads_back_and_a_formula_stays_text(filled: Journal):
    import csv
    import io

    text = render_period(POLICY, filled, "2026Q4", fmt="csv", now=START)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Quarterly change report 2026Q4"]
    stats = quarter_stats(POLICY, filled, "2026Q4")
    assert rows[2][2] == str(stats.total)
    cats = rows.index(["Volumes per category and outcome"])
    assert rows[cats + 1][:2] == ["category", "total"]
    assert {r[0]: int(r[1]) for r in rows[cats + 2:cats + 5]} == {
        k: v for k, v in stats.by_category.items() if k != "unclassified"}
    reasons = [r[2] for r in rows if len(r) == 3 and r[0].startswith("CHG-")]
    assert all(not r.startswith("=") for r in reasons)
    assert "'=HYPERLINK(\"x\")" in reasons
    weekly = to_csv(*week_stats(POLICY, filled, "2026-W44"), filled.head())
    assert "The week's changes" in weekly


def test_the_quarter_is_a_handful_of_queries_not_a_read_of_every_change(filled: Journal):
    """The reports read the changes they name, never the whole table (the old page read them all)."""
    read: list[str] = []
    filled._conn.set_trace_callback(read.append)
    try:
        quarter_stats(POLICY, filled, "2026Q4")
        week_stats(POLICY, filled, "2026-W44")
    finally:
        filled._conn.set_trace_callback(None)
    selects = [q for q in read if q.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 3 + 3 + 2  # the quarter; the week, and its endings
    assert not any("SELECT * FROM changes WHERE 1=1" in q for q in selects)
