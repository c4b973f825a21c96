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


def test_an_old_reading_is_read_again(monkeypatch: Any) -> None:
    d, session = driver(reuse=2.0)
    d.get_config(retrieve="running")
    import netchange.drivers.ios_cli as cli

    now = cli.time.monotonic()
    monkeypatch.setattr(cli.time, "monotonic", lambda: now + 5)
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()
    assert session.reads == 2
