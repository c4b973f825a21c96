"""The classifier's engine: change-wide verdicts, safety, rule-file errors and the command line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from netchange.classifiers import Classification, classify_change, classify_diff, load_ruleset
from netchange.classifiers.loader import RULES_DIR
from netchange.drivers.diffformat import parse_diff
from netchange.errors import BadRequest
from netchange.models import ChangeRequest
from netchange.vocabulary import Category, Role


def _readdress(count: int, first: int = 0) -> str:
    lines = []
    for i in range(first, first + count):
        lines += [
            f" interface Vlan{100 + i}",
            # Within the same subnet: an address moved to another subnet is major on its own
            # (ios.subnet_moved, issue 13); these tests are about the count.
            f"- ip address 10.{i}.0.1 255.255.255.0",
            f"+ ip address 10.{i}.0.2 255.255.255.0",
        ]
    return "\n".join(lines) + "\n"


def _request(**extra: object) -> ChangeRequest:
    base: dict[str, object] = {
        "id": "CHG-2026-0042",
        "title": "Test change",
        "ticket": "T-1",
        "requester": "alice",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}}],
    }
    return ChangeRequest.model_validate({**base, **extra})


def _host(
    host: str, diff: str, platform: str = "ios", role: Role = Role.SWITCH
) -> tuple[str, str, Role, str, Classification]:
    return host, platform, role, diff, classify_diff(diff, platform=platform, role=role)


# --- Parsing -----------------------------------------------------------------------------------


def test_parent_is_nearest_less_indented_line() -> None:
    parsed = parse_diff(" interface Gi1/0/3\n!\n\n+ switchport access vlan 20\n+ no shutdown\n")
    changed = parsed.changed
    assert [line.body for line in changed] == ["switchport access vlan 20", "no shutdown"]
    assert changed[0].ancestors == ((" ", "interface Gi1/0/3"),)


def test_malformed_line_is_unclassified_never_dropped() -> None:
    verdict = classify_diff("*interface Gi1/0/3\n", platform="ios", role=Role.SWITCH)
    assert verdict.category is Category.MAJOR
    assert verdict.unclassified == ("*interface Gi1/0/3",)


def test_empty_diff_is_minor_without_reasons() -> None:
    verdict = classify_diff("", platform="ios", role=Role.SWITCH)
    assert verdict == Classification(category=Category.MINOR)


def test_unknown_platform_is_bad_request() -> None:
    with pytest.raises(BadRequest, match="unknown platform 'junos'"):
        classify_diff("+vlan 10\n", platform="junos", role=Role.SWITCH)


def test_negation_reads_as_removal() -> None:
    verdict = classify_diff("+no ip route 10.9.0.0 255.255.0.0 10.0.0.1\n", platform="ios_cli", role=Role.SWITCH)
    assert verdict.category is Category.MEDIUM
    assert {r.rule for r in verdict.reasons} == {"ios.static_route_remove"}


def test_unclassified_reason_names_the_general_definition() -> None:
    verdict = classify_diff("+ip sla 10\n", platform="ios", role=Role.SWITCH)
    (reason,) = verdict.reasons
    assert reason.rule == "unclassified"
    assert reason.paq_item == "general definition: unknown impact is treated as major"
    assert verdict.unclassified == ("+ip sla 10",)


def test_highest_category_among_matching_rules_wins_and_all_are_reported() -> None:
    verdict = classify_diff(
        " interface Vlan10\n+ ip address 10.9.0.1 255.255.255.0 secondary\n", platform="ios", role=Role.SWITCH
    )
    assert verdict.category is Category.MAJOR
    assert {"ios.secondary_subnet", "ios.interface_address"} <= {r.rule for r in verdict.reasons}


def test_reasons_are_deterministic() -> None:
    diff = _readdress(3) + "+vlan 30\n+logging host 192.0.2.1\n"
    first = classify_diff(diff, platform="ios", role=Role.SWITCH)
    assert first == classify_diff(diff, platform="ios", role=Role.SWITCH)
    ranks = [r.category.rank for r in first.reasons]
    assert ranks == sorted(ranks, reverse=True)


# --- Contradictions ------------------------------------------------------------------------------


def test_acl_is_minor_on_switch_medium_when_applied_major_on_firewall() -> None:
    entry = " ip access-list extended USERS-IN\n+ 15 permit tcp any host 10.0.0.5 eq 443\n"
    assert classify_diff(entry, platform="ios", role=Role.SWITCH).category is Category.MINOR
    bind = " interface Vlan10\n+ ip access-group USERS-IN in\n"
    assert classify_diff(bind, platform="ios", role=Role.SWITCH).category is Category.MEDIUM
    fw = "+access-group USERS-IN in interface inside\n"
    assert classify_diff(fw, platform="asa", role=Role.FIREWALL).category is Category.MAJOR


def test_known_flow_minor_but_new_chain_major_on_nftables() -> None:
    rule = "+\t\tip saddr 10.0.1.5 ip daddr 10.0.2.10 tcp dport 22 accept\n"
    existing = " table inet filter {\n \tchain forward {\n" + rule
    assert classify_diff(existing, platform="nftables", role=Role.FIREWALL).category is Category.MINOR
    new = " table inet filter {\n+\tchain ssh_in {\n" + rule + "+\t}\n"
    assert classify_diff(new, platform="nftables", role=Role.FIREWALL).category is Category.MAJOR


def test_single_server_removal_without_context_is_judged_as_emptying() -> None:
    diff = " backend be_web\n-    server web2 127.0.0.1:8002 weight 1 state ready\n"
    verdict = classify_diff(diff, platform="haproxy", role=Role.LOAD_BALANCER)
    assert verdict.category is Category.MAJOR
    assert "haproxy.backend_emptied" in {r.rule for r in verdict.reasons}


# --- Change-wide: escalation, hardware, request --------------------------------------------------


def test_ten_addresses_are_medium_eleven_major_in_one_diff() -> None:
    ten = classify_diff(_readdress(10), platform="ios", role=Role.SWITCH)
    eleven = classify_diff(_readdress(11), platform="ios", role=Role.SWITCH)
    assert ten.category is Category.MEDIUM
    assert eleven.category is Category.MAJOR
    (esc,) = [r for r in eleven.reasons if r.rule == "change.addressing_plan"]
    assert esc.paq_item == "major/network: change the addressing plan for more than 10 resources"


def test_escalation_counts_across_hosts() -> None:
    hosts_10 = [_host("sw1", _readdress(5)), _host("sw2", _readdress(5))]
    hosts_11 = [_host("sw1", _readdress(5)), _host("sw2", _readdress(6))]
    assert all(h[4].category is Category.MEDIUM for h in hosts_11)
    assert classify_change(hosts_10).category is Category.MEDIUM
    verdict = classify_change(hosts_11)
    assert verdict.category is Category.MAJOR
    (esc,) = [r for r in verdict.reasons if r.rule == "change.addressing_plan"]
    assert "11 resource(s)" in esc.description
    assert any(line.startswith("sw2: ") for line in esc.lines)


def test_change_is_highest_of_hosts_with_host_prefixed_lines() -> None:
    verdict = classify_change(
        [
            _host("sw1", " interface Gi1/0/1\n+ description x\n"),
            _host("fw1", "+failover lan unit primary\n", "asa", Role.FIREWALL),
            _host("sw2", "+ip sla 10\n"),
        ]
    )
    assert verdict.category is Category.MAJOR
    assert verdict.unclassified == ("sw2: +ip sla 10",)
    (failover,) = [r for r in verdict.reasons if r.rule == "asa.failover"]
    assert failover.lines == ("fw1: +failover lan unit primary",)


@pytest.mark.parametrize(("minutes", "expected"), [(0, Category.MEDIUM), (15, Category.MEDIUM), (16, Category.MAJOR)])
def test_declared_hardware_follows_expected_outage(minutes: int, expected: Category) -> None:
    request = _request(hardware=True, expected_outage=dt.timedelta(minutes=minutes))
    verdict = classify_change([_host("sw1", "")], request=request)
    assert verdict.category is expected
    (reason,) = [r for r in verdict.reasons if r.rule == "request.hardware"]
    assert "cannot show in a diff" in reason.description


def test_request_category_raises_never_lowers() -> None:
    raised = classify_change(
        [_host("sw1", " interface Gi1/0/1\n+ description x\n")], request=_request(category="major")
    )
    assert raised.category is Category.MAJOR
    (reason,) = [r for r in raised.reasons if r.rule == "request.category"]
    assert "Raised by the request" in reason.description
    kept = classify_change([_host("sw1", "+debug ip packet\n")], request=_request(category="minor"))
    assert kept.category is Category.MAJOR


# --- Safety property ------------------------------------------------------------------------------

_LINES = [
    " interface GigabitEthernet1/0/3",
    "+ switchport access vlan 20",
    "- switchport access vlan 10",
    "+ description x",
    "+vlan 30",
    "+ name USERS",
    "+ip route 10.0.0.0 255.0.0.0 10.1.1.1",
    "-ip route 10.0.0.0 255.0.0.0 10.1.1.1",
    "+logging host 1.2.3.4",
    "+snmp-server community x RO",
    " interface Vlan10",
    "+ ip address 10.0.0.1 255.255.255.0",
    "+ standby 1 ip 10.0.0.254",
    "+ip sla 10",
    "+no shutdown",
    "!",
    "",
    "+spanning-tree mode mst",
    "+ spanning-tree portfast",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=12), st.lists(st.sampled_from(_LINES), min_size=1, max_size=6))
def test_adding_lines_never_lowers_the_category(base: list[str], extra: list[str]) -> None:
    """Lines appended to a diff can only keep or raise its category.

    Appended, not inserted anywhere: a context line inserted above a changed line becomes its
    parent and changes what that line means (an orphan "+ switchport access vlan 20" is
    unclassified, under an interface it is minor), so insertion is not a growth of the same diff.
    """
    before = classify_diff("\n".join(base), platform="ios", role=Role.SWITCH)
    after = classify_diff("\n".join(base + extra), platform="ios", role=Role.SWITCH)
    assert after.category.rank >= before.category.rank
    assert set(before.unclassified) <= set(after.unclassified)


# --- Rule-file errors -----------------------------------------------------------------------------


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def test_shipped_rules_load_with_version() -> None:
    rs = load_ruleset()
    assert rs.version == "2026.12-8"
    assert load_ruleset() is rs  # cached: regexes compiled once


def test_unknown_key_names_file_and_rule(rules_copy: Path) -> None:
    path = rules_copy / "ios.yaml"
    path.write_text(path.read_text().replace("  - id: ios.vtp\n", "  - id: ios.vtp\n    severity: high\n"))
    with pytest.raises(BadRequest, match=r"ios\.yaml, rule ios\.vtp \(line \d+\): severity: unknown key"):
        load_ruleset(rules_copy)


def test_bad_regex_names_file_and_rule(rules_copy: Path) -> None:
    path = rules_copy / "bind.yaml"
    text = path.read_text().replace("match: '^\\$(TTL|ORIGIN|INCLUDE|GENERATE)\\b'", "match: '^\\$(TTL'")
    path.write_text(text)
    with pytest.raises(BadRequest, match=r"bind\.yaml, rule bind\.directive .*match: bad regex"):
        load_ruleset(rules_copy)


def test_untraceable_paq_item_is_refused(rules_copy: Path) -> None:
    path = rules_copy / "haproxy.yaml"
    path.write_text(
        path.read_text().replace(
            'paq_item: "general definition: minor — no functional impact, no service interruption"',
            'paq_item: "because I said so"',
        )
    )
    with pytest.raises(BadRequest, match=r"haproxy\.yaml, rule haproxy\.logging: paq_item"):
        load_ruleset(rules_copy)


def test_missing_version_file_is_refused(rules_copy: Path) -> None:
    (rules_copy / "ruleset.yaml").unlink()
    with pytest.raises(BadRequest, match=r"ruleset\.yaml: missing"):
        load_ruleset(rules_copy)


# --- Command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli() -> tuple[CliRunner, object]:
    from netchange.cli.main import _mount, app

    _mount()
    return CliRunner(), app


def test_cli_json(cli: tuple[CliRunner, object], tmp_path: Path) -> None:
    runner, app = cli
    diff = tmp_path / "d.diff"
    diff.write_text(" interface Gi1/0/3\n+ switchport access vlan 20\n+ip sla 10\n")
    result = runner.invoke(app, ["classify", "--platform", "ios", "--role", "switch", "--diff", str(diff), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["category"] == "major"
    assert doc["unclassified"] == ["+ip sla 10"]
    assert doc["rules_version"] == "2026.12-8"
    assert {"rule", "category", "paq_item", "lines"} <= set(doc["reasons"][0])


def test_cli_table_and_default_role(cli: tuple[CliRunner, object], tmp_path: Path) -> None:
    runner, app = cli
    diff = tmp_path / "d.diff"
    diff.write_text("+www2.doif.lab.example. 300 IN A 192.0.2.11\n")
    result = runner.invoke(app, ["classify", "--platform", "bind", "--diff", str(diff)])
    assert result.exit_code == 0, result.output
    assert "bind.name_record" in result.output
    assert "minor" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "ios", "--diff", "/nonexistent.diff"], "does not exist"),
        (["--platform", "junos", "--diff", "DIFF"], "unknown platform"),
        (["--platform", "ios", "--role", "gateway", "--diff", "DIFF"], "unknown role"),
    ],
)
def test_cli_bad_input_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    diff = tmp_path / "d.diff"
    diff.write_text("+vlan 10\n")
    argv = [a.replace("DIFF", str(diff)) for a in args]
    exe = Path(sys.executable).parent / "netchange"
    result = subprocess.run([str(exe), "classify", *argv], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_docs_coverage_table_names_every_rule() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "classification.md").read_text(encoding="utf-8")
    rs = load_ruleset()
    missing = [r.id for r in (*rs.rules, *rs.checks) if f"`{r.id}`" not in doc]
    assert missing == [], "regenerate the coverage table in docs/classification.md"


# --- Rules from other packages (entry point group netchange.classifier_rules) ---------------------


def _install_plugin(root: Path, rules: str, version: str = "1.0") -> None:
    """A tiny installed distribution: a dist-info with the entry point, and a package with rules."""
    pkg = root / "acme_rules"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "acme.yaml").write_text(rules)
    info = root / f"acme_netchange-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: acme-netchange\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("[netchange.classifier_rules]\nacme = acme_rules\n")


_ACME = """extends: ios
rules:
  - id: acme.sla_probe
    category: medium
    top_level: true
    match: '^ip sla\\s+\\d+'
    description: The acme change type's SLA probes.
    paq_item: "general definition: medium — adds functions; may cause a short outage (< 15 min)"
"""


def test_rules_from_another_distribution_are_loaded_and_versioned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)
    base = load_ruleset()
    assert classify_diff("+ip sla 10\n", platform="ios", role=Role.SWITCH).unclassified == ("+ip sla 10",)
    _install_plugin(tmp_path, _ACME)
    monkeypatch.syspath_prepend(str(tmp_path))
    extended = load_ruleset()
    assert extended.version.startswith(base.version + "+ext.")
    assert extended.digest != base.digest
    verdict = classify_diff("+ip sla 10\n", platform="ios", role=Role.SWITCH, ruleset=extended)
    assert verdict.category is Category.MEDIUM
    assert [r.rule for r in verdict.reasons] == ["acme.sla_probe"]
    # Another version of the same rules is another digest: every plan records which judged it.
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)
    other = tmp_path / "v2"
    _install_plugin(other, _ACME.replace("medium", "major", 1), version="2.0")
    monkeypatch.syspath_prepend(str(other))
    assert load_ruleset().version not in (base.version, extended.version)


def test_a_plugin_rule_must_quote_a_listed_item_and_extend_a_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)  # imported by another test
    _install_plugin(tmp_path / "a", _ACME.replace("general definition: medium", "whatever"))
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    with pytest.raises(BadRequest, match=r"acme\.sla_probe"):
        load_ruleset()
    monkeypatch.delitem(sys.modules, "acme_rules", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    _install_plugin(tmp_path / "b", _ACME.replace("extends: ios", "extends: junos"))
    with pytest.raises(BadRequest, match="extends"):
        load_ruleset()


def test_a_line_only_context_rules_know_stays_unclassified_when_none_applies(rules_copy: Path) -> None:
    with (rules_copy / "ios.yaml").open("a", encoding="utf-8") as f:
        f.write(
            "\n  - id: ios.only_in_context\n    category: minor\n    parent: '^interface\\s'\n"
            "    match: '^frobnicate$'\n    section_has: '^switchport mode access$'\n"
            "    description: A test rule.\n"
            '    paq_item: "general definition: minor — no functional impact, no service interruption"\n'
        )
    rs = load_ruleset(rules_copy)
    diff = " interface Gi1\n  switchport mode access\n+ frobnicate\n"
    known = classify_diff(diff, platform="ios", role=Role.SWITCH, ruleset=rs)
    assert known.category is Category.MINOR and known.unclassified == ()
    unknown = classify_diff(" interface Gi1\n+ frobnicate\n", platform="ios", role=Role.SWITCH, ruleset=rs)
    assert unknown.category is Category.MAJOR
    assert unknown.unclassified == ("+ frobnicate",)
