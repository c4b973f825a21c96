"""netchange.testing: devices from stored configurations, plans through the real pipeline, assertions.

The kit is what a change type's author tests with, so these tests check that what it shows is the
engine's own result (the diff changes with the stored configuration, the pre-check reads it), that
it never changes anything (no configuration line sent, nothing recorded unless asked), and that
its assertions fail with the facts a reader needs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.testing import (
    StoredDevice,
    assert_category,
    assert_diff,
    assert_planned,
    assert_pre_checks,
    assert_reasons,
    assert_unclassified,
    plan_change,
    plan_step,
    post_checks,
    show_vlan_brief,
)
from tests.mockdev import SWITCH_RUNNING

VLAN_20 = {"vlan_id": 20, "name": "servers"}


def test_the_diff_is_computed_from_the_stored_configuration(netchange_device: Callable[..., Any]) -> None:
    plain = netchange_device("sw1", SWITCH_RUNNING)
    described = netchange_device("sw2", SWITCH_RUNNING.replace(
        "interface GigabitEthernet1/0/2\n", "interface GigabitEthernet1/0/2\n description desk 2\n"))
    port = {"interfaces": ["GigabitEthernet1/0/2"], "access_vlan": 10, "description": "desk 2"}
    plan = plan_step("access_port", port, [plain, described])
    # Gi1/0/2 is already an access port in VLAN 10: only the description is new, and not on sw2.
    assert_diff(plan, " interface GigabitEthernet1/0/2\n+ description desk 2", host="sw1")
    assert_diff(plan, "", host="sw2")
    assert plan.host("sw1").candidate == plan.host("sw2").candidate  # same render, different devices


def test_a_step_through_the_registry_classifier_and_pre_checks(netchange_plan_step: Callable[..., Any],
                                                                 netchange_device: Callable[..., Any]) -> None:
    plan = netchange_plan_step("vlan", VLAN_20, [netchange_device("sw1", SWITCH_RUNNING)])
    assert_planned(plan)
    assert_diff(plan, ["+vlan 20", "+ name servers"])
    assert_category(plan, "medium")
    assert_reasons(plan, "ios.vlan_create", "ios.vlan_name", exactly=True)
    assert_unclassified(plan)
    assert_pre_checks(plan, passed=["vlan 20 is free"])
    taken = plan_step("vlan", {"vlan_id": 10, "name": "dup"}, [StoredDevice("sw1", SWITCH_RUNNING)])
    assert_pre_checks(taken, failed=["vlan 10 is free"])
    assert taken.category is None  # nothing planned, nothing classified


def test_a_change_request_file_is_read_by_the_plan_reader(tmp_path: Path,
                                                           netchange_plan: Callable[..., Any]) -> None:
    path = tmp_path / "change.yaml"
    path.write_text("id: CHG-1\ntitle: t\nticket: T-1\nrequester: amoreau\nsteps:\n"
                    "  - {type: vlan, targets: {role: switch, site: doso}, params: {vlan_id: 20, name: servers}}\n")
    devices = [StoredDevice("sw1", SWITCH_RUNNING, site="doif"), StoredDevice("sw2", SWITCH_RUNNING, site="doso")]
    plan = netchange_plan(path, devices)
    assert [h.host for h in plan.hosts] == ["sw2"]
    path.write_text(path.read_text() + "steps: []\n")  # a duplicate key: bad input, as for `netchange plan`
    from netchange.errors import BadRequest

    with pytest.raises(BadRequest, match="duplicate key"):
        netchange_plan(path, devices)


def test_a_stored_file_with_its_header_and_banner_as_a_backup_tool_keeps_it(tmp_path: Path) -> None:
    body = SWITCH_RUNNING.replace("hostname sw1\n", "hostname sw1\nbanner motd ^C\nAuthorised use only\n^C\n")
    backup = tmp_path / "sw-doif-acc1.cfg"
    backup.write_text(f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n!\n{body}")
    device = StoredDevice.from_file(backup)
    assert device.name == "sw-doif-acc1"
    plan = plan_step("vlan", VLAN_20, [device])
    assert_diff(plan, "+vlan 20\n+ name servers")
    # Bound to the configuration itself, not to the header's byte count.
    backup.write_text(f"Building configuration...\n\nCurrent configuration : 99999 bytes\n!\n{body}")
    assert plan_step("vlan", VLAN_20, [StoredDevice.from_file(backup)]).hosts[0].running_hash == \
        plan.hosts[0].running_hash
    changed = StoredDevice.from_file(backup).config.replace("Authorised", "Authorized")
    assert plan_step("vlan", VLAN_20, [StoredDevice("sw", changed)]).hosts[0].running_hash != \
        plan.hosts[0].running_hash


def test_nothing_is_sent_and_nothing_recorded_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange.testing.device import MemorySession

    monkeypatch.setenv("NETCHANGE_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    sent: list[list[str]] = []
    original = MemorySession.send_config_set
    monkeypatch.setattr(MemorySession, "send_config_set", lambda self, lines, **kw: (sent.append(lines),
                                                                                      original(self, lines, **kw)))
    plan = plan_step("vlan", VLAN_20, [StoredDevice("sw1", SWITCH_RUNNING)])
    assert plan.ok and sent == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no journal, no plan store, anywhere here
    recorded = plan_step("vlan", VLAN_20, [StoredDevice("sw1", SWITCH_RUNNING)], record=tmp_path / "state")
    from netchange.journal import Journal
    from netchange.plan import store as planstore

    stored = planstore.load_verified(tmp_path / "state" / "plans", recorded.change.id, recorded.plan_hash)
    assert stored == recorded
    with Journal(tmp_path / "state" / "journal.sqlite") as journal:
        assert journal.verify() == []
        assert planstore.current(tmp_path / "state" / "plans", journal, recorded.change.id) == recorded


def test_the_stored_device_refuses_configuration_lines() -> None:
    from netchange.testing.device import ReadOnlyDevice

    driver = StoredDevice("sw1", SWITCH_RUNNING).driver()
    driver.open()
    driver.load_merge_candidate(config="vlan 20\n name servers\n")
    with pytest.raises(ReadOnlyDevice, match="never changed"):
        driver.commit_config()


def test_a_platform_without_a_configuration_text_is_named_per_host() -> None:
    plan = plan_step("vlan", VLAN_20, [StoredDevice("sw1", SWITCH_RUNNING),
                                       StoredDevice("nc1", "<config/>", platform="netconf")])
    assert_planned(plan, "sw1")
    bad = plan.host("nc1")
    assert bad.error is not None and "platform 'netconf'" in bad.error and "configuration text" in bad.error
    assert plan.category is not None  # the other host is planned and classified


def test_a_napalm_ios_host_is_diffed_with_the_cli_profile_of_its_syntax() -> None:
    plan = plan_step("vlan", VLAN_20, [StoredDevice("doif-sw-acc-01", SWITCH_RUNNING, platform="ios")])
    assert_diff(plan, "+vlan 20\n+ name servers")
    assert plan.hosts[0].platform == "ios"  # the host keeps its own platform


def test_a_device_check_runs_against_the_stored_device_and_not_offline() -> None:
    # No VLAN database in the configuration (VTP server): the check asks show vlan brief, which
    # the stored device answers; an offline plan would report it not run.
    no_vlans = "\n".join(line for line in SWITCH_RUNNING.splitlines() if not line.startswith(("vlan ", " name ")))
    listed = show_vlan_brief("vlan 20\n name servers\n")
    taken = plan_step("vlan", VLAN_20, [StoredDevice("sw1", no_vlans, show={"show vlan brief": listed})])
    assert_pre_checks(taken, failed=["vlan 20 is free"])
    assert "show vlan brief" in taken.hosts[0].pre_checks[0].detail
    free = plan_step("vlan", VLAN_20, [StoredDevice("sw1", no_vlans)])  # computed from its configuration
    assert_pre_checks(free, passed=["vlan 20 is free"])


def test_post_checks_run_against_the_configuration_after_the_change() -> None:
    after = SWITCH_RUNNING.replace("vlan 10\n name users\n", "vlan 10\n name users\n!\nvlan 20\n name servers\n")
    assert [c.passed for c in post_checks("vlan", VLAN_20, StoredDevice("sw1", after))] == [True]
    assert [c.passed for c in post_checks("vlan", VLAN_20, StoredDevice("sw1", SWITCH_RUNNING))] == [False]


def test_assertions_say_what_the_plan_holds() -> None:
    plan = plan_step("vlan", VLAN_20, [StoredDevice("sw1", SWITCH_RUNNING)])
    with pytest.raises(AssertionError) as diff_error:
        assert_diff(plan, "+vlan 21")
    assert "+vlan 21" in str(diff_error.value) and "+vlan 20" in str(diff_error.value)
    with pytest.raises(AssertionError, match=r"category medium, expected minor(.|\n)*ios\.vlan_create"):
        assert_category(plan, "minor")
    with pytest.raises(AssertionError, match=r"missing ios\.nope"):
        assert_reasons(plan, "ios.nope")
    with pytest.raises(AssertionError, match=r"unexpected ios\.vlan_name"):
        assert_reasons(plan, "ios.vlan_create", exactly=True)
    with pytest.raises(AssertionError, match="'other' is not in the plan"):
        assert_pre_checks(plan, passed=["other"])
    failed = plan_step("vlan", {"vlan_id": 10, "name": "x"}, [StoredDevice("sw1", SWITCH_RUNNING)])
    with pytest.raises(AssertionError, match="not planned: pre-check failed: vlan 10 is free"):
        assert_category(failed, "medium")
    two = plan_change({"id": "C-1", "title": "t", "ticket": "T", "requester": "amoreau", "steps": [
        {"type": "vlan", "targets": {"role": "switch"}, "params": VLAN_20}]},
        [StoredDevice("a", SWITCH_RUNNING), StoredDevice("b", SWITCH_RUNNING)])
    with pytest.raises(AssertionError, match="name the host"):
        assert_diff(two, "")
    assert_category(two, "medium")  # several hosts, no host named: the change's category


def test_loading_the_plugin_imports_nothing_of_netchange_s_engine(tmp_path: Path) -> None:
    """Every pytest run in an environment with netchange loads the plugin: it must cost nothing."""
    code = ("import sys, netchange.testing.plugin, netchange.testing\n"
            "heavy = [m for m in ('nornir', 'napalm', 'netmiko', 'hier_config', 'netchange.plan._build', 'pydantic',"
            " 'netchange.testing.planning') if m in sys.modules]\nprint(heavy)")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_plugin_is_registered_for_pytest() -> None:
    from importlib.metadata import entry_points

    assert [ep.value for ep in entry_points(group="pytest11") if ep.name == "netchange"] == [
        "netchange.testing.plugin"]


def test_a_rancid_file_is_read_as_an_offline_plan_reads_it(tmp_path: Path) -> None:
    rancid = tmp_path / "sw-rancid"
    header = "!RANCID-CONTENT-TYPE: cisco\n!\n!Chassis type: WS-C2960X\n!Image: 15.2(7)E\n!\n"
    rancid.write_text(header + SWITCH_RUNNING)
    device = StoredDevice.from_file(rancid)
    assert not device.config.startswith("!RANCID")
    plain = plan_step("vlan", VLAN_20, [StoredDevice("sw-rancid", SWITCH_RUNNING)])
    assert plan_step("vlan", VLAN_20, [device]).hosts[0].running_hash == plain.hosts[0].running_hash
