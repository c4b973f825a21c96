"""Commands that read the record: list, show, report (policy and journal only)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from netchange import redact
from netchange.cli.common import now as _now
from netchange.cli.common import open_journal as _journal
from netchange.cli.common import out
from netchange.cli.common import policy as _policy
from netchange.cli.main import app, settings
from netchange.errors import BadRequest
from netchange.privatefile import write_new_file


@app.command(name="list")
def list_changes(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The changes in the journal, with state, category and dates (the service's, when a server is set)."""
    server = settings().server
    if server is not None:
        from netchange.cli import remote

        remote.list_changes(server, as_json=as_json)
        return
    with _journal() as journal:
        rows = journal.changes()
    if as_json:
        from netchange.cli.jsonface import ChangeListDocument

        print(ChangeListDocument.model_validate({"changes": [_row_json(r) for r in rows]}).to_json())
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("change", "state", "category", "sites", "requested", "updated", "title")
    for r in rows:
        table.add_row(
            r.id,
            r.state.value + (" (emergency)" if r.emergency else ""),
            r.category.value if r.category else "no change" if r.plan_hash else "",
            ",".join(r.sites),
            f"{r.created_at:%Y-%m-%d %H:%M}",
            f"{r.updated_at:%Y-%m-%d %H:%M}",
            Text(r.title),  # the requester's words, never markup (a title may hold "[")
        )
    out.print(table)


def _row_json(r: Any) -> dict[str, Any]:
    return {
        "change_id": r.id,
        "state": r.state.value,
        "category": r.category.value if r.category else None,
        "sites": list(r.sites),
        "hosts": [{"name": h} for h in r.hosts],
        "outcome": r.outcome.value if r.outcome else None,
        "emergency": r.emergency,
        "plan_hash": r.plan_hash,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "title": r.title,
    }


@app.command()
def show(  # noqa: C901 - prints the tracking sheet section by section (change, plan, approvals, events)
    change_id: Annotated[str, typer.Argument(help="The change to show.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The change's latest plan, approvals still valid and missing, state and events (from the
    approval service when a server is configured)."""
    server = settings().server
    if server is not None:
        from netchange.cli import remote

        remote.show(server, change_id, as_json=as_json)
        return
    from netchange.report.sheet import build_sheet  # Jinja2 is loaded only by the reports

    policy = _policy()
    with _journal() as journal:
        sheet = build_sheet(policy, journal, change_id, now=_now())
    if as_json:
        from netchange.cli.jsonface import show_document

        print(redact.scrub(show_document(sheet.as_json()).to_json()))
        return
    from rich.markup import escape  # people's words and devices' lines are data, never markup

    c = sheet.change
    out.print(f"[bold]{c.id}[/] — {escape(c.title)}  (ticket {c.ticket}, requester {c.requester})")
    category = c.category.value if c.category else "no change" if c.plan_hash else "?"
    out.print(
        f"state [bold]{c.state.value}[/]; category {category}; "
        f"sites {', '.join(c.sites)}" + (f"; EMERGENCY: {escape(c.emergency)}" if c.emergency else "")
    )
    if sheet.plan:
        p = sheet.plan
        out.print(
            f"plan {p['hash'][:12]} by {p['created_by']} at {p['created_at']} "
            f"(policy {p['policy_version']}, rules {p['rules_version']})"
        )
        for host in p["hosts"]:
            out.print(f"  [bold]{host['host']}[/] ({host['site']}) {host.get('category', '')}")
            for line in str(host.get("diff", "")).splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                text = escape(redact.scrub(line))
                out.print(f"    [{style}]{text}[/]" if style else f"    {text}")
        for line in sheet.requirements:
            out.print(f"  · {escape(line)}")
    if sheet.approvals is not None:
        out.print(f"approvals {sheet.approvals.summary()}")
        for rule, a in sheet.approvals.satisfied:
            out.print(f"  ✓ {escape(rule.describe())}: {a.approver} at {a.at:%Y-%m-%d %H:%M}Z {escape(a.comment)}")
        for rule in sheet.approvals.missing:
            out.print(f"  ✗ missing {rule.describe()}")
        for a, why in sheet.approvals.ignored:
            out.print(f"  - ignored {a.approver}: {escape(why)}")
        if sheet.approvals.voided:
            out.print(f"  ({len(sheet.approvals.voided)} approval(s) of earlier plans no longer count)")
    out.print("events:")
    for e in sheet.events:
        host = f" {e.host}" if e.host else ""
        out.print(f"  {e.seq:>5} {e.at:%Y-%m-%d %H:%M:%S}Z {e.actor:<10} {e.kind}{host} {escape(_brief(e.data))}")
    out.print(f"journal head: {sheet.chain_seq} {sheet.chain_head}", soft_wrap=True)


def _brief(data: dict[str, Any]) -> str:
    if "to" in data and "from" in data:
        return f"{data['from']} → {data['to']} {data.get('reason', '')}".rstrip()
    if "allowed" in data:
        return ("allowed" if data["allowed"] else "refused") + ": " + "; ".join(data.get("reasons", []))
    text = json.dumps({k: v for k, v in data.items() if k not in {"request", "row_sha"}}, ensure_ascii=False)
    return text if len(text) < 140 else text[:137] + "..."


@app.command()
def report(  # noqa: PLR0917 (Typer reads each option from a parameter)
    target: Annotated[str, typer.Argument(help="A change id, 'quarterly' or 'weekly'.")],
    fmt: Annotated[str, typer.Option("--format", help="html, md (quarterly and weekly also json, csv, pdf).")] = "md",
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout (pdf: needed).")] = None,
    quarter: Annotated[str | None, typer.Option(help="For quarterly: e.g. 2026Q4.")] = None,
    week: Annotated[str | None, typer.Option(help="For weekly: an ISO week, e.g. 2026-W49.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (the report inside).")] = False,
) -> None:
    """The tracking sheet of a change, the quarterly volumes for the steering committee, or the
    weekly report for the operations meeting (an ISO week)."""
    from netchange.report import render_quarterly, render_sheet, render_weekly  # Jinja2 only for the reports

    policy = _policy()
    pdf = fmt == "pdf" and target in {"quarterly", "weekly"}
    if pdf and output is None:
        raise BadRequest("--format pdf needs --output FILE")  # bytes are not for a terminal
    text_fmt = "html" if pdf else fmt
    with _journal(warn=False) as journal:
        if target == "quarterly":
            if not quarter:
                raise BadRequest("report quarterly needs --quarter, e.g. 2026Q4")
            text = render_quarterly(policy, journal, quarter, fmt=text_fmt, now=_now())
        elif target == "weekly":
            if not week:
                raise BadRequest("report weekly needs --week, e.g. 2026-W49")
            text = render_weekly(policy, journal, week, fmt=text_fmt, now=_now())
        else:
            text = render_sheet(policy, journal, target, fmt=fmt, now=_now())
    text = redact.scrub(text)
    if pdf and output is not None:
        from netchange.report import html_to_pdf

        write_new_file(output, html_to_pdf(text))
        if as_json:
            from netchange.cli.jsonface import ReportDocument

            print(ReportDocument(target=target, format=fmt, output=str(output), text=None).to_json())
        else:
            out.print(f"written {output}")
        return
    if as_json:
        from netchange.cli.jsonface import ReportDocument

        if output is not None:
            write_new_file(output, text)
        print(ReportDocument(target=target, format=fmt, output=str(output) if output else None,
                             text=None if output else text).to_json())
        return
    if output is None:
        sys.stdout.write(text)
    else:
        write_new_file(output, text)  # created 0600: it carries diffs and the journal's record
        out.print(f"written {output}")
