"""Roles and perimeters (issue 22, finding and item 3).

Before: ``acl_entries`` did not apply to role ``router`` although the quality plan lists ACL edits
on the network perimeter (switches, L3 switches, routers) as minor; and on an IOS host with role
``firewall`` every line was "unclassified -> major", because the IOS rules served the network
perimeter only. Now the type serves the roles that carry the item, the IOS rules give the
security list's readings to IOS firewalls, and a role a type cannot serve is said once, with the
types that can.

Planned on real configurations of the corpus (Batfish lab-validation, IOS 15.2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netchange.errors import BadRequest
from netchange.testing import StoredDevice, assert_category, assert_reasons, host_plan, plan_change, plan_step

CORPUS = Path(__file__).parents[1] / "corpus"
ENTRY = {"action": "permit", "protocol": "tcp", "source": "10.0.0.0/8", "destination": "2.128.1.10/32", "port": 443}


def border(role: str, name: str = "as2border1") -> StoredDevice:
    return StoredDevice.from_file(CORPUS / "ios/lv_as2border1.ios", name=name, role=role)


def test_acl_entries_runs_on_a_router() -> None:
    plan = plan_step("acl_entries", {"acl": "INSIDE_TO_AS1", "add": [ENTRY]}, [border("router")])
    assert host_plan(plan).ok, host_plan(plan).error
    assert_category(plan, "minor")
    assert_reasons(plan, "ios.acl_entry", exactly=True)


def test_an_ios_firewall_is_judged_by_the_security_rules_not_as_unclassified() -> None:
    known = plan_step("acl_entries", {"acl": "INSIDE_TO_AS1", "add": [ENTRY]}, [border("firewall")])
    assert host_plan(known).unclassified == ()
    assert_category(known, "minor")
    assert_reasons(known, "ios.fw_acl_known_flow", exactly=True)
    any_source = plan_step("acl_entries", {"acl": "INSIDE_TO_AS1", "add": [{**ENTRY, "source": "any"}]},
                           [border("firewall")])
    assert_category(any_source, "medium")
    assert_reasons(any_source, "ios.fw_acl_unknown_flow", exactly=True)


def test_a_snippet_on_an_ios_firewall_reads_network_items_as_on_a_router() -> None:
    snippet = {"syntax": "ios", "lines": ["logging host 192.0.2.50"]}
    plan = plan_step("config_snippet", snippet, [border("firewall")])
    assert host_plan(plan).unclassified == ()
    assert_category(plan, "minor")
    assert_reasons(plan, "ios.syslog", exactly=True)


def change(targets: dict[str, object], type_name: str = "vlan") -> dict[str, object]:
    params = {"vlan_id": 300, "name": "PRINTERS"} if type_name == "vlan" else {"acl": "INSIDE_TO_AS1", "add": [ENTRY]}
    return {"id": "CHG-2026-2201", "title": "t", "ticket": "T-1", "requester": "netchange-test",
            "steps": [{"type": type_name, "targets": targets, "params": params}]}


def test_a_role_a_type_cannot_serve_is_said_once_with_the_types_that_can() -> None:
    switch = StoredDevice("sw1", "hostname sw1\nvlan 10\n name USERS\n", role="switch", site="doif")
    routers = [border("router", name=f"r{i}") for i in range(1, 4)]
    plan = plan_change(change({"site": "doif"}), [switch, *[StoredDevice(r.name, r.config, role="router",
                                                                          site="doif") for r in routers]])
    reasons = {na.reason for na in plan.not_applicable}
    assert len(plan.not_applicable) == 3 and len(reasons) == 1, plan.not_applicable
    (reason,) = reasons
    assert "change type 'vlan' does not apply to role 'router'" in reason
    assert "for role router on syntax ios:" in reason and "acl_entries" in reason and "static_route" in reason
    assert "vlan" not in reason.split(":", 1)[1].replace("'vlan'", "")  # the type itself is not offered
    from netchange.plan import not_applicable_lines

    lines = not_applicable_lines(plan.not_applicable)
    assert len(lines) == 1, lines
    assert lines[0].startswith("step 0: r1, r2, r3: change type 'vlan' does not apply to role 'router'")
    # The documents people read say it once too (the plan keeps one entry per host: its hash).
    from netchange.plan import render_document

    for fmt in ("md", "html"):
        text = render_document(plan, fmt, client="Client")
        assert text.count("does not apply to role") == 1, fmt
        assert "r1, r2, r3" in text, fmt


def test_a_host_named_with_a_role_its_type_cannot_serve_is_bad_input_naming_the_types_that_can() -> None:
    named = r"does not apply to role 'router'.*for role router on syntax ios: .*acl_entries"
    with pytest.raises(BadRequest, match=named):
        plan_change(change({"hosts": ["r1"]}), [border("router", name="r1")])
