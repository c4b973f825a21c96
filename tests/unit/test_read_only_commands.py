"""One read-only rule for every driver's ``cli()`` (issue 20, item 2): the platform profile's
``read_only`` prefixes and refused characters, applied by ``check_read_only`` before anything is
sent; a refusal is ``CommandRefused`` everywhere (bad input, exit 2; NAPALM's
``CommandErrorException``)."""

from __future__ import annotations

from typing import Any

import pytest
from napalm.base.exceptions import CommandErrorException

from netchange.drivers.base import check_read_only
from netchange.drivers.contract import DRIVERS
from netchange.drivers.errors import CommandRefused
from netchange.errors import BadRequest
from netchange.platforms import READ_ONLY_REFUSED_CHARACTERS, PlatformProfile, profile_of, profiles

WITH_COMMANDS = sorted(p.name for p in profiles() if p.read_only.prefixes)
"""Every profile whose ``cli()`` runs commands (bind and netconf take queries, NAPALM's own
platforms have no profile rule: NAPALM's driver runs what it is given)."""

# Each appended to a command that is otherwise allowed: what a shell, or a CLI, would take as a
# second command, a substitution, a redirection, or words other than those checked.
SMUGGLED = ["x; reboot", "x && reboot", "x & reboot", "x | sh", "x || reboot", "`reboot`", "$(reboot)", "${IFS}",
            "x > /etc/motd", "x < /etc/shadow", "x\nreboot", "x\rreboot", "'x'", '"x"', "x\\ y"]


def test_every_driver_running_commands_has_a_rule() -> None:
    assert {"ios_cli", "asa_cli", "nftables", "haproxy", "frr", "keepalived"} <= set(WITH_COMMANDS)


@pytest.mark.parametrize("name", WITH_COMMANDS)
def test_every_profile_refuses_the_same_bad_commands(name: str) -> None:
    profile = profile_of(name)
    assert profile.read_only.refused_characters == READ_ONLY_REFUSED_CHARACTERS
    for prefix in profile.read_only.prefixes:
        check_read_only(profile, [prefix + "x", "  " + prefix + "x"])  # allowed, leading spaces aside
        for tail in SMUGGLED:
            with pytest.raises(CommandRefused, match=f"^{name}: not a read-only command: ") as info:
                check_read_only(profile, [prefix + "x", prefix + tail])
            assert "\n" not in str(info.value)  # one line, whatever the command held
    for command in ["reboot", "configure terminal", "", "rm -rf /"]:
        assert profile.read_only.refusal(command) is not None, command


def test_a_refusal_is_bad_input_and_napalm_s_command_error() -> None:
    with pytest.raises(CommandRefused) as info:
        check_read_only(profile_of("nftables"), ["nft flush ruleset"])
    assert isinstance(info.value, BadRequest) and isinstance(info.value, CommandErrorException)
    assert info.value.exit_code == 2
    assert "read-only prefixes" in str(info.value)


def test_a_profile_without_prefixes_refuses_everything() -> None:
    bare = PlatformProfile(name="bare", syntax="ios")
    with pytest.raises(CommandRefused):
        check_read_only(bare, ["show version"])


def _driver(name: str) -> Any:
    options: dict[str, Any] = {"zone": "example.org"} if name == "bind" else {}
    return DRIVERS.get(name)("192.0.2.1", "u", "p", timeout=1, optional_args=options)


@pytest.mark.parametrize("name", [n for n in WITH_COMMANDS if n in DRIVERS.names()])
def test_every_driver_refuses_before_it_sends(name: str) -> None:
    """No session is open: a driver that sent anything would fail otherwise than refusing."""
    prefix = profile_of(name).read_only.prefixes[0]
    for tail in SMUGGLED:
        with pytest.raises(CommandRefused):
            _driver(name).cli([prefix + tail])
    with pytest.raises(CommandRefused):
        _driver(name).cli([prefix + "x", "reboot"])


@pytest.mark.parametrize(("name", "command"), [("bind", "www.example.org A extra"), ("netconf", "show running")])
def test_drivers_taking_queries_refuse_the_same_way(name: str, command: str) -> None:
    with pytest.raises(CommandRefused):
        _driver(name).cli([command])


SHELL_WRITES = ["ip route del 10.0.0.0/8", "ip neigh flush all", "ip addr add 192.0.2.1/32 dev lo",
                "ip route replace default via 192.0.2.1", "hostname NEW", "ss -K dst 192.0.2.1",
                "ip link show dev eth0 set down"]


@pytest.mark.parametrize("platform", ["nftables", "frr", "keepalived"])
@pytest.mark.parametrize("command", SHELL_WRITES)
def test_a_shell_reading_command_turned_into_a_write_is_refused(platform: str, command: str) -> None:
    """A shell's read-only prefix is not enough: ``ip route`` reads, ``ip route del`` writes."""
    assert profile_of(platform).read_only.refusal(command) is not None


@pytest.mark.parametrize("platform", ["nftables", "frr", "keepalived"])
def test_the_shell_reading_commands_the_change_types_send_still_run(platform: str) -> None:
    rules = profile_of(platform).read_only
    for command in ("hostname", "ip route", "ip neigh show"):
        assert rules.refusal(command) is None, command
