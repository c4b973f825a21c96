"""``config_snippet`` safety (issue 11 item 7): mode changes, exec commands and actions are refused at
plan time (exit 2, one line, no device contacted), on every abbreviation and case the device
accepts; a top-level line must start with a configuration keyword of the syntax's profile; the
IOS-style driver refuses the same commands in any candidate it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netchange.changetype import get_change_type
from netchange.drivers.ios_cli import ASA, IOS, check_candidate
from netchange.errors import BadRequest
from netchange.inventory import _connection as connection
from netchange.platforms.lines import refused_command, split_commands
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING, MockDevice, write_inventory

Cli = Callable[..., CliResult]

REFUSED: list[tuple[str, list[str]]] = [
    # IOS: leaving configuration mode, then exec commands; any case, any unique prefix.
    ("ios", ["end"]), ("ios", ["END"]), ("ios", ["en"]), ("ios", ["exit"]), ("ios", ["ex"]), ("ios", ["e"]),
    ("ios", ["interface Gi0/1", " exit"]), ("ios", ["interface Gi0/1", " end"]),
    ("ios", ["do reload"]), ("ios", ["DO reload"]), ("ios", ["d wr"]), ("ios", ["interface Gi0/1", " do reload"]),
    ("ios", ["reload"]), ("ios", ["relo"]), ("ios", ["write erase"]), ("ios", ["wr er"]), ("ios", ["WR"]),
    ("ios", ["erase startup-config"]), ("ios", ["configure replace flash:base.cfg force"]),
    ("ios", ["conf rep flash:x"]), ("ios", ["conf t"]), ("ios", ["copy running-config startup-config"]),
    ("ios", ["delete /force flash:config.text"]), ("ios", ["format flash:"]),
    ("ios", ["crypto key zeroize rsa"]), ("ios", ["cr k z"]), ("ios", ["crypto key generate rsa modulus 2048"]),
    ("ios", ["no do reload"]), ("ios", ["logging host 10.0.0.5", "quit"]),
    # IOS: not on the allow-list (abbreviated, capitalised, or commands that run other commands).
    ("ios", ["int Gi0/1"]), ("ios", ["Interface GigabitEthernet0/1"]), ("ios", ["boot system flash:x.bin"]),
    ("ios", ["event manager applet X"]), ("ios", ["alias exec wr reload"]), ("ios", ["kron policy-list X"]),
    ("ios", ["config-register 0x2142"]), ("ios", ["username admin privilege 15 secret x"]),
    ("ios", ["default interface GigabitEthernet0/1"]), ("ios", ["macro global apply X"]),
    # ASA runs exec commands from configuration mode.
    ("asa", ["write erase"]), ("asa", ["wr mem"]), ("asa", ["reload noconfirm"]), ("asa", ["clear configure all"]),
    ("asa", ["cle conf all"]), ("asa", ["configure factory-default"]),
    ("asa", ["copy /noconfirm tftp: running-config"]),
    ("asa", ["firewall transparent"]), ("asa", ["mode multiple"]), ("asa", ["changeto context admin"]),
    ("asa", ["end"]), ("asa", ["exit"]), ("asa", ["crypto key zeroize rsa"]),
    # nftables: wiping, reading files, a second command after ';', unbalanced input.
    ("nftables", ["flush ruleset"]), ("nftables", ["FLUSH ruleset"]), ("nftables", ["flush chain inet filter input"]),
    ("nftables", ["add rule inet filter input tcp dport 22 accept; flush ruleset"]),
    ("nftables", ["add rule inet filter input accept ;delete table inet filter"]),
    ("nftables", ["add table inet x { flags dormant; }; flush ruleset"]),
    ("nftables", ['include "/etc/nftables.conf"']), ("nftables", ["list ruleset"]), ("nftables", ["reset counters"]),
    ("nftables", ["delete table inet filter"]), ("nftables", ['add rule inet filter input comment "open']),
    ("nftables", ["table inet filter {"]), ("nftables", ["add rule inet f input accept }"]),
    ("nftables", ["destroy table inet filter"]),
]

ACCEPTED: list[tuple[str, list[str]]] = [
    ("ios", ["logging host 10.0.0.5", "snmp-server location Paris"]),
    ("ios", ["interface GigabitEthernet0/1", " description desk 1", " no shutdown",
             "no ip route 10.0.0.0 255.0.0.0 1.1.1.1"]),
    ("ios", ["ntp source Loopback0", "spanning-tree mode rapid-pvst", "vlan 30", " name backup"]),
    ("ios", ["interface Vlan20", " description do not delete"]),  # words inside a line are not commands
    ("asa", ["logging trap informational", "access-list OUT extended permit tcp any host 192.0.2.10 eq 443"]),
    ("nftables", ["add table inet extra"]),
    ("nftables", ["add chain inet extra input { type filter hook input priority 0; policy accept; }"]),
    ("nftables", ['add rule inet filter forward ip saddr 10.0.0.0/8 accept comment "a;b"']),
    ("nftables", ["delete rule inet filter input handle 5", "add rule inet filter input accept # ; flush ruleset"]),
]


def _id(case: tuple[str, list[str]]) -> str:
    return f"{case[0]}:{'|'.join(case[1])}"


@pytest.mark.parametrize("case", REFUSED, ids=_id)
def test_refused_when_the_request_is_read(case: tuple[str, list[str]]) -> None:
    syntax, lines = case
    with pytest.raises(BadRequest) as info:
        get_change_type("config_snippet").validate({"syntax": syntax, "lines": lines}, where="steps.0.params")
    message = str(info.value)
    assert "\n" not in message and message.startswith("steps.0.params"), message


@pytest.mark.parametrize("case", ACCEPTED, ids=_id)
def test_configuration_lines_are_accepted(case: tuple[str, list[str]]) -> None:
    syntax, lines = case
    params = get_change_type("config_snippet").validate({"syntax": syntax, "lines": lines})
    assert list(params.lines) == lines


def test_refused_forms_never_reach_a_device(workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(connection.NetchangeConnection, "open", lambda *a, **k: opened.append(a))
    cfg = write_inventory(workspace / "mock", [MockDevice("sw1", SWITCH_RUNNING, diff="+reload\n")])
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(cfg))
    forms = [["DO reload"], ["wr er"], ["END"], ["interface Gi0/1", " ex"], ["conf rep flash:x"], ["relo"]]
    for syntax, lines in (("ios", form) for form in forms):
        change = workspace / "snippet.yaml"
        change.write_text(yaml.safe_dump({
            "id": "CHG-2026-0099", "title": "Snippet", "ticket": "INC0099", "requester": "amoreau",
            "steps": [{"type": "config_snippet", "targets": {"hosts": ["sw1"]},
                       "params": {"syntax": syntax, "lines": lines}}]}))
        result = cli("plan", str(change), actor="dnguyen")
        assert result.code == 2, (lines, result.err)
        assert len(result.err.strip().splitlines()) == 1 and "refused" in result.err, result.err
    assert opened == []


# -- the same refused commands in any candidate the IOS-style driver loads ----------------------


@pytest.mark.parametrize("bad", ["DO reload\n", "END\n", "wr er\n", "interface Fa0/1\n ex\n", "conf rep flash:x\n",
                                 "relo\n", "vlan 5\n e\n", "crypto key zeroize rsa\n", "copy run start\n"])
def test_driver_refuses_mode_and_exec_commands_on_any_abbreviation(bad: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        check_candidate(bad, IOS)


def test_driver_refuses_asa_exec_commands() -> None:
    for bad in ("clear configure all\n", "write erase\n", "reload\n"):
        with pytest.raises(ValueError, match="not allowed"):
            check_candidate(bad, ASA)


def test_driver_accepts_a_full_configuration_with_banner_text_and_certificates() -> None:
    config = ("hostname sw1\nbanner motd ^C\nDo not reload without a change number\nEnd of notice\n^C\n"
              "crypto pki certificate chain TP-self-signed-1\n certificate self-signed 01\n  3082022B 30820194\n"
              "  \tquit\ninterface Fa0/1\n description exit to core\n")
    assert check_candidate(config, IOS) == config


@pytest.mark.parametrize("bad", [
    "banner motd ^C\nhello ^ there\nreload\n^C\n",  # the device ends the banner at the first ^
    "banner motd #hi# there#\n",  # a one-line banner the device closes at its second '#'
    "banner motd ^Chi ^ there^C\n",
    "banner motd ^C\nnever closed\nend\n",
])
def test_driver_refuses_a_banner_whose_end_the_device_would_see_elsewhere(bad: str) -> None:
    with pytest.raises(ValueError, match="banner"):
        check_candidate(bad, IOS)


def test_driver_accepts_a_one_line_banner_and_reads_the_next_line_as_a_command() -> None:
    """IOS prints a banner without a line break on one line (``banner motd ^CText^C``): a restore
    loads it in the device's own configuration. The line after it is a command, checked as such."""
    assert check_candidate("banner motd ^CAuthorised use only^C\nhostname sw1\n", IOS)
    with pytest.raises(ValueError, match="not allowed"):
        check_candidate("banner motd #hi#\nend\n", IOS)


def test_refused_command_matching() -> None:
    assert refused_command("wr er", ["write erase"]) == "write erase"
    assert refused_command("write", ["write erase"]) is None  # incomplete: not that command
    assert refused_command("description do not reload", ["do", "reload"]) is None
    assert refused_command("exit-address-family", ["exit"]) is None
    assert refused_command("n do reload", ["do"]) == "do"


def test_split_commands() -> None:
    assert split_commands('add rule x y comment "a;b"; add rule x z', ";") == ['add rule x y comment "a;b"',
                                                                             "add rule x z"]
    assert split_commands("add chain x y { type filter hook input priority 0; }", ";") == [
        "add chain x y { type filter hook input priority 0; }"]
    assert split_commands("add rule x y accept # ; flush ruleset", ";") == ["add rule x y accept"]
