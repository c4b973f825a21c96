"""Watching an apply live on the lab (issue 23 item 5), in Chromium: the manager approves in the
browser, ``netchange apply`` runs as its own process against the lab's stand-ins, and the change
page follows it host by host without a reload, to the final state.

The change is the worked example ``changes/examples/03-vlan-and-rule-postcheck-fails.yaml`` (its
own id changed): a VLAN on both DOIF cores and a firewall rule to a port nobody listens on, so the
firewall's post-check fails and all three devices are rolled back. At the end each host's line
reads as its restore, the switches' save beneath it, and the heading says the apply finished with
its outcome, as the script updates it and as the server renders the page loaded again. The state
directory is the test's own (journal, plans, accounts), the devices those of the session's lab
(its ``nornir.yaml`` names its secrets file); ``netchange serve`` is a separate process too,
reading the journal the apply writes.

The apply is stopped (SIGSTOP, at a moment it holds no journal lock) as soon as the change is
``in_progress``, while Chromium opens the page, then continued: on a loaded machine the first
commit must not land before the page is open, or "rows appear without a reload" would prove
nothing. Screenshots ``live-lab.png`` (running) and ``live-lab-finished.png`` go to
``NETCHANGE_SCREENSHOTS`` or the test's temporary directory. The fake-switch version, with the
page without script, is tests/browser/test_live_apply.py.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager
from tests.browser.support import CHROMIUM, PASSWORD, REPO, in_chromium, journal_of, make_home, set_passwords
from tests.integration.lab2_support import freeze_outside_a_transaction

pytestmark = pytest.mark.lab

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

CHANGE = "CHG-2026-2305"
EXAMPLE = REPO / "changes" / "examples" / "03-vlan-and-rule-postcheck-fails.yaml"
HOSTS = ("sw-doif-core1", "sw-doif-core2", "fw-doif-a")


@pytest.fixture
def world(lab: LabManager, tmp_path: Path) -> Iterator[dict[str, Any]]:
    home, _policy, env = make_home(tmp_path)
    env = {**env, "NETCHANGE_NORNIR_CONFIG": str(lab.nornir_config), "COLUMNS": "200"}
    set_passwords(env, "amoreau")
    with in_chromium(env, tmp_path) as (base, browser, shots):
        yield {"base": base, "home": home, "env": env, "browser": browser, "shots": shots, "tmp": tmp_path}


def netchange(env: dict[str, str], *args: str, actor: str = "dnguyen", wait: bool = True) -> Any:
    cmd = [sys.executable, "-m", "netchange", *args]
    env = {**env, "NETCHANGE_ACTOR": actor}
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=REPO, timeout=180)


def state_of(journal: Path, change_id: str) -> str | None:
    # A plain connection, closed each time (as the other lab tests read a journal being written).
    with closing(sqlite3.connect(journal, timeout=10)) as conn:
        row = conn.execute("SELECT state FROM changes WHERE id = ?", (change_id,)).fetchone()
    return None if row is None else str(row[0])


def shoot(page: Any, path: Path) -> None:
    """The page from its top to the end of *Applying now* (the plan's details below are the change page's)."""
    box = page.locator("#live").bounding_box()
    page.screenshot(path=str(path), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280, "height": box["y"] + box["height"] + 16})


def test_the_change_page_follows_an_apply_on_the_lab_to_its_rollback(world: dict[str, Any]) -> None:
    env, base, browser = world["env"], world["base"], world["browser"]
    request = {**yaml.safe_load(EXAMPLE.read_text()), "id": CHANGE}
    path = world["tmp"] / "change.yaml"
    path.write_text(yaml.safe_dump(request))
    planned = netchange(env, "plan", str(path), "--json")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["category"] == "medium"
    assert sorted(h["name"] for h in plan["hosts"] if h["diff"].strip()) == sorted(HOSTS), plan["hosts"]

    # The manager approves in the browser.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/signin")
    page.fill("input[name=login]", "amoreau")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    page.goto(f"{base}/changes/{CHANGE}")
    assert page.locator("#live").count() == 0  # nothing runs yet
    page.fill("textarea[name=comment]", "go")
    page.click("button.approve")
    page.wait_for_url(f"**/changes/{CHANGE}?done=approved")

    # The engineer's apply, its own process, on the lab's devices.
    journal = world["home"] / "journal.sqlite"
    proc: subprocess.Popen[str] = netchange(env, "apply", CHANGE, "--json", wait=False)
    try:
        deadline = time.monotonic() + 120
        while state_of(journal, CHANGE) != "in_progress":
            assert proc.poll() is None, f"apply ended before in_progress: {proc.communicate()}"
            assert time.monotonic() < deadline, "the apply never reached in_progress"
            time.sleep(0.02)
        freeze_outside_a_transaction(proc, journal)
        try:
            page.goto(f"{base}/changes/{CHANGE}")
            live = page.locator("#live")
            assert live.count() == 1 and "finished" not in (live.get_attribute("class") or "")
            page.evaluate("window.notReloaded = true")
            before = page.locator("#live-events tbody tr").count()  # rendered with the page
            names = page.locator("#live-hosts tr[data-host]").evaluate_all("rs => rs.map(r => r.dataset.host)")
            steps = dict(zip(names, page.locator("#live-hosts td.step").all_inner_texts(), strict=True))
            # Each host is read at its turn (issue 27 item 1): at most the canary has begun.
            assert sorted(steps) == sorted(HOSTS), steps
            assert set(steps.values()) <= {"waiting", "running state saved (snapshot)", "commit started"}, steps
            assert list(steps.values()).count("waiting") >= len(HOSTS) - 1, steps
        finally:
            proc.send_signal(signal.SIGCONT)

        # Rows arrive from the server-sent events while the apply runs.
        committed = page.locator("#live-events tr[data-seq]", has_text="committed").filter(has_text="sw-doif-core1")
        committed.first.wait_for(timeout=120_000)
        assert page.locator("#live.finished").count() == 0  # seen while running
        running = page.locator("#live-events tr[data-seq]").count()
        failed = page.locator("#live-events tr[data-seq]", has_text="post-checks failed").filter(has_text="fw-doif-a")
        failed.first.wait_for(timeout=120_000)
        shoot(page, world["shots"] / "live-lab.png")
        page.locator("#live.finished").wait_for(timeout=180_000)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # only on a failure above: never leave the apply behind
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()

    assert proc.returncode == 1, err
    summary = json.loads(out)
    assert summary["outcome"] == "rolled_back"
    assert all(h["restore"]["verified"] for h in summary["hosts"] if h["name"] in HOSTS), summary["hosts"]

    streamed = page.locator("#live-events tr[data-seq]").count()
    assert 0 < running < streamed
    assert page.evaluate("window.notReloaded === true")  # the same page all along
    rows = page.locator("#live-events tbody tr").all_inner_texts()
    assert len(rows) == before + streamed
    by_host = {h: [r.split("\t")[2] for r in rows if f"\t{h}\t" in r] for h in HOSTS}
    for host in HOSTS:
        assert any(r.startswith("committed") for r in by_host[host]), (host, by_host[host])
        assert any(r.startswith("restored") for r in by_host[host]), (host, by_host[host])
    # Each host's line at the top shows its restore, the outcome that matters; the switches save
    # after their restore, and that save is said beneath it, never in its place.
    restored = last_steps(page)
    assert restored == {
        host: ([r for r in by_host[host] if not r.startswith("saved")][-1],
               ["saved: startup = running"] if host.startswith("sw-") else [])
        for host in HOSTS
    }, (restored, by_host)
    assert all(now.startswith("restored (inverse) and verified in ") for now, _ in restored.values()), restored
    assert by_host["sw-doif-core1"][-1] == "saved: startup = running"  # the save came last: not shown as the step
    texts = [r.split("\t")[2] for r in rows]
    assert "device locks taken: fw-doif-a, sw-doif-core1, sw-doif-core2" in texts, texts
    assert texts[-1] == "device locks released: fw-doif-a, sw-doif-core1, sw-doif-core2", texts
    assert not [t for t in texts if "_" in t], texts  # sentences: no kind, state or outcome as snake_case
    assert any(r.startswith("post-checks passed") for r in by_host["sw-doif-core1"])
    assert any(r.startswith("post-checks failed") for r in by_host["fw-doif-a"])
    # Journal order, nothing missed or doubled: the streamed rows are the journal's events since the page.
    seqs = [int(s) for s in page.eval_on_selector_all("#live-events tr[data-seq]", "rs => rs.map(r => r.dataset.seq)")]
    with journal_of(world["home"]) as j:
        events = [e for e in j.events(CHANGE) if e.seq >= seqs[0]]
        assert j.state(CHANGE) == "rolled_back"
    assert seqs == [e.seq for e in events][: len(seqs)]
    ended = [e.seq for e in events if e.kind == "state" and e.data.get("to") == "rolled_back"]
    assert len(ended) == 1 and ended[0] in seqs  # up to the final state, shown
    heading = page.inner_text("#live h2")
    assert heading.startswith("Apply finished: rolled back: post-check failed on fw-doif-a"), heading
    assert "3 device(s) restored and verified" in heading, heading
    assert page.inner_text(".badges .state") == "rolled back"
    shoot(page, world["shots"] / "live-lab-finished.png")

    # Loaded again after the end: the server renders the same outcome, and nothing follows any more.
    page.reload()
    assert page.inner_text("#live h2") == heading
    assert last_steps(page) == restored
    assert page.evaluate("document.scripts.length") == 0
    context.close()


def last_steps(page: Any) -> dict[str, tuple[str, list[str]]]:
    """Each host's line at the top: its step, and what is said beneath it."""
    names = page.locator("#live-hosts tr[data-host]").evaluate_all("rs => rs.map(r => r.dataset.host)")
    cells = page.locator("#live-hosts td.step").all_inner_texts()
    return {name: (cell.splitlines()[0], cell.splitlines()[1:]) for name, cell in zip(names, cells, strict=True)}
