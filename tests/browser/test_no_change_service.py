"""A plan with no change in the approval service (issue 22 item 6), over HTTP (no browser needed).

The plan is recorded as ``netchange plan`` records it (no category: every host already matches). The
queue lists it as "no change", its page explains there is nothing to approve and offers no
decision, the tracking sheet and the JSON API say the same, an approval is refused, and once
``netchange apply`` has closed it the page shows it closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from netchange.journal.testing import make_plan
from tests.browser.support import PASSWORD, journal_of, make_home, netchange, server, set_passwords, store

CHANGE = "CHG-2026-0960"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("nochange")
    home, policy, env = make_home(tmp, database)
    plan = store(home, policy, make_plan(CHANGE, category=None, diff="", policy_digest=policy.digest,
                                         hosts=(("sw-doif-1", "doif"), ("sw-doif-2", "doif"))))
    assert plan.no_change
    token = netchange(env, "users", "token", "amoreau", "--label", "tests")
    assert token.returncode == 0, token.stderr
    set_passwords(env, "amoreau")
    with server(env) as base:
        yield {"base": base, "home": home, "env": env, "plan": plan, "token": token.stdout.strip()}


@contextmanager
def signed_in(world: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world["base"], timeout=30) as c:
        csrf = c.get("/signin").text.split('name="csrf" value="')[1].split('"')[0]
        assert c.post("/signin", data={"login": "amoreau", "password": PASSWORD, "csrf": csrf}).status_code == 303
        yield c


def test_the_pages_say_no_change_and_offer_no_decision(world: dict[str, Any]) -> None:
    with signed_in(world) as c:
        queue = c.get("/queue")
        assert queue.status_code == 200
        row = queue.text.split(f'href="/changes/{CHANGE}"')[1].split("</tr>")[0]
        assert "no change" in row
        page = c.get(f"/changes/{CHANGE}")
        assert page.status_code == 200, page.text
        assert 'id="no-change"' in page.text and "Why it is no change" in page.text
        assert "No line changes: every host already matches the request" in page.text
        assert "Approve this plan" not in page.text
        assert 'id="cannot-decide"' in page.text and "no change: every host already matches" in page.text
        assert "no change: nothing to approve" in page.text  # the approval status
        sheet = c.get(f"/changes/{CHANGE}/sheet")
        assert sheet.status_code == 200 and "no change" in sheet.text


def test_the_api_shows_it_and_refuses_an_approval(world: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {world['token']}"}
    with httpx.Client(base_url=world["base"], headers=headers, timeout=30) as c:
        shown = c.get(f"/api/changes/{CHANGE}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["category"] is None and shown.json()["state"] == "planned"
        refused = c.post(f"/api/changes/{CHANGE}/approve", json={"plan_hash": world["plan"].plan_hash})
        assert refused.status_code == 403, refused.text
        assert "no change" in refused.json()["error"]
    with journal_of(world["home"]) as journal:
        assert journal.approvals(CHANGE) == []


def test_apply_closes_it_and_the_page_shows_it_closed(world: dict[str, Any]) -> None:
    done = netchange(world["env"], "apply", CHANGE, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["outcome"] == "no_change"
    with signed_in(world) as c:
        page = c.get(f"/changes/{CHANGE}")
        assert page.status_code == 200
        assert '<span class="state closed">closed</span>' in page.text
        assert "The change is closed: no decision to take." in page.text
