"""One execution pipeline (issue 12 item 2): apply, rollback and recover share their sequence and restore code.

The restore runner is observed by wrapping ``netchange.rollback.runner.restore_one`` (the real one still
runs): the three commands must reach it, and the devices must end as their snapshots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import netchange.rollback.runner
from netchange.apply import Applier, ChangeOutcome, HostStatus, PlainProgress
from netchange.inventory import load_nornir
from netchange.journal import Journal
from netchange.plan import build_plan
from netchange.rollback import SnapshotStore
from tests import fakedriver
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING
from tests.unit.test_apply import change
from tests.unit.test_apply import inventory as fake_inventory
from tests.unit.test_cli_locks import TUESDAY_1930, write_change

Cli = Callable[..., CliResult]
HOSTS = [f"sw{i}" for i in range(1, 5)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_platform() -> Iterator[None]:
    with fakedriver.fake_platform():
        yield


@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hosts that went through the one restore runner, in call order."""
    seen: list[str] = []
    real = netchange.rollback.runner.restore_one

    def spy(task: Any, target: netchange.rollback.runner.RestoreTarget, snapshots: SnapshotStore) -> Any:
        seen.append(target.host)
        return real(task, target, snapshots)

    monkeypatch.setattr(netchange.rollback.runner, "restore_one", spy)
    return seen


def back_to_snapshot() -> bool:
    return all(fakedriver.running_of(h).strip() == SWITCH_RUNNING.strip() for h in HOSTS)


def test_apply_rollback_and_recover_restore_through_the_one_runner(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, fake_platform: None,
        restored: list[str], runner: str) -> None:
    # apply: sw2's post-check fails and its restore too (ALARM): the automatic rollback runs.
    fakedriver.reset(dict.fromkeys(HOSTS, SWITCH_RUNNING))
    broken: dict[str, dict[str, Any]] = {"sw2": {"hide_vlan": 20, "broken_rollback": True}}
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, broken)))
    assert cli("plan", write_change(workspace, "CHG-2026-0042"), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 0
    assert cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930).code == 1
    assert "sw2" in restored
    # recover: the same runner finishes the rollback once the device answers.
    restored.clear()
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, {})))
    assert cli("recover", "CHG-2026-0042", actor="dnguyen").code == 0
    assert "sw2" in restored and back_to_snapshot()
    # rollback on request of a completed change: the same runner again.
    fakedriver.reset(dict.fromkeys(HOSTS, SWITCH_RUNNING))
    assert cli("plan", write_change(workspace, "CHG-2026-0043"), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0043", actor="amoreau").code == 0
    assert cli("apply", "CHG-2026-0043", actor="dnguyen", now=TUESDAY_1930).code == 0
    assert "vlan 20" in fakedriver.running_of("sw1")
    restored.clear()
    done = cli("rollback", "CHG-2026-0043", actor="dnguyen", now=TUESDAY_1930)
    assert done.code == 0, done.err + done.out
    assert sorted(restored) == HOSTS and back_to_snapshot()
    with Journal(workspace / "home" / "journal.sqlite") as journal:
        assert journal.state("CHG-2026-0042") == "rolled_back"
        assert journal.state("CHG-2026-0043") == "rolled_back"
    assert cli("journal", "verify").code == 0


def test_no_second_restore_path_and_no_sequencing_in_the_cli() -> None:
    import netchange.rollback.recover

    assert not hasattr(Applier, "_rollback_host")
    assert not hasattr(netchange.rollback.recover, "restore_hosts")
    source = (REPO / "netchange" / "cli" / "changes.py").read_text()
    for step in ("acquire_locks", "release_locks", "set_state", "check_apply", "devicelock", "Applier",
                 "run_restores", "build_plan", "record_plan", "planstore.save", "bind"):
        assert step not in source, step


def test_the_executor_runs_the_plan_as_planned_when_the_inventory_changed_since(
        tmp_path: Path, fake_platform: None) -> None:
    """Host facts (role, steps, syntax) come from the verified plan, not from binding the steps again."""
    fakedriver.reset(dict.fromkeys(HOSTS, SWITCH_RUNNING))
    cfg = fake_inventory(tmp_path)
    plan = build_plan(change(), load_nornir(cfg), actor="dnguyen", policy_version="t", requirements=lambda c: [])
    assert plan.ok and all(h.has_post_checks for h in plan.hosts)
    # After the plan, every host's role in the inventory changes: the step's targets match none.
    hosts = yaml.safe_load((tmp_path / "hosts.yaml").read_text())
    for host in hosts.values():
        host["data"]["role"] = "firewall"
    (tmp_path / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    journal = Journal(tmp_path / "journal.sqlite")
    journal.record_plan(plan, actor="dnguyen")
    applier = Applier(plan, load_nornir(cfg), journal=journal, snapshots=SnapshotStore(tmp_path / "snap"),
                      progress=PlainProgress(), actor="dnguyen")
    applier.prepare()
    outcome = applier.rollout()
    applier.close()
    assert outcome.outcome is ChangeOutcome.COMPLETED
    for name in HOSTS:
        assert outcome.hosts[name].status is HostStatus.DONE
        assert outcome.hosts[name].post_checks, name  # the plan's vlan step was post-checked
        assert "vlan 20" in fakedriver.running_of(name)
