"""My queue, from the journal: what awaits my decision, my requests, running and scheduled changes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netchange.guard import approve
from netchange.journal import Journal, State
from netchange.journal.testing import make_plan
from netchange.models import Category
from netchange.policy import actor_for, load_policy
from netchange.service.queue import build_queue

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")  # one manager per site
NOW = dt.datetime(2026, 12, 2, 18, 10, tzinfo=dt.UTC)


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite", clock=lambda: NOW) as j:
        yield j


def plan(journal, n: int, *, site: str = "doif", requester: str = "crenard", category=Category.MEDIUM, start=None):
    p = make_plan(f"CHG-2026-{n:04d}", category=category, requester=requester, hosts=((f"sw-{site}-1", site),))
    if start is not None:
        from netchange.plan import seal

        p = seal(p.model_copy(update={"change": p.change.model_copy(update={"planned_start": start})}))
    journal.record_plan(p, "dnguyen")
    return p


def ids(rows):
    return [q.row.id for q in rows]


def test_awaiting_is_what_i_may_still_decide_and_pages_past_refused_rows(journal):
    for n in range(1, 4):
        plan(journal, n)  # doif: amoreau's
    for n in range(4, 9):
        plan(journal, n, site="doso")  # newer, not hers: the first pages hold nothing for her
    plan(journal, 9, requester="amoreau")  # her own request
    plan(journal, 10, category=Category.MINOR)  # needs no approval
    q = build_queue(POLICY, journal, "amoreau", now=NOW, limit=2)
    assert ids(q.awaiting) == ["CHG-2026-0003", "CHG-2026-0002"]
    approve(POLICY, journal, "CHG-2026-0003", actor_for(POLICY, "amoreau"))
    q = build_queue(POLICY, journal, "amoreau", now=NOW, limit=10)
    assert ids(q.awaiting) == ["CHG-2026-0002", "CHG-2026-0001"]  # decided: no longer awaiting her
    assert ids(q.mine) == ["CHG-2026-0009"]
    assert ids(build_queue(POLICY, journal, "dnguyen", now=NOW).awaiting) == []  # an engineer approves nothing
    assert len(build_queue(POLICY, journal, "dnguyen", now=NOW).mine) == 10  # ... but planned them all


def test_running_and_scheduled(journal):
    plan(journal, 1, start=NOW + dt.timedelta(days=2))
    plan(journal, 2, start=NOW + dt.timedelta(days=1))
    plan(journal, 3, start=NOW - dt.timedelta(days=1))
    plan(journal, 4)
    for n in (1, 2, 3, 4):
        approve(POLICY, journal, f"CHG-2026-{n:04d}", actor_for(POLICY, "amoreau"))
    journal.set_state("CHG-2026-0004", State.IN_PROGRESS, actor="dnguyen")
    q = build_queue(POLICY, journal, "bleroy", now=NOW)
    assert ids(q.scheduled) == ["CHG-2026-0002", "CHG-2026-0001"]  # soonest first, past starts left out
    assert q.scheduled[0].planned_start.tzinfo is not None
    assert ids(q.in_progress) == ["CHG-2026-0004"]
