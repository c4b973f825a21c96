"""Commands: window, approve, show, list, close, report, journal verify, policy adopt/status.

They read the policy and the journal only (never the inventory or a device), so they work from
any machine that has the journal file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from netchange import planstore, policypin, redact
from netchange.approvals import approve as do_approve
from netchange.approvals import close as do_close
from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest
from netchange.identity import current_actor
from netchange.journal import Journal
from netchange.models import Category
from netchange.policy import Policy, load_policy
from netchange.privatefile import write_new_file
from netchange.window import evaluate, parse_at, parse_duration

out = Console(highlight=False)
journal_app = typer.Typer(help="The journal: verify its keyed chain, print its head.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")
policy_app = typer.Typer(help="The policy in force: pinned in the journal by its digest.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


def _policy() -> Policy:
    return load_policy(settings().policy)


def _journal(*, warn: bool = True) -> Journal:
    journal = Journal(settings().journal)
    if warn:
        stuck = journal.in_progress()
        if stuck:
            err.print(
                f"[yellow]warning:[/] left in progress (crash?): {', '.join(stuck)}; "
                "run 'netchange recover CHANGE-ID'",
                highlight=False,
            )
    return journal


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.command()
def window(
    category: Annotated[str, typer.Option(help="minor, medium or major.")],
    site: Annotated[str, typer.Option(help="Site (doif, doso).")],
    at: Annotated[str, typer.Option(help="Start, ISO-8601 with a UTC offset.")],
    duration: Annotated[str, typer.Option(help="30m, 2h, 1h30m or PT1H30M.")] = "30m",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """May a change of CATEGORY run at SITE from AT for DURATION? And when does it next open?"""
    policy = _policy()
    verdict = evaluate(policy, _category(category), site, parse_at(at), parse_duration(duration))
    if as_json:
        print(json.dumps({**verdict.as_dict(), "policy_version": policy.version}, ensure_ascii=False))
        return
    mark = "[green]allowed[/]" if verdict.allowed else "[red]refused[/]"
    out.print(f"{mark}: {verdict.reason}")
    out.print(f"  {verdict.start.isoformat()} → {verdict.end.isoformat()} ({policy.timezone})")
    if not verdict.allowed:
        nxt = verdict.next_open.isoformat() if verdict.next_open else "not within 60 days"
        out.print(f"  next open: {nxt}")


def _category(text: str) -> Category:
    try:
        return Category(text)
    except ValueError as exc:
        raise BadRequest(f"unknown category {text!r} (known: minor, medium, major)") from exc


@app.command()
def approve(
    change_id: Annotated[str, typer.Argument(help="The change to approve.")],
    reject: Annotated[bool, typer.Option("--reject", help="Reject the plan instead.")] = False,
    comment: Annotated[str, typer.Option(help="Why (kept in the journal).")] = "",
    plan: Annotated[
        str | None, typer.Option("--plan", help="Hash (prefix) of the plan you read; refused if re-planned.")
    ] = None,
) -> None:
    """Approve (or reject) the change's current plan, as the acting person."""
    policy = _policy()
    actor = current_actor(policy, settings().actor)
    with _journal() as journal:
        policypin.require(policy, journal, actor=actor.login)
        # What is approved is the stored plan the journal names current, verified against its hash.
        stored = planstore.current(settings().plans_dir, journal, change_id)
        approval, status = do_approve(
            policy, journal, change_id, actor, reject=reject, comment=comment, plan_hash=plan, plan=stored
        )
        state = journal.state(change_id)
    verb = "rejected" if reject else "approved"
    out.print(f"{change_id}: {verb} by {approval.approver} for plan {approval.plan_hash[:12]}")
    out.print(f"  approvals {status.summary()}; state {state}")


@app.command()
def close(
    change_id: Annotated[str, typer.Argument(help="The change to close.")],
    comment: Annotated[str, typer.Option(help="The validation's note.")] = "",
) -> None:
    """Final validation: the engineer and the operations manager each close the change."""
    policy = _policy()
    actor = current_actor(policy, settings().actor)
    with _journal() as journal:
        policypin.require(policy, journal, actor=actor.login)
        missing = do_close(policy, journal, change_id, actor, comment=comment)
        state = journal.state(change_id)
    if missing:
        out.print(f"{change_id}: validation recorded; still to close: {', '.join(missing)} (state {state})")
    else:
        out.print(f"{change_id}: closed")


@app.command(name="list")
def list_changes(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The changes in the journal, with state, category and dates."""
    with _journal() as journal:
        rows = journal.changes()
    if as_json:
        print(json.dumps([_row_json(r) for r in rows], indent=2))
        return
    table = Table("change", "state", "category", "sites", "requested", "updated", "title")
    for r in rows:
        table.add_row(
            r.id,
            r.state.value + (" (emergency)" if r.emergency else ""),
            r.category.value if r.category else "",
            ",".join(r.sites),
            f"{r.created_at:%Y-%m-%d %H:%M}",
            f"{r.updated_at:%Y-%m-%d %H:%M}",
            r.title,
        )
    out.print(table)


def _row_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "state": r.state.value,
        "category": r.category.value if r.category else None,
        "sites": list(r.sites),
        "hosts": list(r.hosts),
        "outcome": r.outcome.value if r.outcome else None,
        "emergency": r.emergency,
        "plan_hash": r.plan_hash,
        "created_at": r.created_at.isoformat(),
        "updated_at": r.updated_at.isoformat(),
        "title": r.title,
    }


@app.command()
def show(
    change_id: Annotated[str, typer.Argument(help="The change to show.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The change's latest plan, approvals still valid and missing, state and events."""
    from netchange.report.sheet import build_sheet  # Jinja2 is loaded only by the reports

    policy = _policy()
    with _journal() as journal:
        sheet = build_sheet(policy, journal, change_id, now=_now())
    if as_json:
        print(json.dumps(sheet.as_json(), indent=2, ensure_ascii=False, default=str))
        return
    c = sheet.change
    out.print(f"[bold]{c.id}[/] — {c.title}  (ticket {c.ticket}, requester {c.requester})")
    out.print(
        f"state [bold]{c.state.value}[/]; category {c.category.value if c.category else '?'}; "
        f"sites {', '.join(c.sites)}" + (f"; EMERGENCY: {c.emergency}" if c.emergency else "")
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
                out.print(f"    [{style}]{redact.scrub(line)}[/]" if style else f"    {redact.scrub(line)}")
        for line in sheet.requirements:
            out.print(f"  · {line}")
    if sheet.approvals is not None:
        out.print(f"approvals {sheet.approvals.summary()}")
        for rule, a in sheet.approvals.satisfied:
            out.print(f"  ✓ {rule.describe()}: {a.approver} at {a.at:%Y-%m-%d %H:%M}Z {a.comment}")
        for rule in sheet.approvals.missing:
            out.print(f"  ✗ missing {rule.describe()}")
        for a, why in sheet.approvals.ignored:
            out.print(f"  - ignored {a.approver}: {why}")
        if sheet.approvals.voided:
            out.print(f"  ({len(sheet.approvals.voided)} approval(s) of earlier plans no longer count)")
    out.print("events:")
    for e in sheet.events:
        host = f" {e.host}" if e.host else ""
        out.print(f"  {e.seq:>5} {e.at:%Y-%m-%d %H:%M:%S}Z {e.actor:<10} {e.kind}{host} {_brief(e.data)}")
    out.print(f"journal head: {sheet.chain_seq} {sheet.chain_head}", soft_wrap=True)


def _brief(data: dict[str, Any]) -> str:
    if "to" in data and "from" in data:
        return f"{data['from']} → {data['to']} {data.get('reason', '')}".rstrip()
    if "allowed" in data:
        return ("allowed" if data["allowed"] else "refused") + ": " + "; ".join(data.get("reasons", []))
    text = json.dumps({k: v for k, v in data.items() if k not in {"request", "row_sha"}}, ensure_ascii=False)
    return text if len(text) < 140 else text[:137] + "..."


@app.command()
def report(
    target: Annotated[str, typer.Argument(help="A change id, or 'quarterly'.")],
    fmt: Annotated[str, typer.Option("--format", help="html, md (quarterly also json).")] = "md",
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
    quarter: Annotated[str | None, typer.Option(help="For quarterly: e.g. 2026Q4.")] = None,
) -> None:
    """The tracking sheet of a change, or the quarterly volumes for the steering committee."""
    from netchange.report import render_quarterly, render_sheet  # Jinja2 only for the reports

    policy = _policy()
    with _journal(warn=False) as journal:
        if target == "quarterly":
            if not quarter:
                raise BadRequest("report quarterly needs --quarter, e.g. 2026Q4")
            text = render_quarterly(policy, journal, quarter, fmt=fmt, now=_now())
        else:
            text = render_sheet(policy, journal, target, fmt=fmt, now=_now())
    text = redact.scrub(text)
    if output is None:
        sys.stdout.write(text)
    else:
        write_new_file(output, text)  # created 0600: it carries diffs and the journal's record
        out.print(f"written {output}")


@journal_app.command("verify")
def verify(
    heads: Annotated[
        Path | None,
        typer.Option("--heads", help="A file of 'SEQ HASH' lines collected elsewhere ('netchange journal head')."),
    ] = None,
) -> None:
    """Check the keyed chain, every table against it, and the heads kept elsewhere; exit 1 naming the first bad row."""
    anchors = _read_heads(heads) if heads is not None else []
    with _journal(warn=False) as journal:
        problems = journal.verify(heads=anchors)
        seq, head = journal.head()
    if problems:
        err.print(f"[red]first bad row:[/] {problems[0]}", highlight=False, soft_wrap=True)
        for p in problems[1:]:
            err.print(f"[red]broken:[/] {p}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    checked = f"; {len(anchors)} head(s) from {heads} match" if heads is not None else ""
    out.print(f"journal intact: {seq} events, head {head[:16]}{checked}")


_HEAD = re.compile(r"(?:^|\s)(\d+) ([0-9a-f]{64})(?:\s|$)")


def _read_heads(path: Path) -> list[tuple[int, str]]:
    """``SEQ HASH`` per line, as ``netchange journal head`` prints it or inside a syslog line
    (``NETCHANGE_JOURNAL_SYSLOG``); ``#`` comments and blank lines skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path}: cannot read: {exc}") from None
    heads = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        if not text.strip():
            continue
        found = _HEAD.search(text)
        if found is None:
            raise BadRequest(f"{path}:{number}: expected 'SEQ HASH' (as printed by 'netchange journal head')")
        heads.append((int(found.group(1)), found.group(2)))
    return heads


@journal_app.command("head")
def head() -> None:
    """Print the journal's head as 'SEQ HASH': append it to a file kept elsewhere to anchor the chain."""
    with _journal(warn=False) as journal:
        seq, digest = journal.head()
    print(f"{seq} {digest}")


@journal_app.command("migrate")
def migrate() -> None:
    """Key a journal written before keyed chains (its past keeps plain hashes, sealed by the keying event)."""
    with Journal(settings().journal, migrate_unkeyed=True) as journal:
        seq = journal.migrate_unkeyed()
    out.print(f"journal keyed from event {seq}")


@policy_app.command("adopt")
def policy_adopt(
    reason: Annotated[str, typer.Option(help="Why this version is put in force (kept in the journal).")] = "",
) -> None:
    """Put the policy file given (--policy / NETCHANGE_POLICY) in force in this journal.

    Only a person with a role of ``policy_admin`` in the policy pinned now may do it; until then,
    every deciding command with another policy file is refused.
    """
    policy = _policy()
    with _journal(warn=False) as journal:
        adoption = policypin.adopt(policy, journal, reason=reason, actor=settings().actor)
    pin = adoption.pin
    if adoption.previous is None:
        out.print(f"policy {pin.version} ({pin.digest[:12]}) pinned: first use of this journal")
    elif not adoption.changed:
        out.print(f"policy {pin.version} ({pin.digest[:12]}) is already in force")
    else:
        prev = adoption.previous
        out.print(
            f"policy {pin.version} ({pin.digest[:12]}) adopted by {pin.actor}, "
            f"replacing {prev.version} ({prev.digest[:12]})"
        )


@policy_app.command("status")
def policy_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The policy pinned in the journal, and whether the policy file given is that one."""
    policy = _policy()
    with _journal(warn=False) as journal:
        pin = policypin.pinned(journal)
    data = {
        "pinned": None if pin is None else {"version": pin.version, "digest": pin.digest, "path": pin.path,
                                             "by": pin.actor, "how": pin.kind},
        "given": {"version": policy.version, "digest": policy.digest, "path": policy.path},
        "in_force": pin is None or pin.digest == policy.digest,
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    if pin is None:
        out.print(f"no policy pinned yet; the next deciding command pins {policy.version} ({policy.digest[:12]})")
        return
    out.print(f"pinned: {pin.version} ({pin.digest[:12]}) from {pin.path} ({pin.kind} by {pin.actor})")
    mark = "in force" if data["in_force"] else "NOT in force: 'netchange policy adopt' first"
    out.print(f"given:  {policy.version} ({policy.digest[:12]}) from {policy.path}: {mark}")
