"""The routing change types (static_route on FRR, prefix_list, route_map, ospf_interface,
bgp_neighbor, vrrp): bad input is refused before any device sees it, and the checks read FRR's
JSON answers as FRR 8.4 writes them.

- Out-of-range values, a newline or a second command in a value: refused when the request is read
  (exit 2), no session opened.
- A name the device does not have (a prefix-list, a route-map, a VRRP instance, the wrong AS): the
  pre-check reads the device and the whole plan stops as bad input (exit 2): no candidate loaded,
  nothing stored.
- The post-check helpers on recorded FRR/iproute2 JSON: Full, Established, received prefixes,
  kernel routes, the VRRP virtual address.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.changetype import Context, get_change_type
from netchange.errors import BadRequest, UnknownReference
from netchange.inventory import _connection as connection
from netchange.tasks import _routing
from netchange.vocabulary import Role
from tests import fakedriver
from tests.conftest import CliResult

Cli = Callable[..., CliResult]

FRR_RUNNING = """\
frr version 8.4.4
frr defaults traditional
hostname rtr-doif-a
!
ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24
ip prefix-list FROM-UPSTREAM seq 10 permit 203.0.113.0/24
ip prefix-list SITE-OUT seq 5 permit 10.213.1.0/24
!
route-map FROM-UPSTREAM permit 10
 match ip address prefix-list FROM-UPSTREAM
exit
!
interface peer0
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
exit
!
router bgp 65001
 bgp router-id 10.255.1.1
 neighbor 10.211.1.1 remote-as 64500
 !
 address-family ipv4 unicast
  network 10.213.1.0/24
  neighbor 10.211.1.1 route-map FROM-UPSTREAM in
 exit-address-family
exit
!
router ospf
 ospf router-id 10.255.1.1
 network 10.210.1.0/30 area 0
 network 10.213.1.0/24 area 0
exit
!
"""

KEEPALIVED_RUNNING = """\
global_defs {
    router_id rtr-doif-a
}

vrrp_instance SRV_DOIF {
    state BACKUP
    interface srv0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    virtual_ipaddress {
        10.213.1.1/24
    }
}
"""

# Bad values per type: (type, params, a word the one-line error must contain).
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("static_route", {"prefix": "10.9.0.0/16", "next_hop": "10.210.1.2", "distance": 256}, "distance"),
    ("static_route", {"prefix": "10.9.0.0/33", "next_hop": "10.210.1.2"}, "prefix"),
    ("static_route", {"prefix": "10.9.0.0/16", "next_hop": "10.210.1.2\nno router ospf"}, "next_hop"),
    ("static_route", {"prefix": "0.0.0.0/0", "next_hop": "10.210.1.2", "action": "remove"}, "default route"),
    ("static_route", {"prefix": "10.9.0.0/16", "next_hop": "10.210.1.2", "converge_within": 9999}, "converge_within"),
    ("prefix_list", {"name": "FROM-UPSTREAM", "add": [{"seq": 0, "action": "permit", "prefix": "192.0.2.0/24"}]},
     "seq"),
    ("prefix_list", {"name": "FROM-UPSTREAM", "add": [{"seq": 15, "action": "permit", "prefix": "192.0.2.0/24",
                                                       "le": 33}]}, "le"),
    ("prefix_list", {"name": "FROM-UPSTREAM", "add": [{"seq": 15, "action": "permit", "prefix": "192.0.2.0/24",
                                                       "ge": 16}]}, "ge"),
    ("prefix_list", {"name": "FROM-UPSTREAM\nno router bgp 65001",
                     "add": [{"seq": 15, "action": "permit", "prefix": "192.0.2.0/24"}]}, "name"),
    ("prefix_list", {"name": "X; end", "add": [{"seq": 15, "action": "permit", "prefix": "192.0.2.0/24"}]}, "name"),
    ("prefix_list", {"name": "FROM-UPSTREAM", "add": [{"seq": 15, "action": "allow", "prefix": "192.0.2.0/24"}]},
     "action"),
    ("prefix_list", {"name": "FROM-UPSTREAM"}, "add or remove"),
    ("route_map", {"name": "FROM-UPSTREAM", "add": [{"seq": 70000, "action": "permit"}]}, "seq"),
    ("route_map", {"name": "FROM-UPSTREAM", "add": [{"seq": 20, "action": "permit",
                                                     "match_prefix_list": "A\n exit\nno router bgp 65001"}]},
     "match_prefix_list"),
    ("route_map", {"name": "FROM-UPSTREAM", "add": [{"seq": 20, "action": "permit", "set_metric": -1}]},
     "set_metric"),
    ("ospf_interface", {"interface": "peer0", "cost": 0}, "cost"),
    ("ospf_interface", {"interface": "peer0", "cost": 65536}, "cost"),
    ("ospf_interface", {"interface": "peer0\nno router ospf", "cost": 10}, "interface"),
    ("ospf_interface", {"interface": "peer0 ; no router ospf", "cost": 10}, "interface"),
    ("ospf_interface", {"interface": "peer0", "area": "4294967296"}, "area"),
    ("ospf_interface", {"interface": "peer0", "area": "0\nno router ospf"}, "area"),
    ("ospf_interface", {"interface": "peer0"}, "cost"),
    ("bgp_neighbor", {"action": "add", "asn": 65001, "neighbor": "10.211.1.9"}, "remote_as"),
    ("bgp_neighbor", {"action": "add", "asn": 0, "neighbor": "10.211.1.9", "remote_as": 64500}, "asn"),
    ("bgp_neighbor", {"action": "add", "asn": 65001, "neighbor": "10.211.1.9", "remote_as": 4294967296}, "remote_as"),
    ("bgp_neighbor", {"action": "shutdown", "asn": 65001, "neighbor": "10.211.1.1 shutdown\nno router bgp"},
     "neighbor"),
    ("bgp_neighbor", {"action": "prefix_lists", "asn": 65001, "neighbor": "10.211.1.1",
                      "prefix_list_in": "FROM-UPSTREAM in\nno router bgp 65001"}, "prefix_list_in"),
    ("bgp_neighbor", {"action": "reset", "asn": 65001, "neighbor": "10.211.1.1"}, "action"),
    ("vrrp", {"instance": "SRV_DOIF", "group": 256, "priority": 100}, "group"),
    ("vrrp", {"instance": "SRV_DOIF", "group": 51, "priority": 255}, "priority"),
    ("vrrp", {"instance": "SRV_DOIF", "group": 51, "priority": 0}, "priority"),
    ("vrrp", {"instance": "SRV_DOIF }\nvrrp_instance X {", "group": 51, "priority": 100}, "instance"),
    ("vrrp", {"instance": "SRV_DOIF", "group": 51, "virtual_address": "10.213.1.1/24\n}"}, "virtual_address"),
    ("vrrp", {"instance": "SRV_DOIF", "group": 51}, "priority"),
]


def change_file(path: Path, type_name: str, params: dict[str, Any], host: str = "rtr1") -> Path:
    path.write_text(yaml.safe_dump({
        "id": "CHG-2026-0160", "title": "Routing", "ticket": "T-160", "requester": "amoreau",
        "steps": [{"type": type_name, "targets": {"hosts": [host]}, "params": params}]}))
    return path


@pytest.mark.parametrize(("type_name", "params", "word"), BAD, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD)])
def test_bad_value_is_refused_by_the_params_model(type_name: str, params: dict[str, Any], word: str) -> None:
    with pytest.raises(BadRequest) as info:
        get_change_type(type_name).validate(params)
    message = str(info.value)
    assert "\n" not in message and word in message, message


# -- through the command line: exit 2, one line, nothing reaches a device ---------------------------


@pytest.fixture
def frr_lab(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two fake devices: an FRR router and its keepalived twin (the fake driver applies lines)."""
    hosts = {}
    for name, syntax in (("rtr1", "frr"), ("vrrp1", "keepalived")):
        hosts[name] = {
            "hostname": "127.0.0.1", "platform": "fake", "groups": ["doif"],
            "username": "netops", "password": "fake-device-pw",
            "data": {"role": "switch", "site": "doif", "syntax": syntax},
            "connection_options": {"netchange": {"extras": {"optional_args": {"device": name}}}},
        }
    inv = workspace / "inv"
    inv.mkdir()
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text(yaml.safe_dump({"doif": {}}))
    (inv / "defaults.yaml").write_text("data: {}\n")
    cfg = inv / "nornir.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(inv / "hosts.yaml"), "group_file": str(inv / "groups.yaml"),
            "defaults_file": str(inv / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}}, "logging": {"enabled": False}}))
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(cfg))
    fakedriver.reset({"rtr1": FRR_RUNNING, "vrrp1": KEEPALIVED_RUNNING})
    with fakedriver.fake_platform():
        yield workspace


@pytest.mark.parametrize(("type_name", "params", "word"), BAD[::3], ids=[t for t, _, _ in BAD[::3]])
def test_bad_value_never_reaches_a_device(frr_lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                          type_name: str, params: dict[str, Any], word: str) -> None:
    opened: list[object] = []
    monkeypatch.setattr(connection.NetchangeConnection, "open", lambda *a, **k: opened.append(a))
    result = cli("plan", str(change_file(frr_lab / "c.yaml", type_name, params)), actor="dnguyen")
    assert result.code == 2, result.out + result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err, result.err
    assert opened == []


UNKNOWN: list[tuple[str, str, dict[str, Any], str]] = [
    ("prefix_list", "rtr1", {"name": "FROM-UPSTRAEM", "add": [{"seq": 15, "action": "permit",
                                                              "prefix": "192.0.2.0/24"}]}, "FROM-UPSTRAEM"),
    ("route_map", "rtr1", {"name": "FROM-UPSTREAM", "add": [{"seq": 20, "action": "permit",
                                                            "match_prefix_list": "NOPE"}]}, "NOPE"),
    ("route_map", "rtr1", {"name": "TO-NOWHERE", "add": [{"seq": 20, "action": "deny"}]}, "TO-NOWHERE"),
    ("bgp_neighbor", "rtr1", {"action": "prefix_lists", "asn": 65001, "neighbor": "10.211.1.1",
                              "prefix_list_in": "MISSING"}, "MISSING"),
    ("bgp_neighbor", "rtr1", {"action": "shutdown", "asn": 65002, "neighbor": "10.211.1.1"}, "65002"),
    ("vrrp", "vrrp1", {"instance": "SRV_DOSO", "group": 52, "priority": 90}, "SRV_DOSO"),
]


@pytest.mark.parametrize(("type_name", "host", "params", "word"), UNKNOWN, ids=[u[3] for u in UNKNOWN])
def test_unknown_reference_stops_the_plan_as_bad_input(frr_lab: Path, cli: Cli, type_name: str, host: str,
                                                       params: dict[str, Any], word: str) -> None:
    before = fakedriver.running_of(host)
    result = cli("plan", str(change_file(frr_lab / "c.yaml", type_name, params, host)), actor="dnguyen")
    assert result.code == 2, result.out + result.err
    assert word in result.err and len(result.err.strip().splitlines()) == 1, result.err
    assert "load_merge_candidate" not in fakedriver.CALLS.get(host, [])  # no candidate ever loaded
    assert fakedriver.running_of(host) == before
    assert json.loads(cli("list", "--json").out)["changes"] == []  # nothing stored


def test_a_known_prefix_list_plans_and_renders_what_frr_shows(frr_lab: Path, cli: Cli) -> None:
    params = {"name": "FROM-UPSTREAM", "add": [{"seq": 15, "action": "permit", "prefix": "192.0.2.0/24"}]}
    result = cli("plan", str(change_file(frr_lab / "c.yaml", "prefix_list", params)), "--json", actor="dnguyen")
    assert result.code == 0, result.out
    planned = json.loads(result.out)
    assert planned["category"] == "minor"
    rtr1 = {h["name"]: h for h in planned["hosts"]}["rtr1"]
    assert "ip prefix-list FROM-UPSTREAM seq 15 permit 192.0.2.0/24" in json.dumps(rtr1)


# -- the checks on FRR's and iproute2's JSON ----------------------------------------------------------


class Answers:
    """A driver whose ``cli`` answers recorded outputs, in order per command (the last one repeats)."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = {k: list(v) for k, v in answers.items()}
        self.asked: list[str] = []

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        out = {}
        for command in commands:
            self.asked.append(command)
            queue = self.answers[command]
            value = queue.pop(0) if len(queue) > 1 else queue[0]
            out[command] = value if isinstance(value, str) else json.dumps(value)
        return out


def ctx_for(type_name: str, params: dict[str, Any], answers: dict[str, list[Any]], *, running: str = FRR_RUNNING,
            syntax: str = "frr", data: dict[str, Any] | None = None, host: str = "rtr-doif-a") -> Context[Any]:
    ct = get_change_type(type_name)
    return Context(host=host, platform="frr", syntax=syntax, role=Role.SWITCH, site="doif", data=data or {},
                   params=ct.validate(params), driver=Answers(answers), running=running)  # type: ignore[arg-type]


# FRR 8.4.4's answers, as recorded on the lab's routers.
OSPF_FULL = {"neighbors": {"10.255.1.2": [{"priority": 1, "state": "Full/-", "nbrState": "Full/-",
                                           "address": "10.210.1.2", "ifaceName": "peer0:10.210.1.1"}]}}
OSPF_INIT = {"neighbors": {"10.255.1.2": [{"nbrState": "Init/-", "ifaceName": "peer0:10.210.1.1"}]}}
BGP_SUMMARY = {"ipv4Unicast": {"routerId": "10.255.1.1", "as": 65001, "peers": {
    "10.211.1.1": {"remoteAs": 64500, "state": "Established", "pfxRcd": 2, "pfxSnt": 1}}}}
BGP_IDLE = {"ipv4Unicast": {"peers": {"10.211.1.1": {"remoteAs": 64500, "state": "Idle (Admin)"}}}}
ROUTES = {"vrfId": 0, "routes": {"198.51.100.0/24": [{"valid": True}], "203.0.113.0/24": [{"valid": True}]},
          "routerId": "10.255.1.1"}


def test_ospf_full_waits_for_the_neighbour_and_says_how_long() -> None:
    ctx = ctx_for("ospf_interface", {"interface": "peer0", "cost": 50},
                  {"show ip ospf neighbor json": [OSPF_INIT, OSPF_INIT, OSPF_FULL]})
    result = _routing.ospf_full_check(ctx, "10.255.1.2", "peer0", within=5)
    assert result.passed and "Full with 10.255.1.2" in result.detail
    stuck = ctx_for("ospf_interface", {"interface": "peer0", "cost": 50},
                    {"show ip ospf neighbor json": [OSPF_INIT]})
    late = _routing.ospf_full_check(stuck, "10.255.1.2", "peer0", within=1)
    assert not late.passed and "none" in late.detail
    other_if = _routing.ospf_full_check(ctx_for("ospf_interface", {"interface": "peer0", "cost": 5},
                                                {"show ip ospf neighbor json": [OSPF_FULL]}),
                                        "10.255.1.2", "lan0", within=1)
    assert not other_if.passed  # Full elsewhere is not Full on the changed interface


def test_bgp_checks_read_summary_and_received_routes() -> None:
    ctx = ctx_for("bgp_neighbor", {"action": "no_shutdown", "asn": 65001, "neighbor": "10.211.1.1"},
                  {"show bgp summary json": [BGP_IDLE, BGP_SUMMARY],
                   "show ip bgp neighbors 10.211.1.1 routes json": [ROUTES]})
    assert _routing.bgp_established_check(ctx, "10.211.1.1", within=5).passed
    got = _routing.bgp_prefixes_check(ctx, "10.211.1.1", ["198.51.100.0/24", "192.0.2.0/24"], within=0.5)
    assert not got.passed and "missing 192.0.2.0/24" in got.detail


def test_kernel_route_present_through_the_next_hop_only() -> None:
    table = [{"dst": "10.99.0.0/16", "gateway": "10.210.1.2", "dev": "peer0", "protocol": "static", "flags": []}]
    ctx = ctx_for("static_route", {"prefix": "10.99.0.0/16", "next_hop": "10.210.1.2"},
                  {"ip -j route show 10.99.0.0/16": [table]})
    p = ctx.params
    assert _routing.kernel_route_check(ctx, p.prefix, p.next_hop, True, within=1).passed
    assert not _routing.kernel_route_check(ctx, p.prefix, p.next_hop, False, within=0.3).passed
    other = _routing.kernel_route_check(ctx, p.prefix, ctx.params.next_hop.__class__("10.210.1.9"), True, within=0.3)
    assert not other.passed


def test_static_route_next_hop_must_be_connected_on_the_router() -> None:
    connected = {"10.210.1.0/30": [{"protocol": "connected"}], "10.213.1.0/24": [{"protocol": "connected"}]}
    ct = get_change_type("static_route")
    good = ctx_for("static_route", {"prefix": "10.99.0.0/16", "next_hop": "10.210.1.2"},
                   {"show ip route connected json": [connected]})
    assert all(c.passed for c in ct.pre_checks(good))
    far = ctx_for("static_route", {"prefix": "10.99.0.0/16", "next_hop": "10.77.0.1"},
                  {"show ip route connected json": [connected]})
    failed = [c for c in ct.pre_checks(far) if not c.passed]
    assert failed and "10.210.1.0/30" in failed[0].detail


def test_vrrp_priority_change_keeps_every_other_line() -> None:
    ctx = ctx_for("vrrp", {"instance": "SRV_DOIF", "group": 51, "priority": 50}, {}, running=KEEPALIVED_RUNNING,
                  syntax="keepalived")
    rendered = get_change_type("vrrp").render(ctx)
    assert "    priority 50\n" in rendered and "priority 150" not in rendered
    for kept in ("    interface srv0", "        auth_pass 1111", "        10.213.1.1/24", "    virtual_router_id 51"):
        assert kept + "\n" in rendered
    assert rendered.startswith("vrrp_instance SRV_DOIF {\n") and rendered.endswith("}\n")


def test_vrrp_master_is_read_from_the_interface() -> None:
    held = [{"ifname": "srv0", "addr_info": [{"family": "inet", "local": "10.213.1.2", "prefixlen": 24},
                                              {"family": "inet", "local": "10.213.1.1", "prefixlen": 24}]}]
    backup = [{"ifname": "srv0", "addr_info": [{"family": "inet", "local": "10.213.1.2", "prefixlen": 24}]}]
    # Never held: the check waits its whole window; the shortest one allowed (1 s, not the default 10 s).
    ctx = ctx_for("vrrp", {"instance": "SRV_DOIF", "group": 51, "priority": 50, "expect_master": True,
                           "converge_within": 1}, {"ip -j addr show dev srv0": [backup]}, running=KEEPALIVED_RUNNING,
                  syntax="keepalived")
    checks = get_change_type("vrrp").post_checks(ctx)
    master = next(c for c in checks if "VRRP master" in c.name)
    assert not master.passed and "not held here" in master.detail
    ctx2 = ctx_for("vrrp", {"instance": "SRV_DOIF", "group": 51, "priority": 200, "expect_master": True},
                   {"ip -j addr show dev srv0": [held]}, running=KEEPALIVED_RUNNING, syntax="keepalived")
    assert next(c for c in get_change_type("vrrp").post_checks(ctx2) if "VRRP master" in c.name).passed


def test_ospf_area_move_rewrites_the_covering_network_statement() -> None:
    iface = {"peer0": {"ipAddresses": [{"address": "10.210.1.1/30", "secondary": False}]}}
    ctx = ctx_for("ospf_interface", {"interface": "peer0", "area": 1}, {"show interface peer0 json": [iface]})
    ct = get_change_type("ospf_interface")
    assert all(c.passed for c in ct.pre_checks(ctx))
    lines = [x for x in ct.render(ctx).splitlines() if x.strip()]
    assert lines == ["router ospf", " no network 10.210.1.0/30 area 0", " network 10.210.1.0/30 area 1", "exit"]


def test_bgp_neighbor_removal_negates_each_of_its_lines_where_they_are() -> None:
    running = FRR_RUNNING.replace(" neighbor 10.211.1.1 remote-as 64500\n",
                                  " neighbor 10.211.1.1 remote-as 64500\n neighbor 10.211.1.1 timers 1 3\n")
    ctx = ctx_for("bgp_neighbor", {"action": "remove", "asn": 65001, "neighbor": "10.211.1.1"}, {}, running=running)
    assert get_change_type("bgp_neighbor").render(ctx).splitlines() == [
        "router bgp 65001", " no neighbor 10.211.1.1 remote-as 64500", " no neighbor 10.211.1.1 timers 1 3",
        " address-family ipv4 unicast", "  no neighbor 10.211.1.1 route-map FROM-UPSTREAM in",
        " exit-address-family", "exit"]


def test_unknown_reference_is_bad_input() -> None:
    assert issubclass(UnknownReference, BadRequest) and UnknownReference.exit_code == 2
