"""Watching an apply live in Chromium: the change page follows a running apply host by host.

The apply is the engine's own (``netchange.apply.Applier``, recorded by ``JournalRecorder`` as
``netchange apply`` records it) on four fake switches (tests/fakedriver.py: stateful, and sw3's
post-check fails), run in a thread of the test against the journal behind a real ``netchange
serve``; a pacing observer after the journal's makes each step last a moment, as a device would.
The events the page shows come from the engine, not from the test. The page is opened once the
change is in progress and never reloaded: rows appear from the server-sent events (a marker set
in the page survives to the end). A second page without JavaScript reloads itself instead.

The fake switches keep no startup configuration, so nothing is saved there; the second test
journals what ``netchange apply`` journals on the lab (locks, snapshots, commits, a failed
post-check, restores each followed by a save) while Chromium holds the page: a host's step is its
restore with the save beneath it, the heading says the apply finished, with its outcome, both as
the script updates it and once the page is loaded again after the end.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.apply import Applier, HostStatus, JournalRecorder, RunEvent
from netchange.inventory import load_nornir
from netchange.journal import EventKind, State
from netchange.journal.testing import make_plan
from netchange.models import ChangeRequest
from netchange.plan import build_plan
from netchange.rollback import SnapshotStore
from netchange.service import live
from netchange.vocabulary import Category
from tests import fakedriver
from tests.browser.support import CHROMIUM, PASSWORD, in_chromium, journal_of, make_home, set_passwords, store
from tests.mockdev import SWITCH_RUNNING

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

CHANGE = "CHG-2026-0400"
HOSTS = ("sw1", "sw2", "sw3", "sw4")
UNTOUCHED = "not changed: the run ended before its commit"
PACE = 0.35
"""Seconds each journaled step lasts (a real device takes longer)."""


class Pace:
    """An apply observer after the journal's: each recorded fact takes a moment."""

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        time.sleep(PACE)

    def host_status(self, host: str, status: HostStatus, detail: str) -> None:
        return None

    def message(self, text: str) -> None:
        return None


def inventory(tmp: Path) -> Path:
    hosts = {
        name: {
            "hostname": "127.0.0.1", "platform": "fake", "groups": ["doif"],
            "username": "netops", "password": "fake-device-pw",
            "data": {"role": "switch", "site": "doif", "syntax": "ios"},
            "connection_options": {"netchange": {"extras": {"optional_args": {
                "device": name, **({"hide_vlan": 20} if name == "sw3" else {})}}}},
        }
        for name in HOSTS
    }
    (tmp / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (tmp / "groups.yaml").write_text(yaml.safe_dump({"doif": {}}))
    (tmp / "defaults.yaml").write_text("data: {}\n")
    cfg = tmp / "nornir.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(tmp / "hosts.yaml"), "group_file": str(tmp / "groups.yaml"),
            "defaults_file": str(tmp / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}},
        "logging": {"enabled": False}}))
    return cfg


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("live")
    home, policy, env = make_home(tmp)
    set_passwords(env, "amoreau")
    with in_chromium(env, tmp) as (base, browser, shots):
        yield {"base": base, "home": home, "policy": policy, "browser": browser, "shots": shots, "tmp": tmp}


def sign_in(world: dict[str, Any], *, javascript: bool = True) -> Any:
    context = world["browser"].new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(world["base"] + "/signin")
    page.fill("input[name=login]", "amoreau")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def test_the_change_page_follows_a_running_apply_host_by_host(world: dict[str, Any]) -> None:
    home, policy = world["home"], world["policy"]
    in_progress, page_open, done = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    with fakedriver.fake_platform():
        fakedriver.reset(dict.fromkeys(HOSTS, SWITCH_RUNNING))
        cfg = inventory(world["tmp"])
        request = ChangeRequest.model_validate({
            "id": CHANGE, "title": "Servers VLAN 20 on the access switches", "ticket": "INC-4242",
            "requester": "crenard", "rollout": {"canary": 1, "batch_size": 2},
            "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
        })
        plan = build_plan(request, load_nornir(cfg), actor="dnguyen", policy_version="2026.7-lab",
                          policy_digest=policy.digest, requirements=policy.requirements)
        assert plan.ok, [h.error for h in plan.hosts]
        store(home, policy, plan)
        with journal_of(home) as journal:
            journal.add_approval(CHANGE, plan.plan_hash, approver="amoreau", organisation="client",
                                 roles=("requester", "ops_manager"), decision="approved", comment="go tonight",
                                 policy_digest=policy.digest)
            journal.set_state(CHANGE, State.APPROVED, actor="amoreau", reason="approvals complete")

        def apply() -> None:
            # As netchange.pipeline.apply_change runs it: prepare, in_progress, rollout, the outcome.
            try:
                with journal_of(home) as journal:
                    applier = Applier(plan, load_nornir(cfg), snapshots=SnapshotStore(world["tmp"] / "snap"),
                                      actor="dnguyen", observers=[JournalRecorder(journal, CHANGE, "dnguyen"), Pace()])
                    try:
                        applier.prepare()
                        journal.set_state(CHANGE, "in_progress", actor="dnguyen", reason="apply")
                        in_progress.set()
                        assert page_open.wait(60)
                        outcome = applier.rollout()
                        journal.set_state(CHANGE, outcome.outcome.value, actor="dnguyen", reason="post-check failed")
                    finally:
                        applier.close()
            except BaseException as exc:
                failures.append(exc)
            finally:
                in_progress.set()
                done.set()

        worker = threading.Thread(target=apply, daemon=True)
        worker.start()
        assert in_progress.wait(60) and not failures, failures

        # Without script: the page reloads itself while the apply runs (<noscript> meta refresh).
        plain = sign_in(world, javascript=False)
        plain.goto(f"{world['base']}/changes/{CHANGE}")
        assert plain.locator("#live").count() == 1
        loads: list[str] = []
        plain.on("load", lambda: loads.append(plain.url))

        page = sign_in(world)
        page.goto(f"{world['base']}/changes/{CHANGE}")
        live = page.locator("#live")
        assert live.count() == 1 and "finished" not in (live.get_attribute("class") or "")
        assert page.evaluate("document.querySelectorAll('script[src=\"/static/live.js\"]').length") == 1
        assert page.evaluate("[...document.scripts].every(s => s.src)")  # no inline script
        page.evaluate("window.notReloaded = true")
        before = page.locator("#live-events tbody tr").count()  # what the page was rendered with
        # prepare() opened the sessions and read nothing: each host is read at its turn (issue 27)
        assert page.locator("#live-hosts td.step").all_inner_texts() == ["waiting"] * 4
        page_open.set()

        # Each host's steps appear while the apply runs, without a reload.
        sw1_committed = page.locator("#live-events tr[data-seq]", has_text="committed").filter(has_text="sw1")
        sw1_committed.first.wait_for(timeout=30_000)
        assert page.locator("#live.finished").count() == 0  # seen while running
        assert page.inner_text("#live h2").startswith("Applying now")
        running = page.locator("#live-events tr[data-seq]").count()
        page.locator("#live-events tr[data-seq]", has_text="post-checks failed").filter(has_text="sw3").first.wait_for(
            timeout=30_000)
        page.screenshot(path=str(world["shots"] / "live.png"), full_page=True)
        page.locator("#live.finished").wait_for(timeout=60_000)
        assert done.wait(30) and not failures, failures
        streamed = page.locator("#live-events tr[data-seq]").count()
        assert 0 < running < streamed
        assert page.evaluate("window.notReloaded === true")

        rows = page.locator("#live-events tbody tr").all_inner_texts()
        assert len(rows) == before + streamed
        by_host = {h: [r for r in rows if f"\t{h}\t" in r] for h in HOSTS}
        for host in ("sw1", "sw2"):
            texts = " | ".join(by_host[host])
            assert "committed" in texts and "post-checks passed" in texts and "restored" in texts, texts
        assert "post-checks failed" in " | ".join(by_host["sw3"])
        assert "restored" in " | ".join(by_host["sw3"])
        assert not any("commit" in r for r in by_host["sw4"])  # stopped before the last batch
        assert page.inner_text("#live-hosts tr[data-host=sw4] td.step") == UNTOUCHED
        # Journal order, no duplicate: the rows' sequence numbers strictly increase.
        seqs = [int(s) for s in page.eval_on_selector_all("#live-events tr[data-seq]",
                                                          "rs => rs.map(r => r.dataset.seq)")]
        assert seqs == sorted(set(seqs))
        with journal_of(home) as journal:
            journaled = [e.seq for e in journal.events(CHANGE) if e.seq > seqs[0] - 1]
            assert journal.state(CHANGE) == "rolled_back"
        assert seqs == journaled[: len(seqs)] and seqs[-1] == journaled[-1]
        heading = page.inner_text("#live h2")
        assert heading.startswith("Apply finished: rolled back: post-check failed on sw3"), heading
        for host in ("sw1", "sw2", "sw3"):  # each host's step is its restore, with how long it took
            step = page.locator(f"#live-hosts tr[data-host={host}] td.step").inner_text()
            assert re.fullmatch(r"restored \(inverse\) and verified in \d+(\.\d+)? s", step), (host, step)
        assert page.inner_text(".badges .state") == "rolled back"  # the state badge follows too
        page.screenshot(path=str(world["shots"] / "live-finished.png"), full_page=True)

        # The page without script reloaded by itself; once the change is over it says so and stops.
        plain.locator("#live.finished").wait_for(timeout=15_000)
        assert plain.inner_text("#live h2").startswith("Apply finished: rolled back: post-check failed on sw3")
        assert plain.inner_text("#live-hosts tr[data-host=sw4] td.step") == UNTOUCHED
        assert plain.locator("noscript").count() == 0  # no refresh any more
        # It reloaded by itself (no one navigated it): at least the reload that saw the end; how many
        # more while running depends on how long the apply lasts against the 5 s refresh.
        assert len(loads) >= 1 and all(url == loads[0] for url in loads)

        # The stream of a change no longer in progress ends at once with its outcome (bounded).
        started = time.monotonic()
        answer = page.request.get(f"{world['base']}/changes/{CHANGE}/live?after={seqs[-1]}")
        assert time.monotonic() - started < 5
        assert answer.status == 200 and answer.headers["content-type"].startswith("text/event-stream")
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert "event: end" in answer.text() and "rolled_back" in answer.text()
        assert "event: line" not in answer.text()
        page.context.close()
        plain.context.close()
        worker.join(10)


SAVING = "CHG-2026-0401"
LAB_HOSTS = ("sw-doif-core1", "sw-doif-core2", "fw-doif-a")


def test_after_a_rollback_a_host_shows_its_restore_and_the_page_says_the_apply_finished(
    world: dict[str, Any],
) -> None:
    home, policy = world["home"], world["policy"]
    plan = store(home, policy, make_plan(SAVING, category=Category.MEDIUM, policy_digest=policy.digest,
                                         hosts=tuple((h, "doif") for h in LAB_HOSTS)))
    with journal_of(home) as journal:
        journal.add_approval(SAVING, plan.plan_hash, approver="amoreau", organisation="client",
                             roles=("requester", "ops_manager"), decision="approved", comment="go",
                             policy_digest=policy.digest)
        journal.set_state(SAVING, State.APPROVED, actor="amoreau", reason="approvals complete")
        # What netchange apply journals before the rollout (netchange/pipeline.py, apply/_applier.py).
        journal.event(SAVING, EventKind.GUARD, actor="dnguyen", data={"allowed": True, "action": "apply",
                                                               "reasons": ["all checks passed"]})
        journal.acquire_locks(SAVING, LAB_HOSTS, actor="dnguyen")
        journal.event(SAVING, EventKind.APPLY_STARTED, actor="dnguyen", data={"plan_hash": plan.plan_hash,
                                                                       "hosts": list(LAB_HOSTS)})
        journal.set_state(SAVING, State.IN_PROGRESS, actor="dnguyen", reason="apply")

    page = sign_in(world)
    page.goto(f"{world['base']}/changes/{SAVING}")
    assert page.inner_text("#live h2").startswith("Applying now")
    page.evaluate("window.notReloaded = true")

    def journal_now(*events: tuple[EventKind, str | None, dict[str, Any]]) -> None:
        with journal_of(home) as journal:
            for kind, host, data in events:
                journal.event(SAVING, kind, actor="dnguyen", host=host, data=data)

    def step(host: str) -> tuple[list[str], str]:
        """The host's step as it reads (the step, then the save beneath it), and its cell's classes."""
        cell = page.locator(f"#live-hosts tr[data-host={host}] td.step")
        return cell.inner_text().splitlines(), cell.get_attribute("class") or ""

    saved = {"startup_equals_running": True}
    for host in LAB_HOSTS[:2]:  # each host read at its turn: its snapshot, then its commit (issue 27)
        journal_now((EventKind.SNAPSHOT, host, {"sha": "0" * 64}),
                    (EventKind.COMMIT_STARTED, host, {"confirmed": False}), (EventKind.COMMITTED, host, {}),
                    (EventKind.POST_CHECKS, host, {"checks": [{"name": "vlan 42 active", "passed": True}]}),
                    (EventKind.CONFIRMED, host, {}), (EventKind.SAVED, host, saved))
    saved_rows = page.locator("#live-events tr[data-seq]", has_text="saved: startup = running")
    saved_rows.filter(has_text="sw-doif-core2").wait_for(timeout=20_000)
    # A change confirmed and saved: the confirmation, the save beneath it.
    assert step("sw-doif-core1") == (["confirmed", "saved: startup = running"], "step ")
    journal_now((EventKind.SNAPSHOT, "fw-doif-a", {"sha": "0" * 64}),
                (EventKind.COMMIT_STARTED, "fw-doif-a", {"confirmed": False}), (EventKind.COMMITTED, "fw-doif-a", {}),
                (EventKind.POST_CHECKS, "fw-doif-a", {"checks": [{"name": "port 9999 opens", "passed": False,
                                                          "detail": "connection failed"}]}),
                (EventKind.HOST_FAILED, "fw-doif-a",
                 {"error": "post-check failed: port 9999 opens: connection failed"}))
    for host, seconds in (("sw-doif-core1", 0.77), ("sw-doif-core2", 0.815)):
        journal_now((EventKind.ROLLBACK_STARTED, host, {}),
                    (EventKind.ROLLBACK_VERIFIED, host, {"strategies": ["inverse"], "seconds": seconds}),
                    (EventKind.SAVED, host, saved))
    journal_now((EventKind.ROLLBACK_STARTED, "fw-doif-a", {}),
                (EventKind.ROLLBACK_VERIFIED, "fw-doif-a", {"strategies": ["inverse"], "seconds": 1.288}),
                (EventKind.APPLY_FINISHED, None, {"outcome": "rolled_back", "failed": ["fw-doif-a"], "alarms": [],
                                          "left_changed": []}))
    with journal_of(home) as journal:
        journal.set_state(SAVING, State.ROLLED_BACK, actor="dnguyen",
                          reason="fw-doif-a: post-check failed: port 9999 opens: connection failed")
    # netchange apply releases its locks in the transaction after its final state: a stream that
    # reads in between must wait for that last line rather than end without it.
    page.locator("#live-events tr[data-kind=state]").last.wait_for(timeout=20_000)
    time.sleep(4 * live.POLL)
    assert page.locator("#live.finished").count() == 0
    with journal_of(home) as journal:
        journal.release_locks(SAVING, LAB_HOSTS, actor="dnguyen")
    page.locator("#live.finished").wait_for(timeout=30_000)
    page.locator("#live-events tr[data-kind=locks_released]").wait_for(timeout=10_000)

    def finished_page(how: str) -> None:
        # What a person reads: the restore, verified, with the save as a detail beneath it.
        for host in LAB_HOSTS[:2]:
            (now, *beneath), classes = step(host)
            assert now.startswith("restored (inverse) and verified in 0.") and "good" in classes, (how, host, now)
            assert beneath == ["saved: startup = running"], (how, host, beneath)
        assert step("fw-doif-a") == (["restored (inverse) and verified in 1.288 s"], "step good"), how
        heading = page.inner_text("#live h2")
        assert heading.startswith("Apply finished: rolled back: post-check failed on fw-doif-a: port 9999 opens"), (
            how, heading)
        assert "3 device(s) restored and verified" in heading, (how, heading)
        assert "Applying" not in heading, (how, heading)
        assert "bad" in (page.get_attribute("#live-status", "class") or ""), how
        rows = page.locator("#live-events tbody tr td:last-child").all_inner_texts()
        assert "device locks taken: fw-doif-a, sw-doif-core1, sw-doif-core2" in rows, (how, rows)
        assert rows[-1] == "device locks released: fw-doif-a, sw-doif-core1, sw-doif-core2", (how, rows)
        assert not [r for r in rows if "_" in r], (how, rows)  # no kind, state or outcome as snake_case
        assert page.inner_text(".badges .state") == "rolled back", how

    finished_page("updated by live.js")
    assert page.evaluate("window.notReloaded === true")
    page.reload()
    finished_page("rendered after the end")
    assert page.evaluate("document.scripts.length") == 0  # nothing left to follow
    assert page.locator("noscript").count() == 0
    page.screenshot(path=str(world["shots"] / "live-finished-reloaded.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280,
                          "height": page.locator("#live").bounding_box()["y"]
                          + page.locator("#live").bounding_box()["height"] + 16})
    page.context.close()


def test_the_stream_needs_a_session_and_a_known_change(world: dict[str, Any]) -> None:
    context = world["browser"].new_context()
    answer = context.request.get(f"{world['base']}/changes/{CHANGE}/live", max_redirects=0)
    assert answer.status == 303 and answer.headers["location"].endswith("/signin")
    page = sign_in(world)
    assert page.request.get(f"{world['base']}/changes/CHG-2026-9999/live").status == 404
    assert page.request.get(f"{world['base']}/changes/{CHANGE}/live?after=-1").status == 400
    page.context.close()
    context.close()
