"""No change is a result (issue 22 item 6, finding 5's first half), on real configurations.

Two routers of the corpus (``tests/corpus/ios/lv_as2dist1.ios`` and ``lv_as2dept1.ios``, batfish's
lab-validation: ``SOURCES.yaml``) both hold ``ip domain name lab.local``; only ``as2dept1`` holds
``ip ssh version 2``. A snippet already on every host gave an empty diff classified minor, and
``--fail-on minor`` exited 4; now the plan has no category, gates nothing, says "no change" in its
JSON (``verdict.reason``), JUnit and Markdown, is recorded, needs no approval, and ``apply``
closes it without contacting anything. ``--detailed-exitcode`` (Terraform's) makes 0 mean "no
change" and 5 "changes below the gate". With a host already as asked and another to change, the
first is listed as no change and the category is the other's.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.journal import Journal, StateError
from netchange.plan import verdict
from netchange.report.ci import junit_xml, markdown_summary
from netchange.testing import StoredDevice, assert_no_change, plan_change, plan_step
from netchange.vocabulary import Category
from tests.conftest import REPO, CliResult

Cli = Callable[..., CliResult]

pytest_plugins = ["tests.unit.test_offline_plan"]  # no_network: every connection attempt fails the test

CORPUS = REPO / "tests" / "corpus" / "ios"
DIST, DEPT = "as2dist1", "as2dept1"  # the configurations' own hostnames, used as inventory names
CONFIGS = {DIST: CORPUS / "lv_as2dist1.ios", DEPT: CORPUS / "lv_as2dept1.ios"}
PRESENT_ON_BOTH = ["ip domain name lab.local"]
PRESENT_ON_DEPT = ["ip ssh version 2"]


def devices() -> list[StoredDevice]:
    return [StoredDevice(name, config=path.read_text(encoding="utf-8"), platform="ios", site="doif")
            for name, path in CONFIGS.items()]


def snippet(lines: list[str]) -> dict[str, Any]:
    return {"syntax": "ios", "lines": lines}


# -- the plan document and its verdict (the test kit, the real IOS driver over the stored text) --------


def test_a_snippet_already_on_every_host_is_no_change_not_minor() -> None:
    plan = plan_step("config_snippet", snippet(PRESENT_ON_BOTH), devices())
    assert_no_change(plan)
    assert plan.no_change and plan.category is None
    assert plan.reasons == () and plan.requirements == () and plan.unclassified == ()
    assert [(h.host, h.diff, h.category, h.reasons) for h in plan.hosts] == [
        (DEPT, "", None, ()), (DIST, "", None, ())]
    judged = verdict(plan, Category.MINOR)
    assert (judged.exit_code, judged.reason, judged.gate_reached) == (0, "no_change", False)
    assert judged.no_change == (DEPT, DIST)
    # Terraform's -detailed-exitcode: 0 is "no changes".
    assert verdict(plan, Category.MINOR, detailed=True).exit_code == 0


def test_a_host_already_as_asked_is_listed_and_the_others_give_the_category() -> None:
    plan = plan_step("config_snippet", snippet(PRESENT_ON_DEPT), devices())
    dept, dist = plan.host(DEPT), plan.host(DIST)
    assert dept.no_change and dept.category is None and dept.reasons == ()
    assert dist.diff.strip() == "+ip ssh version 2" and dist.category is not None
    assert not plan.no_change and plan.category == dist.category
    assert all(line.startswith(f"{DIST}: ") for r in plan.reasons for line in r.lines)  # nothing from dept
    assert plan.unchanged == (DEPT,)
    judged = verdict(plan, None)
    assert (judged.reason, judged.exit_code, judged.no_change) == ("ok", 0, (DEPT,))
    assert verdict(plan, None, detailed=True).exit_code == 5  # changes, no gate
    assert verdict(plan, dist.category, detailed=True).exit_code == 4  # the gate wins over 5
    text = markdown_summary(plan, judged)
    assert f"<details><summary>{DEPT} — no change</summary>" in text
    assert f"| {DEPT} | ios | switch | no change |" in text
    cases = {c.get("classname", "").split(".")[-1]: c for c in
             ET.fromstring(junit_xml(plan, judged)).iter("testcase") if c.get("name") == "plan"}
    assert cases[DEPT].findtext("system-out", "").startswith("no change")
    assert cases[DIST].findtext("system-out", "").startswith(f"category: {dist.category.value}")


def test_declared_hardware_work_is_a_change_even_with_no_line_to_send() -> None:
    request = {"id": "CHG-2026-0951", "title": "Replace a power supply", "ticket": "INC-9", "requester": "crenard",
               "hardware": True, "expected_outage": "PT5M",
               "steps": [{"type": "config_snippet", "targets": {"hosts": [DIST]}, "params": snippet(PRESENT_ON_BOTH)}]}
    plan = plan_change(request, devices())
    assert plan.host(DIST).no_change
    assert not plan.no_change and plan.category is Category.MEDIUM  # the hardware rule, not the diff
    assert verdict(plan, Category.MEDIUM).reason == "gate"


# -- the command line: an offline plan in CI, then a recorded plan applied ------------------------------


@pytest.fixture
def routers(workspace: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[object]) -> Path:
    """An inventory of the two routers (site doif) and Oxidized-style backups of their configurations."""
    monkeypatch.chdir(REPO)
    inv = workspace / "inventory"
    inv.mkdir()
    hosts = {name: {"hostname": f"{name}.mgmt.example.net", "platform": "ios", "groups": ["doif", "switch"],
                    "data": {"role": "switch", "site": "doif"}} for name in CONFIGS}
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text(yaml.safe_dump({"doif": {}, "switch": {}}))
    (inv / "defaults.yaml").write_text("data: {}\n")
    (workspace / "nornir.yaml").write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(inv / "hosts.yaml"), "group_file": str(inv / "groups.yaml"),
            "defaults_file": str(inv / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}}, "logging": {"enabled": False}}))
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(workspace / "nornir.yaml"))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(workspace / "no-secrets.yaml"))
    backups = workspace / "oxidized" / "routers"
    backups.mkdir(parents=True)
    for name, path in CONFIGS.items():
        (backups / name).write_text(path.read_text(encoding="utf-8"))
    return workspace


def change_file(root: Path, lines: list[str], change_id: str = "CHG-2026-0950") -> Path:
    path = root / f"{change_id}.yaml"
    path.write_text(json.dumps({
        "id": change_id, "title": "Domain name of the routers", "ticket": "INC-950", "requester": "crenard",
        "estimated_duration": "PT15M",
        "steps": [{"type": "config_snippet", "targets": {"hosts": list(CONFIGS)}, "params": snippet(lines)}]}))
    return path


def test_offline_no_change_passes_every_gate_and_says_so_in_json_junit_and_markdown(
        routers: Path, cli: Cli, no_network: list[object]) -> None:
    junit, md = routers / "plan.xml", routers / "plan.md"
    result = cli("plan", str(change_file(routers, PRESENT_ON_BOTH)), "--offline", str(routers / "oxidized"),
                 "--fail-on", "minor", "--json", "--junit", str(junit), "--markdown", str(md))
    assert result.code == 0, result.out + result.err  # was 4: an empty diff read as minor
    doc = json.loads(result.out)
    assert doc["category"] is None and doc["requirements"] == []
    assert doc["verdict"] == {"exit_code": 0, "reason": "no_change", "category": None, "fail_on": "minor",
                              "gate_reached": False, "precheck_failed": [], "host_failed": [],
                              "no_change": [DEPT, DIST]}
    assert [(h["name"], h["category"], h["diff"]) for h in doc["hosts"]] == [(DEPT, None, ""), (DIST, None, "")]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (props["reason"], props["category"], props["no_change"]) == ("no_change", "none", f"{DEPT},{DIST}")
    outputs = [c.findtext("system-out", "") for c in suite.iter("testcase") if c.get("name") == "plan"]
    assert outputs == ["no change: the device already matches\n"] * 2
    text = md.read_text()
    assert "**Category: NONE — NO CHANGE: every host already matches**" in text
    assert "result: no_change (exit 0)" in text and "**reached**" not in text
    assert no_network == []


def test_detailed_exitcode_0_without_change_5_with_changes_4_at_the_gate(routers: Path, cli: Cli) -> None:
    backups = str(routers / "oxidized")
    none = cli("plan", str(change_file(routers, PRESENT_ON_BOTH)), "--offline", backups, "--detailed-exitcode")
    assert none.code == 0, none.err
    assert "no change: every host already matches" in none.out
    some = change_file(routers, PRESENT_ON_DEPT, "CHG-2026-0952")
    assert cli("plan", str(some), "--offline", backups).code == 0  # without the option: as it always was
    changes = cli("plan", str(some), "--offline", backups, "--detailed-exitcode")
    assert changes.code == 5 and "changes to apply (exit 5" in changes.err
    gated = cli("plan", str(some), "--offline", backups, "--detailed-exitcode", "--fail-on", "minor", "--json")
    assert gated.code == 4 and json.loads(gated.out)["verdict"]["no_change"] == [DEPT]


def test_apply_of_a_no_change_plan_closes_it_without_approval_or_device(
        workspace: Path, cli: Cli, no_network: list[object], monkeypatch: pytest.MonkeyPatch, runner: str) -> None:
    """Recorded as ``netchange plan`` records (the test kit: the real driver over the stored text), then
    applied with no inventory at all: nothing to send means no session, no lock and no guard."""
    home = workspace / "home"
    request = yaml.safe_load(change_file(workspace, PRESENT_ON_BOTH).read_text())
    plan = plan_change(request, devices(), policy=workspace / "policy.yaml", record=home, actor="dnguyen")
    assert plan.no_change
    with Journal(home / "journal.sqlite") as journal:
        row = journal.require(plan.change.id)
        assert (row.state.value, row.category, row.plan_hash) == ("planned", None, plan.plan_hash)
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(workspace / "no-such-nornir.yaml"))

    refused = cli("approve", plan.change.id, actor="amoreau")
    assert refused.code == 3 and "no change" in refused.err  # nothing to approve
    done = cli("apply", plan.change.id, "--json", actor="dnguyen")
    assert done.code == 0, done.out + done.err
    outcome = json.loads(done.out)
    assert outcome["outcome"] == "no_change" and outcome["exit_code"] == 0
    assert [(h["name"], h["status"]) for h in outcome["hosts"]] == [(DEPT, "no change"), (DIST, "no change")]
    assert no_network == []

    with Journal(home / "journal.sqlite") as journal:
        assert journal.require(plan.change.id).state.value == "closed"
        kinds = [e.kind for e in journal.events(plan.change.id)]
        assert kinds[-2:] == ["no_change", "state"]
        assert "apply_started" not in kinds and "locks_acquired" not in kinds and "guard" not in kinds
        assert journal.events(plan.change.id)[-1].data == {
            "from": "planned", "to": "closed",
            "reason": "no change: every host already matched its plan; nothing was sent"}
    assert cli("journal", "verify").code == 0
    again = cli("apply", plan.change.id, actor="dnguyen")
    assert again.code == 3 and "closed" in again.err  # a closed change is not run twice


def test_the_journal_keeps_a_no_change_plan_without_a_category(tmp_path: Path) -> None:
    from netchange.journal.testing import make_plan

    plan = make_plan("CHG-2026-0953", category=None, diff="")
    assert plan.no_change
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.record_plan(plan, "dnguyen")
        record = journal.plan_record(plan.change.id)
        assert record is not None and record.category is None
        journal.close_no_change(plan.change.id, plan.plan_hash, actor="dnguyen", hosts=["sw-doif-1"])
        assert journal.verify_change(plan.change.id) == []
        with pytest.raises(StateError):  # closed: not twice
            journal.close_no_change(plan.change.id, plan.plan_hash, actor="dnguyen", hosts=["sw-doif-1"])
        # The reports count it as what it is, not as an unclassified change.
        tally = journal.tally(plan.created_at - dt.timedelta(days=1), plan.created_at + dt.timedelta(days=365))
        assert tally.by_category_outcome == {("no_change", "closed"): 1}
    with sqlite3.connect(tmp_path / "j.sqlite") as db:
        assert db.execute("SELECT category FROM plans").fetchall() == [("",)]
        assert db.execute("SELECT category, state, outcome FROM changes").fetchall() == [(None, "closed", None)]


def test_the_plan_documents_tracking_sheet_and_show_say_no_change(
        workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange.plan import render_document
    from netchange.policy import load_policy
    from netchange.report.sheet import render_sheet

    home = workspace / "home"
    request = yaml.safe_load(change_file(workspace, PRESENT_ON_BOTH).read_text())
    plan = plan_change(request, devices(), policy=workspace / "policy.yaml", record=home, actor="dnguyen")
    md = render_document(plan, "md", client="test")
    assert "# 2. Category: **NONE — NO CHANGE**" in md and f"{DIST} (ios, switch, doif) — no change" in md
    assert "NONE — NO CHANGE" in render_document(plan, "html", client="test")
    with Journal(home / "journal.sqlite") as journal:
        sheet = render_sheet(load_policy(workspace / "policy.yaml"), journal, plan.change.id, fmt="md",
                             now=dt.datetime.now(dt.UTC))
    assert "| Category | no change |" in sheet and f"{DEPT} (doif) — no change" in sheet
    assert "no change: nothing to approve" in sheet
    shown = cli("show", plan.change.id)
    assert shown.code == 0 and "category no change" in shown.out
    listed = cli("list")
    assert listed.code == 0 and "no change" in listed.out
