"""``--json`` on the small commands (issue 14 item 6): policy, journal, version, window, classify, inventory, lab.

Each prints one document of its published schema (``netchange schema NAME``), and a failure under
``--json`` is the JSON error document on stdout with the command's exit code.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange import __version__
from netchange.cli.jsonface import DOCUMENTS
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def document(result: CliResult, name: str, code: int = 0) -> dict[str, Any]:
    """The one JSON document on stdout, checked against its model (closed: no unknown key)."""
    assert result.code == code, result.out + result.err
    data: dict[str, Any] = json.loads(result.out)
    DOCUMENTS[name].model_validate(data)
    return data


def test_policy_status_and_adopt(workspace: Path, cli: Cli) -> None:
    before = document(cli("policy", "status", "--json"), "policy-status")
    assert before["pinned"] is None and before["in_force"] is True
    assert before["given"]["path"] == str(workspace / "policy.yaml") and len(before["given"]["digest"]) == 64
    adopted = document(cli("policy", "adopt", "--json", actor="gperrin"), "policy-adopt")
    assert adopted["previous"] is None and adopted["changed"] is True
    assert adopted["pinned"]["digest"] == before["given"]["digest"] and adopted["pinned"]["by"] == "gperrin"
    again = document(cli("policy", "adopt", "--json", actor="gperrin"), "policy-adopt")
    assert again["changed"] is False and again["previous"]["digest"] == adopted["pinned"]["digest"]
    # Another policy file: not in force, and an engineer may not adopt it (exit 3, as a JSON error).
    raw = yaml.safe_load((workspace / "policy.yaml").read_text())
    raw["version"] = f"{raw['version']}-next"
    (workspace / "policy.yaml").write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    status = document(cli("policy", "status", "--json"), "policy-status")
    assert status["in_force"] is False and status["given"]["digest"] != status["pinned"]["digest"]
    refused = cli("policy", "adopt", "--json", actor="dnguyen")
    error = document(refused, "error", code=3)["error"]
    assert error["exit_code"] == 3 and error["message"]


def test_journal_head_and_migrate(workspace: Path, cli: Cli) -> None:
    assert cli("policy", "adopt", actor="gperrin").code == 0
    head = document(cli("journal", "head", "--json"), "journal-head")
    assert head["seq"] >= 1 and cli("journal", "head").out.split() == [str(head["seq"]), head["head"]]
    migrated = document(cli("journal", "migrate", "--json"), "journal-migrate")
    assert isinstance(migrated["keyed_from"], int)


def test_version_and_an_unknown_option(cli: Cli) -> None:
    assert document(cli("version", "--json"), "version") == {"version": __version__}
    bad = cli("version", "--json", "--nope")
    assert json.loads(bad.out)["error"]["type"] == "UsageError" and bad.code == 2


def test_users_password_and_tokens(workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery staple 42\n"))
    done = document(cli("users", "set-password", "amoreau", "--json"), "users-password")
    assert done["login"] == "amoreau" and Path(done["accounts_file"]).is_file()
    made = document(cli("users", "token", "amoreau", "--label", "ci", "--json"), "users-token")
    assert made["revoked"] is None and isinstance(made["token"], str) and len(made["token"]) > 20
    revoked = document(cli("users", "token", "amoreau", "--revoke", "--json"), "users-token")
    assert revoked == {"login": "amoreau", "token": None, "revoked": 1}
    unknown = document(cli("users", "token", "nobody", "--json"), "error", code=2)["error"]
    assert unknown["type"] == "BadRequest" and "nobody" in unknown["message"]


def test_types_is_a_published_document(cli: Cli) -> None:
    listed = document(cli("types", "--json"), "types")
    vlan = next(t for t in listed["types"] if t["name"] == "vlan")
    assert "class" in vlan and "class_" not in vlan and vlan["params_schema"]["properties"]["vlan_id"]


def test_window_is_a_published_document(workspace: Path, cli: Cli) -> None:
    # Tuesday 10:00 at doif: a major change is outside its window; the document says when it opens.
    refused = document(cli("window", "--category", "major", "--site", "doif", "--at", "2026-12-01T10:00:00+01:00",
                           "--json"), "window")
    assert refused["allowed"] is False and refused["category"] == "major" and refused["site"] == "doif"
    assert refused["next_open"] is not None and refused["policy_version"]
    bad = document(cli("window", "--category", "huge", "--site", "doif", "--at", "2026-12-01T10:00+01:00",
                       "--json"), "error", code=2)["error"]
    assert bad["type"] == "BadRequest" and "huge" in bad["message"]


def test_classify_is_a_published_document(workspace: Path, cli: Cli) -> None:
    diff = workspace / "d.diff"
    diff.write_text(" interface Gi1/0/3\n+ switchport access vlan 20\n+ip sla 10\n")
    doc = document(cli("classify", "--platform", "ios", "--role", "switch", "--diff", str(diff), "--json"), "classify")
    assert doc["category"] == "major" and doc["unclassified"] == ["+ip sla 10"]
    assert all({"rule", "category", "paq_item", "lines"} <= set(r) for r in doc["reasons"])
    unknown = document(cli("classify", "--platform", "nope", "--diff", str(diff), "--json"), "error", code=2)
    assert "nope" in unknown["error"]["message"]


def test_inventory_is_a_published_document(workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.mockdev import SWITCH_RUNNING, MockDevice, write_inventory

    devices = [MockDevice(name, SWITCH_RUNNING) for name in ("sw2", "sw1")]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devices)))
    doc = document(cli("inventory", "--json"), "inventory")
    assert [h["name"] for h in doc["hosts"]] == ["sw1", "sw2"]
    assert {h["role"] for h in doc["hosts"]} == {"switch"} and doc["hosts"][0]["platform"] == "mock"
    assert "password" not in json.dumps(doc)
    unknown = document(cli("inventory", "--role", "toaster", "--json"), "error", code=2)["error"]
    assert unknown["type"] == "BadRequest" and "toaster" in unknown["message"]


class FakeLab:
    """The lab manager as ``lab up``/``down`` see it, without a lab: it logs (as the real one does while
    it works) and reports; the document must stay alone on stdout and say what the report says."""

    leftovers: tuple[str, ...] = ()

    def __init__(self, root: Path, log: Callable[[str], None]) -> None:
        self.log = log
        self.nornir_config = root / "nornir.yaml"
        self.components = [type("C", (), {"name": n})() for n in ("switches", "firewalls", "bind")]

    def up(self) -> Any:
        from netchange.lab.manager import UpReport

        self.log("switches: up in 1.2 s")
        return UpReport(already_running=False, hosts=["doif-sw-core-01", "doif-fw-01"],
                        skipped={"bind": "named not installed"}, seconds=3.5,
                        timings={"switches": 1.25, "firewalls": 2.0})

    def down(self) -> Any:
        from netchange.lab.manager import DownReport

        self.log("stopping")
        return DownReport(killed=[101, 102], namespaces=["nc-fw"], leftovers=list(self.leftovers),
                          errors=["delete nc-x: busy"] if self.leftovers else [])


def test_lab_up_and_down_are_published_documents(workspace: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange.lab import manager as lab_manager

    monkeypatch.setattr(lab_manager, "LabManager", FakeLab)
    started = cli("lab", "up", "--json")
    up = document(started, "lab-up")
    assert "switches: up" in started.err  # the progress went to stderr
    assert [h["name"] for h in up["hosts"]] == ["doif-sw-core-01", "doif-fw-01"]
    by_name = {c["name"]: c for c in up["components"]}
    assert by_name["switches"] == {"name": "switches", "started": True, "seconds": 1.25, "skipped": None}
    assert by_name["bind"]["started"] is False and by_name["bind"]["skipped"] == "named not installed"
    assert up["inventory"].endswith("nornir.yaml") and up["already_running"] is False
    down = document(cli("lab", "down", "--json"), "lab-down")
    assert down["killed"] == [101, 102] and down["leftovers"] == [] and down["exit_code"] == 0
    monkeypatch.setattr(FakeLab, "leftovers", ("process 103",))
    left = document(cli("lab", "down", "--json"), "lab-down", code=1)
    assert left["leftovers"] == ["process 103"] and left["exit_code"] == 1 and left["errors"]
