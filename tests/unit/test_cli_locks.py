"""The command line under races and after alarms: device locks, state conflicts, recover.

Two commands race in two threads of this process (the locks are per open file, so two threads
contend exactly like two processes): the first is held inside its prepare phase, with its locks
taken, while the second runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.apply import Applier
from netchange.cli import main as cli_main
from netchange.journal import Journal
from tests import fakedriver
from tests.conftest import CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory
from tests.unit.test_apply import inventory as fake_inventory

TUESDAY_1930 = "2026-12-01T19:30:00+01:00"
Cli = Callable[..., CliResult]


@pytest.fixture
def mock_lab(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    devs = [MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n",
                       cli={"show vlan brief": SHOW_VLAN_BRIEF})]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    return workspace


def write_change(root: Path, change_id: str) -> str:
    path = root / f"{change_id}.yaml"
    path.write_text(yaml.safe_dump({
        "id": change_id, "title": "New VLAN", "ticket": "INC1", "requester": "crenard", "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}]}))
    return str(path)


def call(*args: str) -> int:
    """``netchange ARGS`` in this thread; its exit code (environment set by the test)."""
    cli_main._overrides.clear()
    try:
        cli_main.main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def held_in_prepare(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The first apply to reach its prepare phase waits there (locks held) until released."""
    entered, release = threading.Event(), threading.Event()
    real = Applier.prepare

    def prepare(self: Applier) -> None:
        if not entered.is_set():
            entered.set()
            assert release.wait(30)
        real(self)

    monkeypatch.setattr(Applier, "prepare", prepare)
    yield entered, release
    release.set()


def start_apply(*args: str) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(call(*args)), daemon=True)
    thread.start()
    return thread, codes


def ready(monkeypatch: pytest.MonkeyPatch, root: Path, change_id: str, *home: str) -> None:
    monkeypatch.setenv("NETCHANGE_ACTOR", "dnguyen")
    assert call(*home, "plan", write_change(root, change_id)) == 0
    monkeypatch.setenv("NETCHANGE_ACTOR", "amoreau")
    assert call(*home, "approve", change_id) == 0
    monkeypatch.setenv("NETCHANGE_ACTOR", "dnguyen")
    monkeypatch.setenv("NETCHANGE_NOW", TUESDAY_1930)


def test_the_same_change_applied_twice_at_once_runs_once(
        mock_lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        held_in_prepare: tuple[threading.Event, threading.Event]) -> None:
    entered, release = held_in_prepare
    ready(monkeypatch, mock_lab, "CHG-2026-0042")
    thread, codes = start_apply("apply", "CHG-2026-0042")
    assert entered.wait(30)
    capsys.readouterr()
    assert call("apply", "CHG-2026-0042") == 3
    err = capsys.readouterr().err
    assert "sw1 (127.0.0.1:default) is locked by CHG-2026-0042 (apply by dnguyen" in err
    # The refused apply released nothing: the winner's locks are intact while it runs.
    with Journal(mock_lab / "home" / "journal.sqlite") as journal:
        assert [(lock.host, lock.change_id) for lock in journal.locks()] == [("sw1", "CHG-2026-0042")]
    release.set()
    thread.join(60)
    assert codes == [1]  # ran once, to its end (the mock never shows the VLAN: rolled back)
    with Journal(mock_lab / "home" / "journal.sqlite") as journal:
        assert journal.locks() == []
        assert sum(e.kind == "apply_started" for e in journal.events("CHG-2026-0042")) == 1
    assert call("journal", "verify") == 0


def test_two_changes_from_two_state_directories_on_one_device(
        mock_lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        held_in_prepare: tuple[threading.Event, threading.Event]) -> None:
    entered, release = held_in_prepare
    home_a, home_b = ("--home", str(mock_lab / "home-a")), ("--home", str(mock_lab / "home-b"))
    ready(monkeypatch, mock_lab, "CHG-2026-0042", *home_a)
    ready(monkeypatch, mock_lab, "CHG-2026-0050", *home_b)
    thread, codes = start_apply(*home_a, "apply", "CHG-2026-0042")
    assert entered.wait(30)
    capsys.readouterr()
    assert call(*home_b, "apply", "CHG-2026-0050") == 3
    err = capsys.readouterr().err
    assert "locked by CHG-2026-0042" in err and "home-a" in err
    release.set()
    thread.join(60)
    assert codes == [1]
    with Journal(mock_lab / "home-b" / "journal.sqlite") as journal:
        assert journal.state("CHG-2026-0050") == "approved"
        assert not any(e.kind == "apply_started" for e in journal.events("CHG-2026-0050"))


def test_a_state_conflict_is_a_refusal_not_bad_input(mock_lab: Path, cli: Cli, runner: str) -> None:
    assert cli("plan", write_change(mock_lab, "CHG-2026-0042"), actor="dnguyen").code == 0
    closed = cli("close", "CHG-2026-0042", actor="dnguyen")
    assert closed.code == 3 and "planned" in closed.err
    assert cli("recover", "CHG-2026-0042", actor="dnguyen").code == 3
    assert cli("rollback", "CHG-2026-0042", actor="dnguyen").code == 3


@pytest.fixture
def fake_platform() -> Iterator[None]:
    with fakedriver.fake_platform():
        yield


def test_a_failed_change_is_recovered_once_its_device_answers_again(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, fake_platform: None) -> None:
    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, 5)})
    # sw2: its post-check fails, and its rollback too (the device refuses everything): ALARM.
    broken: dict[str, dict[str, Any]] = {"sw2": {"hide_vlan": 20, "broken_rollback": True}}
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, broken)))
    assert cli("plan", write_change(workspace, "CHG-2026-0042"), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 0
    applied = cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930)
    assert applied.code == 1 and "ALARM" in applied.err
    assert "vlan 20" in fakedriver.running_of("sw2")
    # The device is back (the fault is gone): recover finishes the rollback, verified.
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, {})))
    recovered = cli("recover", "CHG-2026-0042", actor="dnguyen")
    assert recovered.code == 0, recovered.err + recovered.out
    assert all(fakedriver.running_of(f"sw{i}").strip() == SWITCH_RUNNING.strip() for i in range(1, 5))
    with Journal(workspace / "home" / "journal.sqlite") as journal:
        assert journal.state("CHG-2026-0042") == "rolled_back"
        assert journal.locks() == []
        kinds = [(e.kind, e.host) for e in journal.events("CHG-2026-0042")]
    assert ("rollback_verified", "sw2") in kinds[kinds.index(("recover_started", None)):]
    assert cli("journal", "verify").code == 0


def test_an_apply_whose_host_left_the_inventory_is_one_line_and_touches_nothing(
        mock_lab: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # The plan names sw1; the inventory changes before the apply (sw1 renamed): bad input, exit 2,
    # one line naming the host, never a KeyError from the lock step, and the change still approved.
    ready(monkeypatch, mock_lab, "CHG-2026-0043")
    hosts = mock_lab / "mock" / "inventory" / "hosts.yaml"
    inventory = yaml.safe_load(hosts.read_text())
    inventory["sw1-renamed"] = inventory.pop("sw1")
    hosts.write_text(yaml.safe_dump(inventory))
    capsys.readouterr()
    assert call("apply", "CHG-2026-0043") == 2
    err = capsys.readouterr().err
    assert "sw1" in err and "not in the inventory" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    with Journal(mock_lab / "home" / "journal.sqlite") as journal:
        assert journal.state("CHG-2026-0043") == "approved"
        assert journal.locks() == []
        assert not any(e.kind == "apply_started" for e in journal.events("CHG-2026-0043"))
