"""``gslb_member`` without a lab: strict params, the rendered candidate merged by the driver's own
merge, the intended shares, the answers' comparison, and the state post-check."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from netchange.changetype import Context, get_change_type
from netchange.drivers.gdnsd import merge, parse_files, parse_state, render_state
from netchange.errors import BadRequest
from netchange.lab.gslb import config_text
from netchange.tasks._gslb_traffic import Sample, mismatch
from netchange.tasks.gslb_member import intended_shares
from netchange.vocabulary import Role

RUNNING = render_state(parse_files(config_text(port=5300, base=Path("/srv"), health_port=8081,
                                               centres={"doif": "127.0.1.80", "doso": "127.0.2.80"}), ""))
UP = {"127.0.1.80/centre_http": {"state": "UP", "real_state": "UP"},
      "127.0.2.80/centre_http": {"state": "UP", "real_state": "UP"}}


class _Driver:
    """Answers ``states`` as gdnsdctl prints it; nothing else is asked without traffic data."""

    def __init__(self, states: dict[str, Any]) -> None:
        self.states = states

    def cli(self, commands: list[str]) -> dict[str, str]:
        return {c: json.dumps(self.states) for c in commands}


def _ctx(params: dict[str, Any], running: str = RUNNING, states: dict[str, Any] | None = None) -> Any:
    ct = get_change_type("gslb_member")
    return ct, Context(host="gslb-global", platform="gdnsd", syntax="gdnsd", role=Role.LOAD_BALANCER, site="doif",
                       data={}, params=ct.validate(params), driver=_Driver(states or UP),  # type: ignore[arg-type]
                       running=running)


@pytest.mark.parametrize("params", [
    {"action": "drain", "resource": "www", "centre": "doso", "weight": 2},
    {"action": "add", "resource": "www", "centre": "dr"},
    {"action": "add", "resource": "www", "centre": "dr", "address": "2001:db8::1"},
    {"action": "weight", "resource": "www", "centre": "doif"},
    {"action": "weight", "resource": "www", "centre": "doif", "weight": 0},
    {"action": "drain", "resource": "www", "centre": "doso\nno member doif"},
    {"action": "drain", "resource": "www", "centre": "doso", "queries": 5},
    {"action": "priority", "resource": "www", "centre": "doso"},
    {"action": "enable", "resource": "www", "centre": "doso", "address": "127.0.2.80"},
    {"action": "priority", "resource": "www_failover", "centre": "doso"},
    {"action": "priority", "resource": "www_failover", "centre": "doso", "priority": 0},
    {"action": "weight", "resource": "www", "centre": "doif", "weight": 2, "priority": 1},
    {"action": "drain", "resource": "www_failover", "centre": "doso", "priority": 1},
])
def test_bad_params_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        get_change_type("gslb_member").validate(params)


@pytest.mark.parametrize(("params", "line"), [
    ({"action": "drain", "resource": "www", "centre": "doso"}, "member doso 127.0.2.80 weight 1 state drain"),
    ({"action": "weight", "resource": "www", "centre": "doif", "weight": 4},
     "member doif 127.0.1.80 weight 4 state up"),
    ({"action": "add", "resource": "www", "centre": "dr", "address": "127.0.3.80", "weight": 2},
     "member dr 127.0.3.80 weight 2 state up"),
    ({"action": "priority", "resource": "www_failover", "centre": "doso", "priority": 1},
     "member doso 127.0.2.80 priority 1 state up"),
    ({"action": "add", "resource": "www_failover", "centre": "dr", "address": "127.0.3.80", "priority": 3},
     "member dr 127.0.3.80 priority 3 state up"),
])
def test_render_merges_into_the_intended_state(params: dict[str, Any], line: str) -> None:
    ct, ctx = _ctx(params)
    desired = render_state(merge(parse_state(RUNNING), ct.render(ctx)))
    assert f"    {line}\n" in desired
    ctx.running = desired
    assert [c.passed for c in ct.post_checks(ctx)] == [True]  # no traffic data: the state alone


def test_remove_renders_no_member() -> None:
    ct, ctx = _ctx({"action": "remove", "resource": "www", "centre": "doso"})
    assert "doso" not in render_state({"www": merge(parse_state(RUNNING), ct.render(ctx))["www"]})


def test_pre_checks_refuse_a_drain_with_the_other_centre_down() -> None:
    down = dict(UP, **{"127.0.1.80/centre_http": {"state": "DOWN", "real_state": "DOWN"}})
    ct, ctx = _ctx({"action": "drain", "resource": "www", "centre": "doso"}, states=down)
    results = {c.name: c for c in ct.pre_checks(ctx)}
    serving = results["another centre of www is healthy and serves after the change"]
    assert not serving.passed and "none" in serving.detail
    ct, ctx = _ctx({"action": "drain", "resource": "www", "centre": "doso"})
    assert all(c.passed for c in ct.pre_checks(ctx))
    ct, ctx = _ctx({"action": "drain", "resource": "nope", "centre": "doso"})
    assert not ct.pre_checks(ctx)[0].passed


def test_pre_checks_refuse_the_wrong_kind_of_rank() -> None:
    ct, ctx = _ctx({"action": "add", "resource": "www_failover", "centre": "dr", "address": "127.0.3.80",
                    "weight": 2})
    assert "www_failover takes a priority" in [c.name for c in ct.pre_checks(ctx) if not c.passed]


def test_failover_shares_go_to_the_first_serving_centre() -> None:
    failover = parse_state(RUNNING)["www_failover"].members
    assert intended_shares(failover, UP) == {"127.0.1.80": 1.0}
    doif_down = dict(UP, **{"127.0.1.80/centre_http": {"state": "UP", "real_state": "DOWN"}})
    assert intended_shares(failover, doif_down) == {"127.0.2.80": 1.0}


def test_intended_shares() -> None:
    members = parse_state(RUNNING.replace("doif 127.0.1.80 weight 1", "doif 127.0.1.80 weight 3"))["www"].members
    assert intended_shares(members, UP) == {"127.0.1.80": 0.75, "127.0.2.80": 0.25}
    drained = parse_state(RUNNING.replace("127.0.2.80 weight 1 state up", "127.0.2.80 weight 1 state drain"))
    assert intended_shares(drained["www"].members, UP) == {"127.0.1.80": 1.0}
    # Every centre down or drained: gdnsd answers them all by weight rather than nothing.
    down = {k: {"state": "DOWN", "real_state": "DOWN"} for k in UP}
    assert intended_shares(members, down) == {"127.0.1.80": 0.75, "127.0.2.80": 0.25}


def test_mismatch_tolerance_and_never() -> None:
    good = Sample("v", 100, Counter({"127.0.1.80": 70, "127.0.2.80": 30}))
    assert mismatch([good], {"127.0.1.80": 0.75, "127.0.2.80": 0.25}, 0.1) == []
    assert mismatch([good], {"127.0.1.80": 0.5, "127.0.2.80": 0.5}, 0.1) != []
    leak = Sample("v", 100, Counter({"127.0.1.80": 99, "127.0.2.80": 1}))
    assert mismatch([leak], {"127.0.1.80": 1.0}, 0.1) == ["v: 127.0.2.80 1% (intended 0%)"]
