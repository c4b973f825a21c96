"""My queue as a work list, from the journal: what awaits my decision, filters, sort, paging, and
what each row tells (host count, waiting since, window and next opening, approvals left)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netchange.errors import BadRequest
from netchange.guard import approve
from netchange.journal import Journal, State
from netchange.journal.testing import make_plan
from netchange.policy import actor_for, load_policy
from netchange.service.worklist import Filters, build_worklist, check_filters
from netchange.vocabulary import Category

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")  # one manager per site
NOW = dt.datetime(2026, 12, 2, 18, 10, tzinfo=dt.UTC)  # Wednesday 19:10 Paris: the medium window is open


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite", clock=lambda: NOW) as j:
        yield j


def plan(journal, n: int, *, site: str = "doif", requester: str = "crenard", category=Category.MEDIUM, start=None,
         hosts: int = 1, sites: tuple[str, ...] = ()):
    where = tuple((f"sw-{s}-{i}", s) for s in (sites or (site,)) for i in range(1, hosts + 1))
    p = make_plan(f"CHG-2026-{n:04d}", category=category, requester=requester, hosts=where)
    if start is not None:
        from netchange.plan import seal

        p = seal(p.model_copy(update={"change": p.change.model_copy(update={"planned_start": start})}))
    journal.record_plan(p, "dnguyen")
    return p


def ids(section):
    return [i.work.row.id for i in section.items]


def work(journal, login, **filters):
    return build_worklist(POLICY, journal, login, Filters(**filters), now=NOW)


def test_awaiting_is_what_i_may_still_decide(journal):
    for n in range(1, 4):
        plan(journal, n)  # doif: amoreau's
    for n in range(4, 9):
        plan(journal, n, site="doso")  # not hers
    plan(journal, 9, requester="amoreau")  # her own request
    plan(journal, 10, category=Category.MINOR)  # needs no approval
    w = work(journal, "amoreau")
    assert ids(w.awaiting) == ["CHG-2026-0001", "CHG-2026-0002", "CHG-2026-0003"]  # longest waiting first
    assert w.awaiting.total == 3
    approve(POLICY, journal, "CHG-2026-0003", actor_for(POLICY, "amoreau"))
    assert ids(work(journal, "amoreau").awaiting) == ["CHG-2026-0001", "CHG-2026-0002"]  # decided: not awaiting
    assert ids(work(journal, "amoreau", requester="amoreau").changes) == ["CHG-2026-0009"]  # my requests
    assert ids(work(journal, "dnguyen").awaiting) == []  # an engineer approves nothing
    assert work(journal, "dnguyen").changes.total == 10


def test_filters_sort_and_pages_are_sql_and_shareable(journal):
    for n in range(1, 61):
        plan(journal, n, site="doso" if n % 3 == 0 else "doif", hosts=1 + n % 4,
             category=Category.MAJOR if n % 5 == 0 else Category.MEDIUM)
    assert work(journal, "amoreau", site="doso").changes.total == 20
    assert work(journal, "amoreau", category="major").changes.total == 12
    assert work(journal, "amoreau", site="doso", category="major").changes.total == 4
    first = work(journal, "amoreau")
    assert first.changes.total == 60 and len(first.changes.items) == 50 and first.pages == 2
    second = work(journal, "amoreau", page=2)
    assert len(second.changes.items) == 10 and not set(ids(first.changes)) & set(ids(second.changes))
    assert work(journal, "amoreau", page=9).filters.page == 2  # past the end: the last page
    hosts = [i.hosts for i in work(journal, "amoreau", sort="hosts", order="desc").changes.items]
    assert hosts == sorted(hosts, reverse=True) and hosts[0] == 4
    cats = [i.work.row.category.value for i in work(journal, "amoreau", sort="category").changes.items]
    assert cats == sorted(cats, key=["minor", "medium", "major"].index)
    # The filters are the page's query: a link is the list.
    f = Filters(site="doso", sort="hosts", order="desc")
    assert f.query(page=2) == "site=doso&sort=hosts&order=desc&page=2"
    assert f.sort_link("hosts") == "?site=doso&sort=hosts"  # the sorted column again: the other way
    assert f.aria_sort("hosts") == "descending" and f.aria_sort("sites") == "none"


def test_each_row_tells_hosts_waiting_window_and_approvals_left(journal):
    plan(journal, 1, hosts=3)
    plan(journal, 2, sites=("doif", "doso"), category=Category.MEDIUM)
    plan(journal, 3, category=Category.MAJOR, start=NOW + dt.timedelta(days=3))  # Saturday: closed period
    approve(POLICY, journal, "CHG-2026-0002", actor_for(POLICY, "amoreau"))
    items = {i.work.row.id: i for i in work(journal, "gperrin").changes.items}
    assert items["CHG-2026-0001"].hosts == 3
    assert items["CHG-2026-0001"].waiting_since.tzinfo is not None
    assert items["CHG-2026-0001"].approvals_left == ["a client ops_manager"]
    assert [(s.site, s.opening.allowed) for s in items["CHG-2026-0001"].windows] == [("doif", True)]
    # Both sites: amoreau approved for doif, doso's manager is still needed (policy all_sites).
    assert items["CHG-2026-0002"].approvals_left == ["a client ops_manager for doso"]
    major = items["CHG-2026-0003"]
    assert major.planned_start is not None and major.windows[0].opening.allowed
    assert major.approvals_left == ["a client ops_manager", "a provider project_manager"]
    # Now (Wednesday evening) a major change is outside its window: the next opening is 21:00.
    plan(journal, 4, category=Category.MAJOR)
    now_major = next(i for i in work(journal, "gperrin").changes.items if i.work.row.id == "CHG-2026-0004")
    assert not now_major.windows[0].opening.allowed
    assert now_major.windows[0].opening.next_open.strftime("%H:%M") == "21:00"


def test_in_progress_and_scheduled_are_filters(journal):
    plan(journal, 1, start=NOW + dt.timedelta(days=2))
    plan(journal, 2, start=NOW + dt.timedelta(days=1))
    plan(journal, 4)
    for n in (1, 2, 4):
        approve(POLICY, journal, f"CHG-2026-{n:04d}", actor_for(POLICY, "amoreau"))
    journal.set_state("CHG-2026-0004", State.IN_PROGRESS, actor="dnguyen")
    assert ids(work(journal, "bleroy", state="approved", sort="start").changes) == ["CHG-2026-0002", "CHG-2026-0001"]
    assert ids(work(journal, "bleroy", state="in_progress").changes) == ["CHG-2026-0004"]


@pytest.mark.parametrize(("field", "value"), [
    ("site", "mars"), ("category", "huge"), ("state", "closed"), ("sort", "title; DROP TABLE"), ("order", "up"),
    ("requester", "nobody"),
])
def test_an_unknown_filter_is_a_bad_request(field, value):
    args = {"site": "", "category": "", "state": "open", "requester": "", "sort": "waiting", "order": "asc", "page": 1}
    with pytest.raises(BadRequest, match=field):
        check_filters(POLICY, **{**args, field: value})
