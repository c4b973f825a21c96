"""The service's JSON API over HTTP (no browser): bearer tokens, the CLI's JSON vocabulary, the same
approval rules and plan binding as the pages, and a rejection the guard respects.

Also the command line around the service: `netchange users`, `netchange reject`, and `serve`
refusing a non-loopback address without TLS.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from netchange.errors import GuardRefused
from netchange.guard import check_apply
from netchange.journal.testing import make_plan
from netchange.plan import Plan
from netchange.vocabulary import Category
from tests.browser.support import NOW, journal_of, make_home, netchange, server, set_passwords, store

T_NOW = dt.datetime.fromisoformat(NOW)


def medium(change_id: str, *, site: str = "doif", salt: str = "", digest: str) -> Plan:
    return make_plan(change_id, category=Category.MEDIUM, requester="crenard",
                     hosts=((f"sw-{site}-1", site),), salt=salt, policy_digest=digest)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("api")
    home, policy, env = make_home(tmp, database)
    plans = {
        "a": store(home, policy, medium("CHG-2026-0401", digest=policy.digest)),
        "b": store(home, policy, medium("CHG-2026-0402", digest=policy.digest)),
        "doso": store(home, policy, medium("CHG-2026-0403", site="doso", digest=policy.digest)),
    }
    tokens = {}
    for login in ("amoreau", "gperrin"):
        done = netchange(env, "users", "token", login, "--label", "tests")
        assert done.returncode == 0, done.stderr
        tokens[login] = done.stdout.strip()
    set_passwords(env, "amoreau")
    with server(env) as base:
        yield {"base": base, "home": home, "policy": policy, "env": env, "plans": plans, "tokens": tokens}


def client(api: dict[str, Any], login: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api['tokens'][login]}"} if login else {}
    return httpx.Client(base_url=api["base"], headers=headers, timeout=30)


def test_tokens_are_stored_hashed_in_a_private_file(api):
    accounts = api["home"] / "service" / "accounts.json"
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    text = accounts.read_text()
    assert api["tokens"]["amoreau"] not in text
    assert "correct horse" not in text
    assert json.loads(text)["accounts"]["amoreau"]["password"].startswith("$argon2id$")


def test_without_a_valid_token_nothing_is_served(api):
    with client(api, None) as anonymous:
        assert anonymous.get("/api/changes").status_code == 401
        assert anonymous.get("/api/changes", headers={"Authorization": "Bearer nct_forged"}).status_code == 401
        # The browser's session cookie is no credential for the API (no CSRF path into it).
        page = anonymous.get("/signin")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        signed = anonymous.post("/signin", data={"login": "amoreau", "password": "correct horse battery staple",
                                                 "csrf": csrf})
        assert signed.status_code == 303
        assert anonymous.get("/queue").status_code == 200
        plan = api["plans"]["b"]
        refused = anonymous.post("/api/changes/CHG-2026-0402/approve", json={"plan_hash": plan.plan_hash})
        assert refused.status_code == 401
    with journal_of(api["home"]) as journal:
        assert journal.approvals("CHG-2026-0402") == []


def test_list_and_show_speak_the_clis_json(api):
    with client(api, "amoreau") as c:
        rows = c.get("/api/changes").json()["changes"]
        assert {r["change_id"] for r in rows} >= {"CHG-2026-0401", "CHG-2026-0402", "CHG-2026-0403"}
        row = next(r for r in rows if r["change_id"] == "CHG-2026-0401")
        assert "id" not in row  # one name: change_id (issue 23 item 8)
        assert row["plan_hash"] == api["plans"]["a"].plan_hash
        assert row["hosts"] == ["sw-doif-1"]
        shown = c.get("/api/changes/CHG-2026-0403").json()
        assert shown["change_id"] == "CHG-2026-0403" and "id" not in shown
        assert shown["plan_hash"] == api["plans"]["doso"].plan_hash
        assert shown["approvals"]["who_may_approve"] == [
            {"needed": "a client ops_manager", "required": True, "people": ["bleroy"]}
        ]
        missing = c.get("/api/changes/CHG-2026-0999")
        assert missing.status_code == 404
        assert missing.json()["exit_code"] == 2


def test_the_list_is_paged_by_a_cursor_stable_while_changes_are_added(api):
    """Issue 23 item 8: ``limit`` bounded, an opaque cursor in a ``next`` link (body and Link header);
    a change recorded between two pages is listed once, none is missed or repeated."""
    with client(api, "amoreau") as c:
        first = c.get("/api/changes", params={"limit": 2})
        assert first.status_code == 200
        page = first.json()
        assert len(page["changes"]) == 2 and page["next"].startswith("/api/changes?limit=2&cursor=")
        assert first.headers["link"] == f'<{page["next"]}>; rel="next"'
        store(api["home"], api["policy"], medium("CHG-2026-0409", digest=api["policy"].digest))
        seen = [r["change_id"] for r in page["changes"]]
        while page["next"]:
            page = c.get(page["next"]).json()
            seen += [r["change_id"] for r in page["changes"]]
        assert len(seen) == len(set(seen))
        everything = c.get("/api/changes", params={"limit": 500}).json()
        assert everything["next"] is None
        assert seen == [r["change_id"] for r in everything["changes"]]
        assert "CHG-2026-0409" in seen
        for params in ({"limit": 0}, {"limit": 501}, {"limit": "x"}, {"cursor": "forged"}, {"cursor": "YzE6MA"},
                       {"cursor": "x" * 41}):
            refused = c.get("/api/changes", params=params)
            assert refused.status_code == 400, (params, refused.text)
            assert refused.json()["exit_code"] == 2


def test_approve_binds_to_the_plan_hash_and_follows_the_policy(api):
    plan = api["plans"]["a"]
    with client(api, "amoreau") as c:
        stale = c.post("/api/changes/CHG-2026-0401/approve", json={"plan_hash": "0" * 64})
        assert stale.status_code == 409
        assert "the plan changed" in stale.json()["error"]
        other_site = c.post("/api/changes/CHG-2026-0403/approve",
                            json={"plan_hash": api["plans"]["doso"].plan_hash})
        assert other_site.status_code == 403
        assert "approves for doif only" in other_site.json()["error"]
        assert other_site.json()["exit_code"] == 3
        bad = c.post("/api/changes/CHG-2026-0401/approve", json={"plan_hash": plan.plan_hash, "extra": 1})
        assert bad.status_code == 400
        done = c.post("/api/changes/CHG-2026-0401/approve", json={"plan_hash": plan.plan_hash, "comment": "ok"})
        assert done.status_code == 200, done.text
        assert done.json() == {
            "change_id": "CHG-2026-0401", "plan_hash": plan.plan_hash, "decision": "approved",
            "approver": "amoreau", "state": "approved",
            "approvals": {"complete": True, "summary": "complete: a client ops_manager = amoreau"},
        }
    with client(api, "gperrin") as c:  # a project manager cannot give a medium change's approval
        assert c.post("/api/changes/CHG-2026-0402/approve",
                      json={"plan_hash": api["plans"]["b"].plan_hash}).status_code == 403
    with journal_of(api["home"]) as journal:
        check_apply(plan, policy=api["policy"], journal=journal, actor="dnguyen", now=T_NOW)


def test_a_rejection_is_journaled_and_the_guard_refuses_until_re_planned(api):
    plan = api["plans"]["b"]
    with client(api, "amoreau") as c:
        assert c.post("/api/changes/CHG-2026-0402/reject", json={"plan_hash": plan.plan_hash}).status_code == 400
        done = c.post("/api/changes/CHG-2026-0402/reject",
                      json={"plan_hash": plan.plan_hash, "comment": "not before the audit"})
        assert done.status_code == 200
        assert done.json()["decision"] == "rejected"
    with journal_of(api["home"]) as journal:
        events = [e for e in journal.events("CHG-2026-0402") if e.kind == "rejection"]
        assert [e.data["comment"] for e in events] == ["not before the audit"]
        with pytest.raises(GuardRefused, match="rejected by amoreau"):
            check_apply(plan, policy=api["policy"], journal=journal, actor="dnguyen", now=T_NOW)
    again = store(api["home"], api["policy"], medium("CHG-2026-0402", salt="v2", digest=api["policy"].digest))
    with journal_of(api["home"]) as journal, pytest.raises(GuardRefused, match="missing"):
        # Re-planned: the rejection no longer stands, and the new plan needs its own approval.
        check_apply(again, policy=api["policy"], journal=journal, actor="dnguyen", now=T_NOW)


def test_the_cli_reject_command_is_the_same_rejection(api):
    env = {**api["env"], "NETCHANGE_ACTOR": "amoreau"}
    plan = store(api["home"], api["policy"], medium("CHG-2026-0404", digest=api["policy"].digest))
    done = netchange(env, "reject", "CHG-2026-0404", "--comment", "wrong VLAN", "--plan", plan.plan_hash[:12])
    assert done.returncode == 0, done.stderr
    with journal_of(api["home"]) as journal:
        assert [(a.approver, a.decision, a.comment) for a in journal.approvals("CHG-2026-0404")] == [
            ("amoreau", "rejected", "wrong VLAN")
        ]


def test_serve_refuses_a_network_address_without_tls(api):
    done = netchange(api["env"], "serve", "--host", "0.0.0.0", "--port", "18080")
    assert done.returncode == 2
    assert "--tls-cert" in done.stderr and "Traceback" not in done.stderr
    half = netchange(api["env"], "serve", "--tls-cert", "/nonexistent.pem")
    assert half.returncode == 2


def test_users_commands_refuse_unknown_people_and_short_passwords(api):
    assert netchange(api["env"], "users", "token", "mallory").returncode == 2
    short = netchange(api["env"], "users", "set-password", "amoreau", stdin="short\n")
    assert short.returncode == 2
    assert "at least" in short.stderr
