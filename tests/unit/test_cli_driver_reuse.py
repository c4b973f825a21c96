"""The ios_cli driver reads the running config once per lifecycle step, never across a send."""

from __future__ import annotations

from typing import Any

from netchange.drivers.ios_cli import IosCliDriver

RUNNING = "vlan 10\n name users\n"


class CountingSession:
    def __init__(self) -> None:
        self.config = RUNNING
        self.reads = 0
        self.sent: list[list[str]] = []

    def send_command(self, command: str, **_: Any) -> str:
        assert command == "show running-config"
        self.reads += 1
        return f"Building configuration...\n\nCurrent configuration : 10 bytes\n{self.config}end\n"

    def send_config_set(self, lines: list[str], **_: Any) -> str:
        self.sent.append(lines)
        self.config = RUNNING + "vlan 20\n name servers\n"
        return ""


def driver(reuse: float = 2.0) -> tuple[IosCliDriver, CountingSession]:
    d = IosCliDriver("sw", "u", "p", optional_args={"running_reuse_seconds": reuse})
    session = CountingSession()
    d.device = session
    return d, session


def test_plan_reads_the_device_once() -> None:
    d, session = driver()
    d.get_config(retrieve="running")
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    assert "+vlan 20" in d.compare_config()
    assert "no vlan 20" in d.rollback_preview()
    assert session.reads == 1


def test_commit_uses_its_compare_reading_and_get_config_always_reads() -> None:
    d, session = driver()
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()
    d.commit_config()
    # The lines come from the compare's reading; one more reading, just before the send, checks
    # that no other hand changed the device since (issue 21 item 3).
    assert session.reads == 2 and len(session.sent) == 1
    # After a send nothing cached is trusted.
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    assert d.compare_config() == ""
    assert session.reads == 3
    d.get_config(retrieve="running")
    assert session.reads == 4


def test_reuse_can_be_turned_off() -> None:
    d, session = driver(reuse=0)
    d.get_config(retrieve="running")
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()
    d.rollback_preview()
    assert session.reads == 3


def test_an_old_reading_is_read_again_unless_it_is_the_state_checked(monkeypatch: Any) -> None:
    import netchange.drivers.ios_cli as cli

    d, session = driver(reuse=2.0)
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()  # a reading of the driver's own (not the engine's check): read again once old
    d.discard_config()
    d._checked = None  # as if something else had been checked since
    now = cli.time.monotonic()
    monkeypatch.setattr(cli.time, "monotonic", lambda: now + 5)
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()
    assert session.reads == 2


def test_the_state_checked_serves_at_any_age_and_the_commit_refuses_if_the_device_changed(
        monkeypatch: Any) -> None:
    """Apply's reading (the prepare phase's, under the lock) is what the compare and the commit are
    computed from at the host's turn, however late; the commit reads the device again just before
    its send and refuses, nothing sent, when another hand changed it meanwhile (issue 27 item 1)."""
    import pytest

    import netchange.drivers.ios_cli as cli
    from netchange.drivers.errors import ChangedMeanwhile

    d, session = driver(reuse=2.0)
    d.get_config(retrieve="running")
    now = cli.time.monotonic()
    monkeypatch.setattr(cli.time, "monotonic", lambda: now + 600)
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    assert "+vlan 20" in d.compare_config()
    assert session.reads == 1  # no reading of its own at the host's turn
    session.config = RUNNING + "vlan 99\n name hand\n"  # another hand, after the check
    with pytest.raises(ChangedMeanwhile, match="vlan 99"):
        d.commit_config()
    assert session.reads == 2 and session.sent == []


def test_the_engines_fresh_reading_is_the_check_before_the_write(monkeypatch: Any) -> None:
    """Apply reads the host at its turn, under the lock (``get_config``), then loads, compares and
    commits: within ``running_reuse_seconds`` of that reading the commit writes without reading
    again (read, configure, read back: issue 27 item 1); older, it reads again and refuses a
    change another hand made meanwhile; a reading of the driver's own is never taken for it."""
    import pytest

    import netchange.drivers.ios_cli as cli
    from netchange.drivers.errors import ChangedMeanwhile

    d, session = driver(reuse=2.0)
    d.get_config(retrieve="running")
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    assert "+vlan 20" in d.compare_config()
    d.commit_config()
    assert session.reads == 1 and len(session.sent) == 1
    assert d.write_window_ms is not None and d.write_window_ms >= 0  # from the engine's reading to the write
    # After the send, a fresh get_config again; 2.5 s later the commit reads before it writes.
    session.config = RUNNING
    d.get_config(retrieve="running")
    now = cli.time.monotonic()
    monkeypatch.setattr(cli.time, "monotonic", lambda: now + 2.5)
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()
    session.config = RUNNING + "vlan 99\n name hand\n"
    with pytest.raises(ChangedMeanwhile, match="vlan 99"):
        d.commit_config()
    assert session.reads == 3 and len(session.sent) == 1
    # Off (reuse 0): every commit reads again, even right after the engine's reading.
    d0, session0 = driver(reuse=0)
    d0.get_config(retrieve="running")
    d0.load_merge_candidate(config="vlan 20\n name servers\n")
    before = session0.reads
    d0.commit_config()
    assert session0.reads > before and len(session0.sent) == 1
