"""``netchange approve`` / ``reject`` / ``show`` / ``list`` through the approval service's JSON API.

The service is the real one (``netchange serve`` on 127.0.0.1, a separate process over its own
home); the CLI runs from another home that has no journal at all, with only the server's URL and
a person's token: every answer it prints and every decision it records is the service's record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netchange.journal.testing import make_plan
from netchange.service.launch import free_port
from netchange.vocabulary import Category
from tests.browser.support import journal_of, make_home, netchange, server, store
from tests.conftest import CliResult
from tests.smtpsink import Received, SmtpServer

Cli = Callable[..., CliResult]
Service = tuple[str, Path, dict[str, str], dict[str, str]]
"""The service's base URL, its home, a token per person, and the environment of its home."""
CHANGE = "CHG-2026-0101"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("service")
    home, policy, env = make_home(tmp)
    # The service mails what is decided through it (its notifier loop, every half second here).
    env.update({"NETCHANGE_SMTP_HOST": "127.0.0.1", "NETCHANGE_SMTP_PORT": str(smtp.port),
                "NETCHANGE_SMTP_SECURITY": "none", "NETCHANGE_BASE_URL": "https://approvals.example.test"})
    (home / "settings.yaml").write_text("mail: {interval: 0.5}\n")
    # A medium change on DOIF, requested by Camille, planned by Dan: Alice (DOIF) may approve it.
    store(home, policy, make_plan(CHANGE, category=Category.MEDIUM, requester="crenard", created_by="dnguyen",
                                  hosts=(("sw-doif-1", "doif"),), policy_digest=policy.digest))
    tokens = {}
    for login in ("amoreau", "bleroy", "dnguyen"):
        made = netchange(env, "users", "token", login, "--label", "cli test")
        assert made.returncode == 0, made.stderr
        tokens[login] = made.stdout.strip()
    with server(env) as base:
        yield base, home, tokens, env


@pytest.fixture
def remote(workspace: Path, monkeypatch: pytest.MonkeyPatch,
           service: Service) -> Callable[[str], None]:
    base = service[0]
    monkeypatch.setenv("NETCHANGE_SERVER_URL", base)

    def as_person(login: str) -> None:
        monkeypatch.setenv("NETCHANGE_API_TOKEN", service[2][login])

    return as_person


def test_list_and_show_read_the_services_record(workspace: Path, remote: Callable[[str], None], cli: Cli,
                                                service: Service) -> None:
    remote("dnguyen")
    listed = cli("list", "--json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    rows = rows["changes"]
    assert [r["change_id"] for r in rows] == [CHANGE] and rows[0]["sites"] == ["doif"]
    assert rows[0]["hosts"] == [{"name": "sw-doif-1"}]
    shown = cli("show", CHANGE, "--json")
    assert shown.code == 0, shown.err
    data = json.loads(shown.out)
    assert data["hosts"][0]["diff"] == "+vlan 42\n+ name users\n"
    # The same documents as the local commands on the service's own home: same models, same keys.
    local = netchange(service[3], "show", CHANGE, "--json")
    assert local.returncode == 0, local.stderr
    here = json.loads(local.stdout)
    for key in ("change_id", "plan_hash", "hosts"):
        assert data[key] == here[key], key
    assert data["hosts"][0]["name"] == "sw-doif-1" and "id" not in data and "hash" not in data["plan"]
    assert set(data) == set(here) and set(data["plan"]) == set(here["plan"])
    local_list = netchange(service[3], "list", "--json")
    assert local_list.returncode == 0, local_list.stderr
    assert json.loads(local_list.stdout)["changes"] == rows
    assert data["state"] in {"planned", "approved"}
    text = cli("show", CHANGE)
    assert text.code == 0 and CHANGE in text.out and "+vlan 42" in text.out and service[0] in text.out
    # This CLI's own home holds no journal: everything came from the service.
    assert not (workspace / "home" / "journal.sqlite").exists()


def test_approve_through_the_service_is_judged_by_the_tokens_person(
        workspace: Path, remote: Callable[[str], None], cli: Cli, service: Service,
        smtp: SmtpServer) -> None:
    home = service[1]
    # Bruno manages DOSO: the service refuses him for a DOIF change (exit 3, one line), whatever
    # NETCHANGE_ACTOR claims on the engineer's machine.
    remote("bleroy")
    refused = cli("approve", CHANGE, actor="amoreau")
    assert refused.code == 3, refused.out + refused.err
    assert "doso only" in refused.err and len(refused.err.strip().splitlines()) == 1
    # A plan hash that is not the current plan is refused before anything is sent.
    remote("amoreau")
    stale = cli("approve", CHANGE, "--plan", "0000beef")
    assert stale.code == 3 and "not the current plan" in stale.err
    # A rejection needs its comment (the service's rule, the CLI's exit 2).
    assert cli("reject", CHANGE).code == 2
    approved = cli("approve", CHANGE, "--comment", "ok for the Tuesday window", "--json")
    assert approved.code == 0, approved.err
    decision = json.loads(approved.out)
    assert (decision["approver"], decision["decision"], decision["state"]) == ("amoreau", "approved", "approved")
    assert decision["approvals_complete"] is True
    # One record: the service's journal has Alice's approval, and `show` through the API says so.
    with journal_of(home) as journal:
        (approval,) = journal.approvals(CHANGE)
        assert (approval.approver, approval.comment) == ("amoreau", "ok for the Tuesday window")
        assert journal.state(CHANGE) == "approved"
    shown = cli("show", CHANGE)
    assert "✓ a client ops_manager: amoreau" in shown.out
    # The service's notifier mails the decision taken through it: requester and plan author.
    deadline = time.monotonic() + 20
    mails: list[Received] = []
    while time.monotonic() < deadline and not any("approved:" in m.subject for m in mails):
        time.sleep(0.2)
        mails += smtp.sink.take()
    approved_mail = next(m for m in mails if f"{CHANGE} approved:" in m.subject)
    assert sorted(approved_mail.rcpt_tos) == ["camille.renard@aquilon.test", "dan.nguyen@provider.test"]
    assert f"https://approvals.example.test/changes/{CHANGE}" in approved_mail.text
    assert "ok for the Tuesday window" in approved_mail.text


def test_a_bad_token_or_a_dead_server_is_one_line(workspace: Path, remote: Callable[[str], None], cli: Cli,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    remote("dnguyen")
    monkeypatch.setenv("NETCHANGE_API_TOKEN", "not-a-token-of-anyone-123")
    refused = cli("list")
    assert refused.code == 2 and "token was refused" in refused.err
    assert "not-a-token-of-anyone-123" not in refused.err + refused.out
    monkeypatch.delenv("NETCHANGE_API_TOKEN")
    missing = cli("list")
    assert missing.code == 2 and "no API token" in missing.err
    monkeypatch.setenv("NETCHANGE_API_TOKEN", "whatever-token-1234")
    monkeypatch.setenv("NETCHANGE_SERVER_URL", f"http://127.0.0.1:{free_port()}")
    dead = cli("approve", CHANGE)
    assert dead.code == 1 and "cannot reach the approval service" in dead.err
    assert "Traceback" not in dead.err and len(dead.err.strip().splitlines()) == 1
    # Under --json the failure is the JSON error document on stdout, with the same exit code.
    for args in (("show", CHANGE, "--json"), ("reject", CHANGE, "--comment", "no", "--json")):
        failed = cli(*args)
        assert failed.code == 1, failed.out + failed.err
        error = json.loads(failed.out)["error"]
        assert (error["type"], error["exit_code"]) == ("ServiceUnavailable", 1)
        assert "cannot reach the approval service" in error["message"]
