"""A commit refused by the driver's re-read (another hand, issue 21 item 3): drift, nothing changed
on that host. The journal says ``commit_refused`` with the lines, the host is not counted as
changed (no restore, not ``left_changed``), the hosts changed before it are still rolled back,
``recover`` leaves it alone, and the change ends as the README says of drift: exit 3 when nothing
was changed anywhere (as at prepare time), else a failed attempt rolled back (exit 1).

Against the engine's fake device (tests/fakedriver.py, fault ``changed_meanwhile``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netchange.drivers.errors import ChangedMeanwhile
from netchange.journal import Journal
from netchange.rollback.recover import last_apply
from tests import fakedriver
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING
from tests.unit.test_apply import back_to_snapshot, kinds, run
from tests.unit.test_apply import inventory as fake_inventory
from tests.unit.test_cli_locks import TUESDAY_1930, write_change

HAND = "vlan 777"
Cli = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def fake_platform() -> Iterator[None]:
    with fakedriver.fake_platform():
        yield


def _events(journal: Journal, kind: str, host: str | None = None) -> list[Any]:
    return [e for e in journal.events("CHG-2026-0100") if e.kind == kind and (host is None or e.host == host)]


def test_a_refused_canary_is_drift_nothing_changed_exit_3(tmp_path: Path) -> None:
    _, outcome, journal = run(tmp_path, faults={"sw1": {"changed_meanwhile": HAND}})
    sw1 = outcome.hosts["sw1"]
    assert sw1.failure is not None and sw1.failure.is_a(ChangedMeanwhile) and sw1.drifted
    assert sw1.commit_refused and not sw1.commit_started and not sw1.committed
    assert sw1.restore is None  # nothing written: nothing to restore
    assert outcome.outcome == "rolled_back" and outcome.alarms == []
    assert outcome.refused_for_drift and outcome.exit_code == 3
    assert kinds(journal, "sw1") == ["snapshot", "commit_started", "commit_refused", "host_failed"]
    refused = _events(journal, "commit_refused", "sw1")[0].data
    assert refused["lines"] == [f"+{HAND}"] and "commit refused, nothing written" in refused["error"]
    finished = _events(journal, "apply_finished")[0].data
    assert finished["left_changed"] == [] and finished["alarms"] == [] and finished["commit_refused"] == ["sw1"]
    assert fakedriver.running_of("sw1").strip() == (SWITCH_RUNNING.strip() + "\n" + HAND)  # the hand's line stays
    assert "discard_config" in fakedriver.CALLS["sw1"]
    assert all(outcome.hosts[h].status == "skipped" for h in ("sw2", "sw3", "sw4"))
    assert back_to_snapshot("sw2", "sw3", "sw4")
    touched = last_apply(journal.events("CHG-2026-0100"))["sw1"]
    assert touched.commit_refused and not touched.commit_started
    assert journal.verify() == []


def test_a_refused_later_host_is_not_restored_and_the_canary_is_rolled_back(tmp_path: Path) -> None:
    _, outcome, journal = run(tmp_path, faults={"sw2": {"changed_meanwhile": HAND}}, workers=1)
    assert outcome.outcome == "rolled_back" and outcome.alarms == []
    assert not outcome.refused_for_drift and outcome.exit_code == 1  # the canary was changed: a failed attempt
    assert outcome.hosts["sw1"].restore is not None and outcome.hosts["sw1"].restore.verified
    assert "rollback_verified" in kinds(journal, "sw1")
    assert outcome.hosts["sw2"].restore is None
    assert not ({"rollback_verified", "rollback_failed"} & set(kinds(journal, "sw2")))
    assert "commit_refused" in kinds(journal, "sw2")
    assert _events(journal, "apply_finished")[0].data["left_changed"] == []
    assert back_to_snapshot("sw1", "sw3", "sw4")
    assert HAND in fakedriver.running_of("sw2") and "vlan 20" not in fakedriver.running_of("sw2")


def test_last_apply_forgets_a_commit_started_refused_after(tmp_path: Path) -> None:
    # A crash right after commit_refused (before the host's outcome and apply_finished): recover
    # reads the journal up to there.
    _, _, journal = run(tmp_path, faults={"sw1": {"changed_meanwhile": HAND}})
    events = journal.events("CHG-2026-0100")
    cut = next(i for i, e in enumerate(events) if e.kind == "commit_refused") + 1
    touched = last_apply(events[:cut])["sw1"]
    assert (touched.commit_started, touched.commit_refused, touched.snapshot != "") == (False, True, True)
    before = last_apply(events[:cut - 1])["sw1"]  # killed before it was journaled: restored (and alarmed)
    assert before.commit_started and not before.commit_refused


def test_cli_apply_exits_3_and_recover_leaves_the_refused_host_alone(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, runner: str) -> None:
    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, 5)})
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG",
                       str(fake_inventory(workspace, {"sw1": {"changed_meanwhile": HAND}})))
    assert cli("plan", write_change(workspace, "CHG-2026-0043"), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0043", actor="amoreau").code == 0
    applied = cli("apply", "CHG-2026-0043", actor="dnguyen", now=TUESDAY_1930)
    assert applied.code == 3, applied.err + applied.out
    assert "ALARM" not in applied.err + applied.out
    assert "nothing was changed on any host; plan again" in applied.err + applied.out
    with Journal(workspace / "home" / "journal.sqlite") as journal:
        assert journal.state("CHG-2026-0043") == "rolled_back"
        assert journal.locks() == []
    # The canary changed (sw2 refused) and its restore broken: an alarm; recover, once the device
    # answers, restores the canary and leaves the refused host and its other hand alone.
    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, 5)})
    faults: dict[str, dict[str, Any]] = {"sw1": {"broken_rollback": True}, "sw2": {"changed_meanwhile": HAND}}
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, faults)))
    assert cli("plan", write_change(workspace, "CHG-2026-0044"), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0044", actor="amoreau").code == 0
    applied = cli("apply", "CHG-2026-0044", actor="dnguyen", now=TUESDAY_1930)
    assert applied.code == 1 and "ALARM" in applied.err
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, {})))
    recovered = cli("recover", "CHG-2026-0044", actor="dnguyen")
    assert recovered.code == 0, recovered.err + recovered.out
    assert fakedriver.running_of("sw1").strip() == SWITCH_RUNNING.strip()
    assert fakedriver.running_of("sw2").strip() == (SWITCH_RUNNING.strip() + "\n" + HAND)
    with Journal(workspace / "home" / "journal.sqlite") as journal:
        assert journal.state("CHG-2026-0044") == "rolled_back"
        events = journal.events("CHG-2026-0044")
        since = next(i for i, e in enumerate(events) if e.kind == "recover_started")
        assert events[since].data["hosts"] == ["sw1"]
        assert not [e for e in events[since:] if e.host == "sw2"]
