"""The approval service in a real browser: Debian's Chromium driven by Playwright, against
`netchange serve` on 127.0.0.1 with stored plans behind it (one browser launch for the module).

A manager signs in, reads the diff and the reasons, approves; the engineer's apply then passes
the guard; a re-plan voids the approval and the page says so; self-approval and approval for
another site are refused; device text is never markup; forms without their session's CSRF
token, and a signed-out session, cannot approve.

Screenshots of the queue, the change and the tracking sheet go to ``NETCHANGE_SCREENSHOTS``
(``docs/screenshots/`` is made that way) or to the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from netchange.classifiers.verdict import Reason
from netchange.errors import GuardRefused
from netchange.guard import check_apply
from netchange.journal import State
from netchange.journal.testing import make_plan
from netchange.models import CheckResult
from netchange.plan import Plan, seal
from netchange.policy import load_policy
from netchange.vocabulary import Category
from tests.browser.support import CHROMIUM, NOW, PASSWORD, in_chromium, journal_of, make_home, set_passwords, store

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

SCRIPT_LINE = "+ description <script>document.title='pwned'</script>"
T_NOW = dt.datetime.fromisoformat(NOW)
POLICY_REQUIREMENTS = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml").requirements(Category.MEDIUM)


REASONS = (
    Reason(rule="ios.vlan_create", category=Category.MEDIUM,
           paq_item="medium/network: create a new VLAN and its routing",
           description="A new VLAN.", lines=("+vlan 42",)),
    Reason(rule="ios.port_admin_state", category=Category.MINOR,
           paq_item="minor/network: create or reconfigure a LAN interface; connect a new LAN link",
           description='Enabling a port ("no shutdown") is how a new LAN link is connected.', lines=("- shutdown",)),
)


def medium(change_id: str, *, requester: str = "crenard", site: str = "doif", salt: str = "", digest: str,
           start: dt.datetime | None = None) -> Plan:
    """A medium plan as `netchange plan` makes it: reasons, requirements, pre-checks, sealed."""
    plan = make_plan(
        change_id,
        category=Category.MEDIUM,
        requester=requester,
        hosts=((f"sw-{site}-1", site), (f"sw-{site}-2", site)),
        diff=f"+vlan 42\n+ name users\n interface GigabitEthernet1/0/7\n{SCRIPT_LINE}\n- shutdown\n",
        salt=salt,
        policy_digest=digest,
    )
    checks = (CheckResult(name="vlan 42 free", passed=True, detail="not configured yet"),
              CheckResult(name="trunk Po1 up", passed=True, detail="Po1 up, 2 members"))
    change = plan.change.model_copy(update={"planned_start": start, "title": "Users VLAN 42 on the access floor"})
    return seal(plan.model_copy(update={
        "change": change,
        "reasons": REASONS,
        "requirements": tuple(POLICY_REQUIREMENTS),
        "policy_version": "2026.7-lab",
        "rules_version": "2026.12-2",
        "hosts": tuple(h.model_copy(update={"pre_checks": checks, "reasons": REASONS}) for h in plan.hosts),
    }))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("service")
    home, policy, env = make_home(tmp, database)
    plans = {
        "ok": store(home, policy, medium("CHG-2026-0301", digest=policy.digest)),
        "doso": store(home, policy, medium("CHG-2026-0302", site="doso", digest=policy.digest)),
        "own": store(home, policy, medium("CHG-2026-0303", requester="amoreau", digest=policy.digest)),
        "stale": store(home, policy, medium("CHG-2026-0304", digest=policy.digest)),
        "csrf": store(home, policy, medium("CHG-2026-0305", digest=policy.digest)),
    }
    set_passwords(env, "amoreau", "bleroy", "dnguyen")
    with in_chromium(env, tmp) as (base, browser, shots):
        yield {"base": base, "home": home, "policy": policy, "env": env, "plans": plans,
               "browser": browser, "shots": shots}


def sign_in(world: dict[str, Any], login: str) -> Any:
    context = world["browser"].new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(world["base"] + "/queue")
    assert page.url.endswith("/signin")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def approvals_of(world: dict[str, Any], change_id: str) -> list[tuple[str, str, str]]:
    with journal_of(world["home"]) as journal:
        return [(a.approver, a.decision, a.plan_hash) for a in journal.approvals(change_id)]


def guard(world: dict[str, Any], plan: Plan) -> None:
    with journal_of(world["home"]) as journal:
        check_apply(plan, policy=world["policy"], journal=journal, actor="dnguyen", now=T_NOW)


def test_a_manager_reads_the_diff_and_reasons_and_approves_then_the_guard_lets_the_engineer_apply(world):
    plan = world["plans"]["ok"]
    with pytest.raises(GuardRefused, match="approvals"):
        guard(world, plan)
    page = sign_in(world, "amoreau")
    queue = page.locator("section", has_text="Awaiting my decision")
    assert queue.locator("a", has_text="CHG-2026-0301").count() == 1
    # Not awaiting her: another site's change and her own request.
    assert queue.locator("a", has_text="CHG-2026-0302").count() == 0
    assert queue.locator("a", has_text="CHG-2026-0303").count() == 0
    page.screenshot(path=str(world["shots"] / "queue.png"), full_page=True)

    page.click("text=CHG-2026-0301")
    page.wait_for_url("**/changes/CHG-2026-0301")
    assert page.locator("#plan-hash").inner_text() == plan.plan_hash
    body = page.inner_text("main")
    assert "medium" in body.lower()
    assert "Alice Moreau" in body  # who can give the approval, by name
    assert "inside its window" in body
    # The diff, coloured per line, device text shown as text.
    added = page.locator("pre.diff span.add")
    assert "+vlan 42" in added.all_inner_texts()
    assert page.locator("pre.diff span.del", has_text="- shutdown").count() == 2  # one per host
    assert page.locator("pre.diff span.add", has_text="<script>").count() == 2
    assert page.title() != "pwned"
    assert page.locator("main script").count() == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    page.screenshot(path=str(world["shots"] / "change.png"), full_page=True)

    page.fill("textarea[name=comment]", "OK for Tuesday's window")
    page.click("button.approve")
    page.wait_for_url("**/changes/CHG-2026-0301?done=approved")
    assert "Your approval is recorded" in page.inner_text("main")
    assert "complete" in page.inner_text("main")
    assert approvals_of(world, "CHG-2026-0301") == [("amoreau", "approved", plan.plan_hash)]
    guard(world, plan)  # the engineer's apply now passes the guard

    page.click("text=Tracking sheet")
    page.wait_for_url("**/sheet")
    sheet = page.inner_text("main")
    assert "approved plan" in sheet and "OK for Tuesday's window" in sheet
    assert "CET" in sheet  # the site's time zone, not UTC
    page.context.close()


def test_a_re_plan_voids_the_approval_and_the_page_says_so(world):
    first = world["plans"]["ok"]
    again = store(world["home"], world["policy"], medium("CHG-2026-0301", salt="drift", digest=world["policy"].digest))
    assert again.plan_hash != first.plan_hash
    page = sign_in(world, "amoreau")
    page.goto(world["base"] + "/changes/CHG-2026-0301")
    assert page.locator("#plan-hash").inner_text() == again.plan_hash
    assert "planned again" in page.inner_text("#voided")
    assert "missing" in page.inner_text("main")
    with pytest.raises(GuardRefused, match="approvals"):
        guard(world, again)
    page.context.close()


def test_a_stale_plan_hash_is_refused_with_the_plan_changed(world):
    page = sign_in(world, "amoreau")
    page.goto(world["base"] + "/changes/CHG-2026-0304")
    shown = page.locator("#plan-hash").inner_text()
    # Re-planned while the page is open.
    store(world["home"], world["policy"], medium("CHG-2026-0304", salt="later", digest=world["policy"].digest))
    page.click("button.approve")
    assert "the plan changed" in page.inner_text("#error")
    assert approvals_of(world, "CHG-2026-0304") == []
    assert page.locator("#plan-hash").inner_text() != shown  # the page now shows the new plan
    page.context.close()


def test_self_approval_and_another_sites_change_are_refused_in_the_page(world):
    page = sign_in(world, "amoreau")
    page.goto(world["base"] + "/changes/CHG-2026-0303")
    assert "nobody approves their own request" in page.inner_text("#cannot-decide")
    assert page.locator("button.approve").count() == 0
    page.goto(world["base"] + "/changes/CHG-2026-0302")
    assert "approves for doif only" in page.inner_text("#cannot-decide")
    assert "Bruno Leroy" in page.inner_text("main")  # the one who can, by name
    # Forcing the form anyway (a valid session and token) is refused by the same rules.
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    for change, plan in (("CHG-2026-0303", world["plans"]["own"]), ("CHG-2026-0302", world["plans"]["doso"])):
        answer = page.request.post(
            f"{world['base']}/changes/{change}/decide",
            form={"csrf": csrf, "plan_hash": plan.plan_hash, "decision": "approve", "comment": ""},
        )
        assert answer.status == 403
        assert "Refused" in answer.text()
        assert approvals_of(world, change) == []
    page.context.close()


def test_a_post_without_its_sessions_csrf_token_is_refused(world):
    plan = world["plans"]["csrf"]
    page = sign_in(world, "amoreau")
    other = sign_in(world, "bleroy")
    other_token = other.locator("input[name=csrf]").first.get_attribute("value")
    own_token = page.locator("input[name=csrf]").first.get_attribute("value")
    assert other_token != own_token
    url = f"{world['base']}/changes/CHG-2026-0305/decide"
    form = {"plan_hash": plan.plan_hash, "decision": "approve", "comment": ""}
    assert page.request.post(url, form=form).status == 403
    assert page.request.post(url, form={**form, "csrf": other_token}).status == 403
    assert page.request.post(url, form={**form, "csrf": ""}).status == 403
    assert approvals_of(world, "CHG-2026-0305") == []
    # A cross-site form post (no SameSite cookie, no token) is refused too.
    assert page.request.post(url, form={**form, "csrf": own_token + "x"}).status == 403
    page.context.close()
    other.context.close()


def test_a_signed_out_session_cannot_approve(world):
    plan = world["plans"]["csrf"]
    page = sign_in(world, "amoreau")
    page.goto(world["base"] + "/changes/CHG-2026-0305")
    token = page.locator("form[action$=decide] input[name=csrf]").get_attribute("value")
    cookies = page.context.cookies()
    page.click("button.link")  # sign out
    page.wait_for_url("**/signin")
    # Replay the old cookie and token from a fresh context: the session is gone on the server.
    replay = world["browser"].new_context()
    replay.add_cookies(cookies)
    answer = replay.request.post(
        f"{world['base']}/changes/CHG-2026-0305/decide",
        form={"csrf": token, "plan_hash": plan.plan_hash, "decision": "approve", "comment": ""},
        max_redirects=0,
    )
    assert answer.status == 403
    assert approvals_of(world, "CHG-2026-0305") == []
    check = replay.new_page()
    check.goto(world["base"] + "/queue")
    assert check.url.endswith("/signin")
    replay.close()
    page.context.close()


def test_wrong_passwords_are_slowed_and_journaled(world):
    context = world["browser"].new_context()
    page = context.new_page()
    statuses = []
    while 429 not in statuses and len(statuses) < 8:
        page.goto(world["base"] + "/signin")
        page.fill("input[name=login]", "dnguyen")
        page.fill("input[name=password]", "not the password at all")
        with page.expect_response("**/signin") as answer:
            page.click("button[type=submit]")
        statuses.append(answer.value.status)
    # Three tries are heard; then the account is slowed (a wait that doubles) before any check.
    assert statuses[:3] == [401, 401, 401]
    assert statuses[-1] == 429
    assert "try again in" in page.inner_text("main")
    with journal_of(world["home"]) as journal:
        failed = [e for e in journal.events() if e.kind == "signin_failed" and e.actor == "dnguyen"]
    assert len(failed) == len(statuses)
    assert all("not the password" not in str(e.data) for e in failed)
    context.close()


def test_the_tracking_sheet_puts_the_outcome_and_its_cause_first(world):
    plan = store(world["home"], world["policy"], medium("CHG-2026-0306", digest=world["policy"].digest,
                                                        start=T_NOW + dt.timedelta(minutes=5)))
    # Two changes scheduled ahead, for the calendar.
    for n, days in (("0307", 1), ("0308", 6)):
        store(world["home"], world["policy"], medium(f"CHG-2026-{n}", digest=world["policy"].digest,
                                                     site="doso" if n == "0308" else "doif",
                                                     start=T_NOW + dt.timedelta(days=days, minutes=5)))
    with journal_of(world["home"]) as journal:
        journal.add_approval("CHG-2026-0306", plan.plan_hash, approver="amoreau", organisation="client",
                             roles=("requester", "ops_manager"), decision="approved", comment="go",
                             policy_digest=world["policy"].digest)
        journal.set_state("CHG-2026-0306", State.APPROVED, actor="amoreau", reason="complete")
        journal.set_state("CHG-2026-0306", State.IN_PROGRESS, actor="dnguyen", reason="apply")
        # What apply journals (netchange/apply/_applier.py) when a post-check fails and both hosts come back.
        journal.event("CHG-2026-0306", "apply_started", actor="dnguyen", data={"hosts": ["sw-doif-1", "sw-doif-2"]})
        for host in ("sw-doif-1", "sw-doif-2"):
            journal.event("CHG-2026-0306", "commit_started", actor="dnguyen", host=host, data={"confirmed": False})
            journal.event("CHG-2026-0306", "committed", actor="dnguyen", host=host)
        journal.event("CHG-2026-0306", "post_checks", actor="dnguyen", host="sw-doif-2", data={
            "checks": [{"name": "vlan 42 active", "passed": False, "detail": "vlan 42 missing on trunk Po1"}]})
        journal.event("CHG-2026-0306", "host_failed", actor="dnguyen", host="sw-doif-2",
                      data={"error": "post-check failed: vlan 42 active: vlan 42 missing on trunk Po1"})
        for host in ("sw-doif-2", "sw-doif-1"):
            journal.event("CHG-2026-0306", "rollback_started", actor="dnguyen", host=host)
            journal.event("CHG-2026-0306", "rollback_verified", actor="dnguyen", host=host,
                          data={"strategies": ["lines"], "seconds": 0.11, "since_failure": 0.23})
        journal.event("CHG-2026-0306", "apply_finished", actor="dnguyen",
                      data={"outcome": "rolled_back", "failed": ["sw-doif-2"], "alarms": [], "left_changed": []})
        journal.set_state("CHG-2026-0306", State.ROLLED_BACK, actor="dnguyen", reason="post-check failed")
    page = sign_in(world, "bleroy")
    page.goto(world["base"] + "/changes/CHG-2026-0306/sheet")
    outcome = page.inner_text("#outcome")
    assert outcome.startswith("rolled back: post-check failed on sw-doif-2: vlan 42 active: vlan 42 missing")
    assert "2 device(s) restored and verified in 0.23 s" in outcome
    # The approval that attempt used up is still shown, with why it no longer counts.
    assert "used up by an apply attempt" in page.inner_text("main")
    timeline = page.inner_text("table.timeline")
    assert "{" not in timeline  # sentences, not raw JSON
    assert "post-checks failed: vlan 42 active" in timeline
    page.screenshot(path=str(world["shots"] / "sheet.png"), full_page=True)
    printable = page.request.get(world["base"] + "/changes/CHG-2026-0306/sheet/print")
    assert printable.status == 200 and "CHG-2026-0306" in printable.text()
    for path in ("/calendar", "/reports"):
        page.goto(world["base"] + path)
        assert page.locator("h1").count() == 1
    page.goto(world["base"] + "/calendar")
    assert page.locator("table.calendar a", has_text="CHG-2026-0307").count() == 1
    assert page.locator("table.calendar a", has_text="CHG-2026-0308").count() == 1
    page.context.close()


def test_every_page_names_its_time_zone(world):
    """The footer says in which time zone the page's times are: the sign-in page too (it was "Times in ."),
    after a wrong password, and every page behind it, error pages included."""
    zone = "Times in Europe/Paris."
    context = world["browser"].new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(world["base"] + "/signin")
    assert page.inner_text("footer").startswith(zone), page.inner_text("footer")
    page.fill("input[name=login]", "bleroy")
    page.fill("input[name=password]", "not the password at all")
    page.click("button[type=submit]")
    assert "Wrong login or password" in page.inner_text("main")
    assert page.inner_text("footer").startswith(zone), page.inner_text("footer")
    context.close()
    page = sign_in(world, "bleroy")
    for path in ("/queue", "/changes/CHG-2026-0302", "/changes/CHG-2026-0302/sheet", "/calendar", "/reports",
                 "/account", "/changes/CHG-2026-9999", "/reports?quarter=9999Q4"):
        page.goto(world["base"] + path)
        assert page.inner_text("footer").startswith(zone), (path, page.inner_text("footer"))
    page.context.close()
