"""Tracking sheet and quarterly report (md, html, json) and the read-only commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from netchange import redact
from netchange.cli.main import main
from netchange.guard import approve, check_apply
from netchange.journal import EventKind, Journal
from netchange.journal.testing import make_plan
from netchange.plan import store as planstore
from netchange.policy import actor_for, load_policy
from netchange.report import parse_quarter, quarter_stats, render_quarterly, render_sheet
from netchange.vocabulary import Category

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_policy(ROOT / "policy.yaml").model_copy(update={"freezes": ()})
NOW = dt.datetime(2026, 12, 1, 18, 10, tzinfo=dt.UTC)  # Tuesday 19:10 Paris


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite", clock=lambda: NOW) as j:
        yield j


def run_medium(journal, change_id="CHG-2026-0042", outcome="completed", emergency=None, site="doif"):
    plan = make_plan(
        change_id,
        category=Category.MEDIUM,
        hosts=((f"sw-{site}-1", site),),
        diff="+interface Vlan42\n+ ip address 10.0.42.1 255.255.255.0\n-old line\n",
    )
    journal.record_plan(plan, "dnguyen")
    manager = {"doif": "amoreau", "doso": "bleroy"}[site]  # each site's operations manager
    approve(POLICY, journal, change_id, actor_for(POLICY, manager), comment="weekly meeting")
    now = NOW if emergency is None else NOW - dt.timedelta(hours=6)
    check_apply(plan, policy=POLICY, journal=journal, actor="dnguyen", now=now, emergency=emergency)
    journal.acquire_locks(change_id, [h.host for h in plan.hosts], actor="dnguyen")
    journal.set_state(change_id, "in_progress", actor="dnguyen", reason="apply")
    journal.event(change_id, EventKind.COMMITTED, actor="dnguyen", host=plan.hosts[0].host, data={"ok": True})
    journal.set_state(change_id, outcome, actor="dnguyen")
    journal.release_locks(change_id, actor="dnguyen")
    return plan


def test_markdown_sheet_has_the_header_block_and_numbered_sections(journal):
    run_medium(journal)
    text = render_sheet(POLICY, journal, "CHG-2026-0042", fmt="md", now=NOW)
    assert "netchange — perimeter operations" in text
    assert POLICY.client in text
    assert "| Version |" in text
    assert "| Issued | 2026-12-01 19:10 CET |" in text
    assert "Page" in text
    for n, title in enumerate(["Request", "Plan", "Approvals", "Guard decisions", "Execution", "Outcome"], 1):
        assert f"## {n}. {title}" in text
    assert "+interface Vlan42" in text
    assert "amoreau" in text
    assert "weekly meeting" in text
    assert "allowed" in text
    assert "committed" in text
    assert "**completed**" in text


def test_html_sheet_paginates_and_escapes(journal):
    plan = run_medium(journal)
    journal.event(plan.change.id, EventKind.HOST_FAILED, actor="dnguyen", data={"text": "<script>alert(1)</script>"})
    html = render_sheet(POLICY, journal, "CHG-2026-0042", fmt="html", now=NOW)
    assert "@page" in html
    assert "counter(page)" in html
    assert "counter(pages)" in html
    assert "counter(section)" in html
    assert "<script>alert" not in html
    assert "netchange — perimeter operations" in html
    assert "Tracking sheet CHG-2026-0042" in html


def test_markdown_sheet_renders_no_html_from_journal_text(journal):
    from markdown_it import MarkdownIt

    plan = run_medium(journal)
    journal.event(plan.change.id, EventKind.HOST_FAILED, actor="dnguyen",
                  data={"text": "<img src=x onerror=alert(1)> | *x* [a](javascript:1)\n# not a heading"})
    md = render_sheet(POLICY, journal, "CHG-2026-0042", fmt="md", now=NOW)
    html = MarkdownIt("commonmark").render(md)  # raw HTML allowed, as Markdown viewers do
    assert "<img" not in html and "<a " not in html and "<em>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # still shown, as text
    assert "+interface Vlan42" in html


def test_sheet_never_shows_a_secret(journal):
    redact.register("Sup3rS3cret!")
    plan = run_medium(journal)
    journal.event(plan.change.id, EventKind.HOST_FAILED, actor="dnguyen", data={"text": "snmp community Sup3rS3cret!"})
    for fmt in ("md", "html"):
        assert "Sup3rS3cret!" not in render_sheet(POLICY, journal, plan.change.id, fmt=fmt, now=NOW)


def test_quarter_boundaries_are_local():
    since, until = parse_quarter("2026Q4", POLICY)
    assert since.isoformat() == "2026-10-01T00:00:00+02:00"
    assert until.isoformat() == "2027-01-01T00:00:00+01:00"


def test_quarterly_volumes(journal):
    run_medium(journal, "CHG-2026-0001")
    run_medium(journal, "CHG-2026-0002", outcome="rolled_back", site="doso")
    run_medium(journal, "CHG-2026-0003", outcome="failed")
    run_medium(journal, "CHG-2026-0004", emergency="core router down")
    stats = quarter_stats(POLICY, journal, "2026Q4")
    assert stats.total == 4
    assert stats.by_category == {"minor": 0, "medium": 4, "major": 0}
    assert stats.by_site == {"doif": 3, "doso": 1}
    assert stats.by_outcome == {"completed": 2, "failed": 1, "rolled_back": 1}
    assert stats.rollbacks == ["CHG-2026-0002"]
    assert stats.failures == ["CHG-2026-0003"]
    assert stats.emergencies == [{"id": "CHG-2026-0004", "category": "medium", "reason": "core router down"}]
    assert quarter_stats(POLICY, journal, "2027Q1").total == 0
    md = render_quarterly(POLICY, journal, "2026Q4", fmt="md", now=NOW)
    assert "## 1. Volumes per category and outcome" in md
    assert "core router down" in md
    assert "| medium | 4 |" in md
    html = render_quarterly(POLICY, journal, "2026Q4", fmt="html", now=NOW)
    assert "counter(page)" in html
    assert json.loads(render_quarterly(POLICY, journal, "2026Q4", fmt="json", now=NOW))["total"] == 4


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCHANGE_HOME", str(tmp_path))
    monkeypatch.setenv("NETCHANGE_POLICY", str(ROOT / "policy.yaml"))
    monkeypatch.delenv("NETCHANGE_JOURNAL", raising=False)
    return tmp_path


def cli(*argv):
    try:
        main(list(argv))
    except SystemExit as exc:
        return exc.code or 0
    return 0


def test_window_command_json(cli_env, capsys):
    assert (
        cli(
            "window",
            "--category",
            "medium",
            "--site",
            "doif",
            "--at",
            "2026-12-01T17:50:00Z",
            "--duration",
            "30m",
            "--json",
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["allowed"] is False
    assert data["next_open"] == "2026-12-01T19:00:00+01:00"
    assert (
        cli(
            "window",
            "--category",
            "major",
            "--site",
            "doso",
            "--at",
            "2026-12-05T10:00+01:00",
            "--duration",
            "4h",
            "--json",
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["allowed"] is True


@pytest.mark.parametrize(
    "args",
    [
        ("--category", "huge", "--site", "doif", "--at", "2026-12-01T10:00Z"),
        ("--category", "minor", "--site", "lyon", "--at", "2026-12-01T10:00Z"),
        ("--category", "minor", "--site", "doif", "--at", "yesterday"),
        ("--category", "minor", "--site", "doif", "--at", "2026-12-01T10:00Z", "--duration", "soon"),
    ],
)
def test_window_command_bad_input_exits_2(cli_env, capsys, args):
    assert cli("window", *args) == 2
    assert "error:" in capsys.readouterr().err


def test_approve_show_list_report_commands(cli_env, monkeypatch, capsys):
    plan = make_plan(category=Category.MEDIUM, requester="amoreau", hosts=(("sw-doso-1", "doso"),),
                     policy_digest=load_policy(ROOT / "policy.yaml").digest)
    planstore.save(cli_env / "plans", plan)
    with Journal(cli_env / "journal.sqlite") as j:
        j.record_plan(plan, "dnguyen")
    monkeypatch.setenv("NETCHANGE_ACTOR", "amoreau")
    assert cli("approve", "CHG-2026-0001") == 3  # amoreau requested it
    assert "nobody approves their own request" in capsys.readouterr().err
    monkeypatch.setenv("NETCHANGE_ACTOR", "bleroy")
    assert cli("approve", "CHG-2026-0001", "--comment", "go") == 0
    assert "state approved" in capsys.readouterr().out
    assert cli("show", "CHG-2026-0001", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["approvals"]["complete"] is True
    assert shown["state"] == "approved"
    assert cli("list", "--json") == 0
    assert json.loads(capsys.readouterr().out)["changes"][0]["change_id"] == "CHG-2026-0001"
    out = cli_env / "sheet.html"
    assert cli("report", "CHG-2026-0001", "--format", "html", "--output", str(out)) == 0
    assert "@page" in out.read_text()
    assert cli("report", "quarterly", "--quarter", "2026Q4", "--format", "json") == 0
    assert cli("report", "quarterly", "--quarter", "2026-13") == 2
    assert cli("journal", "verify") == 0
