"""The lab manager's teardown and instance choice, without starting a lab.

``down`` is driven against a real process (a ``sleep`` in its own session, as the lab starts its
daemons) while the namespace commands and the ``/proc`` reader are replaced: a PID that vanishes in
the middle of the scan, and a namespace whose deletion fails, must neither crash ``down`` nor stop
it from deleting the rest. Instance choice is raced from threads and from processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netchange.lab import instances
from netchange.lab import manager as lab_manager
from netchange.lab.manager import LabManager

VANISHED = 4_194_000  # above any pid_max default: no such process
GONE_MID_READ = 4_194_001


@pytest.fixture(autouse=True)
def private_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine-wide lock and registry, moved into the test's directory."""
    monkeypatch.setattr(instances, "LOCK_FILE", tmp_path / "instances.lock")
    monkeypatch.setattr(instances, "REGISTRY", tmp_path / "instances.json")


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


class FakeNetns:
    """``ip netns`` as the manager sees it: names that exist, and a delete that may fail."""

    def __init__(self, names: list[str], failing: set[str]) -> None:
        self.names = set(names)
        self.failing = failing
        self.deleted: list[str] = []

    def list(self) -> list[str]:
        return sorted(self.names)

    def delete(self, ns: str) -> None:
        if ns in self.failing:
            raise RuntimeError(f"ip netns delete {ns} failed (1): Device or resource busy")
        self.names.discard(ns)
        self.deleted.append(ns)


def racing_proc(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make two PIDs appear in every /proc scan that are gone (or go) when their stat is read."""
    real_read, real_pids = lab_manager._read_stat, lab_manager._proc_pids
    reads: list[int] = []

    def read(pid: int) -> str:
        reads.append(pid)
        if pid == VANISHED:
            raise FileNotFoundError(2, "No such file or directory", f"/proc/{pid}/stat")
        if pid == GONE_MID_READ:
            raise ProcessLookupError(3, "No such process")
        return real_read(pid)

    monkeypatch.setattr(lab_manager, "_read_stat", read)
    monkeypatch.setattr(lab_manager, "_proc_pids", lambda: [VANISHED, GONE_MID_READ, *real_pids()])
    return reads


def test_down_survives_a_vanishing_pid_and_a_failed_namespace_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleeper: subprocess.Popen[bytes]
) -> None:
    reads = racing_proc(monkeypatch)
    netns = FakeNetns(["ncT-fw", "ncT-cl", "ncT-sv"], failing={"ncT-cl"})
    monkeypatch.setattr(lab_manager, "_namespaces", netns.list)
    monkeypatch.setattr(lab_manager, "_netns_pids", lambda ns: [])
    monkeypatch.setattr(lab_manager, "_delete_netns", netns.delete)
    monkeypatch.setattr(lab_manager, "LEFTOVER_GRACE", 0.3)

    lab = LabManager(tmp_path / "lab")
    lab.root.mkdir()
    state = {"pids": {"sleeper": sleeper.pid}, "start_times": {"sleeper": lab_manager._start_time(sleeper.pid)},
             "namespaces": ["ncT-fw", "ncT-cl", "ncT-sv"], "inventory": [], "complete": True}
    lab.state_file.write_text(json.dumps(state))

    report = lab.down()  # used to raise FileNotFoundError from the /proc scan

    assert VANISHED in reads and GONE_MID_READ in reads  # the scan did meet both
    sleeper.wait(timeout=5)
    assert report.killed == [sleeper.pid]
    assert netns.deleted == ["ncT-sv", "ncT-fw"]  # the failure in the middle did not stop the rest
    assert len(report.errors) == 1 and "ncT-cl" in report.errors[0] and "busy" in report.errors[0]
    assert report.leftovers == ["namespace ncT-cl"]
    assert lab.state_file.exists()  # kept, so that a second down can finish the job

    netns.failing.clear()
    again = lab.down()
    assert again.errors == [] and again.leftovers == [] and netns.names == set()
    assert not lab.state_file.exists()


def test_proc_readers_call_a_vanished_process_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    racing_proc(monkeypatch)
    assert lab_manager._alive(VANISHED, None) is False
    assert lab_manager._start_time(GONE_MID_READ) is None
    assert lab_manager._group_alive(os.getpgid(0)) is True  # this test's own group, scanned past both
    monkeypatch.setattr(lab_manager, "_read_stat", lambda pid: "garbage without fields")
    assert lab_manager._alive(os.getpid(), None) is False


def _ready_lab(root: Path) -> LabManager:
    root.mkdir(parents=True)
    (root / instances.STATE_FILE).write_text("{}")  # a lab that has started: its reservation is live
    return LabManager(root)


def _slow_nothing_used() -> set[int]:
    time.sleep(0.2)  # the window in which a check-then-create lab would let another pick the same
    return set()


def test_two_labs_starting_together_get_distinct_instances(tmp_path: Path) -> None:
    labs = [_ready_lab(tmp_path / f"home{i}" / "lab") for i in range(3)]
    got: dict[int, int] = {}
    threads = [threading.Thread(target=lambda i=i: got.__setitem__(i, labs[i].reserve_instance(_slow_nothing_used)))
               for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got.values()) == [0, 1, 2]
    assert oct(instances.LOCK_FILE.stat().st_mode & 0o777) == "0o600"
    assert oct(instances.REGISTRY.stat().st_mode & 0o777) == "0o600"


def _reserve_in_child(root: str, lock: str, registry: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(instances.reserve_instance(Path(root), _slow_nothing_used, lock=Path(lock), registry=Path(registry)))


def test_instances_are_distinct_across_processes(tmp_path: Path) -> None:
    roots = [_ready_lab(tmp_path / f"p{i}" / "lab").root for i in range(3)]
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_reserve_in_child,
                         args=(str(r), str(instances.LOCK_FILE), str(instances.REGISTRY), out)) for r in roots]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=30)
    assert sorted(out.get(timeout=5) for _ in procs) == [0, 1, 2]


def test_a_reservation_lives_until_down_and_a_dead_labs_is_taken_back(tmp_path: Path) -> None:
    a, b = _ready_lab(tmp_path / "a" / "lab"), _ready_lab(tmp_path / "b" / "lab")
    assert a.reserve_instance(set) == 0
    assert b.reserve_instance(lambda: {1}) == 2  # 0 is a's, 1 is in use on the machine
    assert a.reserve_instance(set) == 0  # re-creating a lab gives up its old number first
    instances.release_instance(a.root)
    assert _ready_lab(tmp_path / "c" / "lab").reserve_instance(set) == 0
    (b.root / instances.STATE_FILE).unlink()  # b crashed and its state is gone: 2 is free again
    assert _ready_lab(tmp_path / "d" / "lab").reserve_instance(set) == 1


def test_up_and_down_of_one_lab_directory_exclude_each_other(tmp_path: Path) -> None:
    lab = LabManager(tmp_path / "lab")
    other = LabManager(tmp_path / "lab")
    entered = threading.Event()
    with lab._locked():
        with lab._locked():  # re-entrant within one manager (up calls down)
            pass
        def take() -> None:
            with other._locked():
                entered.set()

        thread = threading.Thread(target=take)
        thread.start()
        assert not entered.wait(0.3)  # a second manager on the same directory waits
    assert entered.wait(5)
    thread.join()


def test_a_port_handed_to_one_lab_is_not_handed_to_another(tmp_path: Path) -> None:
    """The kernel may pick the same free port twice in a row; the second lab gets another one."""
    a, b = _ready_lab(tmp_path / "a" / "lab"), _ready_lab(tmp_path / "b" / "lab")
    picks = iter([40001, 40001, 40001, 40002])
    assert instances.reserve_port(a.root, lambda: next(picks)) == 40001
    assert instances.reserve_port(b.root, lambda: next(picks)) == 40002
    instances.release_instance(a.root)  # a is down: its port may be handed out again
    assert instances.reserve_port(b.root, lambda: 40001) == 40001
    with pytest.raises(RuntimeError, match="reserved"):
        instances.reserve_port(a.root, lambda: 40001, attempts=3)


def test_down_deletes_the_directories_a_component_made_outside_the_lab_root(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # FRR's run directories live outside the 0700 lab root (its daemons run as user frr).
    monkeypatch.setattr(lab_manager, "_namespaces", list)
    monkeypatch.setattr(lab_manager, "LEFTOVER_GRACE", 0.3)
    outside = tmp_path / "netchange-frr-ncT"
    (outside / "rtr-doif-a").mkdir(parents=True)
    (outside / "rtr-doif-a" / "zebra.vty").write_text("stale socket stand-in")
    lab = LabManager(tmp_path / "lab")
    lab.root.mkdir()
    lab.state_file.write_text(json.dumps({"pids": {}, "namespaces": [], "paths": [str(outside)],
                                          "inventory": [], "complete": True}))
    report = lab.down()
    assert report.errors == [] and report.leftovers == []
    assert not outside.exists()
    assert not lab.state_file.exists()
