"""One machine-readable face (issue 14 item 6): every command's ``--json`` is one document of a published
schema, with one vocabulary (``change_id``, ``plan_hash``, ``hosts`` as objects with a ``name``).

``docs/schemas/NAME.json`` are generated from the models: set ``NETCHANGE_WRITE_SCHEMAS=1`` to
rewrite them; without it, a stale file fails this test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.cli.jsonface import DOCUMENTS, schema
from tests.conftest import REPO, CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

Cli = Callable[..., CliResult]
SCHEMAS = REPO / "docs" / "schemas"
TUESDAY_1930 = "2026-12-01T19:30:00+01:00"


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_published_schema_is_current(name: str) -> None:
    text = json.dumps(schema(name), indent=2) + "\n"
    path = SCHEMAS / f"{name}.json"
    if os.environ.get("NETCHANGE_WRITE_SCHEMAS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file() and path.read_text() == text, (
        f"{path} is stale: NETCHANGE_WRITE_SCHEMAS=1 pytest tests/unit/test_json_face.py")


def test_every_published_schema_file_has_a_document() -> None:
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(DOCUMENTS)


def test_schema_command(cli: Cli) -> None:
    listed = cli("schema")
    assert listed.code == 0 and listed.out.split() == list(DOCUMENTS)
    plan = cli("schema", "plan")
    assert json.loads(plan.out)["title"] == "PlanDocument"
    assert cli("schema", "nope").code == 2


@pytest.fixture
def switches(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    devs = [MockDevice(f"sw{i}", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n",
                       cli={"show vlan brief": SHOW_VLAN_BRIEF}) for i in (1, 2)]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    change = workspace / "c.yaml"
    change.write_text(json.dumps({
        "id": "CHG-2026-0042", "title": "New VLAN", "ticket": "INC0042", "requester": "crenard",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}]}))
    return change


def one_document(result: CliResult, name: str) -> dict[str, Any]:
    """stdout holds exactly one JSON document, valid against its model."""
    data: dict[str, Any] = json.loads(result.out)  # raises on JSON lines or trailing text
    DOCUMENTS[name].model_validate(data)
    return data


def test_every_command_speaks_the_same_vocabulary(switches: Path, cli: Cli) -> None:
    plan = one_document(cli("plan", str(switches), "--json", actor="dnguyen"), "plan")
    assert plan["change_id"] == "CHG-2026-0042" and [h["name"] for h in plan["hosts"]] == ["sw1", "sw2"]
    assert "change" not in plan and "id" not in plan

    approval = one_document(cli("approve", "CHG-2026-0042", "--json", actor="amoreau"), "approval")
    assert approval["plan_hash"] == plan["plan_hash"] and approval["decision"] == "approved"

    shown = one_document(cli("show", "CHG-2026-0042", "--json"), "show")
    assert (shown["change_id"], shown["plan_hash"]) == ("CHG-2026-0042", plan["plan_hash"])
    assert [h["name"] for h in shown["hosts"]] == ["sw1", "sw2"]

    listed = one_document(cli("list", "--json"), "list")
    (row,) = listed["changes"]
    assert (row["change_id"], row["plan_hash"]) == ("CHG-2026-0042", plan["plan_hash"])
    assert {h["name"] for h in row["hosts"]} == {"sw1", "sw2"}

    applied = cli("apply", "CHG-2026-0042", "--json", actor="dnguyen", now=TUESDAY_1930)
    run = one_document(applied, "run")  # one document: no progress lines before it
    # NAPALM's mock device never changes, so the post-check fails and the change rolls back.
    assert applied.code == run["exit_code"] == 1 and run["outcome"] == "rolled_back"
    assert [h["name"] for h in run["hosts"]] == ["sw1", "sw2"]
    assert all(h["restore"]["verified"] for h in run["hosts"] if h["restore"])

    closing = cli("close", "CHG-2026-0042", "--json", actor="dnguyen")
    closed = json.loads(closing.out)
    if closing.code == 0:
        assert one_document(closing, "close")["change_id"] == "CHG-2026-0042"
    else:  # a rolled-back change may not be closable: then the refusal is the document
        assert one_document(closing, "error")["error"]["exit_code"] == closing.code == closed["error"]["exit_code"]

    verified = one_document(cli("journal", "verify", "--json"), "journal-verify")
    assert verified["intact"] is True and verified["events"] > 0

    report = one_document(cli("report", "CHG-2026-0042", "--json"), "report")
    assert "CHG-2026-0042" in report["text"]


def test_apply_progress_is_json_lines_apart(switches: Path, cli: Cli) -> None:
    assert cli("plan", str(switches), "--json", actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 0
    result = cli("apply", "CHG-2026-0042", "--json-lines", actor="dnguyen", now=TUESDAY_1930)
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) > 2 and all("status" in line for line in lines[:-1])  # progress records
    DOCUMENTS["run"].model_validate(lines[-1])  # the outcome last, as one line


def test_errors_under_json_are_documents(cli: Cli, workspace: Path) -> None:
    result = cli("show", "CHG-2026-9999", "--json")
    assert result.code != 0
    error = one_document(result, "error")["error"]
    assert error["exit_code"] == result.code and error["message"]


def test_lab_status_json_when_not_running(cli: Cli, workspace: Path) -> None:
    status = one_document(cli("lab", "status", "--json"), "lab-status")
    assert status == {"running": False, "healthy": False, "problems": [], "hosts": []}


def test_shell_completion_is_offered(cli: Cli) -> None:
    result = cli("--help")
    assert "--install-completion" in result.out and "--show-completion" in result.out


def test_reject_is_the_approval_document(switches: Path, cli: Cli) -> None:
    plan = one_document(cli("plan", str(switches), "--json", actor="dnguyen"), "plan")
    stale = cli("reject", "CHG-2026-0042", "--plan", "0000beef", "--comment", "no", "--json", actor="amoreau")
    error = one_document(stale, "error")["error"]
    assert stale.code == error["exit_code"] == 3 and "0000beef" in error["message"]
    rejected = cli("reject", "CHG-2026-0042", "--comment", "not this week", "--json", actor="amoreau")
    assert rejected.code == 0, rejected.out + rejected.err
    doc = one_document(rejected, "approval")
    assert (doc["change_id"], doc["plan_hash"], doc["decision"]) == ("CHG-2026-0042", plan["plan_hash"], "rejected")
    assert doc["comment"] == "not this week" and doc["approvals_complete"] is False
