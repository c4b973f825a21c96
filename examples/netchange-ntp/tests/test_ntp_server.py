"""The ntp_server change type, tested with netchange's pytest plugin (no device, no lab).

Each device is built from a stored configuration (what ``show running-config`` prints) and every
plan goes through netchange's own pipeline: the registry finds this type by its entry point, the
template comes from this package, the diff is computed by the ios_cli driver and classified with
netchange's rules plus this package's own (``netchange_ntp/rules``).
"""

from pathlib import Path

import pytest

from netchange.errors import BadRequest
from netchange.testing import assert_category, assert_diff, assert_pre_checks, assert_reasons, post_checks

HERE = Path(__file__).parent


@pytest.fixture
def switch(netchange_device):
    return netchange_device("sw1", path=HERE / "configs" / "sw-doif-acc1.cfg")


def test_adding_a_server_is_a_minor_change(netchange_plan_step, switch):
    plan = netchange_plan_step("ntp_server", {"servers": ["10.0.0.2"], "prefer": "10.0.0.2"}, [switch])
    assert_diff(plan, "+ntp server 10.0.0.2 prefer")
    assert_category(plan, "minor")
    assert_reasons(plan, "ios.ntp", exactly=True)


def test_a_new_source_interface_is_medium_by_this_package_s_rule(netchange_plan_step, switch):
    plan = netchange_plan_step("ntp_server", {"source": "Loopback0"}, [switch])
    assert_diff(plan, "+ntp source Loopback0")
    assert_category(plan, "medium")
    assert_reasons(plan, "ntp_server.source_interface")
    assert_pre_checks(plan, passed=["interface Loopback0 exists"])


def test_removing_a_server_and_the_checks_that_guard_it(netchange_plan_step, switch):
    plan = netchange_plan_step("ntp_server", {"remove": ["10.0.0.1"], "servers": ["10.0.0.3"]}, [switch])
    assert_diff(plan, "-ntp server 10.0.0.1\n+ntp server 10.0.0.3")
    last = netchange_plan_step("ntp_server", {"remove": ["10.0.0.1"]}, [switch])
    assert_pre_checks(last, passed=["ntp server 10.0.0.1 is configured"], failed=["at least one NTP server remains"])
    absent = netchange_plan_step("ntp_server", {"remove": ["10.9.9.9"], "source": "Vlan99"}, [switch])
    assert_pre_checks(absent, failed=["ntp server 10.9.9.9 is configured", "interface Vlan99 exists"])


def test_a_server_already_there_changes_nothing(netchange_plan_step, switch):
    assert_diff(netchange_plan_step("ntp_server", {"servers": ["10.0.0.1"]}, [switch]), "")


@pytest.mark.parametrize("params", [
    {}, {"servers": ["10.0.0.2"], "prefer": "10.0.0.3"}, {"servers": ["10.0.0.1\nreload"]},
    {"servers": ["10.0.0.2"], "remove": ["10.0.0.2"]}, {"servers": [f"10.0.0.{n}" for n in range(1, 6)]},
])
def test_bad_params_are_refused_before_anything_renders(netchange_plan_step, switch, params):
    with pytest.raises(BadRequest, match="params"):
        netchange_plan_step("ntp_server", params, [switch])


def test_the_post_check_reads_the_configuration_after_the_commit(netchange_device):
    text = (HERE / "configs" / "sw-doif-acc1.cfg").read_text()
    after = netchange_device("sw1", text.replace("ntp server 10.0.0.1\n", "ntp server 10.0.0.1\nntp server 10.0.0.2\n"))
    assert [c.passed for c in post_checks("ntp_server", {"servers": ["10.0.0.2"]}, after)] == [True]
    before = netchange_device("sw1", text)
    assert [c.passed for c in post_checks("ntp_server", {"servers": ["10.0.0.2"]}, before)] == [False]


def test_the_change_request_of_this_repository(netchange_plan, netchange_device):
    backup = Path(__file__).parents[1] / "backups" / "doif-sw-acc-01"
    # The host as the inventory has it: NAPALM's ios platform, diffed with the CLI profile of its syntax.
    plan = netchange_plan(Path(__file__).parents[1] / "changes" / "ntp-doif.yaml",
                          [netchange_device("doif-sw-acc-01", path=backup, platform="ios", site="doif")])
    assert_diff(plan, "+ntp server 10.0.0.2")
    assert_category(plan, "minor")
