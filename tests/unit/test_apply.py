"""The apply engine with fault injection, against a stateful fake device (tests/fakedriver.py).

Every case ends with each device equal to its snapshot (or the alarm, for a rollback that
fails), and with a journal that tells the whole story.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from netchange.apply import Applier, HostStatus, Interrupts, PlainProgress, rollout_batches
from netchange.errors import DriftDetected
from netchange.inventory import load_nornir
from netchange.journal import Journal
from netchange.models import ChangeRequest
from netchange.plan import Plan, build_plan
from netchange.rollback import SnapshotStore
from tests import fakedriver
from tests.mockdev import SWITCH_RUNNING

N = 4


@pytest.fixture(autouse=True)
def fake_platform() -> Iterator[None]:
    with fakedriver.fake_platform():
        yield


def inventory(tmp_path: Path, faults: dict[str, dict[str, Any]] | None = None, workers: int = 4) -> Path:
    faults = faults or {}
    hosts = {
        f"sw{i}": {
            "hostname": "127.0.0.1", "platform": "fake", "groups": ["doif"],
            # Credentials as a real device has them: the commands refuse a target without (exit 2).
            "username": "netops", "password": "fake-device-pw",
            "data": {"role": "switch", "site": "doif", "syntax": "ios"},
            "connection_options": {"netchange": {"extras": {
                "optional_args": {"device": f"sw{i}", **faults.get(f"sw{i}", {})}}}},
        }
        for i in range(1, N + 1)
    }
    (tmp_path / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (tmp_path / "groups.yaml").write_text(yaml.safe_dump({"doif": {}}))
    (tmp_path / "defaults.yaml").write_text("data: {}\n")
    cfg = tmp_path / "nornir.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(tmp_path / "hosts.yaml"), "group_file": str(tmp_path / "groups.yaml"),
            "defaults_file": str(tmp_path / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": workers}},
        "logging": {"enabled": False}}))
    return cfg


def change(**extra: Any) -> ChangeRequest:
    return ChangeRequest.model_validate({
        "id": "CHG-2026-0100", "title": "VLAN 20", "ticket": "T1", "requester": "amoreau",
        "rollout": {"canary": 1, "batch_size": 2},
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
        **extra,
    })


def run(tmp_path: Path, faults: dict[str, dict[str, Any]] | None = None, req: ChangeRequest | None = None,
        mutate_before_apply: dict[str, str] | None = None, workers: int = 4) -> tuple[Plan, Any, Journal]:
    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, N + 1)})
    cfg = inventory(tmp_path, faults, workers)
    store = SnapshotStore(tmp_path / "snap")
    # As the pipeline plans: each host's planned state kept, a drift is named against it.
    plan = build_plan(req or change(), load_nornir(cfg), actor="dnguyen", policy_version="t",
                      requirements=lambda c: [], keep=store.save)
    assert plan.ok, [h.error for h in plan.hosts]
    for name, text in (mutate_before_apply or {}).items():
        fakedriver.DEVICES[name] = text.strip().splitlines()
    journal = Journal(tmp_path / "journal.sqlite")
    journal.record_plan(plan, actor="dnguyen")
    applier = Applier(plan, load_nornir(cfg), journal=journal, snapshots=store,
                      progress=PlainProgress(), actor="dnguyen")
    applier.prepare()
    outcome = applier.rollout()
    applier.close()
    return plan, outcome, journal


def kinds(journal: Journal, host: str) -> list[str]:
    return [e.kind for e in journal.events("CHG-2026-0100") if e.host == host]


def back_to_snapshot(*hosts: str) -> bool:
    return all(fakedriver.running_of(h).strip() == SWITCH_RUNNING.strip() for h in hosts)


def test_rollout_batches_canary_first() -> None:
    assert rollout_batches(["a", "b", "c", "d", "e"], canary=1, batch_size=2) == [["a"], ["b", "c"], ["d", "e"]]
    assert rollout_batches(["a", "b"], canary=0, batch_size=5) == [["a", "b"]]


def test_success_commits_every_host_and_journals_each_step(tmp_path: Path) -> None:
    _, outcome, journal = run(tmp_path)
    assert outcome.outcome == "completed"
    for i in range(1, N + 1):
        assert "vlan 20" in fakedriver.running_of(f"sw{i}")
        assert kinds(journal, f"sw{i}") == ["snapshot", "commit_started", "committed", "post_checks", "confirmed"]
    assert journal.verify() == []


def test_commit_error_on_host_k_rolls_back_every_host_changed_so_far(tmp_path: Path) -> None:
    _, outcome, journal = run(tmp_path, faults={"sw3": {"fail_commit": True}})
    assert outcome.outcome == "rolled_back"
    assert outcome.hosts["sw3"].status in ("restored",)
    assert outcome.hosts["sw4"].status == "skipped" or outcome.hosts["sw4"].status == "restored"
    assert back_to_snapshot("sw1", "sw2", "sw3", "sw4")
    assert "rollback_verified" in kinds(journal, "sw1")
    assert "commit_started" not in kinds(journal, "sw4") or "rollback_verified" in kinds(journal, "sw4")


def test_post_check_failure_on_the_canary_stops_the_rollout(tmp_path: Path) -> None:
    _, outcome, journal = run(tmp_path, faults={"sw1": {"hide_vlan": 20}})
    assert outcome.outcome == "rolled_back"
    assert "post-check failed" in outcome.hosts["sw1"].error
    assert all(outcome.hosts[h].status == "skipped" for h in ("sw2", "sw3", "sw4"))
    assert all("commit_started" not in kinds(journal, h) for h in ("sw2", "sw3", "sw4"))
    assert back_to_snapshot("sw1")
    assert outcome.hosts["sw1"].restore is not None and outcome.hosts["sw1"].restore.strategies == ["inverse"]


def test_rejected_line_leaves_the_device_as_it_was(tmp_path: Path) -> None:
    _, outcome, _ = run(tmp_path, faults={"sw1": {"reject_line": "name servers"}})
    assert outcome.outcome == "rolled_back"
    assert "Invalid input" in outcome.hosts["sw1"].error
    assert back_to_snapshot("sw1", "sw2", "sw3", "sw4")


def test_session_lost_during_commit_restores_from_the_snapshot(tmp_path: Path) -> None:
    _, outcome, _ = run(tmp_path, faults={"sw2": {"lose_session_on_commit": True}})
    assert outcome.outcome == "rolled_back"
    restore = outcome.hosts["sw2"].restore
    assert restore is not None and restore.verified
    assert restore.strategies == ["snapshot"]  # a new session: the snapshot, not the lost session's inverse
    assert back_to_snapshot("sw1", "sw2", "sw3", "sw4")


def test_rollback_failed_only_leaves_the_healthy_hosts_changed(tmp_path: Path) -> None:
    _, outcome, _ = run(tmp_path, faults={"sw2": {"fail_commit": True}}, req=change(on_failure="rollback_failed"))
    # Partially applied on purpose: not an alarm, but not a completed change either.
    assert outcome.outcome == "failed"
    assert outcome.alarms == []
    assert "vlan 20" in fakedriver.running_of("sw1")
    assert back_to_snapshot("sw2")


def test_on_failure_stop_leaves_devices_and_says_failed(tmp_path: Path) -> None:
    _, outcome, _ = run(tmp_path, faults={"sw2": {"fail_commit": True}}, req=change(on_failure="stop"))
    assert outcome.outcome == "failed"
    assert "vlan 20" in fakedriver.running_of("sw1")


def test_a_rollback_that_fails_is_an_alarm(tmp_path: Path) -> None:
    _, outcome, journal = run(tmp_path, faults={"sw1": {"hide_vlan": 20, "broken_rollback": True}})
    assert outcome.outcome == "failed"
    assert outcome.alarms == ["sw1"]
    assert outcome.exit_code == 1
    assert "rollback_failed" in kinds(journal, "sw1")


ROGUE = SWITCH_RUNNING + "vlan 99\n name rogue\n"


def test_a_drifted_canary_refuses_the_change_with_nothing_changed(tmp_path: Path) -> None:
    """Each host is read at its turn (issue 27 item 1): the canary's drift stops the change before
    any commit, exit 3 as a drift always did."""
    _, outcome, journal = run(tmp_path, mutate_before_apply={"sw1": ROGUE})
    assert outcome.refused_for_drift and outcome.exit_code == 3
    assert outcome.hosts["sw1"].failure is not None and outcome.hosts["sw1"].failure.is_a(DriftDetected)
    assert "+vlan 99" in outcome.hosts["sw1"].error, outcome.hosts["sw1"].error  # named, from the planned state
    assert all("commit_config" not in fakedriver.CALLS.get(f"sw{i}", []) for i in range(1, N + 1))
    assert fakedriver.running_of("sw1").strip() == ROGUE.strip() and back_to_snapshot("sw2", "sw3", "sw4")
    assert "drift" in kinds(journal, "sw1") and not any(
        "commit_started" in kinds(journal, f"sw{i}") for i in range(1, N + 1))
    assert [outcome.hosts[f"sw{i}"].status for i in range(2, N + 1)] == ["skipped"] * 3
    assert journal.verify() == []


def test_drift_on_a_later_host_is_found_at_its_turn_and_what_was_changed_is_rolled_back(tmp_path: Path) -> None:
    """The trade-off of reading at each host's turn (docs/safety.md): sw2's drift is found after
    the canary changed; sw2 is refused (not committed, left as found), every host changed so far
    (the canary, sw3 of the same batch) is rolled back and verified, exit 1."""
    _, outcome, journal = run(tmp_path, mutate_before_apply={"sw2": ROGUE})
    assert outcome.outcome == "rolled_back" and not outcome.refused_for_drift and outcome.exit_code == 1
    assert "commit_config" not in fakedriver.CALLS.get("sw2", [])
    assert fakedriver.running_of("sw2").strip() == ROGUE.strip()
    assert "drift" in kinds(journal, "sw2") and "commit_started" not in kinds(journal, "sw2")
    assert back_to_snapshot("sw1", "sw3", "sw4")
    for host in ("sw1", "sw3"):
        assert outcome.hosts[host].restore is not None and outcome.hosts[host].restore.verified
        assert "rollback_verified" in kinds(journal, host)
    assert outcome.hosts["sw4"].status == "skipped" and "commit_config" not in fakedriver.CALLS.get("sw4", [])
    assert journal.verify() == []


def test_rollback_starts_with_the_newest_change(tmp_path: Path) -> None:
    # One worker: canary sw1, then sw2, sw3 (sw3 fails): undone sw3, sw2, then the canary.
    _, outcome, journal = run(tmp_path, faults={"sw3": {"hide_vlan": 20}}, workers=1)
    assert outcome.outcome == "rolled_back"
    order = [e.host for e in journal.events("CHG-2026-0100") if e.kind == "rollback_verified"]
    assert order == ["sw3", "sw2", "sw1"]
    assert back_to_snapshot("sw1", "sw2", "sw3", "sw4")


def test_out_of_band_change_after_the_canary_is_seen_before_that_host_commits(tmp_path: Path) -> None:
    # Prepared (sessions open, nothing read); sw3 changed by someone else before its turn: its
    # reading at its turn (the snapshot, under the lock) is the drift check.
    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, N + 1)})
    cfg = inventory(tmp_path)
    plan = build_plan(change(), load_nornir(cfg), actor="dnguyen", policy_version="t", requirements=lambda c: [])
    journal = Journal(tmp_path / "journal.sqlite")
    journal.record_plan(plan, actor="dnguyen")
    applier = Applier(plan, load_nornir(cfg), journal=journal, snapshots=SnapshotStore(tmp_path / "snap"),
                      progress=PlainProgress(), actor="dnguyen")
    applier.prepare()
    fakedriver.DEVICES["sw3"] += ["vlan 999", " name oob"]
    outcome = applier.rollout()
    applier.close()
    assert outcome.outcome == "rolled_back"
    assert outcome.hosts["sw3"].error == "sw3: running state differs from the plan's, not committed"
    assert outcome.hosts["sw3"].drifted and not outcome.hosts["sw3"].commit_started
    assert "drift" in kinds(journal, "sw3") and "commit_started" not in kinds(journal, "sw3")
    assert "commit_config" not in fakedriver.CALLS["sw3"]
    assert "vlan 999" in fakedriver.running_of("sw3") and "vlan 20" not in fakedriver.running_of("sw3")
    assert back_to_snapshot("sw1", "sw2", "sw4")


def test_a_restore_never_erases_lines_someone_else_added_since(tmp_path: Path) -> None:
    # sw2's commit lands someone else's VLAN on the canary (already committed); sw3's post-check
    # fails: the canary is not restored over that VLAN, the alarm names the device and the lines.
    _, outcome, journal = run(tmp_path, faults={"sw2": {"oob": {"device": "sw1", "line": "vlan 999"}},
                                                "sw3": {"hide_vlan": 20}})
    assert outcome.outcome == "failed"
    assert outcome.alarms == ["sw1"]
    restore = outcome.hosts["sw1"].restore
    assert restore is not None and restore.foreign == ["+vlan 999"]
    assert "changed by someone else" in restore.errors[0] and "+vlan 999" in restore.errors[0]
    assert "vlan 999" in fakedriver.running_of("sw1")
    assert "post-check failed" in outcome.hosts["sw3"].error
    assert back_to_snapshot("sw2", "sw3", "sw4")
    failed = [e for e in journal.events("CHG-2026-0100") if e.kind == "rollback_failed"]
    assert failed[0].host == "sw1" and failed[0].data["foreign"] == ["+vlan 999"]


def test_a_session_lost_while_comparing_is_a_lost_device_not_drift(tmp_path: Path) -> None:
    _, outcome, _ = run(tmp_path, faults={"sw2": {"lose_session_on_compare": True}})
    assert outcome.outcome == "rolled_back"
    assert outcome.hosts["sw2"].error.startswith("sw2: device lost while comparing the candidate")
    assert "no longer the approved one" not in outcome.hosts["sw2"].error
    assert back_to_snapshot("sw1", "sw2")


def test_the_restored_line_keeps_the_cause(tmp_path: Path) -> None:
    lines: list[tuple[str, str, str]] = []

    class Recording(PlainProgress):
        def host(self, host: str, status: str, detail: str = "") -> None:
            lines.append((host, status, detail))

    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, N + 1)})
    cfg = inventory(tmp_path, {"sw1": {"hide_vlan": 20}})
    plan = build_plan(change(), load_nornir(cfg), actor="dnguyen", policy_version="t", requirements=lambda c: [])
    journal = Journal(tmp_path / "journal.sqlite")
    journal.record_plan(plan, actor="dnguyen")
    applier = Applier(plan, load_nornir(cfg), journal=journal, snapshots=SnapshotStore(tmp_path / "snap"),
                      progress=Recording(), actor="dnguyen")
    applier.prepare()
    applier.rollout()
    applier.close()
    last = [d for h, s, d in lines if h == "sw1"][-1]
    assert "post-check failed" in last and "restored, verified" in last


def test_signals_stop_once_then_are_refused_during_the_rollback_then_abort(tmp_path: Path) -> None:
    _, outcome, _ = run(tmp_path)
    said: list[str] = []
    aborted: list[int] = []

    class Stub:
        rolling_back = False
        plan = outcome  # only .change.id is read: give it one
    stub = Stub()
    stub.plan = type("P", (), {"change": type("C", (), {"id": "CHG-2026-0100"})()})()
    interrupts = Interrupts(stub, said.append, abort=aborted.append)  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(signal.SIGTERM, None)  # the first: stop and roll back, like Ctrl-C
    assert stub.rolling_back
    interrupts.handle(signal.SIGINT, None)  # during the rollback: refused, said
    assert aborted == [] and "refused" in said[-1]
    interrupts.handle(signal.SIGINT, None)  # once more: abort, the change left for recover
    assert aborted == [1] and "netchange recover CHG-2026-0100" in said[-1]


class _VlanWatchingTheNetwork:
    """The vlan change type plus restored checks that read the device after the restore."""

    seen: ClassVar[list[str]] = []

    @staticmethod
    def make(network_back: bool) -> type[Any]:
        from netchange.changetype import get_change_type
        from netchange.models import CheckResult

        base = type(get_change_type("vlan"))

        class Watching(base):  # type: ignore[misc, valid-type]
            @classmethod
            def template_package(cls) -> str:
                return base.template_package()  # type: ignore[no-any-return]

            def restored_checks(self, ctx: Any) -> list[CheckResult]:
                _VlanWatchingTheNetwork.seen.append(ctx.host)
                # Read after the restore: the VLAN is gone, as the snapshot had it.
                gone = "vlan 20" not in ctx.running
                return [CheckResult(name="adjacency Full again", passed=network_back and gone,
                                    detail="" if network_back else "neighbour still Init")]

        return Watching


@pytest.mark.parametrize("network_back", [True, False])
def test_restored_checks_run_after_a_verified_restore_and_a_failure_is_an_alarm(tmp_path: Path,
                                                                                  network_back: bool) -> None:
    from netchange.changetype import CHANGE_TYPES

    _VlanWatchingTheNetwork.seen.clear()
    with CHANGE_TYPES.registered("vlan", _VlanWatchingTheNetwork.make(network_back)):
        _, outcome, journal = run(tmp_path, faults={"sw1": {"hide_vlan": 20}})
    assert back_to_snapshot("sw1")  # the configuration is back either way
    assert _VlanWatchingTheNetwork.seen == ["sw1"]  # only the restored host, once
    report = outcome.hosts["sw1"].restore
    assert report is not None and report.checks and report.checks[0]["name"] == "adjacency Full again"
    if network_back:
        assert outcome.outcome == "rolled_back" and report.verified
        verified = [e for e in journal.events("CHG-2026-0100") if e.kind == "rollback_verified"]
        assert verified[-1].data and verified[-1].data["checks"][0]["passed"] is True
    else:
        assert not report.verified and "the network is not back" in " ".join(report.errors)
        assert outcome.hosts["sw1"].status is HostStatus.ALARM and outcome.outcome == "failed"
        assert "rollback_failed" in kinds(journal, "sw1")


def test_a_worker_that_starts_after_ctrl_c_does_not_commit(tmp_path: Path) -> None:
    """Ctrl-C lands after a batch was handed to the runner but before its workers start.

    The rollback chose its hosts before those workers ran: had they committed, their change would
    have been left on the devices (seen in the lab: a host "done" after "interrupted: rolling back").
    """
    late: list[threading.Thread] = []

    class CtrlCBeforeWorkersStart(Applier):
        def _run(self, hosts: Any, task: Any, name: str) -> None:
            if name == "apply" and list(hosts) != ["sw1"]:
                def start_late() -> None:
                    time.sleep(0.3)
                    Applier._run(self, hosts, task, name)
                late.append(threading.Thread(target=start_late))
                late[0].start()
                self.rolling_back = True  # what Interrupts.handle does before raising
                raise KeyboardInterrupt
            super()._run(hosts, task, name)

    fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, N + 1)})
    cfg = inventory(tmp_path)
    plan = build_plan(change(), load_nornir(cfg), actor="dnguyen", policy_version="t", requirements=lambda c: [])
    journal = Journal(tmp_path / "journal.sqlite")
    journal.record_plan(plan, actor="dnguyen")
    applier = CtrlCBeforeWorkersStart(plan, load_nornir(cfg), journal=journal,
                                      snapshots=SnapshotStore(tmp_path / "snap"), progress=PlainProgress(),
                                      actor="dnguyen")
    applier.prepare()
    outcome = applier.rollout()
    late[0].join()
    applier.close()
    assert outcome.interrupted
    assert back_to_snapshot("sw1", "sw2", "sw3", "sw4")
    assert all("commit_started" not in kinds(journal, h) for h in ("sw2", "sw3", "sw4"))
