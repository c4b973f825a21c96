"""Pure helpers of the ios_cli driver: canonical config, device-syntax diff, command lines."""

from __future__ import annotations

import pytest
from hier_config import WorkflowRemediation

from netchange.drivers.ios_cli import (
    ASA,
    IOS,
    canonical_config,
    check_candidate,
    config_lines,
    diff_configs,
    parse,
)

SHOW_RUN = (
    "Building configuration...\r\n\r\nCurrent configuration : 120 bytes\r\nversion 12.1\r\n!\r\n"
    "vlan 10\r\n name users\r\n!\r\ninterface FastEthernet0/2\r\n description desk  \r\n"
    " switchport access vlan 10\r\n!\r\nip route 0.0.0.0 0.0.0.0 10.0.0.1\r\n!\r\nend\r\n\r\n"
)


def test_canonical_config_strips_header_and_end() -> None:
    text = canonical_config(SHOW_RUN, IOS)
    assert text.startswith("version 12.1\n")
    assert text.endswith("ip route 0.0.0.0 0.0.0.0 10.0.0.1\n!\n")
    assert "\r" not in text
    assert " description desk\n" in text  # trailing blanks dropped
    # The byte count in the header changes with every edit; the canonical text must not.
    assert canonical_config(SHOW_RUN.replace("120 bytes", "999 bytes"), IOS) == text


def test_canonical_config_asa_header() -> None:
    asa = ": Saved\n:\n: Serial Number: X\nASA Version 9.8\n!\nhostname fw\n"
    assert canonical_config(asa, ASA) == "ASA Version 9.8\n!\nhostname fw\n"


def test_canonical_config_asa_trailer_is_not_configuration() -> None:
    """An ASA ends ``show running-config`` with a checksum of the configuration and ``: end``: the
    checksum changes with every edit, so a recover comparing readings saw "someone else" in it."""
    asa = ": Saved\n:\nASA Version 9.8\n!\nhostname fw\nCryptochecksum:571d01b7b08342e35db838e9acec00f6\n: end\n"
    assert canonical_config(asa, ASA) == "ASA Version 9.8\n!\nhostname fw\n"
    assert canonical_config(asa.replace("571d01b7", "00000000"), ASA) == canonical_config(asa, ASA)


def test_diff_shows_parents_as_context_in_device_indentation() -> None:
    running = parse(canonical_config(SHOW_RUN, IOS), IOS)
    candidate = parse(
        "vlan 30\n name new\ninterface FastEthernet0/2\n switchport access vlan 20\n"
        "no ip route 0.0.0.0 0.0.0.0 10.0.0.1\n",
        IOS,
    )
    diff = diff_configs(running, running.future(candidate)).splitlines()
    assert diff == [
        " interface FastEthernet0/2",
        "- switchport access vlan 10",
        "+ switchport access vlan 20",
        "-ip route 0.0.0.0 0.0.0.0 10.0.0.1",
        "+vlan 30",
        "+ name new",
    ]


def test_access_vlan_is_idempotent_so_rollback_restores_it() -> None:
    running = parse("interface FastEthernet0/2\n switchport access vlan 10\n", IOS)
    future = running.future(parse("interface FastEthernet0/2\n switchport access vlan 20\n", IOS))
    rollback = config_lines(WorkflowRemediation(running, future).rollback_config)
    assert "switchport access vlan 10" in rollback


def test_config_lines_exit_each_section() -> None:
    config = parse("interface Vlan99\n description m\nip route 1.0.0.0 255.0.0.0 10.0.0.1\n", IOS)
    assert config_lines(config) == [
        "interface Vlan99",
        "description m",
        "exit",
        "ip route 1.0.0.0 255.0.0.0 10.0.0.1",
    ]
    assert config_lines(config, " ")[1] == " description m"


def test_identical_configs_have_no_diff() -> None:
    running = parse(canonical_config(SHOW_RUN, IOS), IOS)
    assert diff_configs(running, running) == ""


@pytest.mark.parametrize(
    "bad",
    ["", "  \n", "vlan 5\x07\n", "vlan 5\nend\n", "configure terminal\n", "do show run\n", "write memory\n"],
)
def test_check_candidate_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        check_candidate(bad)


def test_check_candidate_accepts_negations() -> None:
    assert (
        check_candidate("no vlan 5\r\ninterface Fa0/1\n no shutdown\n")
        == "no vlan 5\ninterface Fa0/1\n no shutdown\n"
    )
