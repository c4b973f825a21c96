"""References (issue 22, finding 6 and item 4): a plan checks the names its change leaves used.

Before: ``server name TAC1`` with no ``tacacs server TAC1`` was planned as a minor edit, a
route-map still named by ``neighbor … route-map`` could be removed, an ``ip access-group`` could
name a list that does not exist; and the rollback of an AAA change removed the server group
before the method list naming it (and the server before the group). Now the plan judges the
configuration the change leads to with Batfish's undefined-reference reading, per kind declared as
data (``netchange/platforms/references/<syntax>.yaml``), and fails the pre-check with the line;
the CLI driver types a remediation's blocks so that a name is defined before it is used and no
longer used before it is removed.

Planned on real configurations of the corpus (tests/corpus/SOURCES.yaml): a Catalyst-era IOS 12.2
with AAA server groups (ciscoconfparse sample 03), IOS 15.2 BGP border and department routers
(Batfish lab-validation as2border1, as2dept1), an IOS-XE CSR1000v with ACLs (lab-validation
iosxe_acl), an ASA 9.0 policy (ciscoconfparse), NX-OS and Catalyst access switches.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hier_config import WorkflowRemediation

from netchange.drivers.ios_cli import ASA, IOS, canonical_config, parse, sent_lines
from netchange.models import CheckResult
from netchange.plan import HostPlan
from netchange.plan._references import CHECK_NAME, read_paths
from netchange.platforms import ProfileError
from netchange.platforms.structures import Catalog, Path_, ReferenceKinds, catalog, dependency_order, read_kinds
from netchange.testing import StoredDevice, host_plan, plan_step
from tests.conftest import REPO, CliResult

CORPUS = Path(__file__).parents[1] / "corpus"


def device(file: str, *, platform: str = "ios_cli", role: str = "router") -> StoredDevice:
    return StoredDevice.from_file(CORPUS / file, name="r1", role=role, platform=platform)


def snippet(file: str, lines: list[str], *, platform: str = "ios_cli", syntax: str = "ios",
            role: str = "router") -> HostPlan:
    """The host plan of a ``config_snippet`` of ``lines`` on the corpus file ``file``."""
    plan = plan_step("config_snippet", {"syntax": syntax, "lines": lines},
                     [device(file, platform=platform, role=role)])
    return host_plan(plan)


def reference_check(host: HostPlan) -> CheckResult:
    (check,) = [c for c in host.pre_checks if c.name == CHECK_NAME]
    return check


def running_line(file: str, line: str, profile: Any = IOS) -> int:
    """The number the plan gives ``line`` of a corpus file: in the configuration as the plan reads
    it, without the ``show running-config`` header."""
    return canonical_config((CORPUS / file).read_text(), profile).splitlines().index(line) + 1


# -- the four findings of the issue, on real configurations -------------------------------------


def test_server_name_without_its_tacacs_server_fails_with_the_line() -> None:
    host = snippet("ios/ciscoconfparse_sample_03.ios", ["aaa group server tacacs+ tac_admin", " server name TAC1"])
    assert host.error == f"pre-check failed: {CHECK_NAME}"
    check = reference_check(host)
    assert check.failed
    assert check.detail == ("tacacs server TAC1 is used but not defined: candidate line 2 'server name TAC1' "
                            "in 'aaa group server tacacs+ tac_admin' (aaa server group server name)")
    assert not host.diff and host.category is None  # a failed pre-check: nothing planned


def test_server_name_with_its_tacacs_server_passes() -> None:
    host = snippet("ios/ciscoconfparse_sample_03.ios", [
        "tacacs server TAC1", " address ipv4 192.0.2.10",
        "aaa group server tacacs+ tac_admin", " server name TAC1"])
    assert host.ok, host.error
    assert reference_check(host).passed
    assert "+ server name TAC1" in host.diff


def test_removing_a_route_map_still_used_by_a_bgp_neighbor_fails_with_the_line() -> None:
    file = "ios/lv_as2border1.ios"
    host = snippet(file, ["no route-map as1_to_as2"])
    assert host.error == f"pre-check failed: {CHECK_NAME}"
    n = running_line(file, "  neighbor as1 route-map as1_to_as2 in")
    assert reference_check(host).detail == (
        f"route-map as1_to_as2 is removed by this change and still used: running line {n} "
        "'neighbor as1 route-map as1_to_as2 in' in 'router bgp 2' (bgp neighbor route-map)")


def test_removing_a_route_map_with_its_last_user_passes_and_rolls_back_in_order() -> None:
    host = snippet("ios/lv_as2border1.ios", ["router bgp 2", " address-family ipv4",
                                              "  no neighbor as1 route-map as1_to_as2 in",
                                              "no route-map as1_to_as2"])
    assert host.ok, host.error
    assert reference_check(host).passed
    assert host.rollback is not None
    rollback = host.rollback.lines.splitlines()
    # The route-map is back before the neighbor line names it again.
    assert rollback.index("route-map as1_to_as2 permit 100") < rollback.index("router bgp 2"), rollback


def test_an_access_group_naming_no_access_list_fails_with_the_line() -> None:
    host = snippet("ios/lv_iosxe_acl.ios", ["interface GigabitEthernet1", " ip access-group EDGE_IN in"])
    assert host.error == f"pre-check failed: {CHECK_NAME}"
    assert reference_check(host).detail == (
        "ipv4 acl EDGE_IN is used but not defined: candidate line 2 'ip access-group EDGE_IN in' "
        "in 'interface GigabitEthernet1' (interface ip access-group)")
    defined = snippet("ios/lv_iosxe_acl.ios", ["interface GigabitEthernet1",
                                               " ip access-group CONNECTIVITY_TEST_IN in"])
    assert defined.ok and reference_check(defined).passed


AAA = ["aaa authentication login default group TACGRP local",  # typed users first, on purpose
       "aaa group server tacacs+ TACGRP", " server name TAC1",
       "tacacs server TAC1", " address ipv4 192.0.2.10"]


def test_the_aaa_rollback_removes_the_method_list_then_the_group_then_the_server() -> None:
    host = snippet("ios/lv_as2dept1.ios", AAA)  # IOS 15.2, aaa new-model
    assert host.ok, host.error
    assert reference_check(host).passed
    assert host.rollback is not None
    removals = [line for line in host.rollback.lines.splitlines() if line.startswith("no ")]
    assert removals == ["no aaa authentication login default group TACGRP local",
                        "no aaa group server tacacs+ TACGRP",
                        "no tacacs server TAC1"]


def test_the_aaa_commit_defines_the_server_then_the_group_then_the_method_list() -> None:
    running = parse(canonical_config((CORPUS / "ios/lv_as2dept1.ios").read_text(), IOS), IOS)
    future = running.future(parse("\n".join(AAA) + "\n", IOS))
    sent = [line for line in sent_lines(WorkflowRemediation(running, future).remediation_config, future, IOS, " ")
            if line != "exit" and not line.startswith(" ")]
    assert sent == ["tacacs server TAC1", "aaa group server tacacs+ TACGRP",
                    "aaa authentication login default group TACGRP local"]


def test_an_acl_swapped_on_an_interface_is_removed_after_the_interface_stops_using_it() -> None:
    """``ip access-group NEW in`` replaces ``ip access-group OLD in`` (an idempotent command: the
    remediation shows no ``no`` line for OLD), so nothing said the interface stopped using OLD and
    ``no ip access-list extended OLD`` was typed first, while the interface still filtered with it.
    The rollback had the same fault the other way round (NEW removed before the interface went
    back to OLD)."""
    running = parse("ip access-list extended OLD\n permit ip any any\ninterface Vlan20\n"
                    " ip address 10.0.0.1 255.255.255.0\n ip access-group OLD in\n", IOS)
    change = parse("ip access-list extended NEW\n permit tcp any any eq 22\ninterface Vlan20\n"
                   " ip access-group NEW in\nno ip access-list extended OLD\n", IOS)
    future = running.future(change)
    flow = WorkflowRemediation(running, future)
    tops = [line for line in sent_lines(flow.remediation_config, future, IOS, " ") if not line.startswith(" ")]
    assert tops == ["ip access-list extended NEW", "interface Vlan20", "no ip access-list extended OLD"]
    back = [line for line in sent_lines(flow.rollback_config, running, IOS, " ") if not line.startswith(" ")]
    assert back == ["ip access-list extended OLD", "interface Vlan20", "no ip access-list extended NEW"]


# -- what the change did not do is a note -------------------------------------------------------


def test_a_dangling_reference_the_device_already_had_is_a_note_not_a_failure() -> None:
    """ciscoconfparse's IOS 12.4 sample names access lists MATCH_ANY and NOT_INTERNAL and defines
    neither: unrelated to a syslog server, the plan goes on and says so."""
    file = "ios/ciscoconfparse_sample_01.ios"
    host = snippet(file, ["logging host 192.0.2.50"])
    assert host.ok, host.error
    check = reference_check(host)
    assert check.passed
    assert check.detail.startswith("already undefined before this change, not caused by it (a note, not a failure)")
    n = running_line(file, " match ip address MATCH_ANY")
    assert f"ipv4 acl MATCH_ANY used by running line {n} 'match ip address MATCH_ANY'" in check.detail
    assert "NOT_INTERNAL" in check.detail


def test_a_new_dangling_reference_fails_even_beside_old_ones() -> None:
    host = snippet("ios/ciscoconfparse_sample_01.ios", ["line vty 0 4", " access-class VTY_IN in"])
    check = reference_check(host)
    assert check.failed
    assert check.detail.startswith("ipv4 acl VTY_IN is used but not defined: candidate line 2")
    assert "Note: already undefined before this change" in check.detail and "MATCH_ANY" in check.detail


def test_an_access_list_left_unused_is_a_note() -> None:
    host = snippet("ios/lv_as2border1.ios",
                   ["interface GigabitEthernet0/0", " no ip access-group OUTSIDE_TO_INSIDE in"])
    check = reference_check(host)
    assert check.passed
    assert check.detail == "left defined and no longer used by this change: ipv4 acl OUTSIDE_TO_INSIDE"


def test_an_access_list_the_change_defines_and_applies_nowhere_is_a_note() -> None:
    host = snippet("ios/lv_iosxe_acl.ios", ["ip access-list extended EDGE_IN", " permit tcp any any eq 443"])
    check = reference_check(host)
    assert check.passed
    assert check.detail == "defined by this change and used nowhere yet: ipv4 acl EDGE_IN"
    applied = snippet("ios/lv_iosxe_acl.ios", ["ip access-list extended EDGE_IN", " permit tcp any any eq 443",
                                               "interface GigabitEthernet1", " ip access-group EDGE_IN in"])
    assert reference_check(applied).passed and reference_check(applied).detail == ""


# -- ASA ----------------------------------------------------------------------------------------


def test_asa_removing_an_object_group_still_used_by_an_access_list_fails() -> None:
    host = snippet("asa/ciscoconfparse_sample_01.asa", ["no object-group network INSIDE_addrs"],
                   platform="asa_cli", syntax="asa", role="firewall")
    assert host.error == f"pre-check failed: {CHECK_NAME}"
    detail = reference_check(host).detail
    assert detail.startswith("object-group INSIDE_addrs is removed by this change and still used: running line")
    assert ("'access-list INSIDE_in extended deny object-group SKYPE_svc object-group INSIDE_addrs "
            "object-group ANY_addrs log disable' (extended access-list object-group)") in detail


def test_asa_access_group_naming_no_access_list_fails_and_old_dangling_object_group_is_a_note() -> None:
    host = snippet("asa/ciscoconfparse_sample_01.asa", ["access-group MISSING_in in interface OUTSIDE"],
                   platform="asa_cli", syntax="asa", role="firewall")
    detail = reference_check(host).detail
    assert detail.startswith("access-list MISSING_in is used but not defined: candidate line 1 "
                             "'access-group MISSING_in in interface OUTSIDE' (access-group)")
    # The sample's access list names an object-group TSUNAMI_addrs it never defines: an old slip.
    assert "Note: already undefined before this change" in detail and "TSUNAMI_addrs" in detail


# -- VLANs: judged where the configuration holds them ---------------------------------------------


def test_vlan_of_a_vtp_server_switch_is_not_judged_and_says_why() -> None:
    """A Catalyst 6500 (IOS 12.1) with no `vlan` line: its VLANs are in vlan.dat."""
    host = snippet("ios/ciscoconfparse_sample_04.ios", ["interface FastEthernet3/1", " switchport access vlan 999"],
                   role="switch")
    check = reference_check(host)
    assert check.passed
    assert check.detail.startswith("vlan 999 not checked: VTP server or client: the VLANs are in vlan.dat")


def test_a_vlan_added_on_a_vtp_server_does_not_make_its_other_vlans_judged() -> None:
    """The change's own `vlan 300` is no evidence that the switch's VLANs are in its configuration:
    the ports in VLANs 100-102 are not reported undefined."""
    plan = plan_step("vlan", {"vlan_id": 300, "name": "cameras"},
                     [device("ios/ciscoconfparse_sample_04.ios", role="switch")])
    check = reference_check(host_plan(plan))
    assert check.passed, check.detail
    assert "vlan 10" not in check.detail


def test_vlan_undefined_on_a_switch_whose_configuration_holds_its_vlans_fails() -> None:
    """NX-OS in VTP transparent mode lists its VLANs: a port put into one it lacks fails."""
    host = snippet("nxos/ciscoconfparse_sample_01.nxos", ["interface Ethernet1/1", " switchport access vlan 999"],
                   platform="nxos_ssh", role="switch")
    check = reference_check(host)
    assert check.failed
    assert check.detail.startswith("vlan 999 is used but not defined: candidate line 2 'switchport access vlan 999'")
    defined = snippet("nxos/ciscoconfparse_sample_01.nxos", ["interface Ethernet1/1", " switchport access vlan 400"],
                      platform="nxos_ssh", role="switch")
    assert reference_check(defined).passed


# -- the kinds read every real configuration of the corpus without a false finding ---------------

# The dangling references the corpus's configurations really have (each checked by hand: the name
# is defined nowhere in the file). Any other finding on a corpus file is a pattern's mistake.
REAL_DANGLING = {
    "ios/ciscoconfparse_sample_01.ios": {("ipv4 acl", "NOT_INTERNAL"), ("ipv4 acl", "MATCH_ANY")},
    "ios/ciscoconfparse_sample_08.ios": {("ipv4 acl", "NOT_INTERNAL"), ("ipv4 acl", "MATCH_ANY")},
    "nxos/ciscoconfparse_sample_01.nxos": {("ipv4 acl", "permit-any"), ("vlan", "2002")},
    "asa/ciscoconfparse_sample_01.asa": {("object-group", "TSUNAMI_addrs")},
    "asa/ansible_asa_ogs.asa": {("object", "TEST1"), ("object", "TEST2")},  # a fragment
    # Batfish's own test of undefined references in nested object-groups.
    "asa/batfish_asa_nested_network_object_group.asa": {("object-group", "UNDEFINED_GROUP"),
                                                       ("object-group", "UNDEFINED_GROUP_MIXED")},
}
SYNTAX = {"ios": ("ios", IOS), "nxos": ("ios", IOS), "eos": ("ios", IOS), "asa": ("asa", ASA)}


@pytest.mark.parametrize("path", sorted(p for d in SYNTAX for p in (CORPUS / d).iterdir()), ids=lambda p: p.name)
def test_the_kinds_find_only_the_real_dangling_references_of_the_corpus(path: Path) -> None:
    syntax, profile = SYNTAX[path.parent.name]
    kinds = catalog(syntax)
    assert kinds is not None
    text = canonical_config(path.read_text(), profile)
    found = kinds.scan(p for p, _ in read_paths(text, banners=syntax == "ios"))
    assert {(r.kind, r.name) for r in found.undefined()} == REAL_DANGLING.get(f"{path.parent.name}/{path.name}", set())


def test_the_references_of_a_real_aaa_configuration_all_resolve() -> None:
    """ciscoconfparse sample 03: eleven server groups, seven method lists naming them."""
    text = canonical_config((CORPUS / "ios/ciscoconfparse_sample_03.ios").read_text(), IOS)
    found = catalog("ios").scan(p for p, _ in read_paths(text))  # type: ignore[union-attr]
    groups = {r.name for r in found.references if r.kind == "aaa server group"}
    assert groups == {"tac_admin", "rad_admin", "rad_eap", "WLSE", "rad_eap1", "rad_eap2", "Clients", "rad_pmip",
                      "rad_acct"}
    assert found.undefined() == []


# -- the data and the order, alone ---------------------------------------------------------------


def test_a_kinds_file_with_an_unknown_key_or_a_bad_expression_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ios.yaml"
    bad.write_text("syntax: ios\nkinds:\n  - kind: x\n    define: [{match: 'a (?P<name>\\S+)'}]\n"
                   "    use: [{usage: u, match: 'b (?P<name>\\S+)', whithin: 'c'}]\n")
    with pytest.raises(ProfileError, match=r"ios.yaml: kinds.0.use.0.whithin"):
        read_kinds(bad)
    bad.write_text("syntax: ios\nkinds:\n  - kind: x\n    define: [{match: 'a (?P<name>'}]\n"
                   "    use: [{usage: u, match: 'b'}]\n")
    with pytest.raises(ProfileError, match=r"kinds.0.define.0.match"):
        read_kinds(bad)
    other = tmp_path / "asa.yaml"
    other.write_text(bad.read_text().replace("(?P<name>'", "(?P<name>x)'"))
    with pytest.raises(ProfileError, match="differs from the file name"):
        read_kinds(other)


def test_every_packaged_kinds_file_loads() -> None:
    for syntax in ("ios", "asa"):
        kinds = catalog(syntax)
        assert kinds is not None and kinds.data.syntax == syntax
    assert catalog("frr") is None  # no named structures declared: no check, no reordering


def tiny() -> Catalog:
    return Catalog(ReferenceKinds.model_validate({"syntax": "t", "kinds": [
        {"kind": "list", "define": [{"match": r"list (?P<name>\S+)"}],
         "use": [{"usage": "port", "within": r"port .*", "match": r"filter (?P<name>\S+)"},
                 {"usage": "group", "within": r"group .*", "match": r"member (?P<name>\S+)"}]},
        {"kind": "group", "define": [{"match": r"group (?P<name>\S+)"}],
         "use": [{"usage": "policy", "match": r"policy .*", "each": r"(?<!\S)via (?P<name>\S+)"}]},
    ]}))


def test_dependency_order_pulls_forward_what_a_block_needs_and_keeps_the_rest() -> None:
    kinds = tiny()
    blocks: list[list[Path_]] = [[("policy p via G",)], [("port 1",), ("port 1", "filter L")], [("unrelated",)],
              [("group G",), ("group G", "member L")], [("list L",)]]
    assert dependency_order(blocks, kinds) == [4, 3, 0, 1, 2]
    removals: list[list[Path_]] = [[("no list L",)], [("no group G",)], [("port 1",), ("port 1", "no filter L")],
                [("no policy p via G",)]]
    # The group and the port stop using L before L goes; the policy stops using G before G goes.
    assert dependency_order(removals, kinds) == [3, 1, 2, 0]


def test_dependency_order_keeps_a_cycle_in_the_given_order() -> None:
    kinds = Catalog(ReferenceKinds.model_validate({"syntax": "t", "kinds": [
        {"kind": "a", "define": [{"match": r"a (?P<name>\S+)(?: .*)?"}],
         "use": [{"usage": "u", "match": r"\S+ \S+ uses-a (?P<name>\S+)"}]},
        {"kind": "b", "define": [{"match": r"b (?P<name>\S+)(?: .*)?"}],
         "use": [{"usage": "u", "match": r"\S+ \S+ uses-b (?P<name>\S+)"}]},
    ]}))
    assert dependency_order([[("a X uses-b Y",)], [("b Y uses-a X",)]], kinds) in ([0, 1], [1, 0])


# -- offline, through the command ---------------------------------------------------------------


@pytest.fixture
def offline(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The repository's own inventory, no device reachable: any connection attempt is refused."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(address)
        raise OSError(f"test: no connection allowed offline ({address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(REPO / "nornir.yaml"))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(workspace / "no-secrets.yaml"))
    return attempts


def offline_plan(cli: Callable[..., CliResult], tmp_path: Path, host: str, file: str, old_name: str,
                 syntax: str, lines: list[str]) -> tuple[CliResult, dict[str, Any]]:
    """``plan --offline`` of a snippet on ``host``, its backup being the corpus file ``file`` (its
    hostname line set to the inventory's name)."""
    backups = tmp_path / "backups"
    backups.mkdir()
    text = (CORPUS / file).read_text().replace(f"hostname {old_name}\n", f"hostname {host}\n")
    (backups / host).write_text(text)
    request = tmp_path / "c.json"
    request.write_text(json.dumps({
        "id": "CHG-2026-2204", "title": "References", "ticket": "INC-4", "requester": "amoreau",
        "estimated_duration": "PT15M",
        "steps": [{"type": "config_snippet", "targets": {"hosts": [host]},
                   "params": {"syntax": syntax, "lines": lines}}]}))
    result = cli("plan", str(request), "--offline", str(backups), "--json")
    hosts = json.loads(result.out)["hosts"]
    return result, hosts[host] if isinstance(hosts, dict) else hosts[0]


def test_offline_plan_fails_a_removed_route_map_still_in_use(
        cli: Callable[..., CliResult], tmp_path: Path, offline: list[object]) -> None:
    result, host = offline_plan(cli, tmp_path, "doif-sw-core-01", "ios/lv_as2border1.ios", "as2border1", "ios",
                                ["no route-map as1_to_as2"])
    assert result.code == 1, result.err
    assert host["error"] == f"pre-check failed: {CHECK_NAME}"
    (check,) = [c for c in host["pre_checks"] if c["name"] == CHECK_NAME]
    assert "route-map as1_to_as2 is removed by this change and still used" in check["detail"]
    assert "'neighbor as1 route-map as1_to_as2 in' in 'router bgp 2'" in check["detail"]
    assert offline == []


def test_offline_plan_of_an_asa_notes_the_old_dangling_object_group(
        cli: Callable[..., CliResult], tmp_path: Path, offline: list[object]) -> None:
    result, host = offline_plan(cli, tmp_path, "doif-fw-01", "asa/ciscoconfparse_sample_01.asa", "fw", "asa",
                                ["logging host INSIDE 192.0.2.50"])
    assert result.code == 0, result.err
    (check,) = [c for c in host["pre_checks"] if c["name"] == CHECK_NAME]
    assert check["passed"] is True
    assert "TSUNAMI_addrs" in check["detail"] and "not caused by it" in check["detail"]
    assert offline == []

