"""The lab's fake-switches types and prints banners, macros and certificates as IOS does
(adjustment 7, lab/fakeswitch_blocks.py), checked in process without SSH. The driver's own
reading of the printed text (the profile's blocks) must give back what was typed."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fake_switches")

from fake_switches import switch_factory
from fake_switches.terminal import NoopTerminalController

from netchange.drivers.ios_cli import IOS, canonical_config, parse
from netchange.lab import fakeswitch_launcher


class _Terminal(NoopTerminalController):  # type: ignore[misc]
    def __init__(self) -> None:
        self.out: list[str] = []

    def write(self, text: str) -> None:
        self.out.append(text)


def _typed(lines: list[str]) -> str:
    """What the switch prints after ``lines`` typed in configuration mode, then its running configuration."""
    fakeswitch_launcher._patch_fake_switches()
    core: Any = switch_factory.SwitchFactory().get("cisco_generic", "sw1", "secret")
    terminal = _Terminal()
    processor = core.new_command_processor()
    processor.init(core.switch_configuration, terminal, fakeswitch_launcher._seed_log, fakeswitch_launcher._NoPiping())
    for line in ["enable", "secret", "configure terminal", *lines, "end"]:
        processor.process_command(line)
    terminal.out.clear()
    processor.process_command("show running-config")
    return "".join(terminal.out)


def test_blocks_typed_are_printed_as_ios_prints_them_and_read_back_whole() -> None:
    shown = _typed(["banner motd %", "Authorised use only #1", "  second line", "%",
                    "banner exec #one line#",
                    "macro name desktop", "switchport mode access", "@",
                    "crypto pki certificate chain TP-1", "certificate self-signed 01", "3082022B 30820194", "quit",
                    "exit"])
    config = canonical_config(shown.rsplit("\n", 1)[0], IOS)
    assert "banner motd ^C\nAuthorised use only #1\n  second line\n^C\n" in config
    assert "banner exec ^Cone line^C\n" in config
    assert "macro name desktop\nswitchport mode access\n@\n" in config
    assert "crypto pki certificate chain TP-1\n certificate self-signed 01\n  3082022B 30820194\n  \tquit\n" in config
    tree = parse(config, IOS)
    texts = {child.text.split("\n", 1)[0]: child.text for child in tree.children}
    assert texts["banner motd ^C"] == "banner motd ^C\nAuthorised use only #1\n  second line\n^C"
    assert texts["macro name desktop"] == "macro name desktop\nswitchport mode access\n@"
    chain = tree.children.get("crypto pki certificate chain TP-1")
    assert chain is not None and [c.text for c in chain.children] == [
        "certificate self-signed 01\n 3082022B 30820194\n \tquit"]


def test_removals_and_the_certificate_confirmation() -> None:
    base = ["banner motd #hi#", "macro name m", "shutdown", "@",
            "crypto pki certificate chain T", "certificate ca 02", "AB", "quit", "exit"]
    kept = _typed([*base, "crypto pki certificate chain T", "no certificate ca 02", "no", "exit"])
    assert " certificate ca 02" in kept  # not confirmed: kept
    gone = _typed([*base, "no banner motd", "no macro name m",
                   "crypto pki certificate chain T", "no certificate ca 02", "yes", "exit"])
    assert "banner" not in gone and "macro" not in gone and "certificate ca 02" not in gone
