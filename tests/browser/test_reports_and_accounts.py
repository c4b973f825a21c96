"""Reports, the printable sheet and accounts in Chromium (issue 23 items 7 and 8).

- The reports page shows the quarter and the ISO week from the journal's counts (SQLite and
  PostgreSQL: the same tests on each, ``database`` in this directory's conftest); its CSV and PDF exports
  are downloaded from the page and read back (``csv``; the PDF with poppler's ``pdftotext``, and
  drawn with ``pdftoppm`` for a look).
- The printable tracking sheet is styled under the service's CSP (``style-src 'self'``): no
  violation reported by Chromium, its header table drawn with its border, and Chromium's printed
  PDF carries on every page its number and the document's page boxes (project, client, version,
  date), from a stylesheet the service serves for the document. On main at 7dfdd60 its ``<style>`` was
  inline: Chromium refused it (a console error) and printed it unstyled.
- A person changes their own password on /account (a wrong current one refused): their other
  browser is signed out, this one stays in; an administrator's ``netchange users set-password``
  signs them out at their next click; both journaled. The JSON API does the same with a token.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from netchange.journal import Journal, State
from netchange.journal.key import KEY_FILE_NAME, JournalSetup, configure
from netchange.journal.testing import make_plan
from netchange.plan import store as planstore
from netchange.policy import pin as policypin
from netchange.report import quarter_stats, week_stats
from netchange.vocabulary import Category
from tests.browser.support import (
    CHROMIUM,
    NOW,
    PASSWORD,
    database_of,
    in_chromium,
    make_home,
    netchange,
    set_passwords,
)

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("weasyprint")
POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None

T_NOW = dt.datetime.fromisoformat(NOW)  # Wednesday 2026-12-02 19:10 Paris: week 2026-W49, quarter 2026Q4
NEW_PASSWORD = "a longer passphrase, 2026"
# (change, category, sites, end state, emergency reason, days before now it was requested)
CHANGES = (
    ("CHG-2026-0701", Category.MINOR, ("doif",), State.CLOSED, None, 40),
    ("CHG-2026-0702", Category.MEDIUM, ("doso",), State.ROLLED_BACK, None, 5),
    ("CHG-2026-0703", Category.MAJOR, ("doif", "doso"), State.COMPLETED, None, 2),
    ("CHG-2026-0704", Category.MEDIUM, ("doif",), State.FAILED, None, 1),
    ("CHG-2026-0705", Category.MINOR, ("doso",), State.COMPLETED, "core switch down", 1),
    ("CHG-2026-0706", Category.MINOR, ("doif",), State.IN_PROGRESS, None, 1),
    ("CHG-2026-0707", Category.MEDIUM, ("doif",), State.PLANNED, None, 0),
)


@contextmanager
def journal_at(home: Path, when: list[dt.datetime]) -> Iterator[Journal]:
    """The home's journal, keyed as the CLI keys it, on the home's storage, its clock at ``when[0]``."""
    configure(JournalSetup(key_file=home / KEY_FILE_NAME, database_url=database_of(home)))
    try:
        with Journal(home / "journal.sqlite", clock=lambda: when[0]) as journal:
            yield journal
    finally:
        configure(None)


def fill(home: Path, policy: Any) -> None:
    """Seven changes through the procedure, at their own times (this week's endings among them)."""
    clock = [T_NOW - dt.timedelta(days=60)]
    with journal_at(home, clock) as journal:
        policypin.require(policy, journal, actor="gperrin")
        for cid, category, sites, end, emergency, days in CHANGES:
            clock[0] = T_NOW - dt.timedelta(days=days, hours=3)
            hosts = tuple((f"sw-{s}-1", s) for s in sites)
            plan = make_plan(cid, category=category, hosts=hosts, policy_digest=policy.digest, created_at=clock[0])
            planstore.save(home / "plans", plan)
            journal.record_plan(plan, actor=plan.created_by)
            if end is State.PLANNED:
                continue
            if emergency:
                journal.mark_emergency(cid, emergency, actor="dnguyen")
            clock[0] += dt.timedelta(hours=1)
            journal.set_state(cid, State.APPROVED, actor="amoreau", reason="approvals complete")
            journal.set_state(cid, State.IN_PROGRESS, actor="dnguyen", reason="apply")
            if end is State.IN_PROGRESS:
                continue
            clock[0] += dt.timedelta(hours=1)
            journal.set_state(cid, State.COMPLETED if end is State.CLOSED else end, actor="dnguyen")
            if end is State.CLOSED:
                journal.set_state(cid, State.CLOSED, actor="amoreau", reason="final validation complete")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("reports")
    home, policy, env = make_home(tmp, database)
    fill(home, policy)
    set_passwords(env, "amoreau", "bleroy")
    with in_chromium(env, tmp) as (base, browser, shots):
        yield {"base": base, "home": home, "policy": policy, "env": env, "browser": browser, "shots": shots,
               "tmp": tmp}


def sign_in(world: dict[str, Any], login: str = "amoreau", password: str = PASSWORD) -> Any:
    context = world["browser"].new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(world["base"] + "/signin")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def refused_sign_in(world: dict[str, Any], login: str, password: str) -> str:
    context = world["browser"].new_context()
    page = context.new_page()
    page.goto(world["base"] + "/signin")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    error = page.locator("p.alert.bad").inner_text()
    context.close()
    return str(error)


def csp_errors(page: Any) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_the_reports_page_shows_the_quarter_and_the_week_and_exports_them(world: dict[str, Any]) -> None:
    page = sign_in(world)
    refused = csp_errors(page)
    page.goto(world["base"] + "/reports")
    with journal_at(world["home"], [T_NOW]) as journal:
        quarter = quarter_stats(world["policy"], journal, "2026Q4")
        week, endings = week_stats(world["policy"], journal, "2026-W49")
    assert quarter.total == 7 and week.total == 5  # 0701 (October) is in the quarter, not the week
    quarter_card = page.locator("section[aria-labelledby=quarter-title]")
    assert "Quarter 2026Q4" in quarter_card.inner_text()
    assert "7 change(s) requested in the quarter" in quarter_card.inner_text()
    rows = {r.locator("td").first.inner_text(): r.locator("td").last.inner_text()
            for r in quarter_card.locator("tbody tr").all()}
    assert rows == {"MINOR": "3", "MEDIUM": "3", "MAJOR": "1"}  # the badge is upper-cased by the stylesheet
    assert "Emergencies: 1 · rolled back: 1 · failed: 1" in quarter_card.inner_text()
    week_card = page.locator("section[aria-labelledby=week-title]")
    text = week_card.inner_text()
    assert "Week 2026-W49" in text and "Mon 30 Nov to Sun 06 Dec 2026" in text
    assert "5 change(s) requested in the week" in text
    listed = {h.inner_text().split("\n")[0].strip(): h.locator("xpath=following-sibling::*[1]").inner_text()
              for h in week_card.locator("h3").all()}
    assert "CHG-2026-0706" in listed["IN PROGRESS NOW 1"]
    assert "CHG-2026-0704" in listed["FAILED 1"]
    assert "CHG-2026-0705" in listed["EMERGENCIES 1"]
    assert "CHG-2026-0703" in listed["COMPLETED 2"] and "CHG-2026-0705" in listed["COMPLETED 2"]
    assert [r.id for r in endings.completed] == ["CHG-2026-0703", "CHG-2026-0705"]
    page.screenshot(path=str(world["shots"] / "reports.png"), full_page=True)

    # The previous week, from its link: 0702 was rolled back then.
    page.click("a[rel=prev]")
    page.wait_for_url("**week=2026-W48*")
    assert "CHG-2026-0702" in page.locator("section[aria-labelledby=week-title]").inner_text()
    page.go_back()

    # CSV, downloaded from the page's link, read back.
    with page.expect_download() as got:
        quarter_card.locator("a", has_text="CSV").click()
    download = got.value
    assert download.suggested_filename == "netchange-report-2026Q4.csv"
    table = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert table[0] == ["Quarterly change report 2026Q4"] and table[2][2] == "7"
    start = table.index(["Volumes per category and outcome"])
    assert {r[0]: r[1] for r in table[start + 2:start + 5]} == {"minor": "3", "medium": "3", "major": "1"}
    assert ["CHG-2026-0705", "minor", "core switch down"] in table

    # PDF, downloaded from the page's link: a real PDF, read back and drawn.
    with page.expect_download() as got:
        week_card.locator("a", has_text="PDF").click()
    pdf = Path(got.value.path())
    assert got.value.suggested_filename == "netchange-report-2026-W49.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    if POPPLER:
        words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout
        assert "Weekly change report 2026-W49" in words and "Page 1 of 1" in words
        assert "netchange — perimeter operations" in words  # the page header, its space kept
        assert "CHG-2026-0704" in words and "core switch down" in words
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile", str(pdf), str(world["shots"] / "report-pdf")],
                       check=True)
    assert refused == []
    page.context.close()


def test_the_printable_sheet_is_styled_under_the_csp(world: dict[str, Any]) -> None:
    page = sign_in(world)
    refused = csp_errors(page)
    answer = page.goto(world["base"] + "/changes/CHG-2026-0704/sheet/print")
    assert answer is not None and answer.status == 200
    assert "style-src 'self'" in answer.headers["content-security-policy"]
    assert "<style" not in page.content()
    assert page.locator("link[rel=stylesheet][href='/static/print.css']").count() == 1
    boxes = page.request.get(world["base"] + "/changes/CHG-2026-0704/sheet/print.css")
    assert boxes.status == 200 and boxes.headers["content-type"].startswith("text/css")
    assert "@top-left" in boxes.text() and 'counter(pages)' in boxes.text()
    # Styled: the header table's 2px border and the numbered sections come from print.css.
    border = page.eval_on_selector(".doc-header", "e => getComputedStyle(e).borderTopWidth")
    assert border == "2px"
    numbered = page.eval_on_selector("h2", "e => getComputedStyle(e, '::before').content")
    assert numbered.startswith(("counter(section)", '"1'))  # numbered by print.css
    page.emulate_media(media="print")
    printed = world["tmp"] / "sheet-print.pdf"
    page.pdf(path=str(printed), format="A4", display_header_footer=False)
    assert refused == [], refused
    if POPPLER:
        words = subprocess.run(["pdftotext", "-layout", str(printed), "-"], capture_output=True, text=True,
                               check=True).stdout
        assert "Page 1 of" in words
        # The page boxes on every page: project, client, the document, its version and date.
        pages = words.split("\f")
        assert len([p for p in pages if p.strip()]) >= 2
        for text in (p for p in pages if p.strip()):
            assert "netchange — perimeter operations" in text and "Aquilon Operations" in text
            assert "Tracking sheet CHG-2026-0704 — version" in text and "issued 2026-12-02 19:10 CET" in text
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(printed),
                        str(world["shots"] / "sheet-printed")], check=True)
    page.context.close()


def events_of(world: dict[str, Any], kind: str) -> list[Any]:
    with journal_at(world["home"], [T_NOW]) as journal:
        return [e for e in journal.events() if e.kind == kind]


def test_a_person_changes_their_password_and_their_other_sessions_end(world: dict[str, Any]) -> None:
    here = sign_in(world, "bleroy")
    elsewhere = sign_in(world, "bleroy")
    here.click("nav >> text=My account")
    here.wait_for_url("**/account")
    here.fill("input[name=current]", "not my password at all")
    here.fill("input[name=new]", NEW_PASSWORD)
    here.fill("input[name=again]", NEW_PASSWORD)
    here.click("button[type=submit]:has-text('Change my password')")
    assert here.locator("p.alert.bad").inner_text() == "The current password is wrong."
    here.fill("input[name=current]", PASSWORD)
    here.fill("input[name=new]", NEW_PASSWORD)
    here.fill("input[name=again]", NEW_PASSWORD)
    here.screenshot(path=str(world["shots"] / "account.png"), full_page=False)
    here.click("button[type=submit]:has-text('Change my password')")
    here.wait_for_url("**/account?done=password")
    assert "Your password is changed" in here.locator("p.alert.good").inner_text()
    # This browser stays signed in; the other one is out at its next click.
    here.goto(world["base"] + "/queue")
    assert here.url.endswith("/queue")
    elsewhere.goto(world["base"] + "/queue")
    assert elsewhere.url.endswith("/signin")
    elsewhere.context.close()
    changed = events_of(world, "password_changed")
    assert [(e.actor, e.data["sessions_ended"]) for e in changed] == [("bleroy", 2)]
    failed = [e for e in events_of(world, "signin_failed") if "wrong current password" in e.data["why"]]
    assert [e.actor for e in failed] == ["bleroy"]
    # The old password no longer signs in; the new one does.
    assert refused_sign_in(world, "bleroy", PASSWORD) == "Wrong login or password."
    sign_in(world, "bleroy", NEW_PASSWORD).context.close()
    here.context.close()


def test_an_administrators_reset_is_journaled_and_signs_the_person_out(world: dict[str, Any]) -> None:
    page = sign_in(world, "amoreau")
    done = netchange(world["env"], "users", "set-password", "amoreau", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    page.goto(world["base"] + "/reports")
    assert page.url.endswith("/signin")  # the next click: the session's password stamp is old
    reset = events_of(world, "password_reset")
    assert [e.data["login"] for e in reset] == ["amoreau"]
    assert reset[0].data["by"] == "netchange users set-password" and reset[0].actor
    page.context.close()
    sign_in(world, "amoreau").context.close()


def test_the_json_api_changes_the_tokens_persons_password(world: dict[str, Any]) -> None:
    made = netchange(world["env"], "users", "token", "amoreau", "--label", "tests")
    token = made.stdout.strip()
    browser = sign_in(world, "amoreau")
    with httpx.Client(base_url=world["base"], headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        wrong = api.post("/api/account/password", json={"current_password": "nope", "new_password": NEW_PASSWORD})
        assert wrong.status_code == 403 and wrong.json()["exit_code"] == 2
        short = api.post("/api/account/password", json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 400 and "at least 12" in short.json()["error"]
        done = api.post("/api/account/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert done.status_code == 200, done.text
        answer = done.json()
        assert answer["login"] == "amoreau" and answer["password_changed"] is True
        assert answer["sessions_signed_out"] >= 1  # this test's browser, and those earlier tests left open
        assert api.get("/api/changes").status_code == 200  # a token is not a password: it stays valid
        assert api.post("/api/account/password", json={"current_password": PASSWORD}).status_code == 400
    browser.goto(world["base"] + "/queue")
    assert browser.url.endswith("/signin")
    browser.context.close()
    sign_in(world, "amoreau", NEW_PASSWORD).context.close()
