"""Issue 23 items 3 and 4 in Debian's Chromium, against `netchange serve` with stored plans.

The queue as a work list: its columns, the filters and the sort in the URL (a link given to a
colleague shows the same list), used with the keyboard only. The change page: the request's
description, what changed since the plan the manager read (on the page after a re-plan and on the
409), the approvals still needed and by whom, and a change on both sites needing both site managers
(the shipped policy's ``approvals_across_sites: all_sites``), which the guard enforces.

Screenshots: ``queue-worklist.png``, ``queue-filtered.png``, ``change-replanned.png``, ``change-both-sites.png``
to ``NETCHANGE_SCREENSHOTS`` (``docs/screenshots/``) or the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from netchange.errors import GuardRefused
from netchange.guard import check_apply
from netchange.journal.testing import make_plan
from netchange.plan import Plan, seal
from netchange.vocabulary import Category
from tests.browser.support import CHROMIUM, NOW, PASSWORD, in_chromium, journal_of, make_home, set_passwords, store

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

T_NOW = dt.datetime.fromisoformat(NOW)
DESCRIPTION = "Users of floor 3 move to VLAN 42 on Monday: ports Gi1/0/7-12 only, the printers stay on VLAN 10"


def plan_of(change_id: str, *, sites: tuple[str, ...] = ("doif",), hosts: int = 1, category=Category.MEDIUM,
            requester: str = "crenard", diff: str = "+vlan 42\n+ name users\n", salt: str = "",
            description: str | None = None, start: dt.datetime | None = None, requirements: tuple[str, ...] = (),
            digest: str) -> Plan:
    where = tuple((f"sw-{s}-{i}", s) for s in sites for i in range(1, hosts + 1))
    plan = make_plan(change_id, category=category, requester=requester, hosts=where, diff=diff, salt=salt,
                     policy_digest=digest, created_at=T_NOW - dt.timedelta(days=2))
    change = plan.change.model_copy(update={"description": description, "planned_start": start})
    return seal(plan.model_copy(update={"change": change, "requirements": requirements}))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("worklist")
    home, policy, env = make_home(tmp, database)
    d = policy.digest
    # A working set: both sites, the three categories, 1 to 4 hosts, some with a planned start.
    for n in range(1, 41):
        site = ("doif", "doso")[n % 2]
        category = (Category.MEDIUM, Category.MEDIUM, Category.MAJOR, Category.MINOR)[n % 4]
        store(home, policy, plan_of(f"CHG-2026-{500 + n:04d}", sites=(site,), hosts=1 + n % 4, category=category,
                                    requester=("crenard", "amoreau", "bleroy")[n % 3], digest=d,
                                    start=T_NOW + dt.timedelta(days=n % 5, hours=1) if n % 3 == 0 else None))
    set_passwords(env, "amoreau", "bleroy", "gperrin")
    with in_chromium(env, tmp) as (base, browser, shots):
        yield {"base": base, "home": home, "policy": policy, "env": env, "browser": browser, "shots": shots}


def sign_in(world: dict[str, Any], login: str) -> Any:
    context = world["browser"].new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(world["base"] + "/queue")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def text(page: Any, selector: str) -> str:
    """The element's text as written (not as CSS shows it: headings are upper-cased), spaces folded."""
    return " ".join(page.locator(selector).text_content().split())


def column(page: Any, table: str, index: int) -> list[str]:
    return [t.strip() for t in page.locator(f"{table} tbody tr td:nth-child({index})").all_text_contents()]


def test_the_queue_is_a_work_list_filtered_and_sorted_from_the_keyboard_and_shared_by_link(world):
    page = sign_in(world, "amoreau")
    heads = page.locator("#changes-table thead th").all_text_contents()
    assert [h.split()[0] for h in heads] == ["Change", "Requester", "Category", "Sites", "Hosts", "Waiting",
                                             "Window", "Approvals", "State"]
    assert page.locator("#work-h .count").inner_text() == "40"
    assert page.locator("#changes-table tbody tr").count() == 40
    # Awaiting her: planned doif changes she neither requested nor planned, needing a client ops_manager.
    awaiting = page.locator("#awaiting-table tbody tr td:first-child a").all_inner_texts()
    assert awaiting and all(int(c[-4:]) % 2 == 0 for c in awaiting)  # doif only
    first = page.locator("#awaiting-table tbody tr").first.inner_text()
    assert "a client ops_manager" in first  # the approvals left
    assert "doif: open" in first or "doif: closed, opens" in first  # the window verdict and next opening
    page.screenshot(path=str(world["shots"] / "queue-worklist.png"), full_page=True)

    # Keyboard only: the access key focuses the filters, Tab walks them in order, Enter submits.
    page.keyboard.press("Alt+Shift+F")
    if page.evaluate("document.activeElement.id") != "f-site":  # access keys differ per platform: Tab there
        page.locator("a.skip").focus()
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-site"
    order = []
    for _ in range(6):
        order.append(page.evaluate("document.activeElement.id"))
        page.keyboard.press("Tab")
    assert order == ["f-site", "f-category", "f-state", "f-requester", "f-sort", "f-order"]
    page.focus("#f-site")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # every site → doif → doso
    page.focus("#f-category")
    page.keyboard.press("ArrowDown")  # minor
    page.keyboard.press("ArrowDown")  # medium
    assert (page.locator("#f-site").input_value(), page.locator("#f-category").input_value()) == ("doso", "medium")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # state, requester, sort, order, then the button
    assert page.evaluate("document.activeElement.textContent") == "Show"
    page.keyboard.press("Enter")
    page.wait_for_url("**/queue?*")
    query = parse_qs(urlparse(page.url).query)
    assert query == {"site": ["doso"], "category": ["medium"], "state": ["open"], "sort": ["waiting"],
                     "order": ["asc"]}
    assert set(column(page, "#changes-table", 4)) == {"doso"}
    assert set(column(page, "#changes-table", 3)) == {"medium"}
    # Sort on a column heading, from the keyboard: focus the link, Enter; again: the other way.
    page.locator("#changes-table thead th a", has_text="Hosts").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=hosts**")
    hosts = [int(x) for x in column(page, "#changes-table", 5)]
    assert hosts == sorted(hosts)
    assert page.locator("#changes-table thead th[aria-sort=ascending]").text_content().startswith("Hosts")
    page.locator("#changes-table thead th a", has_text="Hosts").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**order=desc**")
    hosts_desc = [int(x) for x in column(page, "#changes-table", 5)]
    assert hosts_desc == sorted(hosts, reverse=True)
    page.screenshot(path=str(world["shots"] / "queue-filtered.png"), full_page=True)
    # The link is the list: a colleague opening it sees the same rows in the same order.
    link = page.url
    rows = column(page, "#changes-table", 1)
    other = sign_in(world, "bleroy")
    other.goto(link)
    assert column(other, "#changes-table", 1) == rows
    assert other.locator("#f-site").input_value() == "doso"
    # A filter the service does not know is a 400 page, not a 500.
    answer = other.request.get(world["base"] + "/queue?site=mars&sort=nope")
    assert answer.status == 400
    page.context.close()
    other.context.close()


def test_the_change_page_shows_the_description_and_what_changed_since_the_plan_read(world):
    policy, home = world["policy"], world["home"]
    first = store(home, policy, plan_of("CHG-2026-0601", hosts=2, description=DESCRIPTION, digest=policy.digest,
                                        requirements=("the rollback path validated by the engineer",)))
    page = sign_in(world, "amoreau")
    page.goto(world["base"] + "/changes/CHG-2026-0601")
    request_text = page.inner_text("#description")
    assert DESCRIPTION in request_text
    assert page.locator("#plan-diff").count() == 0  # one plan so far: nothing to compare
    assert page.locator("#plan-hash").inner_text() == first.plan_hash
    # Re-planned while she reads: a third host, other lines, major now, another requirement.
    again = store(home, policy, plan_of(
        "CHG-2026-0601", hosts=3, description=DESCRIPTION, category=Category.MAJOR, salt="again",
        diff="+vlan 42\n+ name users-floor3\n+interface Gi1/0/7\n+ switchport access vlan 42\n",
        requirements=("the rollback path validated by the engineer", "joint validation client and provider"),
        digest=policy.digest))
    page.fill("textarea[name=comment]", "ok")
    with page.expect_response("**/decide") as answer:
        page.click("button.approve")
    assert answer.value.status == 409
    assert "the plan changed" in page.inner_text("#error")
    diff = text(page, "#plan-diff")
    assert "What changed since the plan you read" in diff
    assert first.plan_hash[:12] in diff and again.plan_hash[:12] in diff
    assert "host added: sw-doif-3" in diff
    assert "Category: medium → major" in diff
    assert "requirement added: joint validation client and provider" in diff
    assert "sw-doif-1: 3 line(s) added, 1 removed" in diff
    assert page.locator("#plan-diff pre.diff span.del", has_text="was: + name users").count() == 2
    assert page.locator("#plan-diff pre.diff span.add", has_text="now: + switchport access vlan 42").count() == 2
    with journal_of(home) as journal:
        assert journal.approvals("CHG-2026-0601") == []
    page.screenshot(path=str(world["shots"] / "change-replanned.png"), full_page=True)
    # A link with the hash read (?since=) shows the same; without it the page compares with the previous plan.
    page.goto(world["base"] + f"/changes/CHG-2026-0601?since={first.plan_hash}")
    assert "since the plan you read" in page.inner_text("#plan-diff")
    page.goto(world["base"] + "/changes/CHG-2026-0601")
    assert "since the previous plan" in page.inner_text("#plan-diff")
    page.context.close()


def test_a_change_on_both_sites_needs_both_site_managers_and_the_page_says_who(world):
    policy, home = world["policy"], world["home"]
    plan = store(home, policy, plan_of("CHG-2026-0602", sites=("doif", "doso"), digest=policy.digest))
    page = sign_in(world, "amoreau")
    page.goto(world["base"] + "/changes/CHG-2026-0602")
    assert "approvals_across_sites: all_sites" in page.inner_text("#across-sites")
    needed = page.inner_text("#still-needed")
    assert "a client ops_manager for doif: Alice Moreau" in needed
    assert "a client ops_manager for doso: Bruno Leroy" in needed
    page.fill("textarea[name=comment]", "doif side ok")
    page.click("button.approve")
    page.wait_for_url("**done=approved")
    needed = page.inner_text("#still-needed")
    assert "for doso: Bruno Leroy" in needed and "for doif" not in needed
    assert "missing: a client ops_manager for doso" in page.inner_text("main")
    page.screenshot(path=str(world["shots"] / "change-both-sites.png"), full_page=True)
    with journal_of(home) as journal, pytest.raises(GuardRefused, match="approvals missing for every site"):
        check_apply(plan, policy=policy, journal=journal, actor="dnguyen", now=T_NOW)
    # In the queue: one approval left, for doso.
    page.goto(world["base"] + "/queue?site=doso&state=planned&sort=change&order=desc")
    row = page.locator("#changes-table tbody tr", has_text="CHG-2026-0602").inner_text()
    assert "a client ops_manager for doso" in row
    other = sign_in(world, "bleroy")
    other.goto(world["base"] + "/changes/CHG-2026-0602")
    other.fill("textarea[name=comment]", "doso side ok")
    other.click("button.approve")
    other.wait_for_url("**done=approved")
    assert other.locator("#still-needed").count() == 0
    assert "complete" in other.inner_text("main")
    with journal_of(home) as journal:
        assert journal.state("CHG-2026-0602") == "approved"
    page.context.close()
    other.context.close()
