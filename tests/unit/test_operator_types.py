"""The two-operator change types (issue 26): ``bgp_policy`` and ``upstream_shutdown``.

- Bad input is refused when the request is read (one line, exit 2, no device opened); a neighbour,
  operator or route-map the router does not have is bad input too (the pre-check reads it).
- What they render, read against a router with two operators as the lab builds it, and what FRR's
  driver makes of it (the merge target keeps one ``set`` clause per attribute).
- The helpers that say which way traffic leaves, on FRR 8.4's and iproute2's JSON as recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netchange.changetype import Context, get_change_type
from netchange.drivers.frr import merge_target
from netchange.errors import BadRequest, UnknownReference
from netchange.inventory import _connection as connection
from netchange.tasks import _operators
from netchange.vocabulary import Role
from tests import fakedriver
from tests.unit.test_routing_types import Cli, change_file, frr_lab  # noqa: F401  (frr_lab: a fixture)

RUNNING = """\
frr version 8.4.4
hostname rtr-doif-a
bgp route-map delay-timer 1
!
router bgp 65001
 bgp router-id 10.255.1.1
 neighbor 10.211.1.1 remote-as 64500
 neighbor 10.214.1.1 remote-as 64510
 neighbor 10.214.9.1 remote-as 64510
 !
 address-family ipv4 unicast
  network 10.213.1.0/24
  neighbor 10.211.1.1 route-map FROM-UPSTREAM in
  neighbor 10.211.1.1 route-map TO-UPSTREAM out
  neighbor 10.214.1.1 route-map FROM-OPERATOR-B in
  neighbor 10.214.1.1 route-map TO-OPERATOR-B out
  neighbor 10.214.9.1 route-map FROM-OPERATOR-B in
  neighbor 10.214.9.1 route-map TO-OPERATOR-B out
 exit-address-family
exit
!
ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24
ip prefix-list SITE-OUT seq 5 permit 10.213.1.0/24
!
route-map FROM-UPSTREAM permit 10
 match ip address prefix-list FROM-UPSTREAM
exit
!
route-map TO-UPSTREAM permit 10
 match ip address prefix-list SITE-OUT
exit
!
route-map FROM-OPERATOR-B permit 10
 match ip address prefix-list FROM-UPSTREAM
 set local-preference 50
exit
!
route-map FROM-OPERATOR-B permit 20
 set local-preference 50
exit
!
route-map TO-OPERATOR-B permit 10
 match ip address prefix-list SITE-OUT
 set community 64510:100
exit
!
end
"""

BAD: list[tuple[str, dict[str, Any], str]] = [
    ("bgp_policy", {"asn": 65001, "local_preference": 150}, "exactly one of neighbor"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "operator_as": 64510, "local_preference": 150},
     "exactly one of neighbor"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1"}, "local_preference, prepend, communities or multipath"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "multipath": True,
                    "expect_exit_via": ["10.214.1.1", "10.214.1.1"]}, "twice"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "multipath": True, "expect_exit_via": []},
     "expect_exit_via"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "local_preference": 4294967296}, "local_preference"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "prepend": 11}, "prepend"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "communities": ["65536:1"]}, "communities"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "communities": ["64500:1\nno router bgp 65001"]},
     "communities"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "communities": ["64500:1", "64500:1"]}, "twice"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1 shutdown", "prepend": 2}, "neighbor"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "local_preference": 150, "watch_prefix": "198.51.100.0/24"},
     "expect_exit_via"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "local_preference": 150, "expect_exit_via": "10.214.1.1",
                    "watch_prefix": "198.51.100.0/33"}, "watch_prefix"),
    ("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "local_preference": 150, "converge_within": 0}, "converge"),
    ("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "cut"}, "action"),
    ("upstream_shutdown", {"asn": 65001, "action": "drain"}, "exactly one of neighbor"),
    ("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "shutdown", "prepend": 3}, "prepend"),
    ("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "drain", "restore_local_preference": 100},
     "restore_local_preference"),
    ("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "drain", "prepend": 11}, "prepend"),
    ("upstream_shutdown", {"asn": 0, "operator_as": 64500, "action": "drain"}, "asn"),
]


@pytest.mark.parametrize(("type_name", "params", "word"), BAD, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD)])
def test_bad_value_is_refused_in_one_line(type_name: str, params: dict[str, Any], word: str) -> None:
    with pytest.raises(BadRequest) as info:
        get_change_type(type_name).validate(params)
    assert "\n" not in str(info.value) and word in str(info.value), str(info.value)


@pytest.mark.parametrize("index", [0, 6, 14])
def test_bad_value_through_the_command_line_exits_2_before_any_device(
        frr_lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, index: int) -> None:  # noqa: F811
    type_name, params, _ = BAD[index]
    opened: list[object] = []
    monkeypatch.setattr(connection.NetchangeConnection, "open", lambda *a, **k: opened.append(a))
    result = cli("plan", str(change_file(frr_lab / "c.yaml", type_name, params)), actor="dnguyen")
    assert result.code == 2, result.out + result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err, result.err
    assert opened == []


@pytest.mark.parametrize(("type_name", "params", "word"), [
    ("bgp_policy", {"asn": 65001, "operator_as": 64999, "local_preference": 150}, "no neighbour of AS 64999"),
    ("bgp_policy", {"asn": 65002, "neighbor": "10.214.1.1", "local_preference": 150}, "not 65002"),
    ("upstream_shutdown", {"asn": 65001, "neighbor": "10.211.1.9", "action": "drain"}, "10.211.1.9"),
])
def test_an_operator_the_router_does_not_have_exits_2_without_a_plan(
        frr_lab: Path, cli: Cli, type_name: str, params: dict[str, Any], word: str) -> None:  # noqa: F811
    fakedriver.reset({"rtr1": RUNNING})
    result = cli("plan", str(change_file(frr_lab / "c.yaml", type_name, params)), actor="dnguyen")
    assert result.code == 2, result.out + result.err
    assert word in result.err and len(result.err.strip().splitlines()) == 1, result.err


def _ctx(type_name: str, params: dict[str, Any], running: str = RUNNING,
         data: dict[str, Any] | None = None) -> tuple[Any, Context[Any]]:
    kind = get_change_type(type_name)
    return kind, Context(host="rtr-doif-a", platform="frr", syntax="frr", role=Role.ROUTER, site="doif",
                         data=data or {}, params=kind.validate(params), driver=None, running=running)  # type: ignore[arg-type]


def test_local_preference_per_operator_replaces_the_clause_in_every_permit_entry() -> None:
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "operator_as": 64510, "local_preference": 150})
    rendered = kind.render(ctx)
    assert rendered.splitlines() == [
        "route-map FROM-OPERATOR-B permit 10", " no set local-preference 50", " set local-preference 150", "exit",
        "route-map FROM-OPERATOR-B permit 20", " no set local-preference 50", " set local-preference 150", "exit"]
    target = merge_target(RUNNING, rendered)  # what FRR's driver hands frr-reload.py
    assert "set local-preference 50" not in target and target.count("set local-preference 150") == 2


def test_prepend_and_communities_go_out_and_zero_or_empty_removes_them() -> None:
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "neighbor": "10.211.1.1", "prepend": 2,
                                    "communities": ["64500:80", "no-export"]})
    assert kind.render(ctx).splitlines() == [
        "route-map TO-UPSTREAM permit 10", " set as-path prepend 65001 65001", "exit",
        "route-map TO-UPSTREAM permit 10", " set community 64500:80 no-export", "exit"]
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "operator_as": 64510, "prepend": 0, "communities": []})
    assert kind.render(ctx).splitlines() == ["route-map TO-OPERATOR-B permit 10", " no set community 64510:100", "exit"]


def test_ecmp_across_operators_where_chosen() -> None:
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "operator_as": 64510, "local_preference": 100, "multipath": True,
                                    "expect_exit_via": ["10.211.1.1", "10.214.1.1"]})
    assert len(ctx.params.exits) == 2
    assert kind.render(ctx).splitlines()[-3:] == [
        "router bgp 65001", " bgp bestpath as-path multipath-relax", "exit"]
    running = RUNNING.replace(" bgp router-id 10.255.1.1\n", " bgp router-id 10.255.1.1\n"
                              " bgp bestpath as-path multipath-relax\n")
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "neighbor": "10.211.1.1", "multipath": False}, running)
    assert kind.render(ctx).splitlines() == ["router bgp 65001", " no bgp bestpath as-path multipath-relax", "exit"]
    assert "multipath" not in merge_target(running, kind.render(ctx))


def test_a_route_map_shared_with_a_session_not_named_is_refused() -> None:
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "neighbor": "10.214.1.1", "local_preference": 150})
    with pytest.raises(UnknownReference, match=r"also used by 10\.214\.9\.1 in"):
        kind.render(ctx)


def test_a_neighbour_without_a_route_map_is_refused() -> None:
    running = RUNNING.replace("  neighbor 10.211.1.1 route-map TO-UPSTREAM out\n", "")
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "neighbor": "10.211.1.1", "prepend": 3}, running)
    with pytest.raises(UnknownReference, match="no route-map out"):
        kind.pre_checks(ctx)


def test_a_policy_already_in_place_fails_its_pre_check() -> None:
    kind, ctx = _ctx("bgp_policy", {"asn": 65001, "operator_as": 64510, "local_preference": 50})
    assert [c.passed for c in kind.pre_checks(ctx)] == [False]


def test_drain_then_shutdown_then_restore() -> None:
    kind, ctx = _ctx("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "drain"})
    drain = kind.render(ctx)
    assert drain.splitlines() == [
        "route-map FROM-UPSTREAM permit 10", " set local-preference 0", "exit",
        "route-map TO-UPSTREAM permit 10", " set community graceful-shutdown additive", "exit",
        "route-map TO-UPSTREAM permit 10", " set as-path prepend 65001 65001 65001", "exit"]
    shut_kind, shut_ctx = _ctx("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "shutdown"})
    assert not shut_kind._drained(shut_ctx, ["10.211.1.1"])  # not drained: its pre-check fails
    # The router once drained, as FRR prints it (one block per entry).
    drained = (RUNNING
               .replace(" match ip address prefix-list FROM-UPSTREAM\nexit\n!\nroute-map TO-UPSTREAM",
                        " match ip address prefix-list FROM-UPSTREAM\n set local-preference 0\nexit\n!\n"
                        "route-map TO-UPSTREAM")
               .replace(" match ip address prefix-list SITE-OUT\nexit\n!\nroute-map FROM-OPERATOR-B",
                        " match ip address prefix-list SITE-OUT\n set as-path prepend 65001 65001 65001\n"
                        " set community graceful-shutdown additive\nexit\n!\nroute-map FROM-OPERATOR-B"))
    shut_kind, shut_ctx = _ctx("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "shutdown"},
                               drained)
    assert shut_kind._drained(shut_ctx, ["10.211.1.1"])
    assert shut_kind.render(shut_ctx).splitlines() == ["router bgp 65001", " neighbor 10.211.1.1 shutdown", "exit"]
    shut = drained.replace(" neighbor 10.214.9.1 remote-as 64510\n",
                           " neighbor 10.214.9.1 remote-as 64510\n neighbor 10.211.1.1 shutdown\n")
    back_kind, back_ctx = _ctx("upstream_shutdown", {"asn": 65001, "operator_as": 64500, "action": "restore"}, shut)
    assert back_kind.render(back_ctx).splitlines() == [
        "route-map FROM-UPSTREAM permit 10", " no set local-preference 0", "exit",
        "route-map TO-UPSTREAM permit 10", " no set community graceful-shutdown additive", "exit",
        "route-map TO-UPSTREAM permit 10", " no set as-path prepend 65001 65001 65001", "exit",
        "router bgp 65001", " no neighbor 10.211.1.1 shutdown", "exit"]
    restored = merge_target(shut, back_kind.render(back_ctx))  # the `no` lines take the drain out
    assert "graceful-shutdown" not in restored and "set local-preference 0" not in restored
    assert "prepend" not in restored and " neighbor 10.211.1.1 shutdown" not in restored


def test_graceful_shutdown_per_neighbour_is_not_what_frr_8_4_takes() -> None:
    """FRR 8.4 has only the process-wide ``bgp graceful-shutdown``: the drain is in the route-maps."""
    kind, ctx = _ctx("upstream_shutdown", {"asn": 65001, "neighbor": "10.211.1.1", "action": "drain"})
    assert "neighbor 10.211.1.1 graceful-shutdown" not in kind.render(ctx)


# --- which way traffic leaves, on recorded answers ---------------------------------------------------

BGP_BEST = {"prefix": "198.51.100.0/24", "paths": [
    {"aspath": {"string": "64500"}, "valid": True, "bestpath": {"overall": True, "selectionReason": "Local Pref"},
     "nexthops": [{"ip": "10.211.1.1", "afi": "ipv4", "used": True}], "peer": {"peerId": "10.211.1.1"}},
    {"aspath": {"string": "64510"}, "locPrf": 50, "valid": True,
     "nexthops": [{"ip": "10.214.1.1", "afi": "ipv4", "used": True}], "peer": {"peerId": "10.214.1.1"}}]}
KERNEL_ECMP = [{"dst": "198.51.100.0/24", "protocol": "bgp", "metric": 20, "flags": [], "nexthops": [
    {"gateway": "10.211.1.1", "dev": "up0", "weight": 1, "flags": []},
    {"gateway": "10.214.1.1", "dev": "upb0", "weight": 1, "flags": []}]}]


class _Answers:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def cli(self, commands: list[str]) -> dict[str, str]:
        return {c: json.dumps(self.answers[c]) for c in commands}


def test_best_path_and_ecmp_next_hops_are_read_from_json() -> None:
    import ipaddress

    prefix = ipaddress.IPv4Network("198.51.100.0/24")
    answers = _Answers({f"show ip bgp {prefix} json": BGP_BEST, f"ip -j route show {prefix}": KERNEL_ECMP})
    params = get_change_type("bgp_policy").validate({"asn": 65001, "operator_as": 64510, "local_preference": 1})
    ctx: Context[Any] = Context(host="r", platform="frr", syntax="frr", role=Role.ROUTER, site="doif", data={},
                                params=params, driver=answers, running="")  # type: ignore[arg-type]
    assert _operators.bgp_best(ctx, prefix) == {"10.211.1.1"}
    assert _operators.kernel_next_hops(ctx, prefix) == {"10.211.1.1", "10.214.1.1"}
    # ECMP across both: "leaves through A only" must fail, through either passes.
    assert not _operators.exit_check(ctx, prefix, {"10.211.1.1"}, 1, "A").passed
    answers.answers[f"ip -j route show {prefix}"] = [{"dst": "198.51.100.0/24", "gateway": "10.211.1.1"}]
    assert _operators.exit_check(ctx, prefix, {"10.211.1.1"}, 1, "A").passed


def test_an_operator_is_known_by_any_of_its_addresses_at_the_site() -> None:
    data = {"operators": [{"name": "operator-a", "neighbor": "10.211.1.1", "addresses": ["10.211.1.1", "10.211.1.5"]},
                          {"name": "operator-b", "neighbor": "10.214.1.1", "addresses": ["10.214.1.1", "10.214.1.5"]}]}
    _, ctx = _ctx("bgp_policy", {"asn": 65001, "operator_as": 64510, "local_preference": 150}, data=data)
    assert _operators.operator_addresses(ctx, "10.211.1.5") == {"10.211.1.1", "10.211.1.5"}
    assert _operators.label(ctx, "10.214.1.1") == "operator-b (10.214.1.1)"
    assert _operators.operator_addresses(ctx, "192.0.2.1") == {"192.0.2.1"}


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"namespace": "nc1-rs-doif; reboot", "destination": "198.51.100.10"}, "namespace"),
    ({"namespace": "nc1-rs-doif", "destination": "198.51.100.10 -c"}, "IPv4"),
    ({"namespace": "nc1-rs-doif", "destination": "198.51.100.10", "hops": 0}, "hops"),
    ({"namespace": "nc1-rs-doif", "destination": "198.51.100.10", "source": "me"}, "IPv4"),
])
def test_a_traced_flow_refuses_bad_arguments_before_running_anything(kwargs: dict[str, Any], word: str) -> None:
    from netchange.changetype.probes import trace_hops

    with pytest.raises(ValueError, match=word):
        trace_hops(**kwargs)
