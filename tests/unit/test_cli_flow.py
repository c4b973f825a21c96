"""The command line end to end on mock devices: plan, approve, show, guard refusals, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliResult

TUESDAY_1930 = "2026-12-01T19:30:00+01:00"
SUNDAY_1000 = "2026-11-29T10:00:00+01:00"

Cli = Callable[..., CliResult]


@pytest.fixture
def lab(two_switches: Path) -> Path:
    return two_switches  # tests/conftest.py


def write_change(root: Path, name: str = "servers", vlan: int = 20, **extra: object) -> Path:
    path = root / "chg.yaml"
    path.write_text(yaml.safe_dump({
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "amoreau",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": vlan, "name": name}}],
        **extra,
    }))
    return path


def test_plan_json_then_approve_then_window_refusal(lab: Path, cli: Cli) -> None:
    change = write_change(lab)
    planned = cli("plan", str(change), "--json", actor="dnguyen")
    assert planned.code == 0, planned.err
    data = json.loads(planned.out)
    assert data["category"] == "medium"
    assert [h["name"] for h in data["hosts"]] == ["sw1", "sw2"]  # one vocabulary (issue 14)

    # Self-approval (the requester) is refused; the client's ops manager of the other site approves.
    assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 3
    approved = cli("approve", "CHG-2026-0042", actor="bleroy")
    assert approved.code == 0, approved.err
    shown = cli("show", "CHG-2026-0042", actor="dnguyen")
    assert data["plan_hash"][:12] in shown.out

    # A medium change on a Sunday morning: refused with the next opening, exit 3.
    refused = cli("apply", "CHG-2026-0042", actor="dnguyen", now=SUNDAY_1000)
    assert refused.code == 3
    assert "next opens 2026-11-30T19:00" in refused.err
    assert len(refused.err.strip().splitlines()) == 1


def test_new_plan_voids_approvals(lab: Path, cli: Cli) -> None:
    change = write_change(lab)
    assert cli("plan", str(change), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="bleroy").code == 0
    write_change(lab, name="servers2")
    assert cli("plan", str(change), actor="dnguyen").code == 0
    refused = cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930)
    assert refused.code == 3
    assert "approval" in refused.err


def test_apply_in_window_with_approval_runs_and_journals(lab: Path, cli: Cli, runner: str) -> None:
    change = write_change(lab)
    assert cli("plan", str(change), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="bleroy").code == 0
    applied = cli("apply", "CHG-2026-0042", "--json", actor="dnguyen", now=TUESDAY_1930)
    # The mock device never shows VLAN 20, so the post-check fails and the change is rolled back.
    assert applied.code == 1
    summary = json.loads(applied.out)  # one document under --json; progress is --json-lines
    assert summary["outcome"] == "rolled_back"
    assert {h["name"]: h for h in summary["hosts"]}["sw1"]["restore"]["verified"] is True
    assert cli("journal", "verify").code == 0


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("servers\nno vlan 1", "newline"),
        ("x; no vlan 1", "letters, digits"),
        ("a" * 40, "1-32 characters"),
    ],
)
def test_hostile_values_are_refused_before_rendering(lab: Path, cli: Cli, name: str, why: str) -> None:
    result = cli("plan", str(write_change(lab, name=name)), actor="dnguyen")
    assert result.code == 2
    assert why in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "chg.yaml" in result.err and "steps.0.params.name" in result.err


def test_out_of_range_vlan_and_malformed_file(lab: Path, cli: Cli) -> None:
    bad = cli("plan", str(write_change(lab, vlan=4095)), actor="dnguyen")
    assert bad.code == 2 and "vlan_id" in bad.err
    broken = lab / "broken.yaml"
    broken.write_text("id: CHG-1\n  title: [unclosed\n")
    result = cli("plan", str(broken))
    assert result.code == 2 and "invalid YAML" in result.err and "Traceback" not in result.err
    assert cli("plan", str(lab / "missing.yaml")).code == 2


def test_a_description_follows_the_rules_of_the_platform_it_is_sent_to(lab: Path, cli: Cli) -> None:
    """An IOS description runs to the end of its line: "office end" or "no desk" are text there,
    never a command; a line break, a ``?`` (the terminal's help) or an accent is what IOS cannot
    keep as written (issue 22 item 7; the rules per platform: tests/unit/test_platform_free_text.py)."""
    def port(description: str) -> Path:
        path = lab / "port.yaml"
        path.write_text(yaml.safe_dump({
            "id": "CHG-2026-0043", "title": "Port", "ticket": "T", "requester": "amoreau",
            "steps": [{"type": "access_port", "targets": {"hosts": ["sw1"]},
                       "params": {"interfaces": ["GigabitEthernet1/0/2"], "description": description}}]}))
        return path

    assert cli("plan", str(port("office end; no desk")), actor="dnguyen").code == 0
    for bad, why in (("office\nno vlan 1", "line break"), ("office ?", "'?'"), ("bureau étage 2", "'é'")):
        result = cli("plan", str(port(bad)), actor="dnguyen")
        assert result.code == 2, result.out
        assert "steps.0.params.description" in result.err and why in result.err, result.err


def test_unknown_host_is_bad_input(lab: Path, cli: Cli) -> None:
    path = lab / "c.yaml"
    path.write_text(yaml.safe_dump({
        "id": "CHG-2026-0044", "title": "x", "ticket": "T", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"hosts": ["ghost"]}, "params": {"vlan_id": 5, "name": "x"}}]}))
    result = cli("plan", str(path))
    assert result.code == 2 and "unknown host 'ghost'" in result.err


def test_plan_report_for_the_approving_manager(lab: Path, cli: Cli) -> None:
    change = write_change(lab)
    html = lab / "plan.html"
    assert cli("plan", str(change), "--output", str(html), actor="dnguyen").code == 0
    text = html.read_text()
    for needed in ("netchange — perimeter operations", "Aquilon Operations", "Version 1.0", "CHG-2026-0042",
                   "counter(page)", "+vlan 20", "MEDIUM", "a client ops_manager"):
        assert needed in text, needed
    md = lab / "plan.md"
    assert cli("plan", str(change), "--output", str(md), actor="dnguyen").code == 0
    body = md.read_text()
    assert "# 1. Change CHG-2026-0042" in body and "## 3.2 sw2" in body and "```diff" in body
    assert cli("plan", str(change), "--output", str(lab / "plan.txt")).code == 2
