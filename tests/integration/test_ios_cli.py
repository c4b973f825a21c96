"""The ``ios_cli`` driver against fake-switches: circular, rejected line, bad input, host keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from napalm.base.exceptions import (
    CommandErrorException,
    CommitError,
    ConnectionException,
    MergeConfigException,
)

from netchange.drivers.ios_cli import IosCliDriver
from netchange.errors import CommitFailed
from netchange.lab.manager import LabManager

pytestmark = pytest.mark.lab

CHANGE = """\
vlan 30
 name lab-test
interface FastEthernet0/2
 description moved to servers
 switchport access vlan 20
interface FastEthernet0/12
 no shutdown
no ip route 10.10.200.0 255.255.255.0 10.10.99.253
ip route 10.9.0.0 255.255.0.0 10.10.99.254
"""


def test_circular_merge_then_rollback(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("sw-doif-core1")
    snapshot = dev.get_config(retrieve="running")["running"]
    assert not snapshot.startswith(("Building", "Current configuration"))
    assert not snapshot.endswith("end\n")

    dev.load_merge_candidate(config=CHANGE)
    diff = dev.compare_config()
    expected = (
        "+vlan 30", "+ name lab-test", " interface FastEthernet0/2", "- description user desk 2",
        "+ description moved to servers", "+ switchport access vlan 20", "- shutdown",
        "-ip route 10.10.200.0 255.255.255.0 10.10.99.253", "+ip route 10.9.0.0 255.255.0.0 10.10.99.254",
    )
    for line in expected:
        assert line in diff.splitlines(), (line, diff)
    assert "no vlan 30" in dev.rollback_preview()
    assert dev.get_config()["running"] == snapshot  # nothing sent before commit

    dev.commit_config()
    changed = dev.get_config()["running"]
    assert "vlan 30\n name lab-test" in changed
    assert "ip route 10.9.0.0 255.255.0.0 10.10.99.254" in changed
    assert not dev.has_pending_commit()

    dev.rollback()
    assert dev.get_config()["running"] == snapshot


def test_replace_then_rollback(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("sw-doso-acc1")
    snapshot = dev.get_config()["running"]
    target = snapshot.replace("vlan 20\n name servers\n!\n", "").replace(" description printer 3\n", "")
    dev.load_replace_candidate(config=target)
    diff = dev.compare_config().splitlines()
    assert "-vlan 20" in diff
    assert "- description printer 3" in diff
    dev.commit_config()
    after = dev.get_config()["running"]
    assert "vlan 20" not in after
    assert "printer 3" not in after
    dev.rollback()
    assert dev.get_config()["running"] == snapshot


def test_rejected_line_raises_and_leaves_device_unchanged(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("sw-doif-acc1")
    snapshot = dev.get_config()["running"]
    dev.load_merge_candidate(config="vlan 40\n name half-done\ninterface FastEthernet0/3\n description x\n"
                                    " frobnicate the port\n")
    # NAPALM's contract (its own ios driver): a refused line of a merge is a MergeConfigException.
    with pytest.raises(MergeConfigException, match="undone") as info:
        dev.commit_config()
    assert isinstance(info.value, CommitFailed)
    assert dev.get_config()["running"] == snapshot


@pytest.mark.parametrize("bad", ["", "vlan 50\x1b[2J\n", "vlan 50\nend\n", "do write memory\n"])
def test_bad_input_refused(open_driver: Callable[[str], Any], bad: str) -> None:
    dev = open_driver("sw-doso-core1")
    snapshot = dev.get_config()["running"]
    with pytest.raises(MergeConfigException):
        dev.load_merge_candidate(config=bad)
    assert dev.compare_config() == ""
    with pytest.raises(CommitError):
        dev.commit_config()
    assert dev.get_config()["running"] == snapshot


def test_cli_reads_but_refuses_config_commands(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("sw-doso-core2")
    assert "vlan 99" in dev.cli(["show running-config"])["show running-config"]
    assert "Invalid input" in dev.cli(["show ip route"])["show ip route"]  # session survives
    with pytest.raises(CommandErrorException):
        dev.cli(["configure terminal"])
    assert dev.is_alive()["is_alive"]


def test_wrong_host_key_is_refused(lab: LabManager, nornir: Any, tmp_path: Path) -> None:
    host = nornir.inventory.hosts["sw-doif-core2"]
    other = nornir.inventory.hosts["sw-doif-core1"]
    # core1's key recorded under core2's address: a man in the middle as the client sees it.
    lines = lab.root.joinpath("known_hosts").read_text().splitlines()
    key = next(line for line in lines if line.startswith(f"[127.0.0.1]:{other.port} ")).split(" ", 1)[1]
    fake = tmp_path / "known_hosts"
    fake.write_text(f"[127.0.0.1]:{host.port} {key}\n")
    args = {"port": host.port, "alt_key_file": str(fake),
            **host.connection_options["netchange"].extras["optional_args"]}
    args["alt_key_file"] = str(fake)
    dev = IosCliDriver(host.hostname, host.username, host.password, timeout=10, optional_args=args)
    with pytest.raises(ConnectionException):
        dev.open()


def test_replaced_value_is_diffed_and_rolled_back_to_the_old_one(open_driver: Callable[[str], Any]) -> None:
    """Issue 11 item 8: a command that replaces its previous value (here ``standby 1 priority``,
    from netchange/platforms/ios_cli.yaml) shows ``-old``/``+new`` and its rollback restores the old
    value on the device, where ``no standby 1 priority 110`` would have removed it."""
    dev = open_driver("sw-doif-core2")
    original = dev.get_config()["running"]
    dev.load_merge_candidate(config="interface Vlan99\n standby 1 ip 10.10.99.250\n standby 1 priority 100\n"
                                    " description management A\n")
    dev.commit_config()
    before = dev.get_config()["running"]
    assert " standby 1 priority 100" in before

    dev.load_merge_candidate(config="interface Vlan99\n standby 1 priority 110\n description management B\n")
    diff = dev.compare_config().splitlines()
    for line in ("- standby 1 priority 100", "+ standby 1 priority 110",
                 "- description management A", "+ description management B"):
        assert line in diff, (line, diff)
    preview = dev.rollback_preview()
    assert " standby 1 priority 100" in preview and "no standby 1 priority 110" not in preview, preview
    dev.commit_config()
    assert " standby 1 priority 110" in dev.get_config()["running"]

    dev.rollback()
    assert dev.get_config()["running"] == before

    dev.load_replace_candidate(config=original)
    dev.commit_config()
    assert dev.get_config()["running"] == original
