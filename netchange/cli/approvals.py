"""Commands that decide: window, approve, close (policy and journal only, never a device)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netchange.cli.common import open_journal as _journal
from netchange.cli.common import out
from netchange.cli.common import policy as _policy
from netchange.cli.main import app, settings
from netchange.errors import BadRequest

if TYPE_CHECKING:  # each command imports what it uses: a command line loads its own (start-up)
    from netchange.vocabulary import Category


@app.command()
def window(
    category: Annotated[str, typer.Option(help="minor, medium or major.")],
    site: Annotated[str, typer.Option(help="Site (doif, doso).")],
    at: Annotated[str, typer.Option(help="Start, ISO-8601 with a UTC offset.")],
    duration: Annotated[str, typer.Option(help="30m, 2h, 1h30m or PT1H30M.")] = "30m",
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as one JSON document.")] = False,
) -> None:
    """May a change of CATEGORY run at SITE from AT for DURATION? And when does it next open?"""
    from netchange.policy import evaluate, parse_at, parse_duration

    policy = _policy()
    verdict = evaluate(policy, _category(category), site, parse_at(at), parse_duration(duration))
    if as_json:
        from netchange.cli.jsonface import WindowDocument

        print(WindowDocument.model_validate({**verdict.as_dict(), "policy_version": policy.version}).to_json())
        return
    from rich.markup import escape  # the policy's words (a freeze's reason) are data, never markup

    mark = "[green]allowed[/]" if verdict.allowed else "[red]refused[/]"
    out.print(f"{mark}: {escape(verdict.reason)}")
    out.print(f"  {verdict.start.isoformat()} → {verdict.end.isoformat()} ({policy.timezone})")
    if not verdict.allowed:
        nxt = verdict.next_open.isoformat() if verdict.next_open else "not within 60 days"
        out.print(f"  next open: {nxt}")


def _category(text: str) -> Category:
    from netchange.vocabulary import Category

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
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as one JSON document.")] = False,
) -> None:
    """Approve (or reject) the change's current plan, as the acting person (through the approval
    service when a server is configured: then the person is the API token's)."""
    server = settings().server
    if server is not None:
        from netchange.cli import remote

        remote.approve(server, change_id, reject=reject, comment=comment, plan=plan, as_json=as_json)
        return
    from netchange.guard import approve as do_approve
    from netchange.plan import store as planstore
    from netchange.policy import current_actor
    from netchange.policy import pin as policypin

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
    if as_json:
        from netchange.cli.jsonface import ApprovalDocument

        print(ApprovalDocument(change_id=change_id, plan_hash=approval.plan_hash, decision=verb,
                               approver=approval.approver, comment=approval.comment, approvals=status.summary(),
                               approvals_complete=status.complete, state=str(state)).to_json())
        return
    out.print(f"{change_id}: {verb} by {approval.approver} for plan {approval.plan_hash[:12]}")
    from rich.markup import escape  # the summary quotes rejections' comments: data, never markup

    out.print(f"  approvals {escape(status.summary())}; state {state}")


@app.command()
def reject(
    change_id: Annotated[str, typer.Argument(help="The change to reject.")],
    comment: Annotated[str, typer.Option(help="Why (kept in the journal, shown to the requester).")] = "",
    plan: Annotated[
        str | None, typer.Option("--plan", help="Hash (prefix) of the plan you read; refused if re-planned.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as one JSON document.")] = False,
) -> None:
    """Reject the change's current plan: the guard refuses to apply it until it is planned again.
    Same as ``approve --reject``."""
    approve(change_id, reject=True, comment=comment, plan=plan, as_json=as_json)


@app.command()
def close(
    change_id: Annotated[str, typer.Argument(help="The change to close.")],
    comment: Annotated[str, typer.Option(help="The validation's note.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Final validation: the engineer and the operations manager each close the change."""
    from netchange.pipeline import close_change
    from netchange.policy import current_actor

    policy = _policy()
    actor = current_actor(policy, settings().actor)
    with _journal() as journal:
        missing = close_change(policy, journal, change_id, actor, comment=comment)
        state = journal.state(change_id)
    if as_json:
        from netchange.cli.jsonface import CloseDocument

        print(CloseDocument(change_id=change_id, closed=not missing, still_to_close=list(missing),
                            state=str(state)).to_json())
        return
    if missing:
        out.print(f"{change_id}: validation recorded; still to close: {', '.join(missing)} (state {state})")
    else:
        out.print(f"{change_id}: closed")
