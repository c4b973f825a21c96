"""Another hand (issue 21 item 3), on the lab: a line added by the device's own means between the
candidate's load and the write is never erased. The commit is refused naming the line; a restore
(the whole ``restore_host``: the inverse, then the snapshot) alarms and writes nothing. The device
is read back by its own means (vtysh in the router's namespace, the keepalived file on disk),
never through the driver under test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netchange.drivers.errors import ChangedDuringWrite, ChangedMeanwhile
from netchange.lab.routers import vtysh
from netchange.rollback import restore_host
from tests.integration.lab2_support import context
from tests.integration.test_every_platform_circular import CASES

pytestmark = pytest.mark.lab

ROUTER, VRRP = "rtr-doso-b", "vrrp-doso-b"
HAND = "ip prefix-list NETCHANGE-HAND seq 5 permit 10.123.0.0/24"
HAND_BLOCK = 'vrrp_script chk_netchange_hand {\n    script "/bin/true"\n    interval 60\n}\n'


def _router(nornir: Any) -> Callable[..., str]:
    data = nornir.inventory.hosts[ROUTER].data
    return lambda *commands: vtysh(Path(data["vty_socket"]), *commands, ns=str(data["namespace"]))


def _keepalived_file(nornir: Any) -> Path:
    host = nornir.inventory.hosts[VRRP]
    return Path(host.get_connection_parameters("netchange").extras["optional_args"]["config_path"])


def _candidate(nornir: Any, name: str, dev: Any) -> str:
    change_type, params = CASES[nornir.inventory.hosts[name].platform]
    ct, ctx = context(nornir, name, dev, change_type, params(dict(nornir.inventory.hosts[name].data)))
    return str(ct.render(ctx))


@pytest.fixture
def router_back(nornir: Any) -> Iterator[str]:
    """The router's running configuration before the test; put back by vtysh afterwards."""
    run = _router(nornir)
    before = run("show running-config")
    yield before
    if HAND in run("show running-config"):
        run("configure terminal", f"no {HAND}")


@pytest.fixture
def keepalived_back(nornir: Any) -> Iterator[str]:
    path = _keepalived_file(nornir)
    before = path.read_text()
    yield before
    if HAND_BLOCK in path.read_text():
        path.write_text(path.read_text().replace("\n" + HAND_BLOCK, ""))


def test_frr_commit_refuses_a_line_added_by_hand_after_the_load(
        nornir: Any, open_driver: Callable[[str], Any], router_back: str) -> None:
    run = _router(nornir)
    dev = open_driver(ROUTER)
    dev.get_config(retrieve="running")
    dev.load_merge_candidate(config=_candidate(nornir, ROUTER, dev))
    dev.compare_config()
    run("configure terminal", HAND)  # the colleague, while the commit is in flight
    # Within running_reuse_seconds of the engine's reading the commit reads nothing again (issue 27
    # item 1: that reading, at the host's turn under the lock, is the check; a line typed after it
    # is kept and named as typed during the write: the next test). Past it, the commit reads again.
    time.sleep(dev.running_reuse_seconds + 0.1)  # the engine's last reading (the candidate's too) aged
    with pytest.raises(ChangedMeanwhile, match="NETCHANGE-HAND") as caught:
        dev.commit_config()
    assert f"+{HAND}" in caught.value.lines and "commit refused" in str(caught.value)
    now = run("show running-config")
    assert HAND in now
    assert now.replace(f"{HAND}\n", "") == router_back  # nothing of the change was written


def test_frr_restore_alarms_on_a_line_added_by_hand_and_erases_nothing(
        nornir: Any, open_driver: Callable[[str], Any], router_back: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _router(nornir)
    dev = open_driver(ROUTER)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=_candidate(nornir, ROUTER, dev))
    dev.commit_config()
    after = dev.get_config(retrieve="running")["running"]
    after_by_vtysh = run("show running-config")  # vtysh outside the router's UTS namespace: its own hostname
    inverse = dev.rollback

    def hand_then_rollback() -> None:  # the restore checked the router; then the colleague types
        run("configure terminal", HAND)
        inverse()

    monkeypatch.setattr(dev, "rollback", hand_then_rollback)
    report = restore_host(dev, snapshot, after=after)
    assert not report.verified
    assert report.strategies == ["inverse", "snapshot"]
    assert all("NETCHANGE-HAND" in error for error in report.errors), report.errors
    now = run("show running-config")
    assert HAND in now and now.replace(f"{HAND}\n", "") == after_by_vtysh  # neither erased nor restored
    # The colleague's line removed by the colleague, the engine reads again: the restore proceeds.
    run("configure terminal", f"no {HAND}")
    monkeypatch.undo()
    report = restore_host(dev, snapshot, after=after)
    assert report.verified, report.errors
    assert run("show running-config") == router_back


def _keepalived_loaded(nornir: Any, open_driver: Callable[[str], Any]) -> tuple[Path, Any, str]:
    """The VRRP gateway's file, a driver with the change's candidate loaded, and the file before."""
    path = _keepalived_file(nornir)
    dev = open_driver(VRRP)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=_candidate(nornir, VRRP, dev))
    return path, dev, snapshot


def _alarmed_then_restored(dev: Any, path: Path, snapshot: str, after: str, back: str,
                           monkeypatch: pytest.MonkeyPatch) -> Any:
    """A restore with the colleague's edit armed alarms, naming it, and leaves it (on disk, read
    without the driver); once the colleague has taken it back, the restore verifies. The alarmed
    restore's report is returned."""
    alarmed = report = restore_host(dev, snapshot, after=after)
    assert not report.verified
    assert any("chk_netchange_hand" in error for error in report.errors), report.errors
    assert path.read_text() == after + "\n" + HAND_BLOCK  # the edit kept, the change not undone over it
    path.write_text(after)
    monkeypatch.undo()
    report = restore_host(dev, snapshot, after=after)
    assert report.verified, report.errors
    assert path.read_text() == back
    return alarmed


def test_keepalived_commit_refuses_a_block_appended_by_hand(
        nornir: Any, open_driver: Callable[[str], Any], keepalived_back: str) -> None:
    path, dev, _ = _keepalived_loaded(nornir, open_driver)
    dev.compare_config()
    path.write_text(path.read_text() + "\n" + HAND_BLOCK)
    with pytest.raises(ChangedMeanwhile, match="chk_netchange_hand"):
        dev.commit_config()
    assert path.read_text() == keepalived_back + "\n" + HAND_BLOCK


def test_keepalived_restore_alarms_on_a_block_appended_by_hand(
        nornir: Any, open_driver: Callable[[str], Any], keepalived_back: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path, dev, snapshot = _keepalived_loaded(nornir, open_driver)
    dev.commit_config()
    after = dev.get_config(retrieve="running")["running"]
    inverse = dev.rollback

    def hand_then_rollback() -> None:
        path.write_text(path.read_text() + "\n" + HAND_BLOCK)
        inverse()

    monkeypatch.setattr(dev, "rollback", hand_then_rollback)
    report = _alarmed_then_restored(dev, path, snapshot, after, keepalived_back, monkeypatch)
    assert report.strategies == ["inverse", "snapshot"]
    assert all("chk_netchange_hand" in error for error in report.errors), report.errors


# -- a hand edit during the write itself (after the re-read, before the commands are sent) -------


def _hand_during_send(dev: Any, monkeypatch: pytest.MonkeyPatch, run: Callable[..., str]) -> None:
    """The colleague types while netchange sends: after the re-read, before the commands land."""
    send = dev._send

    def hand_then_send(deletes: list[str], adds: list[str]) -> str | None:
        run("configure terminal", HAND)
        return send(deletes, adds)  # type: ignore[no-any-return]

    monkeypatch.setattr(dev, "_send", hand_then_send)


def test_frr_commit_keeps_and_names_a_line_typed_during_its_write(
        nornir: Any, open_driver: Callable[[str], Any], router_back: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _router(nornir)
    dev = open_driver(ROUTER)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=_candidate(nornir, ROUTER, dev))
    dev.compare_config()
    _hand_during_send(dev, monkeypatch, run)
    with pytest.raises(ChangedDuringWrite, match="during the commit's write") as caught:
        dev.commit_config()
    assert f"+{HAND}" in caught.value.lines
    monkeypatch.undo()
    now = run("show running-config")
    assert HAND in now and now != router_back  # the change written, the colleague's line kept
    # The colleague's line removed by the colleague; the engine reads again, the snapshot goes back.
    run("configure terminal", f"no {HAND}")
    dev.get_config(retrieve="running")
    dev.load_replace_candidate(config=snapshot)
    dev.commit_config()
    assert run("show running-config") == router_back


def test_frr_restore_keeps_and_names_a_line_typed_during_its_write(
        nornir: Any, open_driver: Callable[[str], Any], router_back: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _router(nornir)
    dev = open_driver(ROUTER)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=_candidate(nornir, ROUTER, dev))
    dev.commit_config()
    after = dev.get_config(retrieve="running")["running"]
    _hand_during_send(dev, monkeypatch, run)
    report = restore_host(dev, snapshot, after=after)
    monkeypatch.undo()
    assert not report.verified and report.strategies == ["inverse", "snapshot"]
    assert all("NETCHANGE-HAND" in error for error in report.errors), report.errors
    now = run("show running-config")
    assert HAND in now and now.replace(f"{HAND}\n", "") == router_back  # restored, the hand's line kept
    run("configure terminal", f"no {HAND}")
    assert run("show running-config") == router_back


def test_keepalived_write_refused_when_the_file_changes_after_the_check(
        nornir: Any, open_driver: Callable[[str], Any], keepalived_back: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is checked by its hash in the same remote command as the rename: an edit landing
    after the driver's last reading, just before that command, is refused, named and kept."""
    path, dev, _ = _keepalived_loaded(nornir, open_driver)
    install = dev._install

    def hand_then_install(text: str, expected: str, what: str) -> str | None:
        path.write_text(path.read_text() + "\n" + HAND_BLOCK)
        return install(text, expected, what)  # type: ignore[no-any-return]

    monkeypatch.setattr(dev, "_install", hand_then_install)
    with pytest.raises(ChangedMeanwhile, match="chk_netchange_hand"):
        dev.commit_config()
    assert path.read_text() == keepalived_back + "\n" + HAND_BLOCK


# -- keepalived: a hand edit inside the device's own step, between the hash and the swap ---------


def _hand_in_the_swap_window(path: Path, how: str) -> str:
    """Shell the device runs just before the swap (``keepalived.BEFORE_SWAP``): the colleague's
    block appended in place (``>>``: the same inode), or written by an editor that saves to a new
    file and renames it over the old one (vim's default): the two ways a file changes."""
    quoted = HAND_BLOCK.replace("\n", "\\n").replace('"', '\\"')
    if how == "in place":
        return f'printf "\\n{quoted}" >> {path}; '
    return f'cp {path} {path}.hand && printf "\\n{quoted}" >> {path}.hand && mv {path}.hand {path}; '


@pytest.mark.parametrize("how", ["in place", "by rename"])
def test_keepalived_commit_puts_back_an_edit_landing_between_the_hash_and_the_swap(
        nornir: Any, open_driver: Callable[[str], Any], keepalived_back: str,
        monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The window that was left (the device's ~12 ms from the hash to the rename) is closed: the
    names are swapped atomically and what the swap took out is checked, so the colleague's edit
    is put back, the commit refused and the edit named — not overwritten."""
    from netchange.drivers import keepalived

    path, dev, _ = _keepalived_loaded(nornir, open_driver)
    monkeypatch.setattr(keepalived, "BEFORE_SWAP", _hand_in_the_swap_window(path, how))
    with pytest.raises(ChangedMeanwhile, match="chk_netchange_hand"):
        dev.commit_config()
    assert path.read_text() == keepalived_back + "\n" + HAND_BLOCK  # read on disk, not by the driver
    assert not list(path.parent.glob(f"{path.name}.netchange.*"))  # no candidate left beside it


def test_keepalived_restore_alarms_on_an_edit_landing_between_the_hash_and_the_swap(
        nornir: Any, open_driver: Callable[[str], Any], keepalived_back: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange.drivers import keepalived

    path, dev, snapshot = _keepalived_loaded(nornir, open_driver)
    dev.commit_config()
    assert dev.write_window_closed is True  # the lab's device swaps atomically
    after = dev.get_config(retrieve="running")["running"]
    monkeypatch.setattr(keepalived, "BEFORE_SWAP", _hand_in_the_swap_window(path, "in place"))
    _alarmed_then_restored(dev, path, snapshot, after, keepalived_back, monkeypatch)


def test_keepalived_without_python3_on_the_device_renames_and_says_the_window_is_open(
        nornir: Any, open_driver: Callable[[str], Any], keepalived_back: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange.drivers import keepalived

    monkeypatch.setattr(keepalived, "SWAP", keepalived.SWAP.replace("python3", "python3-not-installed", 1))
    path, dev, snapshot = _keepalived_loaded(nornir, open_driver)
    dev.commit_config()
    assert dev.write_window_closed is False and dev.write_window_ms is not None
    after = path.read_text()
    assert after != keepalived_back
    report = restore_host(dev, snapshot, after=after)
    assert report.verified, report.errors
    assert path.read_text() == keepalived_back
