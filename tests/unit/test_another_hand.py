"""Another hand (issue 21 item 3): every driver reads the device again just before a write and
refuses when it differs from the state that was checked (the base class's one check)."""

from __future__ import annotations

from typing import Any

import pytest

from netchange.drivers.base import NetchangeDriver, changed_between
from netchange.drivers.errors import ChangedMeanwhile
from netchange.drivers.ios_cli import IosCliDriver
from netchange.errors import DriftDetected


class FileDevice(NetchangeDriver):
    """A driver over a text held in memory: what the base class checks, without a device."""

    def __init__(self, text: str) -> None:
        super().__init__("dev1", "u", "p")
        self.text = text
        self.written: list[str] = []

    def running_config(self) -> str:
        return self.text

    def write(self, new: str) -> None:
        self._reread_and_compare("commit")
        self._writing()
        self.written.append(new)
        self.text = new


def test_a_write_on_the_state_checked_goes_through_and_measures_its_window() -> None:
    dev = FileDevice("a\nb\n")
    dev.get_config(retrieve="running")
    dev.write("a\nb\nc\n")
    assert dev.written == ["a\nb\nc\n"]
    assert dev.write_window_ms is not None and 0 <= dev.write_window_ms < 1000


def test_a_line_added_by_another_hand_is_refused_named_and_nothing_is_written() -> None:
    dev = FileDevice("a\nb\n")
    dev.get_config(retrieve="running")
    dev.text = "a\nb\nhand\n"  # someone else, between the check and the write
    with pytest.raises(ChangedMeanwhile, match=r"dev1: changed by another hand.*commit refused.*\+hand") as caught:
        dev.write("a\nb\nc\n")
    assert isinstance(caught.value, DriftDetected) and caught.value.lines == ("+hand",)
    assert dev.written == [] and dev.text == "a\nb\nhand\n"
    # The state checked is kept: a second write of this session is refused too (a restore that
    # falls back from the inverse to the snapshot erases nothing either) …
    with pytest.raises(ChangedMeanwhile):
        dev.write("a\n")
    # … until the device is read again.
    dev.get_config(retrieve="running")
    dev.write("a\nb\nhand\nc\n")
    assert dev.text.endswith("c\n")


def test_the_base_a_target_was_computed_from_must_still_hold() -> None:
    dev = FileDevice("a\n")
    base = dev.get_config(retrieve="running")["running"]
    dev.text = "a\nhand\n"
    dev.get_config(retrieve="running")  # a later reading (a compare) saw the hand line …
    with pytest.raises(ChangedMeanwhile, match=r"\+hand"):  # … but the target lacks it
        dev._reread_and_compare("commit", base=base)


def test_without_a_state_checked_the_fresh_reading_is_it() -> None:
    dev = FileDevice("a\n")
    dev.write("b\n")
    assert dev.written == ["b\n"]


def test_changed_between_names_added_and_removed_lines() -> None:
    assert changed_between("a\nb\nc\n", "a\nc\nd\n") == ["-b", "+d"]


# -- ios_cli: the commit's lines come from a reading up to 2 s old; read again before the send --

RUNNING = "vlan 10\n name users\n"


class Switch:
    def __init__(self) -> None:
        self.config = RUNNING
        self.sent: list[list[str]] = []

    def send_command(self, command: str, **_: Any) -> str:
        return f"Building configuration...\n\nCurrent configuration : 10 bytes\n{self.config}end\n"

    def send_config_set(self, lines: list[str], **_: Any) -> str:
        self.sent.append(lines)
        return ""


def test_ios_cli_commit_refuses_a_line_added_since_its_compare() -> None:
    d = IosCliDriver("sw", "u", "p")
    d.device = switch = Switch()
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.compare_config()
    switch.config = RUNNING + "vlan 99\n name by-hand\n"
    with pytest.raises(ChangedMeanwhile, match=r"sw:22: .*\+vlan 99 \| \+ name by-hand"):
        d.commit_config()
    assert switch.sent == []


def test_ios_cli_rollback_refuses_a_line_added_since_the_restore_read() -> None:
    d = IosCliDriver("sw", "u", "p")
    d.device = switch = Switch()
    d.load_merge_candidate(config="vlan 20\n name servers\n")
    d.commit_config()
    switch.config = RUNNING + "vlan 20\n name servers\n"
    d.get_config(retrieve="running")  # the restore's check
    switch.config += "vlan 99\n"
    with pytest.raises(ChangedMeanwhile, match=r"rollback refused.*\+vlan 99"):
        d.rollback()
    assert len(switch.sent) == 1  # only the commit
