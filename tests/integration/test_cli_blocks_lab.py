"""Banners, a macro and a certificate typed whole and rolled back on the lab (issue 22 item 5).

The ``ios_cli`` driver types a block of its profile (``cli.blocks``) in one piece without
netmiko's echo check: a banner with a delimiter its text lacks, a macro up to ``@``, a
certificate up to ``quit`` (no ``exit`` after it), a certificate's removal with the answer to the
device's "[yes/no]". fake-switches knows none of these; the lab's launcher teaches them to it as
IOS behaves (adjustment 7, :mod:`netchange.lab.fakeswitch_blocks`). So this replays, over SSH and
netmiko, what the unit tests check on stored configurations (tests/unit/test_what_is_sent.py):
what is typed, that the device ends where the plan said, and that the rollback and a restore
give back ``show running-config`` byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.drivers.ios_cli import IOS, canonical_config, parse

pytestmark = pytest.mark.lab

CORPUS = Path(__file__).parent.parent / "corpus"
CHAIN = "crypto pki certificate chain TP-self-signed-4186027549"


def _certificate() -> list[str]:
    """The CSR1000v's self-signed certificate of the corpus (lv_r3_iosxe), as IOS prints it."""
    lines = (CORPUS / "ios" / "lv_r3_iosxe.ios").read_text().splitlines()
    start = lines.index(CHAIN)
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "quit")
    return lines[start:end + 1]


ADD = "\n".join([
    "banner motd ^C",
    "Authorised use only #1",
    "  Call the NOC first",
    "^C",
    "banner exec ^C",
    "Maintenance window: Sunday 02:00",
    "^C",
    "macro name desktop",
    "switchport mode access",
    "spanning-tree portfast",
    "@",
    *_certificate(),
]) + "\n"


def _block(config: str, first: str) -> str:
    tree = parse(canonical_config(config, IOS), IOS)
    for node in tree.all_children():
        if node.text.split("\n", 1)[0] == first:
            return str(node.text)
    raise AssertionError(f"{first!r} not in the configuration")


def test_blocks_are_typed_whole_and_rolled_back_byte_for_byte(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("sw-doso-acc1")
    snapshot = dev.get_config()["running"]

    dev.load_merge_candidate(config=ADD)
    diff = dev.compare_config().splitlines()
    assert diff[:4] == ["+banner motd ^C", "+Authorised use only #1", "+  Call the NOC first", "+^C"], diff
    shown = dev.rollback_preview().splitlines()
    assert {"no banner motd", "no banner exec", "no macro name desktop", f"no {CHAIN}"} <= set(shown), shown
    dev.commit_config()
    added = dev.get_config()["running"]
    # the text typed with another delimiter ('#' is in it: '%'), printed back with ^C as IOS does
    assert _block(added, "banner motd ^C") == "banner motd ^C\nAuthorised use only #1\n  Call the NOC first\n^C"
    assert _block(added, "banner exec ^C") == "banner exec ^C\nMaintenance window: Sunday 02:00\n^C"
    macro = "macro name desktop\nswitchport mode access\nspanning-tree portfast\n@"
    assert _block(added, "macro name desktop") == macro
    certificate = _block(added, "certificate self-signed 01").splitlines()
    assert [line.strip() for line in certificate] == [line.strip() for line in _certificate()[1:]]
    assert "interface FastEthernet0/1" in added  # config mode was not left by an exit after quit

    dev.rollback()
    assert dev.get_config()["running"] == snapshot

    # Remove them on a device that has them: each by its one command (the certificate's answered),
    # and the rollback types them back whole.
    dev.load_merge_candidate(config=ADD)
    dev.commit_config()
    added = dev.get_config()["running"]
    dev.load_merge_candidate(config=f"no banner motd\nno macro name desktop\n{CHAIN}\n no certificate self-signed 01\n")
    diff = dev.compare_config().splitlines()
    assert "-banner motd ^C" in diff and "-macro name desktop" in diff and "- certificate self-signed 01" in diff
    dev.commit_config()
    removed = dev.get_config()["running"]
    assert "banner motd" not in removed and "macro name" not in removed and "certificate self-signed" not in removed
    assert "banner exec ^C" in removed
    dev.rollback()
    assert dev.get_config()["running"] == added

    # A restore to the snapshot (a replace) removes every block, each by its one command.
    dev.load_replace_candidate(config=snapshot)
    dev.commit_config()
    assert dev.get_config()["running"] == snapshot
