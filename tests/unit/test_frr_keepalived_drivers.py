"""The pure parts of the FRR and keepalived drivers: targets, frr-reload.py's answers, file merges.

The drivers against real daemons: tests/integration/test_lab_routers.py and the circular test.
"""

from __future__ import annotations

import pytest

from netchange.drivers.frr import check_text, merge_target, parse_reload_output, reload_diff, strip_header
from netchange.drivers.keepalived import check_text as keepalived_text
from netchange.drivers.keepalived import file_diff, merge_blocks, split_blocks

RUNNING = """Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname rtr-doif-a
no ipv6 forwarding
service integrated-vtysh-config
!
interface peer0
 ip ospf hello-interval 1
exit
!
router bgp 65001
 neighbor 10.211.1.1 remote-as 64500
 !
 address-family ipv4 unicast
  network 10.213.1.0/24
  neighbor 10.211.1.1 route-map FROM-UPSTREAM in
 exit-address-family
exit
!
ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24
ip prefix-list FROM-UPSTREAM seq 10 permit 203.0.113.0/24
!
end
"""


def test_the_header_frr_reload_cannot_parse_is_dropped() -> None:
    target = strip_header(RUNNING)
    assert target.startswith("!\nfrr version 8.4.4\n")
    assert "Building configuration" not in target and "Current configuration" not in target
    assert strip_header(target) == target  # idempotent: a target without header stays as it is


def test_merge_appends_lines_and_turns_no_lines_into_removals() -> None:
    snippet = ("ip route 10.99.0.0/24 10.210.1.2\n"
               "router bgp 65001\n address-family ipv4 unicast\n"
               "  no neighbor 10.211.1.1 route-map FROM-UPSTREAM in\n exit-address-family\nexit\n"
               "no ip prefix-list FROM-UPSTREAM seq 10 permit 203.0.113.0/24\n"
               "no ipv6 forwarding\n")
    target = merge_target(RUNNING, snippet)
    lines = target.splitlines()
    assert "ip route 10.99.0.0/24 10.210.1.2" in lines
    assert "  neighbor 10.211.1.1 route-map FROM-UPSTREAM in" not in lines
    assert "ip prefix-list FROM-UPSTREAM seq 10 permit 203.0.113.0/24" not in lines
    assert "ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24" in lines  # the sibling stays
    assert "  network 10.213.1.0/24" in lines
    assert lines.count("no ipv6 forwarding") >= 1  # a "no" statement of the running config is kept
    assert not any(line.startswith("no ip prefix-list") for line in lines)
    assert lines[-1] == "end" and "Building configuration..." not in lines


def test_a_no_line_removes_only_under_the_same_parents() -> None:
    # "no network 10.213.1.0/24" at the top level is not the BGP network statement.
    target = merge_target(RUNNING, "no network 10.213.1.0/24\n")
    assert "  network 10.213.1.0/24" in target.splitlines()


def test_removing_a_section_removes_its_children() -> None:
    target = merge_target(RUNNING, "no interface peer0\n")
    assert "interface peer0" not in target.splitlines()
    assert " ip ospf hello-interval 1" not in target.splitlines()


@pytest.mark.parametrize("bad", ["", "   \n", "ip route 10.0.0.0/8 1.1.1.1\x07\n"])
def test_candidate_text_is_bounded_and_printable(bad: str) -> None:
    with pytest.raises(ValueError, match=r"empty|control"):
        check_text(bad)


RELOAD_TEST = """
Lines To Delete
===============
ipv6 forwarding
interface lan0
 no ip ospf passive
no router ospf

Lines To Add
============
router bgp 65001
 neighbor 10.211.1.1 shutdown
router bgp 65001
 address-family ipv4 unicast
  network 10.214.0.0/24
ip route 10.99.0.0/24 10.210.1.2
no ip prefix-list FROM-UPSTREAM seq 10 permit 203.0.113.0/24
route-map NEW permit 10
 match ip address prefix-list NEW
"""


def test_reload_answer_becomes_netchange_diff() -> None:
    parsed = parse_reload_output(RELOAD_TEST)
    assert parsed is not None
    deletes, adds = parsed
    diff = reload_diff(deletes, adds, RUNNING + "interface lan0\n ip ospf passive\nexit\nrouter ospf\n")
    assert diff.splitlines() == [
        "-no ipv6 forwarding",
        " interface lan0",
        "- ip ospf passive",
        "-router ospf",
        " router bgp 65001",
        "+ neighbor 10.211.1.1 shutdown",
        "  address-family ipv4 unicast",
        "+  network 10.214.0.0/24",
        "+ip route 10.99.0.0/24 10.210.1.2",
        "-ip prefix-list FROM-UPSTREAM seq 10 permit 203.0.113.0/24",
        "+route-map NEW permit 10",
        "+ match ip address prefix-list NEW",
    ]


def test_reload_answers_nothing_when_nothing_changes_and_garbage_is_not_an_answer() -> None:
    assert parse_reload_output("") == ([], [])
    assert parse_reload_output("Traceback (most recent call last):\n ...\n") is None
    # A banner is printed only when its list is not empty.
    assert parse_reload_output("\nLines To Add\n============\nip route 10.9.0.0/16 10.0.0.1\n") == (
        [], ["ip route 10.9.0.0/16 10.0.0.1"])
    assert reload_diff([], [], RUNNING) == ""


KEEPALIVED = """global_defs {
    router_id rtr-doif-a
}

vrrp_instance SRV_DOIF {
    state BACKUP
    interface srv0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        10.213.1.1/24
    }
}
"""


def test_keepalived_blocks_replace_the_block_of_the_same_header() -> None:
    new_block = KEEPALIVED.split("\n\n", 1)[1].replace("priority 150", "priority 90")
    merged = merge_blocks(KEEPALIVED, new_block)
    assert merged == KEEPALIVED.replace("priority 150", "priority 90")
    # Each changed line under the block it lives in (a recover tells its own lines by their place).
    assert file_diff(KEEPALIVED, merged).splitlines() == [" vrrp_instance SRV_DOIF {", "-    priority 150",
                                                          "+    priority 90"]
    added = merge_blocks(KEEPALIVED, "vrrp_instance OTHER {\n    priority 10\n}\n")
    assert added.startswith(KEEPALIVED) and added.endswith("vrrp_instance OTHER {\n    priority 10\n}\n")
    assert [h for h, _ in split_blocks(added) if h] == ["global_defs", "vrrp_instance SRV_DOIF", "vrrp_instance OTHER"]


@pytest.mark.parametrize(("snippet", "error"), [
    ("vrrp_instance X {\n    priority 10\n", "unbalanced"),
    ("priority 10\n", "outside any block"),
])
def test_keepalived_merge_refuses_what_it_cannot_place(snippet: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        merge_blocks(KEEPALIVED, snippet)


def test_keepalived_candidate_cannot_include_device_files() -> None:
    with pytest.raises(ValueError, match="include"):
        keepalived_text("include /etc/shadow\n")


# -- another hand: netchange sends frr-reload.py's commands itself (issue 21 item 3) -------------


def test_send_script_sends_each_delete_with_its_parents_and_the_adds_in_one_file() -> None:
    from netchange.drivers.frr import send_script

    script = send_script("vtysh", ["router bgp 65001", " no neighbor 10.0.0.1 remote-as 64500",
                                   "no ip prefix-list X seq 5 permit 10.0.0.0/24"])
    lines = script.splitlines()
    assert "del 'no neighbor 10.0.0.1 remote-as 64500' -c 'router bgp 65001'" in lines
    assert "del 'no ip prefix-list X seq 5 permit 10.0.0.0/24'" in lines
    assert any('vtysh -f "$d"/target.conf' in line for line in lines) and lines[-1] == "exit $fail"
    assert 'last=${last% *}' in script  # the last word dropped and tried again, as frr-reload.py does


def test_a_line_typed_during_the_write_is_named_only_when_the_reload_would_delete_it() -> None:
    from netchange.drivers.frr import foreign_lines

    checked = "Current configuration:\n!\nip prefix-list A seq 5 permit 10.0.0.0/24\n!\nend\n"
    target = "ip prefix-list A seq 5 permit 10.0.0.0/24\nip prefix-list B seq 5 permit 10.1.0.0/24\nend\n"
    typed = "ip prefix-list B seq 5 permit 10.1.0.0/24\nip prefix-list H seq 5 permit 10.9.0.0/24\n"
    now = checked.replace("!\nend", f"{typed}!\nend")
    assert foreign_lines(checked, now, target, ["no ip prefix-list H seq 5 permit 10.9.0.0/24"]) == [
        "+ip prefix-list H seq 5 permit 10.9.0.0/24"]
    assert foreign_lines(checked, now, target, []) == []  # only printed otherwise: not a hand's


def test_a_daemon_that_answered_at_open_or_died_is_named() -> None:
    from netchange.drivers.frr import daemon_trouble

    everyone = frozenset({"zebra", "ospfd", "bgpd", "staticd"})
    assert daemon_trouble(everyone, everyone, frozenset()) == []
    assert daemon_trouble(everyone - {"bgpd"}, everyone, frozenset()) == ["bgpd"]
    assert daemon_trouble(everyone - {"bgpd"}, everyone - {"bgpd"}, frozenset({"bgpd"})) == ["bgpd"]
    # Stopped before the session opened and its pid file gone: only FRR's daemons file knows.
    assert daemon_trouble(everyone - {"bgpd"}, everyone - {"bgpd"}, frozenset(), frozenset({"bgpd"})) == ["bgpd"]


def test_the_daemons_file_is_read_as_frr_reads_it() -> None:
    from netchange.drivers.frr import enabled_daemons

    text = ('# which daemons to start\nbgpd=yes\nospfd = "yes"\nripd=no\n#ldpd=yes\nisisd=\'no\'\n'
            'vtysh_enable=yes\nzebra_options="  -A 127.0.0.1 -s 90000000"\nbgpd_options="-A 127.0.0.1"\n')
    assert enabled_daemons(text) == {"bgpd", "ospfd"}
