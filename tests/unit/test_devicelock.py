"""Machine-wide device locks: exclusive across processes and state directories, never stale."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from netchange.apply import locks as devicelock
from netchange.errors import LockHeld

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from netchange.apply import locks as devicelock
    held = devicelock.acquire({"core-a": sys.argv[1]}, change_id="CHG-2026-0001", action="apply",
                              actor="dnguyen", home=Path(sys.argv[2]), directory=Path(sys.argv[3]))
    print("held", flush=True)
    time.sleep(120)
""")


def hold_in_another_process(tmp_path: Path, identity: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, identity, str(tmp_path / "home-a"), str(tmp_path / "locks")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_another_home_and_another_name_for_the_same_device_is_refused(tmp_path: Path) -> None:
    proc = hold_in_another_process(tmp_path, devicelock.device_identity("SW1.mgmt.example.net.", 22))
    try:
        # Another state directory, another change, another inventory name: the same device.
        with pytest.raises(LockHeld) as refused:
            devicelock.acquire({"doif-sw-1": devicelock.device_identity("sw1.mgmt.example.net", 22)},
                               change_id="CHG-2026-0002", action="apply", actor="bleroy",
                               home=tmp_path / "home-b", directory=tmp_path / "locks")
        assert refused.value.exit_code == 3
        message = str(refused.value)
        assert "doif-sw-1" in message and "locked by CHG-2026-0001 (apply by dnguyen" in message
        assert f"pid {proc.pid}" in message and str(tmp_path / "home-a") in message
        # Another device is free meanwhile.
        devicelock.acquire({"sw2": "sw2.mgmt.example.net:22"}, change_id="CHG-2026-0002", action="apply",
                           actor="bleroy", home=tmp_path / "home-b", directory=tmp_path / "locks").release()
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    proc = hold_in_another_process(tmp_path, "sw1:22")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    held = devicelock.acquire({"sw1": "sw1:22"}, change_id="CHG-2026-0001", action="recover", actor="dnguyen",
                              home=tmp_path / "home-a", directory=tmp_path / "locks")
    held.release()


def test_all_or_nothing_and_a_refused_command_releases_nothing_it_does_not_hold(tmp_path: Path) -> None:
    where = tmp_path / "locks"
    first = devicelock.acquire({"b": "b:22"}, change_id="CHG-1", action="apply", actor="x", home=tmp_path,
                               directory=where)
    with pytest.raises(LockHeld):
        devicelock.acquire({"a": "a:22", "b": "b:22", "c": "c:22"}, change_id="CHG-1", action="apply",
                           actor="x", home=tmp_path, directory=where)
    # The refused command took nothing (a and c are free) and released nothing (b is still held).
    devicelock.acquire({"a": "a:22", "c": "c:22"}, change_id="CHG-2", action="apply", actor="y", home=tmp_path,
                       directory=where).release()
    with pytest.raises(LockHeld, match="locked by CHG-1"):
        devicelock.acquire({"b": "b:22"}, change_id="CHG-2", action="apply", actor="y", home=tmp_path,
                           directory=where)
    first.release()
    devicelock.acquire({"b": "b:22"}, change_id="CHG-2", action="apply", actor="y", home=tmp_path,
                       directory=where).release()


def test_lock_directory_and_files_are_private_from_creation(tmp_path: Path) -> None:
    where = tmp_path / "run" / "locks"
    old = os.umask(0)
    try:
        held = devicelock.acquire({"sw1": "sw1:22"}, change_id="CHG-1", action="apply", actor="x", home=tmp_path,
                                  directory=where)
    finally:
        os.umask(old)
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    files = list(where.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    held.release()
    where.chmod(0o777)
    with pytest.raises(LockHeld, match="group/world-writable"):
        devicelock.acquire({"sw1": "sw1:22"}, change_id="CHG-1", action="apply", actor="x", home=tmp_path,
                           directory=where)


def test_lock_directory_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETCHANGE_LOCK_DIR", str(tmp_path / "env"))
    assert devicelock.lock_dir() == tmp_path / "env"
    assert devicelock.lock_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("NETCHANGE_LOCK_DIR")
    if os.geteuid() == 0:
        assert devicelock.lock_dir() == Path("/run/netchange/locks")
