"""Targets narrow by platform or syntax; a host a change type cannot run on is never a surprise.

Decided (issue 14, item 4): with ``platform:`` or ``syntax:`` in the targets, the other hosts are
not selected at all. Without them, a host that a role, a site or groups selects but the type
cannot render for is left out of that step and listed in the plan as not applicable (the plan
exits 0 if the rest planned); a host named in ``hosts:`` that it cannot run on, or a step left
with no host, is bad input (exit 2), before any device is contacted.
"""

from __future__ import annotations

from typing import Any

import pytest

from netchange.errors import BadRequest
from netchange.plan import compute_plan_hash
from netchange.testing import StoredDevice, assert_category, assert_diff, plan_change
from netchange.vocabulary import Category
from tests.mockdev import SWITCH_RUNNING

PORT = {"interfaces": ["GigabitEthernet1/0/2"], "description": "desk 2"}


def fleet() -> list[StoredDevice]:
    # nc1 is a NETCONF switch: it is never opened (the kit cannot read it), so a test that planned
    # it would show an error on that host.
    return [StoredDevice("sw1", SWITCH_RUNNING), StoredDevice("sw2", SWITCH_RUNNING, site="doso"),
            StoredDevice("nc1", "<data/>", platform="netconf"),
            StoredDevice("fw1", "hostname fw1\n", platform="asa_cli", role="firewall")]


def change(targets: dict[str, Any], type_: str = "access_port", params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "CHG-T", "title": "t", "ticket": "T-1", "requester": "amoreau",
            "steps": [{"type": type_, "targets": targets, "params": params or PORT}]}


def test_without_a_filter_the_host_without_a_rendering_is_listed_not_applicable() -> None:
    plan = plan_change(change({"role": "switch"}), fleet())
    assert [h.host for h in plan.hosts] == ["sw1", "sw2"]
    assert plan.ok
    assert [(na.host, na.step) for na in plan.not_applicable] == [("nc1", 0)]
    assert "no rendering for syntax 'netconf'" in plan.not_applicable[0].reason
    assert_category(plan, "minor")
    assert_diff(plan, " interface GigabitEthernet1/0/2\n+ description desk 2", host="sw1")


def test_a_site_selects_every_role_and_the_others_are_not_applicable() -> None:
    plan = plan_change(change({"site": "lab"}), fleet())
    assert [h.host for h in plan.hosts] == ["sw1"]
    assert {na.host: na.reason for na in plan.not_applicable}.keys() == {"nc1", "fw1"}
    assert "does not apply to role 'firewall'" in {na.host: na.reason for na in plan.not_applicable}["fw1"]


@pytest.mark.parametrize("narrow", [{"syntax": "ios"}, {"platform": "ios_cli"}])
def test_with_a_filter_other_hosts_are_not_selected(narrow: dict[str, str]) -> None:
    plan = plan_change(change({"role": "switch", **narrow}), fleet())
    assert [h.host for h in plan.hosts] == ["sw1", "sw2"]
    assert plan.not_applicable == ()


def test_a_filter_alone_is_a_target_and_netconf_hosts_are_selected_by_syntax() -> None:
    plan = plan_change(change({"syntax": "asa"}, "static_route",
                              {"prefix": "10.9.0.0/16", "next_hop": "192.0.2.1", "interface": "outside"}), fleet())
    assert [h.host for h in plan.hosts] == ["fw1"]


def test_a_named_host_the_type_cannot_run_on_is_bad_input() -> None:
    with pytest.raises(BadRequest, match=r"steps\.0: host nc1: .*no rendering for syntax 'netconf'"):
        plan_change(change({"hosts": ["sw1", "nc1"]}), fleet())


def test_a_step_left_with_no_host_is_bad_input() -> None:
    with pytest.raises(BadRequest, match=r"no selected host can run change type 'access_port'.*syntax:"):
        plan_change(change({"platform": "netconf"}), fleet())
    with pytest.raises(BadRequest, match="selects no host"):
        plan_change(change({"role": "switch", "syntax": "junos"}), fleet())


def test_not_applicable_hosts_are_covered_by_the_hash_and_old_plans_keep_theirs() -> None:
    plan = plan_change(change({"role": "switch"}), fleet())
    data = plan.model_dump(mode="json")
    edited = {**data, "not_applicable": []}
    assert compute_plan_hash(edited) != plan.plan_hash
    narrowed = plan_change(change({"role": "switch", "syntax": "ios"}), fleet())
    old = narrowed.model_dump(mode="json")
    del old["not_applicable"]  # a plan stored before the field existed
    assert compute_plan_hash(old) == narrowed.plan_hash
    assert type(narrowed).model_validate(old).verify() == narrowed


def test_the_plan_view_names_them() -> None:
    from io import StringIO

    from rich.console import Console

    from netchange.plan import print_plan

    buffer = StringIO()
    print_plan(plan_change(change({"role": "switch"}), fleet()), Console(file=buffer, width=200))
    assert "not applicable" in buffer.getvalue() and "step 0: nc1: " in buffer.getvalue()
    assert Category.MINOR.value.upper() in buffer.getvalue()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_plan_documents_name_them(fmt: str) -> None:
    from netchange.plan import render_document

    text = render_document(plan_change(change({"role": "switch"}), fleet()), fmt, client="test")
    assert "Not applicable" in text and "step 0: nc1: " in text
    narrowed = render_document(plan_change(change({"role": "switch", "syntax": "ios"}), fleet()), fmt, client="t")
    assert "Not applicable" not in narrowed
