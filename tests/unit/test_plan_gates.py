"""CI gates (issue 14 item 2): ``--fail-on`` (exit 4), failures (exit 1, ``precheck_failed`` told apart),
bad input under ``--json`` (exit 2, a JSON error on stdout), ``--no-record``, the policy found outside
the repository, JUnit XML and the Markdown summary. The done-when cases run from the repository's own
inventory (production host names), offline, with no device reachable.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.config import LAB_POLICY, Settings
from tests.conftest import REPO, CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory
from tests.unit.test_offline_plan import ACCESS, SWITCH_CONFIG, request

Cli = Callable[..., CliResult]

pytest_plugins = ["tests.unit.test_offline_plan"]  # its fixtures: no_network, repo_inventory, backups


def document(result: CliResult) -> dict[str, Any]:
    """The one JSON document of the invocation (stdout holds nothing else)."""
    data: dict[str, Any] = json.loads(result.out)
    return data


def offline(cli: Cli, change: Path, backups: Path, *extra: str) -> CliResult:
    return cli("plan", str(change), "--offline", str(backups), "--json", *extra)


# -- the done-when cases --------------------------------------------------------------------


def test_minor_change_passes_a_medium_gate_and_stops_at_a_minor_one(
        repo_inventory: Path, backups: Path, cli: Cli, no_network: list[object]) -> None:
    change = request(repo_inventory / "c.yaml")
    passed = offline(cli, change, backups, "--fail-on", "medium")
    assert passed.code == 0, passed.err
    assert document(passed)["category"] == "minor"
    assert document(passed)["verdict"] == {
        "exit_code": 0, "reason": "ok", "category": "minor", "fail_on": "medium", "gate_reached": False,
        "precheck_failed": [], "host_failed": [], "no_change": []}

    stopped = offline(cli, change, backups, "--fail-on", "minor")
    assert stopped.code == 4
    plan = document(stopped)  # the plan is printed all the same: the reviewer sees why
    assert plan["category"] == "minor" and plan["verdict"]["reason"] == "gate"
    assert no_network == []


def test_a_failed_pre_check_exits_1_with_its_own_reason_and_no_category(
        repo_inventory: Path, backups: Path, cli: Cli) -> None:
    result = offline(cli, request(repo_inventory / "c.yaml", interface="FastEthernet0/99"), backups,
                     "--fail-on", "major")
    assert result.code == 1
    plan = document(result)
    assert plan["category"] is None  # every host errored: nothing was classified, not "minor"
    assert plan["requirements"] == []
    assert plan["verdict"]["reason"] == "precheck_failed"
    assert plan["verdict"]["precheck_failed"] == [ACCESS]


def test_malformed_change_file_is_a_json_error_exit_2(repo_inventory: Path, backups: Path, cli: Cli) -> None:
    bad = repo_inventory / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    result = offline(cli, bad, backups, "--fail-on", "medium")
    assert result.code == 2
    error = document(result)["error"]
    assert error["type"] == "BadRequest" and error["exit_code"] == 2 and str(bad) in error["message"]
    assert "Traceback" not in result.out + result.err


def test_usage_errors_and_unknown_gates_are_json_too(repo_inventory: Path, backups: Path, cli: Cli) -> None:
    result = offline(cli, request(repo_inventory / "c.yaml"), backups, "--fail-on", "huge")
    assert result.code == 2
    assert document(result)["error"]["type"] == "UsageError" and "--fail-on" in document(result)["error"]["message"]
    result = cli("plan", "--json")
    assert result.code == 2 and document(result)["error"]["exit_code"] == 2


def test_gate_is_not_reached_below_the_threshold_and_failure_wins_over_it() -> None:
    from netchange.plan import HostPlan, Plan, verdict
    from netchange.vocabulary import Category

    def plan(category: Category | None, error: str | None = None) -> Plan:
        host = HostPlan(host="sw", site="doif", role="switch", platform="ios", syntax="ios", steps=(0,),
                        category=category, error=error)
        return Plan.model_construct(category=category, hosts=(host,))

    assert verdict(plan(Category.MEDIUM), Category.MAJOR).exit_code == 0
    assert verdict(plan(Category.MAJOR), Category.MEDIUM).exit_code == 4
    assert verdict(plan(Category.MAJOR)).exit_code == 0  # no gate asked
    failed = verdict(plan(None, error="OpenFailed: refused"), Category.MINOR)
    assert (failed.exit_code, failed.reason, failed.category) == (1, "host_failed", None)


# -- reports --------------------------------------------------------------------------------


def test_junit_has_a_case_per_host_per_pre_check_and_the_gate(
        repo_inventory: Path, tmp_path: Path, cli: Cli) -> None:
    root = tmp_path / "b"
    root.mkdir()
    (root / ACCESS).write_text(SWITCH_CONFIG)
    (root / "doif-sw-acc-02").write_text(SWITCH_CONFIG.replace("interface FastEthernet0/12\n description spare\n"
                                                               " switchport mode access\n shutdown\n!\n", "")
                                         .replace("hostname doif-sw-acc-01", "hostname doif-sw-acc-02"))
    change = request(tmp_path / "c.yaml")
    data = json.loads(change.read_text())
    data["steps"][0]["targets"] = {"hosts": [ACCESS, "doif-sw-acc-02"]}
    change.write_text(json.dumps(data))
    junit = tmp_path / "out" / "plan.xml"
    junit.parent.mkdir()
    result = cli("plan", str(change), "--offline", str(root), "--fail-on", "medium", "--junit", str(junit))
    assert result.code == 1  # acc-02 lacks the port: its pre-check fails
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.findall("testcase")}
    change_id = "CHG-2026-0901"
    assert set(cases) == {
        (f"{change_id}.{ACCESS}", "plan"), (f"{change_id}.{ACCESS}", "pre-check: FastEthernet0/12 exists"),
        (f"{change_id}.{ACCESS}", "pre-check: vlan 20 exists"),
        (f"{change_id}.{ACCESS}", "pre-check: referenced structures are defined"),  # once the candidate is known
        (f"{change_id}.doif-sw-acc-02", "plan"), (f"{change_id}.doif-sw-acc-02", "pre-check: FastEthernet0/12 exists"),
        (f"{change_id}.doif-sw-acc-02", "pre-check: vlan 20 exists"),
        (change_id, "category below medium"),
    }
    failure = cases[(f"{change_id}.doif-sw-acc-02", "plan")].find("failure")
    assert failure is not None and failure.get("type") == "precheck_failed"
    assert cases[(f"{change_id}.{ACCESS}", "plan")].find("failure") is None
    assert cases[(change_id, "category below medium")].find("failure") is None  # minor stays below
    assert suite.get("tests") == "8" and suite.get("failures") == "2"
    assert junit.stat().st_mode & 0o077 == 0  # reports carry diffs: private from creation


def test_markdown_summary_for_a_merge_request(repo_inventory: Path, backups: Path, tmp_path: Path, cli: Cli) -> None:
    md = tmp_path / "comment.md"
    result = cli("plan", str(request(repo_inventory / "c.yaml")), "--offline", str(backups), "--fail-on", "minor",
                 "--markdown", str(md))
    assert result.code == 4
    text = md.read_text()
    assert "**Category: MINOR**" in text and "`--fail-on minor`: **reached**" in text
    assert "minor/network: assign one or more ports to an existing VLAN" in text  # the quality-plan item
    assert "```diff\n interface FastEthernet0/12\n" in text and "+ switchport access vlan 20" in text
    assert "approvals: the requester's validation" in text  # the requirements
    assert f"<details><summary>{ACCESS} — minor</summary>" in text


# -- recording, and the policy outside the repository ----------------------------------------


@pytest.fixture
def mock_switches(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    devs = [MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n",
                       cli={"show vlan brief": SHOW_VLAN_BRIEF})]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    return workspace


def test_no_record_writes_neither_journal_nor_plan_store(mock_switches: Path, cli: Cli) -> None:
    change = request(mock_switches / "c.yaml", host="sw1", change_type="vlan",
                     params={"vlan_id": 20, "name": "servers"})
    home = mock_switches / "home"
    result = cli("plan", str(change), "--json", "--no-record", actor="dnguyen")
    assert result.code == 0, result.err
    assert document(result)["recorded"] is False
    assert list(home.iterdir()) == []
    # The same plan recorded: the journal and the plan store appear (so the test above can fail).
    assert cli("plan", str(change), "--json", actor="dnguyen").code == 0
    assert {p.name for p in home.iterdir()} >= {"journal.sqlite", "plans"}


def test_policy_is_found_outside_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--policy > NETCHANGE_POLICY > ./policy.yaml > <home>/policy.yaml > (with --lab only) the lab's."""
    monkeypatch.delenv("NETCHANGE_POLICY", raising=False)
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    assert Settings.resolve(home=home).policy is None  # none found: never the lab's (issue 22 item 8)
    assert Settings.resolve(home=home, lab=True).policy == LAB_POLICY
    assert LAB_POLICY.read_bytes() == (REPO / "policy.yaml").read_bytes()
    home.mkdir()
    (home / "policy.yaml").write_text("x")
    assert Settings.resolve(home=home).policy == home / "policy.yaml"  # the state directory's wins
    assert Settings.resolve(home=home, lab=True).policy == home / "policy.yaml"  # even under --lab
    (tmp_path / "policy.yaml").write_text("y")
    assert Settings.resolve(home=home).policy == Path("policy.yaml")  # a checkout's wins
    assert Settings.resolve(home=home, policy=tmp_path / "p.yaml").policy == tmp_path / "p.yaml"
    monkeypatch.setenv("NETCHANGE_POLICY", str(tmp_path / "env.yaml"))
    assert Settings.resolve(home=home).policy == tmp_path / "env.yaml"


def test_offline_plan_from_outside_the_repository(repo_inventory: Path, backups: Path, cli: Cli,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI job's working directory is its own: the team's policy is named (here NETCHANGE_POLICY);
    with none, the plan stops, exit 2, rather than judge the change by the lab's fictitious people."""
    policy = Path(os.environ["NETCHANGE_POLICY"])  # the workspace's copy of the repository's
    monkeypatch.delenv("NETCHANGE_POLICY", raising=False)
    work = tmp_path / "job"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(_absolute_nornir(tmp_path)))
    change = request(work / "c.yaml")
    missing = cli("plan", str(change), "--offline", str(backups))
    assert missing.code == 2
    assert missing.err.count("\n") == 1 and "no policy: none given (--policy, NETCHANGE_POLICY)" in missing.err
    assert "only with --lab" in missing.err
    nornir = str(_absolute_nornir(tmp_path))
    lab = cli("--lab", "--config", nornir, "plan", str(change), "--offline", str(backups), "--json")
    assert lab.code == 0, lab.out  # the lab's policy when asked for, not silently
    assert document(lab)["policy_version"] == "2026.10-lab"
    monkeypatch.setenv("NETCHANGE_POLICY", str(policy))
    result = offline(cli, change, backups, "--fail-on", "medium")
    assert result.code == 0, result.out + result.err
    assert document(result)["policy_version"]


def _absolute_nornir(root: Path) -> Path:
    import yaml

    cfg = yaml.safe_load((REPO / "nornir.yaml").read_text())
    for key in ("host_file", "group_file", "defaults_file"):
        cfg["inventory"]["options"][key] = str(REPO / cfg["inventory"]["options"][key])
    path = root / "nornir.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path
