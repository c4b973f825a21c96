"""Commands: inventory, plan, apply, rollback, recover.

apply, rollback and recover parse their options, call :mod:`netchange.pipeline` (which owns the
sequence: guard, locks, state, prepare, rollout or restore) and print its typed outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netchange import redact
from netchange.cli._lazy import LazyConsole
from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest
from netchange.vocabulary import Category

if TYPE_CHECKING:
    from netchange.apply import ApplyOutcome, Progress
    from netchange.cli.jsonface import RunDocument
    from netchange.pipeline import RestoreMode, RestoreOutcome, Run
    from netchange.plan import Verdict
    from netchange.policy import Policy

# The pipeline, the policy, Nornir, the drivers, Jinja2 and the report templates are imported
# inside the commands that use them, so that ``--help`` and the commands of the other modules do
# not pay for them (issue 12 item 7, issue 20 item 5).

out = LazyConsole()

@app.command()
def inventory(
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the hosts of the inventory."""
    from netchange.inventory import load_inventory

    cfg = settings()
    hosts = [
        h for h in load_inventory(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins).hosts.values()
        if (role is None or h.get("role") == role) and (site is None or h.get("site") == site)
    ]
    if role is not None and not hosts and role not in {"switch", "firewall", "load_balancer", "dns", "router"}:
        raise BadRequest(f"unknown role {role!r}")
    rows = [
        {"name": h.name, "site": h.get("site"), "role": h.get("role"), "platform": h.platform,
         "hostname": h.hostname, "port": h.port, "ha_peer": h.get("ha_peer"), "criticality": h.get("criticality")}
        for h in sorted(hosts, key=lambda h: h.name)
    ]
    if as_json:
        from netchange.cli.jsonface import InventoryDocument

        def text(value: object) -> str | None:
            return None if value is None else str(value)

        print(InventoryDocument.model_validate({"hosts": [
            {**r, **{k: text(r[k]) for k in ("site", "role", "platform", "hostname", "ha_peer", "criticality")}}
            for r in rows]}).to_json())
        return
    from rich.table import Table

    table = Table("host", "site", "role", "platform", "address", "HA peer", "criticality")
    for r in rows:
        address = f"{r['hostname']}:{r['port']}" if r["port"] else str(r["hostname"])
        table.add_row(str(r["name"]), str(r["site"]), str(r["role"]), str(r["platform"]), address,
                      str(r["ha_peer"] or ""), str(r["criticality"] or ""))
    out.print(table)


def _policy() -> Policy:
    from netchange.policy import load_policy

    return load_policy(settings().policy_file())


def _client() -> str:
    return _policy().client


@app.command()
def plan(  # noqa: PLR0917 - typer reads each option from a parameter
    change_file: Annotated[Path, typer.Argument(help="The change request (YAML).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    output: Annotated[Path | None, typer.Option(help="Write a report: plan.html or plan.md.")] = None,
    offline: Annotated[Path | None, typer.Option(
        "--offline", metavar="DIR",
        help="Plan against stored configurations (Oxidized/RANCID backups, or a git repository with --rev); "
             "never contacts a device, never records.")] = None,
    rev: Annotated[str | None, typer.Option(
        "--rev", metavar="REV", help="With --offline: the git revision of the backups to read.")] = None,
    offline_git: Annotated[str | None, typer.Option(
        "--offline-git", metavar="REPO@REV",
        help="Plan against the backups of a git repository at a revision.")] = None,
    fail_on: Annotated[Category | None, typer.Option(
        "--fail-on", help="Exit 4 when the change's category reaches this one (a CI gate).")] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode",
        help="Exit 5 when the plan has changes (and no gate is reached), 0 only when no host has anything "
             "to change (Terraform's -detailed-exitcode).")] = False,
    no_record: Annotated[bool, typer.Option(
        "--no-record", help="Write neither the journal nor the plan store (the plan cannot be approved).")] = False,
    junit: Annotated[Path | None, typer.Option(
        "--junit", metavar="FILE", help="Write a JUnit XML report (a test case per host and per pre-check).")] = None,
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", metavar="FILE", help="Write a Markdown summary for a merge-request comment.")] = None,
) -> None:
    """Dry-run a change on every target: pre-checks, diff, classification, requirements. Never commits."""
    from netchange.pipeline import plan_change
    from netchange.plan import print_plan, render_document, verdict
    from netchange.policy import current_actor
    from netchange.privatefile import write_new_file
    from netchange.request import load_request

    request = load_request(change_file)
    if output is not None and output.suffix not in (".html", ".md"):
        raise BadRequest(f"{output}: the report must end in .html or .md")
    source = None
    if offline is not None or offline_git is not None or rev is not None:
        from netchange.plan import open_source

        source = open_source(offline, rev, offline_git)
    policy = _policy()
    planned = plan_change(settings(), policy, request, actor=current_actor(policy, settings().actor).login,
                          source=source, record=not no_record, origin=str(change_file))
    result, seconds = planned.plan, planned.seconds
    judged = verdict(result, fail_on, detailed=detailed_exitcode)
    if output is not None:
        write_new_file(output, render_document(result, output.suffix.lstrip("."), client=_client()))
    if junit is not None or markdown is not None:
        from netchange.report.ci import junit_xml, markdown_summary

        if junit is not None:
            write_new_file(junit, junit_xml(result, judged, seconds=seconds))
        if markdown is not None:
            write_new_file(markdown, markdown_summary(result, judged, source=source.describe() if source else None))
    if as_json:
        from netchange.cli.jsonface import plan_document

        document = plan_document(result, judged, recorded=planned.recorded,
                                 offline=source.describe() if source is not None else None)
        print(redact.scrub(document.to_json()))
    else:
        print_plan(result, out.console)
        for path in (output, junit, markdown):
            if path is not None:
                out.print(f"report written to {path}")
        _say_verdict(result.change.id, judged, recorded=planned.recorded)
    if judged.exit_code:
        raise typer.Exit(judged.exit_code)


def _say_verdict(change_id: str, judged: Verdict, *, recorded: bool) -> None:
    """The plan's verdict in one line, when it is not a plain "planned, exit 0"."""
    from netchange.plan import EXIT_CHANGES

    if judged.reason == "no_change":
        then = "; nothing to approve ('netchange apply' closes the change)" if recorded else ""
        out.print(f"{change_id}: no change: every host already matches{then}", highlight=False)
    elif judged.exit_code == EXIT_CHANGES:
        err.print(f"{change_id}: changes to apply (exit {EXIT_CHANGES}, --detailed-exitcode)", highlight=False)
    elif judged.exit_code:
        err.print(f"{change_id}: {judged.reason} (exit {judged.exit_code})", highlight=False)


class _Silent:
    """No live progress: under ``--json`` stdout holds the one document and nothing else."""

    def host(self, host: str, status: str, detail: str = "") -> None:
        return None

    def message(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None


def _run(*, as_json: bool = False, quiet: bool = False) -> tuple[Run, list[Progress]]:
    """What the pipeline needs from this invocation, and the live progress it made (once run)."""
    from netchange.apply import make_progress
    from netchange.pipeline import Run
    from netchange.policy import current_actor

    made: list[Progress] = []

    def progress(hosts: list[str]) -> Progress:
        made.append(_Silent() if quiet else make_progress(hosts, as_json=as_json, console=out.console))
        return made[-1]

    def warn(text: str) -> None:
        err.print(f"[bold yellow]warning:[/] {text}")

    policy = _policy()
    run = Run(settings=settings(), policy=policy, actor=current_actor(policy, settings().actor),
              progress=progress, warn=warn)
    return run, made


def _summary(outcome: ApplyOutcome, *, as_table: bool = True) -> None:
    if not as_table:
        # The live table showed each host; the summary line keeps why the change did not complete.
        causes = "; ".join(f"{h.host}: {h.error}" for h in outcome.hosts.values() if h.error)
        out.print(f"{outcome.change_id}: [bold]{outcome.outcome}[/]" + (f" — {redact.scrub(causes)}" if causes else ""),
                  highlight=False, soft_wrap=True)
        _alarm(outcome)
        return
    from rich.table import Table

    table = Table("host", "status", "detail", title=f"{outcome.change_id}: {outcome.outcome}", title_justify="left")
    for h in outcome.hosts.values():
        detail = h.error
        if h.restore is not None:
            detail += f" → restore {'verified' if h.restore.verified else 'NOT VERIFIED'} "
            detail += f"({'+'.join(h.restore.strategies)}, {h.restore.seconds:.2f}s)"
            if h.restore.checks:  # the network back too (an adjacency Full, a flow through)
                passed = sum(1 for c in h.restore.checks if c.get("passed"))
                detail += f"; network back: {passed}/{len(h.restore.checks)} checks passed"
        table.add_row(h.host, h.status, redact.scrub(detail))
    out.print(table)
    _alarm(outcome)


def _alarm(outcome: ApplyOutcome) -> None:
    if outcome.alarms:
        err.print(
            f"[bold white on red] ALARM [/] rollback NOT verified on {', '.join(outcome.alarms)}: "
            "these devices may not be as they were; act now", highlight=False, soft_wrap=True
        )
        for host in outcome.alarms:
            restore = outcome.hosts[host].restore
            if restore is not None and restore.errors:
                err.print(f"  {host}: {redact.scrub('; '.join(restore.errors))}", highlight=False, soft_wrap=True)


@app.command()
def apply(
    change_id: Annotated[str, typer.Argument(help="The change to run (its latest plan).", show_default=False)],
    emergency: Annotated[str | None, typer.Option(help="Run a medium/major change outside its window: why.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON document.")] = False,
    json_lines: Annotated[bool, typer.Option(
        "--json-lines", help="Progress as JSON lines, the outcome as the last line.")] = False,
    revert_in: Annotated[int, typer.Option(help="Confirmed-commit timeout in seconds, where supported.")] = 300,
) -> None:
    """Run an approved change: guard, drift check, commit, post-checks; roll back on any failure."""
    server = settings().server
    if server is not None:  # the service starts the workflow as the token's owner (issue 25)
        from netchange.cli import remoterun

        outcome = remoterun.apply(server, change_id, emergency=emergency, revert_in=revert_in,
                                  quiet=as_json and not json_lines, json_lines=json_lines)
        _say_apply(outcome, as_json=as_json, json_lines=json_lines, live=True)
        return
    from netchange.apply import RichProgress
    from netchange.pipeline import apply_change

    run, made = _run(as_json=json_lines, quiet=as_json and not json_lines)
    outcome = apply_change(run, change_id, emergency=emergency, revert_in=revert_in)
    _say_apply(outcome, as_json=as_json, json_lines=json_lines,
               live=any(isinstance(p, RichProgress) for p in made))


def _say_apply(outcome: ApplyOutcome, *, as_json: bool, json_lines: bool, live: bool) -> None:
    """The apply's end, the same from the in-process runner and through the service; exits with
    its code. ``live``: each host's steps were already shown as they came (a summary line, no table)."""
    change_id = outcome.change_id
    if as_json or json_lines:
        document = _outcome_document(outcome)
        print(redact.scrub(document.to_json() if not json_lines else document.model_dump_json()))
    elif outcome.outcome == "no_change":
        out.print(f"{change_id}: no change: every host already matched its plan ({', '.join(outcome.hosts)}); "
                  "nothing to do, nothing sent, no device contacted; the change is closed", highlight=False,
                  soft_wrap=True)
    else:
        # The live table on a terminal already shows each host's end state.
        _summary(outcome, as_table=not live)
    raise typer.Exit(outcome.exit_code)


def _outcome_document(outcome: ApplyOutcome) -> RunDocument:
    from netchange.cli.jsonface import HostRunOut, RunDocument, restore_out

    return RunDocument(
        change_id=outcome.change_id, command="apply", outcome=outcome.outcome.value, exit_code=outcome.exit_code,
        interrupted=outcome.interrupted, alarms=list(outcome.alarms),
        hosts=[HostRunOut(name=h.host, status=str(h.status), error=h.error, post_checks=list(h.post_checks),
                          restore=None if h.restore is None else restore_out(h.restore))
               for h in outcome.hosts.values()])


def _restore_command(change_id: str, *, mode: RestoreMode, emergency: str | None, as_json: bool = False) -> None:
    server = settings().server
    if server is not None:  # the service starts the workflow as the token's owner (issue 25)
        from netchange.cli import remoterun

        outcome = remoterun.restore(server, change_id, mode=mode, emergency=emergency, quiet=as_json)
    else:
        from netchange.pipeline import restore_change

        outcome = restore_change(_run(quiet=as_json)[0], change_id, mode=mode, emergency=emergency)
    _say_restore(outcome, mode=mode, as_json=as_json)


def _say_restore(outcome: RestoreOutcome, *, mode: RestoreMode, as_json: bool) -> None:
    """A rollback's or recover's end, the same from the in-process runner and through the service."""
    from netchange.pipeline import RestoreMode

    change_id = outcome.change_id
    if as_json:
        from netchange.cli.jsonface import HostRunOut, RunDocument, restore_out

        code = 1 if outcome.alarms else 0
        document = RunDocument(
            change_id=change_id, command="rollback" if mode is RestoreMode.ROLLBACK else "recover",
            outcome=outcome.state, exit_code=code, alarms=outcome.alarms,
            hosts=[HostRunOut(name=host, status="verified" if report.verified else "alarm",
                              error="; ".join(report.errors), restore=restore_out(report))
                   for host, report in outcome.reports.items()]
            + [HostRunOut(name=host, status="already") for host in outcome.already]
            + [HostRunOut(name=host, status="alarm" if host in outcome.differing else "unlocked",
                          error=outcome.differing.get(host, "")) for host in outcome.released])
        print(redact.scrub(document.to_json()))
        if code:
            raise typer.Exit(code)
        return
    if outcome.outcome is None:
        out.print(f"{change_id}: its apply was killed before the rollout: nothing was changed; "
                  f"locks released on {', '.join(outcome.released)}; still approved (apply it again, or plan again)",
                  highlight=False, soft_wrap=True)
        if outcome.differing:
            err.print("[bold white on red] ALARM [/] not as its snapshot (not this change's doing: it never "
                      "committed):", highlight=False)
            for host, why in outcome.differing.items():
                err.print(f"  {host}: {redact.scrub(why)}", highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        return
    if outcome.alarms:
        err.print(f"[bold white on red] ALARM [/] not restored: {', '.join(outcome.alarms)}", highlight=False)
        for host in outcome.alarms:
            err.print(f"  {host}: {redact.scrub('; '.join(outcome.reports[host].errors))}", highlight=False,
                      soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"{change_id}: {len(outcome.reports)} host(s) back to their snapshot, verified")


@app.command()
def rollback(
    change_id: Annotated[str, typer.Argument(help="A completed change.", show_default=False)],
    emergency: Annotated[str | None, typer.Option(help="Outside the window: why.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON document.")] = False,
) -> None:
    """Undo a completed change on request: restore each host's snapshot and verify (guarded, journaled)."""
    from netchange.pipeline import RestoreMode

    _restore_command(change_id, mode=RestoreMode.ROLLBACK, emergency=emergency, as_json=as_json)


@app.command()
def recover(
    change_id: Annotated[str, typer.Argument(help="A change left in_progress or failed.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as one JSON document.")] = False,
) -> None:
    """After a crash or an alarm: bring every device the last apply touched back to its snapshot, and verify."""
    from netchange.pipeline import RestoreMode

    _restore_command(change_id, mode=RestoreMode.RECOVER, emergency=None, as_json=as_json)


__all__ = ["apply", "inventory", "plan", "recover", "rollback"]
