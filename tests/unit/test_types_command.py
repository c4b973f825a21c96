"""``netchange types`` and the change-request schema: what is installed, and what editors validate with.

The schema is checked the way an editor uses it: a change file validates or not with the
``jsonschema`` library, each step's ``params`` against its own type's model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
import yaml

from netchange.basemodels import StrictModel
from netchange.changetype import CHANGE_TYPES, ChangeType, change_request_schema, describe_types
from netchange.models import SafeName
from netchange.vocabulary import Perimeter, Role

REQUEST = {"id": "CHG-2026-0042", "title": "Add VLAN", "ticket": "INC1", "requester": "amoreau",
           "steps": [{"type": "vlan", "targets": {"role": "switch", "syntax": "ios"},
                      "params": {"vlan_id": 20, "name": "servers"}}]}


def errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(change_request_schema())
    return [e.message for e in validator.iter_errors(document)]


def test_every_installed_type_is_listed_with_its_parameters() -> None:
    types = {t["name"]: t for t in describe_types()}
    assert set(types) >= {"vlan", "access_port", "static_route", "lb_member", "dns_record"}
    vlan = types["vlan"]
    assert vlan["roles"] == ["switch"] and vlan["syntaxes"] == ["ios", "netconf"]
    assert vlan["distribution"].startswith("netchange ")
    assert vlan["params_schema"]["required"] == ["vlan_id", "name"]
    assert vlan["params_schema"]["properties"]["vlan_id"]["maximum"] == 4094


def test_the_schema_accepts_a_good_file_and_names_the_wrong_params() -> None:
    assert errors(REQUEST) == []
    bad_vlan = json.loads(json.dumps(REQUEST))
    bad_vlan["steps"][0]["params"]["vlan_id"] = 5000
    assert any("5000" in e for e in errors(bad_vlan))
    # Params of another type are refused: each step is checked against its own type's model.
    other = json.loads(json.dumps(REQUEST))
    other["steps"][0]["params"] = {"prefix": "10.0.0.0/8", "next_hop": "10.1.1.1"}
    assert errors(other)
    unknown = json.loads(json.dumps(REQUEST))
    unknown["steps"][0]["type"] = "vlna"
    assert any("vlna" in e for e in errors(unknown))
    no_target = json.loads(json.dumps(REQUEST))
    no_target["steps"][0]["targets"] = {"colour": "blue"}
    assert errors(no_target)


def test_the_shipped_change_files_validate(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    files = sorted((repo / "changes").rglob("*.yaml"))
    assert files
    for path in files:
        assert errors(yaml.safe_load(path.read_text())) == [], path.name


class _Params(StrictModel):
    label: SafeName


class _Foreign(ChangeType[_Params]):
    name = "acme_label"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios"})
    Params = _Params


def test_a_type_from_another_package_is_listed_and_in_the_schema() -> None:
    with CHANGE_TYPES.registered("acme_label", _Foreign):
        listed = {t["name"]: t for t in describe_types()}["acme_label"]
        assert listed["distribution"] == "registered" and listed["syntaxes"] == ["ios"]
        doc = {**REQUEST, "steps": [{"type": "acme_label", "targets": {"role": "switch"}, "params": {"label": 3}}]}
        assert errors(doc)
        doc["steps"][0]["params"] = {"label": "x"}
        assert errors(doc) == []


@pytest.mark.usefixtures("workspace")
def test_the_command_lists_prints_json_and_writes_the_schema(cli: Callable[..., Any], tmp_path: Path) -> None:
    table = cli("types")
    assert table.code == 0 and "vlan" in table.out and "netconf" in table.out
    listed = cli("types", "--json")
    assert listed.code == 0
    assert "vlan" in {t["name"] for t in json.loads(listed.out)["types"]}
    target = tmp_path / "change-request.schema.json"
    written = cli("types", "--schema", str(target))
    assert written.code == 0
    assert json.loads(target.read_text()) == json.loads(json.dumps(change_request_schema()))
    printed = cli("types", "--schema", "-")
    assert json.loads(printed.out)["title"] == "netchange change request"
