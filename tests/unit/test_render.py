"""Every change type renders for every syntax it claims, and the output is the expected config.

The renders are checked line by line against what the device must receive, so a template change
that alters a command shows here first.
"""

from __future__ import annotations

from typing import Any

import pytest

from netchange.changetype import Context, change_type_names, get_change_type
from netchange.vocabulary import Role

CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("vlan", "ios", {"vlan_id": 30, "name": "backup"}, ["vlan 30", " name backup"]),
    ("vlan", "ios", {"vlan_id": 31, "name": "dmz", "svi": {"address": "10.31.0.1/24", "description": "dmz gw"}},
     ["vlan 31", " name dmz", "interface Vlan31", " description dmz gw", " ip address 10.31.0.1 255.255.255.0",
      " no shutdown"]),
    ("access_port", "ios", {"interfaces": ["GigabitEthernet1/0/5", "Gi1/0/6"], "description": "desk", "access_vlan": 10,
                            "enabled": True},
     ["interface GigabitEthernet1/0/5", " description desk", " switchport mode access", " switchport access vlan 10",
      " no shutdown", "interface Gi1/0/6", " description desk", " switchport mode access",
      " switchport access vlan 10", " no shutdown"]),
    ("access_port", "ios", {"interfaces": ["FastEthernet0/12"], "enabled": False},
     ["interface FastEthernet0/12", " shutdown"]),
    ("static_route", "ios", {"prefix": "10.50.0.0/16", "next_hop": "10.1.10.254"},
     ["ip route 10.50.0.0 255.255.0.0 10.1.10.254"]),
    ("static_route", "asa", {"prefix": "10.50.0.0/16", "next_hop": "192.0.2.1", "interface": "outside", "distance": 5},
     ["route outside 10.50.0.0 255.255.0.0 192.0.2.1 5"]),
    # Removals by their number, additions with the number that places them (issue 22 item 2):
    # the running lists are in RUNNING below.
    ("acl_entries", "ios", {"acl": "EDGE-IN", "add": [
        {"sequence": 20, "action": "permit", "protocol": "tcp", "source": "10.0.0.0/8", "destination": "10.1.1.5/32",
         "port": 22}], "remove": [{"sequence": 10, "action": "permit", "protocol": "ip", "source": "any",
                                   "destination": "any"}]},
     ["ip access-list extended EDGE-IN", " no 10", " 20 permit tcp 10.0.0.0 0.255.255.255 host 10.1.1.5 eq 22"]),
    ("acl_entries", "asa", {"acl": "outside_in", "add": [
        {"action": "deny", "protocol": "udp", "source": "any", "destination": "10.2.0.0/16", "port": 53}]},
     ["access-list outside_in line 2 extended deny udp any 10.2.0.0 255.255.0.0 eq 53"]),
    ("fw_object_group", "asa", {"group": "ADMINS", "add": ["10.9.9.9/32"], "remove": ["10.8.0.0/24"]},
     ["object-group network ADMINS", " no network-object 10.8.0.0 255.255.255.0", " network-object host 10.9.9.9"]),
    ("fw_object_group", "nftables", {"group": "allowed_clients", "add": ["10.201.1.51/32"]},
     ["add element inet filter allowed_clients { 10.201.1.51 }"]),
    ("fw_rule", "asa", {"name": "web", "source": "any", "destination": "10.1.1.10/32", "protocol": "tcp",
                        "port": 443, "policy": "outside_in"},
     ["access-list outside_in extended permit tcp any host 10.1.1.10 eq 443"]),
    ("fw_rule", "nftables", {"name": "web", "source": "10.201.1.0/24", "destination": "10.202.1.10/32",
                             "protocol": "tcp", "port": 9090},
     ['add rule inet filter forward ip saddr 10.201.1.0/24 ip daddr 10.202.1.10 tcp dport 9090 accept comment "web"']),
    ("static_route", "frr", {"prefix": "10.50.0.0/16", "next_hop": "10.210.1.2"},
     ["ip route 10.50.0.0/16 10.210.1.2"]),
    ("static_route", "frr", {"prefix": "10.50.0.0/16", "next_hop": "10.210.1.2", "distance": 20, "action": "remove"},
     ["no ip route 10.50.0.0/16 10.210.1.2 20"]),
    ("static_route", "ios", {"prefix": "10.50.0.0/16", "next_hop": "10.1.10.254", "action": "remove"},
     ["no ip route 10.50.0.0 255.255.0.0 10.1.10.254"]),
    ("prefix_list", "frr", {"name": "FROM-UPSTREAM", "add": [
        {"seq": 15, "action": "permit", "prefix": "192.0.2.0/24"},
        {"seq": 20, "action": "deny", "prefix": "10.0.0.0/8", "ge": 9, "le": 32}],
        "remove": [{"seq": 5, "action": "permit", "prefix": "198.51.100.0/24"}]},
     ["no ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24",
      "ip prefix-list FROM-UPSTREAM seq 15 permit 192.0.2.0/24",
      "ip prefix-list FROM-UPSTREAM seq 20 deny 10.0.0.0/8 ge 9 le 32"]),
    ("route_map", "frr", {"name": "FROM-UPSTREAM", "add": [
        {"seq": 20, "action": "permit", "match_prefix_list": "EXTRA", "set_local_preference": 200}],
        "remove": [{"seq": 10, "action": "permit"}]},
     ["no route-map FROM-UPSTREAM permit 10", "route-map FROM-UPSTREAM permit 20",
      " match ip address prefix-list EXTRA", " set local-preference 200", "exit"]),
    ("ospf_interface", "frr", {"interface": "peer0", "cost": 100, "passive": False,
                               "networks": [{"prefix": "10.99.0.0/24", "area": "0.0.0.1"},
                                            {"prefix": "10.98.0.0/24", "area": 0, "action": "remove"}]},
     ["interface peer0", " ip ospf cost 100", " no ip ospf passive", "exit", "router ospf",
      " network 10.99.0.0/24 area 0.0.0.1", " no network 10.98.0.0/24 area 0", "exit"]),
    ("bgp_neighbor", "frr", {"action": "add", "asn": 65001, "neighbor": "10.211.1.9", "remote_as": 64500,
                             "prefix_list_in": "FROM-UPSTREAM"},
     ["router bgp 65001", " neighbor 10.211.1.9 remote-as 64500", " address-family ipv4 unicast",
      "  neighbor 10.211.1.9 prefix-list FROM-UPSTREAM in", " exit-address-family", "exit"]),
    ("bgp_neighbor", "frr", {"action": "shutdown", "asn": 65001, "neighbor": "10.211.1.1"},
     ["router bgp 65001", " neighbor 10.211.1.1 shutdown", "exit"]),
    ("vrrp", "keepalived", {"instance": "SRV_NEW", "group": 60, "priority": 120, "preempt": False, "create": True,
                            "interface": "srv0", "virtual_address": "10.213.9.1/24"},
     ["vrrp_instance SRV_NEW {", "    state BACKUP", "    interface srv0", "    virtual_router_id 60",
      "    priority 120", "    advert_int 1", "    nopreempt", "    virtual_ipaddress {", "        10.213.9.1/24",
      "    }", "}"]),
    ("config_snippet", "ios", {"syntax": "ios", "lines": ["logging host 10.0.0.5", "snmp-server location Paris"]},
     ["logging host 10.0.0.5", "snmp-server location Paris"]),
    ("config_snippet", "asa", {"syntax": "asa", "lines": ["logging trap informational"]},
     ["logging trap informational"]),
    ("config_snippet", "nftables", {"syntax": "nftables", "lines": ["add table inet extra"]}, ["add table inet extra"]),
]


RUNNING = {
    ("acl_entries", "ios"): "ip access-list extended EDGE-IN\n permit ip any any\n",
    ("acl_entries", "asa"): ("access-list outside_in extended permit tcp any host 10.1.1.10 eq 443\n"
                             "access-list outside_in extended deny ip any any log\n"),
    ("prefix_list", "frr"): "ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24\n",
    ("route_map", "frr"): "route-map FROM-UPSTREAM permit 10\n match ip address prefix-list FROM-UPSTREAM\nexit\n",
}
"""The running configuration a type reads to render (its lists' entries and their numbers)."""


def ctx(syntax: str, params: Any, role: Role, running: str = "") -> Context[Any]:
    return Context(host="h", platform=syntax, syntax=syntax, role=role, site="doif", data={}, params=params,
                   driver=None, running=running)  # type: ignore[arg-type]


@pytest.mark.parametrize(("type_name", "syntax", "raw", "expected"), CASES)
def test_render(type_name: str, syntax: str, raw: dict[str, Any], expected: list[str]) -> None:
    ct = get_change_type(type_name)
    assert syntax in ct.syntaxes
    role = next(iter(sorted(ct.roles)))
    running = RUNNING.get((type_name, syntax), "")
    lines = [line for line in ct.render(ctx(syntax, ct.validate(raw), role, running)).splitlines() if line.strip()]
    assert lines == expected


def _uncovered() -> list[str]:
    """netchange's own (type, syntax) pairs without a render test. A type installed from another
    distribution is that distribution's to test (issue 14: it must not fail netchange's suite)."""
    covered = {(t, s) for t, s, _, _ in CASES}
    # dns_record, lb_member and vlan/netconf render against their lab devices (tests/integration).
    # gslb_member/gdnsd renders through the gdnsd driver's own merge in tests/unit/test_gslb_member.py.
    # bgp_policy/frr and upstream_shutdown/frr read the router's route-maps: tests/unit/test_operator_types.py.
    elsewhere = {("dns_record", "bind"), ("lb_member", "haproxy"), ("vlan", "netconf"), ("gslb_member", "gdnsd"),
                 ("bgp_policy", "frr"), ("upstream_shutdown", "frr")}
    own = [name for name in change_type_names()
           if type(get_change_type(name)).__module__.startswith("netchange.tasks.")]
    assert "vlan" in own
    return [f"{name}/{syntax}" for name in own for syntax in sorted(get_change_type(name).syntaxes)
            if (name, syntax) not in covered | elsewhere]


def test_every_claimed_syntax_has_a_case_or_its_own_test() -> None:
    assert _uncovered() == [], "no render test"


def test_a_third_party_type_installed_beside_netchange_does_not_fail_its_suite() -> None:
    from typing import ClassVar

    from netchange.basemodels import StrictModel
    from netchange.changetype import CHANGE_TYPES, ChangeType
    from netchange.vocabulary import Perimeter

    class Foreign(ChangeType[StrictModel]):
        name = "acme_untested"
        perimeter = Perimeter.NETWORK
        roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
        syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "junos"})
        Params = StrictModel

    Foreign.__module__ = "acme_changes.untested"
    with CHANGE_TYPES.registered("acme_untested", Foreign):
        assert "acme_untested" in change_type_names()
        assert _uncovered() == []


def test_access_port_post_check_reads_the_ports_with_ttp() -> None:
    from netchange.tasks.access_port import parse_interfaces

    running = ("interface FastEthernet0/2\n description desk 2\n switchport access vlan 10\n!\n"
               "interface FastEthernet0/12\n description spare\n shutdown\n!\nend\n")
    ports = parse_interfaces(running)
    assert ports["FastEthernet0/2"] == {"interface": "FastEthernet0/2", "description": "desk 2", "access_vlan": 10}
    assert ports["FastEthernet0/12"]["shutdown"] is True
    assert parse_interfaces("interface Gi1/0/1\n!\n") == {"Gi1/0/1": {"interface": "Gi1/0/1"}}
