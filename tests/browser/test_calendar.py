"""The calendar in Chromium, and its iCalendar feed parsed back with ``icalendar``.

Twenty planned changes, most without a planned start (the case where the old calendar showed
none of them): each is placed at its requested start or at the next opening of its window, with
that window; a freeze; a filter by site; per site an RFC 5545 feed read with the person's link
(no cookie), its events at the right local times (``TZID=Europe/Paris``), the freeze all day,
and the link dead once the person's password changes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from netchange.journal import State
from netchange.journal.testing import make_plan
from netchange.plan import Plan, seal
from netchange.policy import load_policy
from netchange.vocabulary import Category
from tests.browser.support import (
    CHROMIUM,
    NOW,
    PASSWORD,
    in_chromium,
    journal_of,
    make_home,
    netchange,
    set_passwords,
    store,
)

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
icalendar = pytest.importorskip("icalendar")

PARIS = ZoneInfo("Europe/Paris")
T_NOW = dt.datetime.fromisoformat(NOW)  # Wednesday 2026-12-02 19:10 Paris, inside the medium window
CATEGORIES = (Category.MINOR, Category.MEDIUM, Category.MAJOR)


def change_id(n: int) -> str:
    return f"CHG-2026-05{n:02d}"


def plan_of(n: int, digest: str) -> tuple[Plan, dt.datetime | None]:
    """Change n: every third one with a planned start (n days ahead, 19:05), the rest without;
    sites alternate, the 10th touches both; the 7th (medium) lasts an hour."""
    site = "doif" if n % 2 else "doso"
    hosts = (("sw-doif-1", "doif"), ("sw-doso-1", "doso")) if n == 10 else ((f"sw-{site}-{n}", site),)
    category = CATEGORIES[n % 3]
    day = T_NOW.date() + dt.timedelta(days=n)
    start = dt.datetime.combine(day, dt.time(19, 5), tzinfo=PARIS) if n % 3 == 0 else None
    plan = make_plan(change_id(n), category=category, hosts=hosts, policy_digest=digest, salt=str(n))
    duration = dt.timedelta(hours=1) if n == 7 else dt.timedelta(minutes=30)
    change = plan.change.model_copy(update={"planned_start": start, "estimated_duration": duration,
                                            "title": f"Change {n} ({category.value})"})
    return seal(plan.model_copy(update={"change": change})), start


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("calendar")
    home, _policy, env = make_home(tmp, database)
    policy_file = tmp / "policy.yaml"
    # A second freeze, inside the default three weeks, besides the shipped year-end one.
    policy_file.write_text(policy_file.read_text().replace(
        "freezes:\n",
        "freezes:\n  - start: 2026-12-10\n    end: 2026-12-11\n    reason: \"data-centre power works\"\n", 1))
    policy = load_policy(policy_file)
    plans = {}
    for n in range(1, 21):
        plan, start = plan_of(n, policy.digest)
        plans[n] = (store(home, policy, plan), start)
    with journal_of(home) as journal:
        journal.set_state(change_id(3), State.APPROVED, actor="amoreau", reason="approvals complete")
    set_passwords(env, "amoreau")
    with in_chromium(env, tmp) as (base, browser, shots):
        yield {"base": base, "home": home, "policy": policy, "env": env, "plans": plans, "browser": browser,
               "shots": shots}


def sign_in(world: dict[str, Any]) -> Any:
    context = world["browser"].new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(world["base"] + "/signin")
    page.fill("input[name=login]", "amoreau")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def sites_of(n: int) -> set[str]:
    return {"doif", "doso"} if n == 10 else {"doif" if n % 2 else "doso"}


def test_every_planned_change_is_on_the_calendar_with_its_window(world: dict[str, Any]) -> None:
    page = sign_in(world)
    page.goto(world["base"] + "/calendar?weeks=6")
    for n in range(1, 21):
        shown = page.locator(f"table.calendar .event[data-change={change_id(n)}]")
        assert shown.count() == len(sites_of(n)), change_id(n)
        text = shown.first.inner_text()
        category = CATEGORIES[n % 3].value
        assert f"{category} window" in text, text
        assert ("next window" in text) == (n % 3 != 0), text
    # A requested start, at its time with its window that day.
    planned = page.locator(f".event[data-change={change_id(3)}]").inner_text()
    assert "19:05–19:35" in planned and "minor window" in planned and "approved" in planned
    # No planned start: the next opening of the window from now (19:10 on a weekday evening).
    medium = page.locator(f".event[data-change={change_id(1)}]").inner_text()  # 30 min fits now
    assert "19:10–19:40" in medium and "medium window 19:00–20:00" in medium
    hour = page.locator(f".event[data-change={change_id(7)}]")  # an hour no longer fits today
    assert "19:00–20:00" in hour.inner_text()
    assert hour.locator("xpath=ancestor::tr").inner_text().startswith("Thu 03 Dec")
    freezes = page.inner_text("ul.freezes")
    assert "data-centre power works" in freezes and "year-end closing" in freezes
    assert "FREEZE: data-centre power works" in page.locator("tr.frozen").first.inner_text()
    page.screenshot(path=str(world["shots"] / "calendar.png"), full_page=False)

    # Filtered by site: that site's column and changes only; a link keeps the filter.
    page.click("nav.filters >> text=doso")
    page.wait_for_url("**/calendar?site=doso*")
    assert page.locator("table.calendar thead th").all_text_contents() == ["Day", "doso"]
    for n in range(1, 21):
        assert page.locator(f".event[data-change={change_id(n)}]").count() == (1 if "doso" in sites_of(n) else 0)
    page.screenshot(path=str(world["shots"] / "calendar-doso.png"), full_page=False)
    assert page.request.get(world["base"] + "/calendar?site=nowhere").status == 400
    page.context.close()


def feed_url(world: dict[str, Any], site: str) -> str:
    page = sign_in(world)
    page.goto(world["base"] + "/calendar")
    url = page.locator(f"#feeds a.feed[data-site={site}]").get_attribute("href")
    page.context.close()
    assert url is not None and url.startswith(world["base"] + f"/calendar/{site}.ics?token=amoreau.")
    return str(url)


def test_the_ical_feed_of_a_site_parses_back_with_its_changes_and_freezes(world: dict[str, Any]) -> None:
    url = feed_url(world, "doif")
    anonymous = world["browser"].new_context()  # a calendar client: no cookie, only the link
    answer = anonymous.request.get(url)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(answer.body())
    assert str(cal["VERSION"]) == "2.0"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    doif = [n for n in range(1, 21) if "doif" in sites_of(n)]
    for n in doif:
        event = events[f"{change_id(n)}.doif@netchange"]
        assert event["DTSTART"].params["TZID"] == "Europe/Paris"
        start = event.decoded("DTSTART")
        assert (event.decoded("DTEND") - start) == (dt.timedelta(hours=1) if n == 7 else dt.timedelta(minutes=30))
        _plan, requested = world["plans"][n]
        if requested is not None:
            assert start == requested and "Requested start" in str(event["DESCRIPTION"])
        else:
            assert "next window" in str(event["SUMMARY"])
        assert str(event["URL"]).endswith(f"/changes/{change_id(n)}")
    assert not any(f"{change_id(n)}." in uid for n in range(1, 21) if n not in doif for uid in events)
    # Literal times, in Paris: now (19:10) for 30 minutes, Thursday 19:00 for the hour, 19:05 requested.
    assert events[f"{change_id(1)}.doif@netchange"].decoded("DTSTART") == dt.datetime(2026, 12, 2, 19, 10, tzinfo=PARIS)
    assert events[f"{change_id(7)}.doif@netchange"].decoded("DTSTART") == dt.datetime(2026, 12, 3, 19, 0, tzinfo=PARIS)
    assert events[f"{change_id(3)}.doif@netchange"].decoded("DTSTART") == dt.datetime(2026, 12, 5, 19, 5, tzinfo=PARIS)
    assert str(events[f"{change_id(3)}.doif@netchange"]["STATUS"]) == "CONFIRMED"
    assert str(events[f"{change_id(9)}.doif@netchange"]["STATUS"]) == "TENTATIVE"
    assert "VALUE=DATE" not in answer.text().split("BEGIN:VEVENT", 1)[1].split("END:VEVENT", 1)[0]
    # Freezes: all-day events (dates, the end the day after the last day).
    freezes = [e for e in events.values() if str(e["SUMMARY"]).startswith("FREEZE")]
    assert {(e.decoded("DTSTART"), e.decoded("DTEND")) for e in freezes} == {
        (dt.date(2026, 12, 10), dt.date(2026, 12, 12)), (dt.date(2026, 12, 31), dt.date(2027, 1, 2))}
    assert all(type(e.decoded("DTSTART")) is dt.date for e in freezes)
    assert all(e["DTSTART"].params.get("VALUE") == "DATE" for e in freezes)
    anonymous.close()


def test_the_feed_needs_a_valid_link_or_token_and_a_new_password_revokes_the_link(world: dict[str, Any]) -> None:
    url = feed_url(world, "doso")
    base = world["base"]
    anonymous = world["browser"].new_context()
    login, mac = url.split("token=", 1)[1].split(".", 1)
    assert anonymous.request.get(f"{base}/calendar/doso.ics").status == 401
    assert anonymous.request.get(f"{base}/calendar/doso.ics?token={login}.{'0' * len(mac)}").status == 401
    assert anonymous.request.get(f"{base}/calendar/doso.ics?token=bleroy.{mac}").status == 401  # not transferable
    assert anonymous.request.get(url.replace("/doso.ics", "/nowhere.ics")).status == 400
    # A tool with an API token (which it sends as a header, never in the URL).
    made = netchange(world["env"], "users", "token", "amoreau")
    token = next(w for w in made.stdout.split() if w.startswith("nct_"))
    with_token = anonymous.request.get(f"{base}/calendar/doso.ics", headers={"Authorization": f"Bearer {token}"})
    assert with_token.status == 200 and b"BEGIN:VCALENDAR" in with_token.body()
    bad = anonymous.request.get(f"{base}/calendar/doso.ics", headers={"Authorization": "Bearer nct_wrong"})
    assert bad.status == 401
    # The person changes their password: the old link stops working, the page shows a new one.
    assert anonymous.request.get(url).status == 200
    set_passwords(world["env"], "amoreau")  # same words, a new salted hash
    assert anonymous.request.get(url).status == 401
    assert feed_url(world, "doso") != url
    anonymous.close()


def test_the_old_calendar_missed_changes_without_a_planned_start(world: dict[str, Any]) -> None:
    # What 7dfdd60 asked the journal for: only plans with a planned start. Fourteen of the twenty
    # changes have none; the calendar now places every one of them.
    with journal_of(world["home"]) as journal:
        old = {row.id for row, _a, _p in journal.changes_with_plans(
            {State.PLANNED, State.APPROVED, State.IN_PROGRESS, State.COMPLETED}, planned_start_set=True)}
    assert len(old) == 6
    assert len({change_id(n) for n in range(1, 21)} - old) == 14
