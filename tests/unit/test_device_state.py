"""Device state, not text (issue 22 item 1: finding 1 and the ASA half of finding 5).

Finding 1: ``access_port`` on a VTP server failed its pre-check "vlan 103 exists" although the
switch uses VLAN 103 on other ports: a VTP server or client keeps its normal-range VLANs in
vlan.dat, not in the running configuration. The Catalyst 6500 of the corpus
(``ios/ciscoconfparse_sample_04.ios``, ``SOURCES.yaml``) is such a switch: six ports in VLAN 103,
no ``vlan`` line. Now the check reads ``show vlan brief`` live (parsed with ntc-templates, as
``vlan`` does) and an offline plan reports it "not run offline", never passed or failed.

Finding 5, ASA half: an address a network object-group already matches through a nested
``group-object``, a network object (host, subnet, range) or a subnet of its own passed "not yet in
group" and was added a second time. Now the group is expanded from the running configuration
(which on an ASA holds every definition: an offline plan decides too) and such an address is a
failed pre-check naming the entry that covers it. Planned on ``asa/ciscoconfparse_sample_01.asa``
(ASA 9.0(3): objects, subnets), ``asa/flatasaacl_sample_config.asa`` (nested groups, a range, an
fqdn) and ``asa/batfish_asa_nested_network_object_group.asa`` (a reference to an undefined group).

The recorded ``show vlan brief`` below is what the switch prints for the VLANs its ports use
(IOS's layout; no public capture of that switch exists): the device state the check must read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.models import CheckResult
from netchange.testing import StoredDevice, assert_diff, assert_pre_checks, host_plan, plan_step, post_checks
from tests.conftest import REPO, CliResult

Cli = Callable[..., CliResult]

pytest_plugins = ["tests.unit.test_offline_plan"]  # no_network: every connection attempt fails the test

CORPUS = REPO / "tests" / "corpus"
C6500 = CORPUS / "ios" / "ciscoconfparse_sample_04.ios"  # hostname Foo, VTP server: no vlan line
ASA_OBJECTS = CORPUS / "asa" / "ciscoconfparse_sample_01.asa"
ASA_NESTED = CORPUS / "asa" / "flatasaacl_sample_config.asa"
ASA_UNDEFINED = CORPUS / "asa" / "batfish_asa_nested_network_object_group.asa"

SHOW_VLAN_BRIEF = """
VLAN Name                             Status    Ports
---- -------------------------------- --------- -------------------------------
1    default                          active    Gi1/1, Gi2/1, Gi4/16
100  VLAN0100                         active    Gi3/1, Gi3/2, Gi3/3, Gi3/4, Gi4/1
                                                Gi4/2, Gi4/12
101  VLAN0101                         active    Gi3/5, Gi3/6, Gi3/7, Gi3/8, Gi4/3
                                                Gi4/5, Gi4/7, Gi4/15
102  VLAN0102                         active    Gi3/9, Gi3/10, Gi3/11, Gi3/12
                                                Gi4/4, Gi4/9, Gi4/11, Gi4/14
103  VLAN0103                         active    Gi3/13, Gi3/14, Gi3/15, Gi3/16
                                                Gi4/10, Gi4/13
104  VLAN0104                         suspended
105  VLAN0105                         active    Gi4/6, Gi4/8
1002 fddi-default                     act/unsup
1003 token-ring-default               act/unsup
1004 fddinet-default                  act/unsup
1005 trnet-default                    act/unsup
"""
SPARE_PORT = {"interfaces": ["GigabitEthernet4/16"], "description": "printer 4-16", "enabled": True}


def catalyst(show_vlan_brief: str = SHOW_VLAN_BRIEF, config: str | None = None) -> StoredDevice:
    text = config if config is not None else C6500.read_text(encoding="utf-8")
    return StoredDevice("Foo", text, platform="ios_cli", show={"show vlan brief": show_vlan_brief})


def check_named(plan: Any, name: str) -> CheckResult:
    found = {c.name: c for c in host_plan(plan).pre_checks}
    assert name in found, list(found)
    return found[name]


# -- finding 1: the VLANs of a VTP server ---------------------------------------------------------------


def test_a_vlan_the_vtp_server_uses_on_other_ports_exists_per_show_vlan_brief() -> None:
    lines = C6500.read_text().splitlines()
    assert "vlan 103" not in lines and lines.count(" switchport access vlan 103") == 6
    plan = plan_step("access_port", {**SPARE_PORT, "access_vlan": 103}, [catalyst()])
    assert_pre_checks(plan, passed=["GigabitEthernet4/16 exists", "vlan 103 exists"])
    assert check_named(plan, "vlan 103 exists").detail == "per show vlan brief: VLAN0103 active"
    assert_diff(plan, " interface GigabitEthernet4/16\n- shutdown\n+ description printer 4-16\n"
                      "+ switchport mode access\n+ switchport access vlan 103")


def test_the_check_asks_the_device_once_and_reads_its_answer() -> None:
    from netchange.changetype import Context, get_change_type
    from netchange.vocabulary import Role

    driver = catalyst().driver()
    driver.open()
    kind = get_change_type("access_port")
    ctx = Context(host="Foo", platform="ios_cli", syntax="ios", role=Role.SWITCH, site="lab", data={},
                  params=kind.validate({**SPARE_PORT, "access_vlan": 103}), driver=driver,
                  running=driver.get_config(retrieve="running")["running"])
    checks = {c.name: c for c in kind.pre_checks(ctx)}
    assert checks["vlan 103 exists"].passed
    assert driver.session.commands.count("show vlan brief") == 1


@pytest.mark.parametrize(("vid", "detail"), [
    (106, "VLAN 106 is not in show vlan brief"),
    (104, "VLAN 104 is suspended (show vlan brief)"),
])
def test_a_vlan_missing_or_not_active_on_the_vtp_server_fails_from_show_vlan_brief(vid: int, detail: str) -> None:
    plan = plan_step("access_port", {**SPARE_PORT, "access_vlan": vid}, [catalyst()])
    assert_pre_checks(plan, failed=[f"vlan {vid} exists"])
    assert check_named(plan, f"vlan {vid} exists").detail.startswith(detail)


def test_vlan_1_always_exists() -> None:
    plan = plan_step("access_port", {**SPARE_PORT, "access_vlan": 1}, [catalyst(show_vlan_brief="")])
    assert_pre_checks(plan, passed=["vlan 1 exists"])


def test_a_config_that_says_vtp_server_is_not_read_as_the_vlan_database() -> None:
    # The same switch with a vtp mode line and a stale vlan 106 section in the text: the text says
    # neither which VLANs exist nor which do not; show vlan brief does.
    text = C6500.read_text().replace("ip subnet-zero\n", "ip subnet-zero\nvtp mode server\nvlan 106\n!\n")
    plan = plan_step("access_port", {**SPARE_PORT, "access_vlan": 106}, [catalyst(config=text)])
    assert_pre_checks(plan, failed=["vlan 106 exists"])
    assert "show vlan brief" in check_named(plan, "vlan 106 exists").detail


def test_a_vtp_transparent_switch_is_read_from_its_running_config() -> None:
    # VLAN sections in the text (transparent/off): the configuration is the database, no round trip.
    text = C6500.read_text().replace("ip subnet-zero\n", "ip subnet-zero\nvlan 103\n name PRINTERS\n!\n")
    plan = plan_step("access_port", {**SPARE_PORT, "access_vlan": 103},
                     [catalyst(show_vlan_brief="", config=text)])  # show vlan brief would say nothing
    assert_pre_checks(plan, passed=["vlan 103 exists"])
    assert check_named(plan, "vlan 103 exists").detail == "per running config"


@pytest.fixture
def offline_layout(workspace: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[object]) -> Path:
    """An inventory of the corpus devices under their own hostnames, their backups in Oxidized's layout."""
    monkeypatch.chdir(REPO)
    inv = workspace / "inventory"
    inv.mkdir()
    hosts = {
        "Foo": {"hostname": "foo.mgmt.example.net", "platform": "ios_cli", "groups": ["doif"],
                "data": {"role": "switch", "site": "doif"}},
        "asa-nested-network-object-group": {
            "hostname": "asa-nested.mgmt.example.net", "platform": "asa_cli", "groups": ["doif"],
            "data": {"role": "firewall", "site": "doif"}},
    }
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text(yaml.safe_dump({"doif": {}}))
    (inv / "defaults.yaml").write_text("data: {}\n")
    (workspace / "nornir.yaml").write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(inv / "hosts.yaml"), "group_file": str(inv / "groups.yaml"),
            "defaults_file": str(inv / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}}, "logging": {"enabled": False}}))
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(workspace / "nornir.yaml"))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(workspace / "no-secrets.yaml"))
    (workspace / "oxidized" / "switches").mkdir(parents=True)
    (workspace / "oxidized" / "firewalls").mkdir(parents=True)
    (workspace / "oxidized" / "switches" / "Foo").write_text(C6500.read_text(encoding="utf-8"))
    (workspace / "oxidized" / "firewalls" / "asa-nested-network-object-group").write_text(
        ASA_UNDEFINED.read_text(encoding="utf-8"))
    return workspace


def change_file(root: Path, host: str, type_name: str, params: dict[str, Any]) -> Path:
    path = root / f"{type_name}.yaml"
    path.write_text(json.dumps({
        "id": "CHG-2026-2210", "title": "Port d'imprimante", "ticket": "INC-2210", "requester": "crenard",
        "estimated_duration": "PT15M", "steps": [{"type": type_name, "targets": {"hosts": [host]}, "params": params}]}))
    return path


def only_host(result: CliResult) -> dict[str, Any]:
    assert result.out.strip(), result.err
    hosts = json.loads(result.out)["hosts"]
    host: dict[str, Any] = next(iter(hosts.values())) if isinstance(hosts, dict) else hosts[0]
    return host


def test_offline_the_vlan_of_a_vtp_server_is_not_run_never_failed(
        offline_layout: Path, cli: Cli, no_network: list[object]) -> None:
    path = change_file(offline_layout, "Foo", "access_port", {**SPARE_PORT, "access_vlan": 103})
    result = cli("plan", str(path), "--offline", str(offline_layout / "oxidized"), "--json")
    assert result.code == 0, result.out + result.err  # was 1: "pre-check failed: vlan 103 exists"
    host = only_host(result)
    assert host["error"] is None
    checks = {c["name"]: c for c in host["pre_checks"]}
    assert checks["vlan 103 exists"]["passed"] is False
    assert checks["vlan 103 exists"]["not_run"] == "not run offline: needs the live device"
    assert "vlan.dat" in checks["vlan 103 exists"]["detail"]
    assert checks["GigabitEthernet4/16 exists"]["passed"] is True
    assert "+ switchport access vlan 103" in host["diff"]
    assert no_network == []


# -- finding 5, ASA: what the group matches, not its lines ---------------------------------------------


def firewall(path: Path, name: str = "fw1") -> StoredDevice:
    return StoredDevice.from_file(path, name=name, platform="asa_cli", role="firewall")


def test_an_address_a_group_matches_through_a_network_object_is_not_added_again() -> None:
    plan = plan_step("fw_object_group", {"group": "GoogleTalk", "add": ["74.125.130.125/32", "74.125.130.200/32"]},
                     [firewall(ASA_OBJECTS)])
    assert_pre_checks(plan, failed=["74.125.130.125/32 not yet in GoogleTalk"],
                      passed=["group GoogleTalk exists", "74.125.130.200/32 not yet in GoogleTalk"])
    assert check_named(plan, "74.125.130.125/32 not yet in GoogleTalk").detail == (
        "already in GoogleTalk through network-object object GTalk01 > host 74.125.130.125")


def test_an_address_inside_a_subnet_of_the_group_or_covered_by_two_is_already_in_it() -> None:
    plan = plan_step("fw_object_group", {"group": "Inside", "add": ["192.0.2.77/32", "192.0.22.0/23"]},
                     [firewall(ASA_OBJECTS)])
    assert_pre_checks(plan, failed=["192.0.2.77/32 not yet in Inside", "192.0.22.0/23 not yet in Inside"])
    assert check_named(plan, "192.0.2.77/32 not yet in Inside").detail == (
        "already in Inside through network-object 192.0.2.0 255.255.255.0")
    assert check_named(plan, "192.0.22.0/23 not yet in Inside").detail == (
        "already in Inside through network-object 192.0.22.0 255.255.255.0; network-object 192.0.23.0 255.255.255.0")


def test_nested_groups_objects_and_ranges_are_expanded() -> None:
    fw = firewall(ASA_NESTED)
    ranged = plan_step("fw_object_group", {"group": "NETGRP22", "add": ["10.1.0.50/32"]}, [fw])
    assert_pre_checks(ranged, failed=["10.1.0.50/32 not yet in NETGRP22"])
    assert check_named(ranged, "10.1.0.50/32 not yet in NETGRP22").detail == (
        "already in NETGRP22 through group-object NETGRP21 > network-object object NETOBJ21"
        " > range 10.1.0.1 10.1.0.100")
    nested = plan_step("fw_object_group", {"group": "NETGRP12", "add": ["192.168.1.1/32", "192.168.2.128/25"]}, [fw])
    assert_pre_checks(nested, failed=["192.168.1.1/32 not yet in NETGRP12", "192.168.2.128/25 not yet in NETGRP12"])
    assert check_named(nested, "192.168.1.1/32 not yet in NETGRP12").detail.endswith(
        "group-object NETGRP11 > network-object object NETOBJ11 > host 192.168.1.1")


def test_an_address_only_partly_matched_is_added_and_what_the_text_cannot_expand_is_said() -> None:
    # 10.1.0.0/26 overlaps the range 10.1.0.1-10.1.0.100 but 10.1.0.0 is outside it; the group also
    # holds an fqdn object, which the firewall resolves at run time: said, not guessed.
    plan = plan_step("fw_object_group", {"group": "NETGRP22", "add": ["10.1.0.0/26"]}, [firewall(ASA_NESTED)])
    assert_pre_checks(plan, passed=["group NETGRP22 exists", "10.1.0.0/26 not yet in NETGRP22"])
    assert "fqdn www.example.com" in check_named(plan, "10.1.0.0/26 not yet in NETGRP22").detail
    assert "+ network-object 10.1.0.0 255.255.255.192" in host_plan(plan).diff.splitlines()


def test_removing_an_address_the_group_matches_only_through_a_nested_group_fails() -> None:
    plan = plan_step("fw_object_group", {"group": "NETGRP12", "remove": ["192.168.2.0/24"]}, [firewall(ASA_NESTED)])
    assert_pre_checks(plan, failed=["192.168.2.0/24 is in NETGRP12"])
    assert check_named(plan, "192.168.2.0/24 is in NETGRP12").detail == (
        "not a line of NETGRP12: matched through group-object NETGRP11 > network-object 192.168.2.0 255.255.255.0")
    own_line = plan_step("fw_object_group", {"group": "NETGRP11", "remove": ["192.168.2.0/24"]}, [firewall(ASA_NESTED)])
    assert_pre_checks(own_line, passed=["192.168.2.0/24 is in NETGRP11"])


def test_removing_a_line_the_group_still_matches_through_another_entry_fails() -> None:
    text = ASA_OBJECTS.read_text().replace(" network-object 192.0.23.0 255.255.255.0\n",
                                           " network-object 192.0.23.0 255.255.255.0\n network-object host 192.0.2.9\n")
    plan = plan_step("fw_object_group", {"group": "Inside", "remove": ["192.0.2.9/32"]},
                     [StoredDevice("fw1", text, platform="asa_cli", role="firewall")])
    assert_pre_checks(plan, failed=["192.0.2.9/32 is in Inside"])
    assert check_named(plan, "192.0.2.9/32 is in Inside").detail == (
        "Inside would still match it through network-object 192.0.2.0 255.255.255.0")


def test_after_a_removal_gone_means_no_longer_matched() -> None:
    # The configuration after "remove 192.168.2.5 from NETGRP12": no such line, but the group still
    # matches the address through group-object NETGRP11 (192.168.2.0/24): not gone.
    after = post_checks("fw_object_group", {"group": "NETGRP12", "remove": ["192.168.2.5/32"]}, firewall(ASA_NESTED))
    assert [(c.name, c.passed) for c in after] == [("192.168.2.5/32 gone from NETGRP12", False)]
    assert after[0].detail == "still matched through group-object NETGRP11 > network-object 192.168.2.0 255.255.255.0"


def test_a_reference_to_an_undefined_group_is_said() -> None:
    plan = plan_step("fw_object_group", {"group": "mixed_group", "add": ["10.2.3.4/32", "10.2.3.6/32"]},
                     [firewall(ASA_UNDEFINED)])
    assert_pre_checks(plan, failed=["10.2.3.4/32 not yet in mixed_group"],
                      passed=["10.2.3.6/32 not yet in mixed_group"])
    assert check_named(plan, "10.2.3.4/32 not yet in mixed_group").detail == (
        "already in mixed_group through group-object it > network-object host 10.2.3.4")
    assert "group-object UNDEFINED_GROUP_MIXED (no such network group" in check_named(
        plan, "10.2.3.6/32 not yet in mixed_group").detail


def test_offline_the_asa_decides_from_its_stored_configuration(
        offline_layout: Path, cli: Cli, no_network: list[object]) -> None:
    path = change_file(offline_layout, "asa-nested-network-object-group", "fw_object_group",
                       {"group": "mixed_group", "add": ["10.2.3.4/32"]})
    result = cli("plan", str(path), "--offline", str(offline_layout / "oxidized"), "--json")
    assert result.code == 1, result.out + result.err  # was 0: added a second time
    host = only_host(result)
    assert host["error"].startswith("pre-check failed: 10.2.3.4/32 not yet in mixed_group")
    checks = {c["name"]: c for c in host["pre_checks"]}
    assert not checks["10.2.3.4/32 not yet in mixed_group"].get("not_run")
    assert no_network == []
