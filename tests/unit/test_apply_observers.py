"""The applier reports; the journal and the live progress subscribe (issue 12, item 2).

The applier writes and prints nothing itself: a run with no journal and no progress at all still
tells everything to whoever subscribes, the journal's record is exactly what was reported, and a
fact that must be on disk before a device is touched (``commit_started``) is reported as such
before the commit reaches the device.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from netchange.apply import Applier, HostStatus, JournalRecorder, RunEvent
from netchange.inventory import load_nornir
from netchange.journal import Journal
from netchange.plan import build_plan
from netchange.rollback import SnapshotStore
from tests import fakedriver
from tests.mockdev import SWITCH_RUNNING
from tests.unit import test_apply

REPO = Path(__file__).resolve().parents[2]


class Watcher:
    """Subscribes like the journal and the progress do; remembers everything, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[RunEvent, bool]] = []
        self.statuses: list[tuple[str, HostStatus, str]] = []
        self.messages: list[str] = []
        self.seen: list[str] = []
        """Reports and device commits interleaved, as they happened."""

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        self.events.extend((e, durable) for e in events)
        self.seen.extend(f"{e.kind} {e.host}" for e in events)

    def host_status(self, host: str, status: HostStatus, detail: str) -> None:
        self.statuses.append((host, status, detail))

    def message(self, text: str) -> None:
        self.messages.append(text)


@pytest.fixture(autouse=True)
def fake_platform() -> Iterator[None]:
    with fakedriver.fake_platform():
        yield


def _applier(tmp_path: Path, faults: dict | None = None, **kwargs: object) -> Applier:
    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, test_apply.N + 1)})
    cfg = test_apply.inventory(tmp_path, faults)
    plan = build_plan(test_apply.change(), load_nornir(cfg), actor="dnguyen", policy_version="t",
                      requirements=lambda c: [])
    return Applier(plan, load_nornir(cfg), snapshots=SnapshotStore(tmp_path / "snap"), actor="dnguyen",
                   **kwargs)  # type: ignore[arg-type]


def test_a_run_without_journal_or_progress_tells_its_subscribers_everything(tmp_path: Path) -> None:
    watcher = Watcher()
    applier = _applier(tmp_path, {"sw3": {"fail_commit": True}}, observers=[watcher])
    applier.prepare()
    outcome = applier.rollout()
    applier.close()
    assert outcome.outcome == "rolled_back"
    kinds = [e.kind for e, _ in watcher.events if e.host == "sw3"]
    assert kinds == ["snapshot", "commit_started", "host_failed", "rollback_started", "rollback_verified"]
    assert ("sw3", HostStatus.FAILED) in [(h, s) for h, s, _ in watcher.statuses]
    assert [s for h, s, _ in watcher.statuses if h == "sw3"][-1] is HostStatus.RESTORED
    assert [e.kind for e, _ in watcher.events][-1] == "apply_finished"


def test_the_journal_holds_exactly_what_was_reported(tmp_path: Path) -> None:
    watcher = Watcher()
    journal = Journal(tmp_path / "journal.sqlite")
    applier = _applier(tmp_path, {"sw2": {"reject_line": "name servers"}}, observers=[watcher])
    journal.record_plan(applier.plan, actor="dnguyen")
    applier.observers.subscribe(JournalRecorder(journal, applier.plan.change.id, "dnguyen"))
    applier.prepare()
    applier.rollout()
    applier.close()
    events = journal.events("CHG-2026-0100")
    first = next(i for i, e in enumerate(events) if e.kind == "apply_started")
    recorded = [(e.kind, e.host, e.data or None) for e in events[first:]]
    assert recorded == [(e.kind, e.host, e.data or None) for e, _ in watcher.events]
    assert journal.verify() == []


def test_commit_started_is_reported_durably_before_the_device_commits(tmp_path: Path) -> None:
    watcher = Watcher()
    original = fakedriver.FakeDriver.commit_config

    def commit(self: fakedriver.FakeDriver, message: str = "", revert_in: int | None = None) -> None:
        watcher.seen.append(f"device commit {self.name}")
        original(self, message, revert_in)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fakedriver.FakeDriver, "commit_config", commit)
        applier = _applier(tmp_path, observers=[watcher])
        applier.prepare()
        applier.rollout()
        applier.close()
    for i in range(1, test_apply.N + 1):
        assert watcher.seen.index(f"commit_started sw{i}") < watcher.seen.index(f"device commit sw{i}")
    durable = {e.kind: d for e, d in watcher.events}
    assert durable["commit_started"] is True and durable["snapshot"] is True
    assert durable["confirmed"] is False  # recovery does without: one sync per host, not four


def test_the_applier_neither_writes_the_journal_nor_prints() -> None:
    tree = ast.parse((REPO / "netchange" / "apply" / "_applier.py").read_text(encoding="utf-8"))
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    calls |= {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & {"event", "event_batch", "set_state", "print"}
    held = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "self"}
    assert not held & {"journal", "progress"}
