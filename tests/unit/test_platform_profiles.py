"""Platform profiles as data (issue 11 item 8, first bullet; anticipates issue 12 item 4).

A command whose new value replaces the old one must be diffed as ``-old``/``+new`` and rolled back
by restoring ``old``, not by negating ``new``. For EVERY idempotent rule the IOS-style driver
feeds hier_config (its own cisco_ios rules and those of ``netchange/platforms/ios_cli.yaml``),
and for the ASA profile's, a circular test applies the remediation then the rollback to the
configuration text and requires it back byte for byte (in the device's order of sections).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hier_config import WorkflowRemediation

from netchange.drivers.ios_cli import ASA, IOS, config_lines, diff_configs, hier_driver, parse
from netchange.platforms import PlatformProfile, ProfileError, load_profile, profiles

# (parent line or None, old line, new line): one example per idempotent rule.
IOS_EXAMPLES: list[tuple[str | None, str, str]] = [
    # hier_config's own cisco_ios rules
    ("vlan 10", "name users", "name staff"),
    ("interface GigabitEthernet0/1", "description desk A", "description desk B"),
    ("interface Vlan20", "ip address 10.0.0.1 255.255.255.0", "ip address 10.0.0.2 255.255.255.0"),
    ("interface GigabitEthernet0/1", "switchport mode access", "switchport mode trunk"),
    ("interface GigabitEthernet0/1", "authentication host-mode multi-auth", "authentication host-mode single-host"),
    ("interface GigabitEthernet0/1", "authentication event server dead action authorize vlan 10",
     "authentication event server dead action authorize vlan 20"),
    (None, "errdisable recovery interval 300", "errdisable recovery interval 600"),
    (None, "logging console informational", "logging console warnings"),
    # netchange/platforms/ios_cli.yaml
    (None, "hostname sw-old", "hostname sw-new"),
    (None, "ip domain name old.example", "ip domain name new.example"),
    (None, "ip domain-name old.example", "ip domain-name new.example"),
    (None, "ip default-gateway 10.0.0.1", "ip default-gateway 10.0.0.254"),
    (None, "ip tftp source-interface Vlan10", "ip tftp source-interface Vlan99"),
    (None, "ip ftp source-interface Vlan10", "ip ftp source-interface Vlan99"),
    (None, "ip tacacs source-interface Vlan10", "ip tacacs source-interface Vlan99"),
    (None, "ip radius source-interface Vlan10", "ip radius source-interface Vlan99"),
    (None, "ip ssh version 1", "ip ssh version 2"),
    (None, "ip ssh time-out 60", "ip ssh time-out 30"),
    (None, "ip ssh authentication-retries 3", "ip ssh authentication-retries 2"),
    (None, "ip ssh source-interface Vlan10", "ip ssh source-interface Vlan99"),
    (None, "ntp source Vlan10", "ntp source Loopback0"),
    (None, "logging source-interface Vlan10", "logging source-interface Loopback0"),
    (None, "logging trap informational", "logging trap warnings"),
    (None, "logging buffered 16384", "logging buffered 65536 informational"),
    (None, "snmp-server contact noc-a@example.com", "snmp-server contact noc-b@example.com"),
    (None, "snmp-server location A", "snmp-server location B"),
    (None, "snmp-server chassis-id old", "snmp-server chassis-id new"),
    (None, "snmp-server trap-source Vlan10", "snmp-server trap-source Loopback0"),
    (None, "banner motd ^C\nOld notice\n^C", "banner motd ^C\nNew notice\n^C"),
    (None, "banner login ^C\nOld login\n^C", "banner login ^C\nNew login\n^C"),
    (None, "banner exec ^C\nOld exec\n^C", "banner exec ^C\nNew exec\n^C"),
    (None, "banner incoming ^C\nOld incoming\n^C", "banner incoming ^C\nNew incoming\n^C"),
    (None, "banner slip-ppp ^C\nOld slip\n^C", "banner slip-ppp ^C\nNew slip\n^C"),
    (None, "banner prompt-timeout ^C\nOld timeout\n^C", "banner prompt-timeout ^C\nNew timeout\n^C"),
    (None, "banner config-save ^C\nOld save\n^C", "banner config-save ^C\nNew save\n^C"),
    (None, "clock timezone CET 1 0", "clock timezone UTC 0 0"),
    (None, "clock summer-time CEST recurring", "clock summer-time CEST recurring last Sun Mar 2:00 last Sun Oct 3:00"),
    (None, "spanning-tree mode pvst", "spanning-tree mode rapid-pvst"),
    (None, "vtp mode server", "vtp mode transparent"),
    (None, "vtp domain OLD", "vtp domain NEW"),
    (None, "vtp version 2", "vtp version 3"),
    (None, "port-channel load-balance src-mac", "port-channel load-balance src-dst-ip"),
    (None, "service timestamps debug uptime", "service timestamps debug datetime msec"),
    (None, "service timestamps log uptime", "service timestamps log datetime msec"),
    (None, "aaa authentication login default local", "aaa authentication login default group TACGRP local"),
    (None, "aaa authorization exec default local", "aaa authorization exec default group TACGRP local"),
    (None, "aaa authorization commands 15 default local", "aaa authorization commands 15 default group TACGRP local"),
    (None, "aaa accounting exec default start-stop group OLD", "aaa accounting exec default start-stop group TACGRP"),
    (None, "aaa accounting commands 15 default start-stop group OLD",
     "aaa accounting commands 15 default start-stop group TACGRP"),
    ("interface GigabitEthernet0/2", "switchport access vlan 10", "switchport access vlan 20"),
    ("interface GigabitEthernet0/2", "switchport voice vlan 110", "switchport voice vlan 120"),
    ("interface GigabitEthernet0/1", "switchport trunk native vlan 1", "switchport trunk native vlan 999"),
    ("interface GigabitEthernet0/1", "switchport trunk encapsulation isl", "switchport trunk encapsulation dot1q"),
    ("interface GigabitEthernet0/1", "switchport trunk allowed vlan 10,20", "switchport trunk allowed vlan 10,20,30"),
    ("interface GigabitEthernet0/1", "speed 100", "speed 1000"),
    ("interface GigabitEthernet0/1", "duplex half", "duplex full"),
    ("interface GigabitEthernet0/1", "mtu 1500", "mtu 9000"),
    ("interface Vlan20", "ip mtu 1500", "ip mtu 1400"),
    ("interface GigabitEthernet0/1", "load-interval 300", "load-interval 30"),
    ("interface GigabitEthernet0/1", "channel-group 1 mode active", "channel-group 2 mode active"),
    ("interface GigabitEthernet0/1.10", "encapsulation dot1Q 10", "encapsulation dot1Q 11"),
    ("interface Vlan20", "ip vrf forwarding RED", "ip vrf forwarding BLUE"),
    ("interface Vlan20", "vrf forwarding RED", "vrf forwarding BLUE"),
    ("interface Vlan20", "ip ospf cost 10", "ip ospf cost 20"),
    ("interface Vlan20", "ip access-group EDGE-IN in", "ip access-group EDGE-IN2 in"),
    ("interface Vlan20", "service-policy input QOS-A", "service-policy input QOS-B"),
    ("interface Vlan20", "standby version 1", "standby version 2"),
    ("interface Vlan20", "standby 1 priority 100", "standby 1 priority 110"),
    ("interface Vlan20", "standby 1 preempt", "standby 1 preempt delay minimum 30"),
    ("interface Vlan20", "standby 1 ip 10.0.0.250", "standby 1 ip 10.0.0.251"),
    ("line vty 0 4", "exec-timeout 10 0", "exec-timeout 5 0"),
    ("line vty 0 4", "transport input telnet ssh", "transport input ssh"),
    ("line vty 0 4", "transport output none", "transport output ssh"),
    ("line vty 0 4", "access-class MGMT in", "access-class MGMT2 in"),
    ("router ospf 1", "router-id 10.0.0.1", "router-id 10.0.0.2"),
    ("router bgp 65000", "bgp router-id 10.0.0.1", "bgp router-id 10.0.0.2"),
]

ASA_EXAMPLES: list[tuple[str | None, str, str]] = [
    (None, "hostname fw-old", "hostname fw-new"),
    (None, "domain-name old.example", "domain-name new.example"),
    (None, "clock timezone CET 1", "clock timezone UTC 0"),
    (None, "logging trap informational", "logging trap warnings"),
    (None, "logging buffered debugging", "logging buffered informational"),
    (None, "snmp-server location A", "snmp-server location B"),
    (None, "snmp-server contact noc-a", "snmp-server contact noc-b"),
    (None, "ssh timeout 5", "ssh timeout 30"),
    (None, "console timeout 0", "console timeout 10"),
    (None, "mtu outside 1500", "mtu outside 1400"),
    ("interface GigabitEthernet0/0", "nameif outside", "nameif internet"),
    ("interface GigabitEthernet0/0", "security-level 0", "security-level 10"),
    ("interface GigabitEthernet0/0", "ip address 192.0.2.1 255.255.255.0", "ip address 192.0.2.2 255.255.255.0"),
    ("interface GigabitEthernet0/0", "description old", "description new"),
    ("interface GigabitEthernet0/0", "speed 100", "speed 1000"),
    ("interface GigabitEthernet0/0", "duplex half", "duplex full"),
    ("interface GigabitEthernet0/0.10", "vlan 10", "vlan 11"),
]

# Unrelated configuration around the change: the rollback must leave it alone.
AROUND = "hostname keep-me\nvlan 99\n name management\ninterface GigabitEthernet0/9\n description spare\n"


def _config(parent: str | None, line: str, platform: PlatformProfile, around: str) -> str:
    body = line if parent is None else f"{parent}\n " + line
    if parent is None and line.split(maxsplit=1)[0] == "hostname":
        around = around.replace("hostname keep-me\n", "")
    return body + "\n" + around


def _text(config: Any, reference: Any) -> str:
    """Device-like text, sections in ``reference``'s order (a device prints its own fixed order)."""
    lines: list[str] = []

    def walk(node: Any, ref: Any, depth: int) -> None:
        order = {c.text: i for i, c in enumerate(ref.children)} if ref is not None else {}
        for child in sorted(node.children, key=lambda c: order.get(c.text, len(order))):
            lines.append(" " * depth + child.text)
            walk(child, ref.children.get(child.text) if ref is not None else None, depth + 1)

    walk(config, reference, 0)
    return "\n".join(lines) + "\n"


def _rule_index(platform: PlatformProfile, parent: str | None, new: str) -> int:
    """Which idempotent rule of the platform's hier_config driver the new line falls under."""
    config = parse((f"{parent}\n {new}" if parent else new) + "\n", platform)
    child = next(iter(config.children))
    if parent is not None:
        child = next(iter(child.children))
    rules = hier_driver(platform).rules
    if any(child.is_lineage_match(rule.match_rules) for rule in rules.idempotent_commands_avoid):
        return -1
    return next((i for i, rule in enumerate(rules.idempotent_commands) if child.is_lineage_match(rule.match_rules)),
                -1)


CASES = [(IOS, *e) for e in IOS_EXAMPLES] + [(ASA, *e) for e in ASA_EXAMPLES]


@pytest.mark.parametrize(("platform", "parent", "old", "new"), CASES,
                         ids=[f"{p.name}:{(par + ' / ') if par else ''}{new.split(chr(10))[0]}"
                              for p, par, _, new in CASES])
def test_replacing_a_value_diffs_and_rolls_back_to_the_old_one(
        platform: PlatformProfile, parent: str | None, old: str, new: str) -> None:
    assert _rule_index(platform, parent, new) >= 0, "no idempotent rule covers this command"
    running = parse(_config(parent, old, platform, AROUND), platform)
    start = _text(running, running)
    candidate = parse(_config(parent, new, platform, ""), platform)
    future = running.future(candidate)

    assert platform.cli is not None
    pad = "" if parent is None else platform.cli.indent
    diff = diff_configs(running, future, platform.cli.indent).splitlines()
    assert f"-{pad}{old.splitlines()[0]}" in diff and f"+{pad}{new.splitlines()[0]}" in diff, diff

    flow = WorkflowRemediation(running, future)
    rollback = config_lines(flow.rollback_config)
    assert old in rollback, rollback  # the old value is restored …
    assert f"no {new}" not in rollback, rollback  # … not deleted by negating the new one
    assert not any(line.startswith("no ") for line in config_lines(flow.remediation_config))

    # Circular: remediation then rollback gives back the start, byte for byte.
    after = running.future(flow.remediation_config)
    assert _text(after, future) == _text(future, future)
    back = after.future(flow.rollback_config)
    assert _text(back, running) == start


@pytest.mark.parametrize("platform", [IOS, ASA], ids=lambda p: p.name)
def test_every_idempotent_rule_has_a_circular_case(platform: PlatformProfile) -> None:
    examples = IOS_EXAMPLES if platform is IOS else ASA_EXAMPLES
    covered = {_rule_index(platform, parent, new) for parent, _, new in examples}
    rules = hier_driver(platform).rules.idempotent_commands
    missing = [r.match_rules for i, r in enumerate(rules) if i not in covered]
    assert not missing, f"idempotent rules without a circular case: {missing}"


def test_secondary_address_is_added_beside_the_primary() -> None:
    running = parse("interface Vlan20\n ip address 10.0.0.1 255.255.255.0\n", IOS)
    future = running.future(parse("interface Vlan20\n ip address 10.0.1.1 255.255.255.0 secondary\n", IOS))
    assert "- ip address 10.0.0.1 255.255.255.0" not in diff_configs(running, future)
    assert "no ip address 10.0.1.1 255.255.255.0 secondary" in config_lines(WorkflowRemediation(running,
                                                                                                 future).rollback_config)


def test_trunk_allowed_vlan_add_does_not_replace_the_list() -> None:
    running = parse("interface Gi0/1\n switchport trunk allowed vlan 10,20\n", IOS)
    future = running.future(parse("interface Gi0/1\n switchport trunk allowed vlan add 30\n", IOS))
    assert "- switchport trunk allowed vlan 10,20" not in diff_configs(running, future)


def test_two_method_lists_of_one_kind_are_two_lines() -> None:
    # The list's name is part of the key: a new VTY list does not replace the default one.
    running = parse("aaa new-model\naaa authentication login default local\n", IOS)
    candidate = parse("aaa authentication login VTY group TACGRP local\n", IOS)
    flow = WorkflowRemediation(running, running.future(candidate))
    assert config_lines(flow.remediation_config) == ["aaa authentication login VTY group TACGRP local"]
    assert config_lines(flow.rollback_config) == ["no aaa authentication login VTY group TACGRP local"]


def test_a_new_value_where_there_was_none_is_rolled_back_by_negation() -> None:
    running = parse("hostname sw1\n", IOS)
    future = running.future(parse("snmp-server location B\n", IOS))
    assert config_lines(WorkflowRemediation(running, future).rollback_config) == ["no snmp-server location B"]


# -- the profile files -------------------------------------------------------------------------


def test_shipped_profiles_load_and_name_their_syntax() -> None:
    names = {p.name: p.syntax for p in profiles()}
    assert names == {"ios_cli": "ios", "asa_cli": "asa", "nftables": "nftables", "ios": "ios", "eos": "ios",
                     "nxos": "ios", "nxos_ssh": "ios", "junos": "junos", "asa": "asa", "haproxy": "haproxy",
                     "bind": "bind", "netconf": "netconf", "mock": None, "frr": "frr", "keepalived": "keepalived",
                     "gdnsd": "gdnsd"}
    assert IOS.hier_config is not None and IOS.hier_config.platform == "cisco_ios"


@pytest.mark.parametrize(("text", "error"), [
    ("name: x\nsyntax: ios\nhier_config: {platform: cisco_ios, idempotent: [hostname]}\n", "idempotent"),
    ("name: x\nsyntax: ios\nhier_config: {platform: cisco_iosx}\n", "unknown hier_config platform"),
    ("name: x\nsyntax: ios\nhier_config: {platform: cisco_ios, idempotent_commands: [{re_search: '('}]}\n",
     "idempotent_commands"),
    ("name: y\nsyntax: ios\n", "differs from the file name"),
    ("name: x\nsyntax: ios\ncommands: {refused: [end], allowed: [ip]}\n", "allowed"),
])
def test_a_wrong_profile_is_an_error_naming_file_and_field(tmp_path: Path, text: str, error: str) -> None:
    (tmp_path / "x.yaml").write_text(text)
    with pytest.raises(ProfileError, match=error) as info:
        load_profile("x", tmp_path)
    assert str(tmp_path / "x.yaml") in str(info.value)


def test_merge_scope_keeps_a_banner_whole_so_it_is_replaced() -> None:
    from netchange.drivers.ios_cli import merge_scope

    running_text = "hostname sw1\nbanner motd ^C\nOld notice\nsecond line\n^C\nvlan 10\n name users\n"
    candidate = parse("banner motd ^C\nNew notice\n^C\n", IOS)
    scoped = parse(merge_scope(running_text, candidate), IOS)
    whole = parse(running_text, IOS)
    assert diff_configs(scoped, scoped.future(candidate)) == diff_configs(whole, whole.future(candidate))
    rollback = config_lines(WorkflowRemediation(scoped, scoped.future(candidate)).rollback_config)
    assert rollback == ["banner motd ^C\nOld notice\nsecond line\n^C"]


def test_threads_asking_for_the_first_time_share_one_hier_config_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the crash matrix: a recover restores two switches in parallel, each thread's first
    parse made its own driver class, and hier_config refused to compare a configuration parsed in
    one thread with one parsed in the other. hier_config's first construction is made slow here
    (as on a loaded machine) so that the threads really do ask at the same time."""
    import threading
    import time

    from hier_config import WorkflowRemediation

    from netchange.drivers import ios_cli

    real = ios_cli.get_hconfig_driver

    def slow(platform: Any) -> Any:
        time.sleep(0.05)
        return real(platform)

    monkeypatch.setattr(ios_cli, "get_hconfig_driver", slow)
    ios_cli._hier_driver.cache_clear()
    start = threading.Barrier(4)
    parsed: list[Any] = []

    def first_parse(text: str) -> None:
        start.wait()
        parsed.append(parse(text, IOS))

    threads = [threading.Thread(target=first_parse, args=(f"vlan {10 + i}\n name v{i}\n",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ios_cli._hier_driver.cache_clear()  # the next tests get a driver made without the slow stand-in
    assert len({id(type(p.driver)) for p in parsed}) == 1
    WorkflowRemediation(parsed[0], parsed[1])  # the restore's comparison: no ValueError
