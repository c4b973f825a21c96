"""A merge computed on the sections it touches equals the merge computed on the whole config.

The ios_cli driver parses only :func:`merge_scope` of the running configuration (the cost of a
plan is then that of the change, not of the device's size). This checks that the diff, the
remediation lines and the rollback lines are the same as with the whole configuration, for every
IOS change type's render and for assorted raw lines, negations and idempotent commands.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bench.configs import ios_config
from netchange.changetype import Context, get_change_type
from netchange.drivers.ios_cli import IOS, config_lines, diff_configs, merge_scope, parse
from netchange.vocabulary import Role

SEED = """\
hostname sw-doif-acc1
no ip domain-lookup
logging host 10.0.0.5
logging trap informational
spanning-tree mode pvst
vlan 10
 name users
vlan 20
 name servers
interface FastEthernet0/1
 description uplink
 switchport mode trunk
 switchport trunk allowed vlan 10,20
interface FastEthernet0/2
 description desk 2
 switchport mode access
 switchport access vlan 10
interface FastEthernet0/12
 description spare
 shutdown
interface Vlan20
 ip address 10.20.0.1 255.255.255.0
ip access-list extended EDGE-IN
 10 permit tcp any host 10.1.1.5 eq 443
ip route 0.0.0.0 0.0.0.0 10.20.0.254
ip route 10.50.0.0 255.255.0.0 10.20.0.253
snmp-server community public RO
route-map EDGE-OUT permit 10
 match ip address EDGE-IN
route-map EDGE-OUT deny 20
"""

RAW = [
    "hostname sw-renamed",
    "no ip route 10.50.0.0 255.255.0.0 10.20.0.253",
    "ip route 10.60.0.0 255.255.0.0 10.20.0.253",
    "logging host 10.0.0.6",
    "no logging trap informational",
    "ip domain-lookup",
    "no vlan 10",
    "no interface Vlan20",
    "interface Vlan20\n ip address 10.21.0.1 255.255.255.0",
    "interface FastEthernet0/2\n switchport access vlan 20",
    "interface FastEthernet0/12\n no shutdown\n description printer",
    "spanning-tree mode rapid-pvst",
    "snmp-server community private RW",
    "no snmp-server community public RO",
    "ip access-list extended EDGE-IN\n no 10\n 20 permit ip any any",
    "vlan 20\n name servers2",
    # A shorthand negation removes every entry of the route-map (hier_config's future() reads it
    # so): its blocks are in the scope, else the rollback would be `route-map EDGE-OUT`, a new
    # empty entry 10 (issue 22 item 4).
    "no route-map EDGE-OUT",
]

RENDERS: list[tuple[str, dict[str, Any]]] = [
    ("vlan", {"vlan_id": 30, "name": "backup"}),
    ("vlan", {"vlan_id": 20, "name": "renamed"}),
    ("vlan", {"vlan_id": 31, "name": "dmz", "svi": {"address": "10.31.0.1/24"}}),
    ("access_port", {"interfaces": ["FastEthernet0/2", "FastEthernet0/12"], "description": "desk",
                     "access_vlan": 20, "enabled": True}),
    ("access_port", {"interfaces": ["FastEthernet0/1"], "enabled": False}),
    ("static_route", {"prefix": "10.70.0.0/16", "next_hop": "10.20.0.254"}),
    ("acl_entries", {"acl": "EDGE-IN", "add": [{"sequence": 30, "action": "deny", "protocol": "ip",
                                                "source": "any", "destination": "any"}],
                     "remove": [{"sequence": 10, "action": "permit", "protocol": "ip", "source": "any",
                                 "destination": "any"}]}),
]


def render(type_name: str, raw: dict[str, Any]) -> str:
    ct = get_change_type(type_name)
    ctx = Context(host="h", platform="ios_cli", syntax="ios", role=Role.SWITCH, site="doif", data={},
                  params=ct.validate(raw), driver=None, running="")  # type: ignore[arg-type]
    return ct.render(ctx)


def both(running: str, candidate_text: str) -> tuple[tuple[str, list[str], list[str]], ...]:
    from hier_config import WorkflowRemediation

    candidate = parse(candidate_text, IOS)
    out = []
    for text in (running, merge_scope(running, candidate)):
        before = parse(text, IOS)
        after = before.future(candidate)
        flow = WorkflowRemediation(before, after)
        out.append((diff_configs(before, after), config_lines(flow.remediation_config),
                    config_lines(flow.rollback_config)))
    return tuple(out)


def without_headers_of(first: str, second: str) -> str:
    """``second``'s top-level blocks whose header ``first`` does not have (no duplicate sections)."""
    taken = {line for line in first.splitlines() if not line.startswith(" ")}
    kept, keep = [], True
    for line in second.splitlines():
        if not line.startswith(" "):
            keep = line not in taken and not line.startswith("hostname ")
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n"


CANDIDATES = RAW + [render(t, p) for t, p in RENDERS]


@pytest.mark.parametrize("candidate", CANDIDATES)
def test_scoped_merge_equals_whole_merge(candidate: str) -> None:
    whole, scoped = both(SEED, candidate)
    assert whole[0], "the candidate changes nothing: not a useful case"
    assert scoped == whole


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(CANDIDATES), min_size=1, max_size=4, unique=True), st.integers(0, 50))
def test_scoped_merge_equals_whole_merge_on_generated_configs(parts: list[str], seed: int) -> None:
    headers = [line for part in parts for line in part.splitlines() if not line.startswith(" ")]
    assume(len(headers) == len(set(headers)))  # one candidate cannot name a section twice
    running = SEED + without_headers_of(SEED, ios_config(300, seed=seed))
    whole, scoped = both(running, "\n".join(parts) + "\n")
    assert scoped == whole


def test_scope_is_small() -> None:
    candidate = parse(render("vlan", {"vlan_id": 4000, "name": "backup"}), IOS)
    assert merge_scope(ios_config(10_000, seed=1), candidate) == ""
    assert merge_scope(SEED, parse("vlan 20\n name x\n", IOS)) == "vlan 20\n name servers\n"
