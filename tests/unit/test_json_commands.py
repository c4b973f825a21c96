"""``--json`` on the small commands (issue 14 item 6): policy, journal head/migrate, version.

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
from netchange.jsonface import DOCUMENTS
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
