"""apply, rollback and recover through the service, and following the run (issue 25 item 3).

The routes in process (FastAPI's TestClient over ``create_app``): a bearer token is required, an
unknown change is a 404, ``after`` and ``limit`` are bounded, and the service refuses (409, one
line) to start anything unless its runner is Temporal. Temporal itself is replaced here by the
functions the routes call (``start_apply``, ``start_restore``, ``run_status``): who acts is the
token's owner whatever NETCHANGE_ACTOR says. The real workflows: tests/browser/test_api_temporal.py.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from netchange.cli.apiclient import ServiceClient
from netchange.config import Settings
from netchange.journal.testing import make_plan
from netchange.service.accounts import Accounts
from netchange.service.app import create_app
from netchange.vocabulary import Category
from tests.browser.support import NOW, journal_of, make_home, store

with warnings.catch_warnings():
    # Starlette asks for httpx2 behind its TestClient; the project's clients use httpx (a deprecation
    # of Starlette's own, not a behaviour of this code).
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

CHANGE = "CHG-2026-0461"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    home, policy, _env = make_home(tmp_path)
    store(home, policy, make_plan(CHANGE, category=Category.MEDIUM, requester="crenard",
                                  hosts=(("sw-doif-1", "doif"),), policy_digest=policy.digest))
    accounts = Accounts.load(home)
    token = accounts.new_token(policy, "amoreau", label="tests")
    accounts.save()
    monkeypatch.setenv("NETCHANGE_ACTOR", "gperrin")  # plays no part: the token says who acts
    settings = Settings.resolve(home=home, policy=tmp_path / "policy.yaml", now=NOW, lock_dir=tmp_path / "locks")

    def client(runner: str) -> TestClient:
        app = create_app(dataclasses.replace(settings, runner=runner))
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    return {"home": home, "client": client, "token": token}


def test_every_route_needs_a_token(world: dict[str, Any]) -> None:
    api = world["client"]("temporal")
    del api.headers["Authorization"]
    for method, path in (("POST", f"/api/changes/{CHANGE}/recover"), ("POST", f"/api/changes/{CHANGE}/rollback"),
                         ("POST", f"/api/changes/{CHANGE}/apply"), ("GET", f"/api/changes/{CHANGE}/events")):
        answer = api.request(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["exit_code"] == 2
    api.headers["Authorization"] = "Bearer nc_not-a-token"
    assert api.get(f"/api/changes/{CHANGE}/events").status_code == 401


def test_the_in_process_runner_refuses_to_start_anything(world: dict[str, Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import netchange.workflow

    monkeypatch.setattr(netchange.workflow, "start_restore", _never)
    monkeypatch.setattr(netchange.workflow, "start_apply", _never)
    api = world["client"]("inprocess")
    for command, body in (("recover", {}), ("rollback", {"emergency": "outage"}), ("apply", {})):
        answer = api.post(f"/api/changes/{CHANGE}/{command}", json=body)
        assert answer.status_code == 409, answer.text
        error = answer.json()
        assert error["exit_code"] == 3 and "NETCHANGE_RUNNER=temporal" in error["error"]
        assert "\n" not in error["error"]
    # Following still works: the journal is read, no workflow is asked about.
    page = api.get(f"/api/changes/{CHANGE}/events?run=apply").json()
    assert page["run"] is None and page["state"] == "planned"


def test_an_unknown_change_is_a_404_and_nothing_starts(world: dict[str, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import netchange.workflow

    monkeypatch.setattr(netchange.workflow, "start_restore", _never)
    monkeypatch.setattr(netchange.workflow, "start_apply", _never)
    api = world["client"]("temporal")
    for command in ("recover", "rollback", "apply"):
        answer = api.post(f"/api/changes/CHG-2026-9999/{command}", json={})
        assert answer.status_code == 404, answer.text
        assert answer.json()["exit_code"] == 2
    answer = api.get("/api/changes/CHG-2026-9999/events")
    assert answer.status_code == 404 and "no such change" in answer.json()["error"]


def test_recover_and_rollback_start_the_restore_workflow_as_the_token_s_owner(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import netchange.workflow

    started: list[tuple[str, str, str, str | None]] = []

    def start_restore(settings: Settings, policy: Any, actor: Any, change_id: str, *, mode: Any,
                      emergency: str | None = None) -> str:
        started.append((actor.login, change_id, mode.value, emergency))
        return f"restore:{change_id}"

    monkeypatch.setattr(netchange.workflow, "start_restore", start_restore)
    api = world["client"]("temporal")
    with journal_of(world["home"]) as journal:
        last = journal.events(CHANGE)[-1].seq
    answer = api.post(f"/api/changes/{CHANGE}/rollback", json={"emergency": "outage at doif"})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"change_id": CHANGE, "workflow_id": f"restore:{CHANGE}", "after": last}
    assert api.post(f"/api/changes/{CHANGE}/recover", json={}).status_code == 202
    assert started == [("amoreau", CHANGE, "rollback", "outage at doif"), ("amoreau", CHANGE, "recover", None)]
    # A recover takes no option; an unknown field is bad input, nothing started.
    refused = api.post(f"/api/changes/{CHANGE}/recover", json={"emergency": "x"})
    assert refused.status_code == 400 and refused.json()["exit_code"] == 2
    assert len(started) == 2


def test_events_are_paged_after_a_sequence_number_in_the_page_s_words(world: dict[str, Any]) -> None:
    api = world["client"]("inprocess")
    every = api.get(f"/api/changes/{CHANGE}/events").json()
    assert every["more"] is False and every["locks_held"] is False and every["end"] is not None
    seqs = [e["seq"] for e in every["events"]]
    assert len(seqs) >= 2 and seqs == sorted(seqs)
    assert any(e["kind"] == "plan_recorded" and e["text"].startswith("planned: plan ") for e in every["events"])
    first = api.get(f"/api/changes/{CHANGE}/events?after=0&limit=1").json()
    assert [e["seq"] for e in first["events"]] == seqs[:1] and first["more"] is True and first["after"] == seqs[0]
    rest = api.get(f"/api/changes/{CHANGE}/events?after={first['after']}&limit=500").json()
    assert [e["seq"] for e in rest["events"]] == seqs[1:]
    empty = api.get(f"/api/changes/{CHANGE}/events?after={seqs[-1]}").json()
    assert empty["events"] == [] and empty["after"] == seqs[-1]
    for query in ("after=-1", f"after={2**63}", "after=x", "limit=0", "limit=501", "run=plan"):
        answer = api.get(f"/api/changes/{CHANGE}/events?{query}")
        assert answer.status_code == 400, (query, answer.text)
        assert answer.json()["exit_code"] == 2


def test_events_say_where_the_workflow_stands(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import netchange.workflow
    from netchange.errors import EngineUnavailable

    asked: list[str] = []
    answers: Iterator[dict[str, Any] | Exception | None] = iter([{"status": "running"},
                    {"status": "failed", "error": "guard refused: not approved", "exit_code": 3,
                     "type": "GuardRefused"},
                    None, EngineUnavailable("Temporal at 127.0.0.1:7233 is unreachable")])

    def run_status(settings: Settings, wid: str) -> dict[str, Any] | None:
        asked.append(wid)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(netchange.workflow, "run_status", run_status)
    api = world["client"]("temporal")
    assert api.get(f"/api/changes/{CHANGE}/events?run=apply").json()["run"] == {
        "workflow_id": f"apply:{CHANGE}", "status": "running"}
    failed = api.get(f"/api/changes/{CHANGE}/events?run=restore").json()["run"]
    assert failed["status"] == "failed" and failed["exit_code"] == 3
    assert api.get(f"/api/changes/{CHANGE}/events?run=apply").json()["run"] is None
    assert api.get(f"/api/changes/{CHANGE}/events").json()["run"] is None  # not asked without run=
    # Temporal unreachable while a run goes on: not a refusal (exit 1), a follower reads again.
    unreachable = api.get(f"/api/changes/{CHANGE}/events?run=apply")
    assert unreachable.status_code == 503 and unreachable.json()["exit_code"] == 1
    assert asked == [f"apply:{CHANGE}", f"restore:{CHANGE}", f"apply:{CHANGE}", f"apply:{CHANGE}"]


def _never(*args: object, **kwargs: object) -> str:
    raise AssertionError("nothing may be started")


@pytest.mark.parametrize("command", ["apply", "rollback", "recover"])
def test_an_unreachable_service_is_one_line_and_exit_1(tmp_path: Path, command: str) -> None:
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
    env.update(NETCHANGE_HOME=str(tmp_path), NETCHANGE_SERVER_URL=f"http://127.0.0.1:{port}",
               NETCHANGE_API_TOKEN="nc_secret-token-value")
    done = subprocess.run([sys.executable, "-m", "netchange", command, CHANGE], env=env, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot reach the approval service" in done.stderr and "secret-token-value" not in done.stderr


def _service(pages: list[tuple[int, dict[str, Any]]], asked: list[str]) -> Any:
    """A stand-in service: the start answers 202 after event 7; each read of the events the next page."""
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        if request.method == "POST":
            return httpx.Response(202, json={"change_id": CHANGE, "workflow_id": f"apply:{CHANGE}", "after": 7})
        status, body = pages.pop(0)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def _page(seqs: list[int], run: dict[str, Any] | None, *, more: bool = False) -> dict[str, Any]:
    events = [{"seq": n, "at": "", "host": "sw-doif-1", "kind": "committed", "text": f"step {n}", "tone": "",
               "secondary": False} for n in seqs]
    return {"change_id": CHANGE, "state": "in_progress", "events": events, "after": seqs[-1] if seqs else 0,
            "more": more, "locks_held": True, "end": None, "run": run}


def _follow(monkeypatch: pytest.MonkeyPatch, pages: list[tuple[int, dict[str, Any]]],
            capsys: pytest.CaptureFixture[str]) -> tuple[Any, list[str], str]:
    from netchange.cli import remoterun
    from netchange.config import ServerSettings

    asked: list[str] = []
    transport = _service(pages, asked)
    monkeypatch.setattr(remoterun, "POLL", 0.0)
    monkeypatch.setattr(remoterun, "ServiceClient", lambda server: ServiceClient(server, transport=transport))
    server = ServerSettings(url="http://service.test", token="nc_test-token")
    try:
        outcome: Any = remoterun.apply(server, CHANGE, emergency=None, revert_in=300, quiet=False, json_lines=False)
    except Exception as exc:
        outcome = exc
    return outcome, asked, capsys.readouterr().out

COMPLETED = {"status": "completed", "result": {
    "change_id": CHANGE, "outcome": "completed", "interrupted": False, "alarms": [], "warnings": [], "timings": {},
    "hosts": [{"host": "sw-doif-1", "status": "done", "post_checks": [{"name": "ping", "passed": True}]}]}}


def test_the_cli_follows_every_page_until_the_workflow_closed(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    pages = [
        (200, _page([8, 9], {"status": "running"}, more=True)),  # more written already: read on at once
        (200, _page([10], {"status": "running"})),
        (503, {"error": "Temporal at 127.0.0.1:7233 is unreachable", "exit_code": 1}),  # a blip: read again
        (200, _page([11, 12], COMPLETED)),
    ]
    outcome, asked, printed = _follow(monkeypatch, pages, capsys)
    assert not isinstance(outcome, Exception), outcome
    assert outcome.outcome == "completed" and outcome.exit_code == 0
    assert outcome.hosts["sw-doif-1"].post_checks == [{"name": "ping", "passed": True}]
    assert asked == [f"POST /api/changes/{CHANGE}/apply?"] + [
        f"GET /api/changes/{CHANGE}/events?after={n}&run=apply" for n in (7, 9, 10, 10)]
    steps = [line.strip() for line in printed.splitlines()[1:]]
    assert steps == [f"sw-doif-1: step {n}" for n in (8, 9, 10, 11, 12)]  # each once, in order


def test_a_failed_workflow_is_its_error_with_its_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from netchange.errors import GuardRefused

    failed = {"status": "failed", "error": f"{CHANGE} refused: approvals missing", "exit_code": 3,
              "type": "GuardRefused"}
    outcome, _, _ = _follow(monkeypatch, [(200, _page([8], failed))], capsys)
    assert isinstance(outcome, GuardRefused) and str(outcome) == f"{CHANGE} refused: approvals missing"
    # A service whose runner is not Temporal any more (no run to follow): one line, exit 1.
    outcome, _, _ = _follow(monkeypatch, [(200, _page([8], None))], capsys)
    assert type(outcome).__name__ == "ServiceUnavailable" and "NETCHANGE_RUNNER" in str(outcome)
