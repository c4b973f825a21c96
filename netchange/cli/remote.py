"""approve, reject, show and list through the approval service (when a server is configured).

The same words and JSON as the local commands, read from the service's JSON API
(:mod:`netchange.cli.apiclient`): the service decides who acts from the token, so ``NETCHANGE_ACTOR``
plays no part here.
"""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from netchange import redact
from netchange.cli.apiclient import ServiceClient
from netchange.cli.common import out
from netchange.config import ServerSettings


def approve(server: ServerSettings, change_id: str, *, reject: bool, comment: str, plan: str | None,
            as_json: bool = False) -> None:
    with ServiceClient(server) as client:
        done = client.decide(change_id, reject=reject, comment=comment, plan_hash=plan)
    verb = "rejected" if done.get("decision") == "rejected" else "approved"
    approvals = done.get("approvals") or {}
    if as_json:
        from netchange.cli.jsonface import ApprovalDocument

        print(ApprovalDocument(change_id=change_id, plan_hash=str(done.get("plan_hash", "")), decision=verb,
                               approver=str(done.get("approver", "")), comment=comment,
                               approvals=str(approvals.get("summary", "")),
                               approvals_complete=bool(approvals.get("complete")),
                               state=str(done.get("state", ""))).to_json())
        return
    out.print(f"{change_id}: {verb} by {done.get('approver')} for plan {str(done.get('plan_hash', ''))[:12]}"
              f" (via {server.url})")
    out.print(f"  approvals {escape(str(approvals.get('summary', '?')))}; state {escape(str(done.get('state', '?')))}")


def list_changes(server: ServerSettings, *, as_json: bool) -> None:
    with ServiceClient(server) as client:
        rows = client.list_changes()
    if as_json:
        from netchange.cli.jsonface import ChangeListDocument

        print(redact.scrub(ChangeListDocument.model_validate({"changes": [_row(r) for r in rows]}).to_json()))
        return
    table = Table("change", "state", "category", "sites", "requested", "updated", "title",
                  caption=f"from {server.url}", caption_justify="left")
    for r in rows:
        table.add_row(
            str(r.get("change_id")),
            str(r.get("state")) + (" (emergency)" if r.get("emergency") else ""),
            str(r.get("category") or ""),
            ",".join(r.get("sites") or []),
            _minute(r.get("created_at")),
            _minute(r.get("updated_at")),
            Text(str(r.get("title", ""))),  # the requester's words, never markup
        )
    out.print(table)


def show(server: ServerSettings, change_id: str, *, as_json: bool) -> None:
    with ServiceClient(server) as client:
        data = client.show(change_id)
    if as_json:
        from netchange.cli.jsonface import show_document

        print(redact.scrub(show_document(_sheet(data)).to_json()))
        return
    _print_sheet(data, server)


_ROW_KEYS = ("title", "state", "category", "outcome", "emergency", "sites", "plan_hash", "created_at", "updated_at")
"""The keys of a row of ``list --json`` (:class:`netchange.cli.jsonface.ChangeRow`)."""

_SERVICE_ONLY = ("change_id", "ticket", "requester", "hosts", "plan_hash", "created_at", "updated_at")
"""Keys the service adds to the tracking sheet's data; ``show --json`` rebuilds them as locally."""


def _row(r: dict[str, Any]) -> dict[str, Any]:
    """One service row in the local vocabulary: ``change_id``, hosts as objects with their name."""
    hosts = [h if isinstance(h, dict) else {"name": str(h)} for h in r.get("hosts") or []]
    return {"change_id": r.get("change_id"), "hosts": hosts, **{k: r.get(k) for k in _ROW_KEYS}}


def _sheet(data: dict[str, Any]) -> dict[str, Any]:
    """The service's tracking sheet as the local ``build_sheet(...).as_json()`` gives it."""
    sheet = {k: v for k, v in data.items() if k not in _SERVICE_ONLY}
    sheet["id"] = data.get("change_id")  # the local sheet's name for it (show_document renames it)
    return sheet


def _minute(value: Any) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ")


def _print_sheet(d: dict[str, Any], server: ServerSettings) -> None:
    p = out.print
    # Everything the service sends is data (people's words, devices' lines), never markup.
    p(f"[bold]{escape(str(d.get('change_id')))}[/] — {escape(str(d.get('title', '')))}  "
      f"(ticket {escape(str(d.get('ticket', '?')))}, requester {escape(str(d.get('requester', '?')))})")
    p(f"state [bold]{escape(str(d.get('state')))}[/]; category {escape(str(d.get('category') or '?'))}; "
      f"sites {escape(', '.join(d.get('sites') or []))}"
      + (f"; EMERGENCY: {escape(str(d['emergency']))}" if d.get("emergency") else ""))
    plan = d.get("plan")
    if isinstance(plan, dict):
        p(f"plan {str(plan.get('hash', ''))[:12]} by {plan.get('created_by')} at {plan.get('created_at')} "
          f"(policy {plan.get('policy_version')}, rules {plan.get('rules_version')})")
        for host in plan.get("hosts") or []:
            p(f"  [bold]{host.get('host')}[/] ({host.get('site')}) {host.get('category', '')}")
            for line in str(host.get("diff", "")).splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                text = escape(redact.scrub(line))
                p(f"    [{style}]{text}[/]" if style else f"    {text}")
        for line in d.get("requirements") or []:
            p(f"  · {escape(str(line))}")
    approvals = d.get("approvals")
    if isinstance(approvals, dict):
        p(f"approvals {escape(str(approvals.get('summary', '')))}")
        for a in approvals.get("valid") or []:
            p(f"  ✓ {escape(str(a.get('rule')))}: {escape(str(a.get('approver')))}")
        for rule in approvals.get("missing") or []:
            p(f"  ✗ missing {escape(str(rule))}")
        for group in approvals.get("who_may_approve") or []:
            p(escape(f"  who may give {group.get('needed')}: {', '.join(group.get('people') or []) or 'nobody'}"))
    p("events:")
    for e in d.get("events") or []:
        host = f" {e['host']}" if e.get("host") else ""
        p(f"  {e.get('seq', 0):>5} {_minute(e.get('at'))} {e.get('actor', ''):<10} {e.get('kind')}{host}"
          f" {escape(_brief(e.get('data') or {}))}", soft_wrap=True)
    head = d.get("journal_head") or {}
    p(f"journal head: {head.get('seq')} {head.get('hash')} (from {server.url})", soft_wrap=True)


def _brief(data: dict[str, Any]) -> str:
    if "to" in data and "from" in data:
        return f"{data['from']} → {data['to']} {data.get('reason', '')}".rstrip()
    text = json.dumps({k: v for k, v in data.items() if k not in {"request", "row_sha"}}, ensure_ascii=False)
    return text if len(text) < 140 else text[:137] + "..."
