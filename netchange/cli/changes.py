"""Commands: inventory, plan (and, with the apply issue, apply, rollback, recover)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from netchange import clock, devicelock, planstore, policypin, redact
from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest, GuardRefused, NetchangeError, StateConflict
from netchange.guard import check_apply, check_rollback
from netchange.identity import current_actor
from netchange.journal import Journal
from netchange.policy import Policy, load_policy
from netchange.privatefile import write_new_file
from netchange.request import load_request

if TYPE_CHECKING:
    from netchange.apply import ApplyOutcome
    from netchange.plan import Plan

# Nornir, the drivers, Jinja2 and the report templates are imported inside the commands that use
# them, so that ``--help``, ``version``, ``classify`` and ``window`` do not pay for them (issue 12).

out = Console()


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
        h for h in load_inventory(cfg.nornir_config, secrets=cfg.secrets).hosts.values()
        if (role is None or h.get("role") == role) and (site is None or h.get("site") == site)
    ]
    if role is not None and not hosts and role not in {"switch", "firewall", "load_balancer", "dns"}:
        raise BadRequest(f"unknown role {role!r}")
    rows = [
        {"name": h.name, "site": h.get("site"), "role": h.get("role"), "platform": h.platform,
         "hostname": h.hostname, "port": h.port, "ha_peer": h.get("ha_peer"), "criticality": h.get("criticality")}
        for h in sorted(hosts, key=lambda h: h.name)
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("host", "site", "role", "platform", "address", "HA peer", "criticality")
    for r in rows:
        address = f"{r['hostname']}:{r['port']}" if r["port"] else str(r["hostname"])
        table.add_row(str(r["name"]), str(r["site"]), str(r["role"]), str(r["platform"]), address,
                      str(r["ha_peer"] or ""), str(r["criticality"] or ""))
    out.print(table)


def _policy() -> Policy:
    return load_policy(settings().policy)


def _actor() -> str:
    """Who is acting: an unknown account may still plan (planning is reading)."""
    return current_actor(_policy(), settings().actor).login


def _client() -> str:
    return _policy().client


def plan_json(plan: Plan) -> dict[str, object]:
    """The plan as the ``--json`` contract: change, category, plan_hash, hosts → diff, category, reasons."""
    data: dict[str, Any] = json.loads(plan.model_dump_json())
    data["change"] = plan.change.id
    data["request"] = json.loads(plan.change.model_dump_json())
    data["hosts"] = {h["host"]: h for h in data["hosts"]}
    return data


@app.command()
def plan(
    change_file: Annotated[Path, typer.Argument(help="The change request (YAML).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    output: Annotated[Path | None, typer.Option(help="Write a report: plan.html or plan.md.")] = None,
) -> None:
    """Dry-run a change on every target: pre-checks, diff, classification, requirements. Never commits."""
    from netchange.credentials import require_logins
    from netchange.inventory import load_nornir
    from netchange.plan import bind_steps, build_plan
    from netchange.planview import print_plan, render_document

    request = load_request(change_file)
    if output is not None and output.suffix not in (".html", ".md"):
        raise BadRequest(f"{output}: the report must end in .html or .md")
    cfg = settings()
    policy = _policy()
    actor = current_actor(policy, settings().actor).login
    with Journal(cfg.journal) as journal:
        policypin.require(policy, journal, actor=actor)  # before any device is contacted
    nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets)
    try:
        targets = [h for step in bind_steps(request, nr) for h in step.hosts]
    except BadRequest as exc:
        raise BadRequest(f"{change_file}: {exc}") from None
    require_logins(nr, targets)  # before any device is contacted: one line per host lacking them
    try:
        result = build_plan(request, nr, actor=actor, policy_version=policy.version,
                            policy_digest=policy.digest, requirements=policy.requirements)
    except BadRequest as exc:
        raise BadRequest(f"{change_file}: {exc}") from None
    if result.category is not None:
        # A plan in which every host failed has nothing to approve: shown, neither stored nor recorded.
        planstore.save(cfg.plans_dir, result)
        with Journal(cfg.journal) as journal:
            journal.record_plan(result, actor=result.created_by)
    if output is not None:
        write_new_file(output, render_document(result, output.suffix.lstrip("."), client=_client()))
    if as_json:
        print(redact.scrub(json.dumps(plan_json(result), indent=2)))
    else:
        print_plan(result, out)
        if output is not None:
            out.print(f"report written to {output}")
    if not result.ok:
        raise typer.Exit(1)



def _warn_in_progress(journal: Journal, but: str | None = None) -> None:
    left = [c for c in journal.in_progress() if c != but]
    if left:
        err.print(f"[bold yellow]warning:[/] left in progress (run 'netchange recover ID'): {', '.join(left)}")


def _journal_intact(journal: Journal, change_id: str) -> None:
    """Refuse to act on a change whose record (events, state, plan, approvals) does not verify."""
    problems = journal.verify_change(change_id)
    if problems:
        raise GuardRefused(f"{change_id}: the journal's record of this change does not verify: {problems[0]}"
                           " (run 'netchange journal verify')")


def _summary(outcome: ApplyOutcome, *, as_table: bool = True) -> None:
    if not as_table:
        # The live table showed each host; the summary line keeps why the change did not complete.
        causes = "; ".join(f"{h.host}: {h.error}" for h in outcome.hosts.values() if h.error)
        out.print(f"{outcome.change_id}: [bold]{outcome.outcome}[/]" + (f" — {redact.scrub(causes)}" if causes else ""),
                  highlight=False, soft_wrap=True)
        _alarm(outcome)
        return
    table = Table("host", "status", "detail", title=f"{outcome.change_id}: {outcome.outcome}", title_justify="left")
    for h in outcome.hosts.values():
        detail = h.error
        if h.restore is not None:
            detail += f" → restore {'verified' if h.restore.verified else 'NOT VERIFIED'} "
            detail += f"({'+'.join(h.restore.strategies)}, {h.restore.seconds:.2f}s)"
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


def _device_locks(nr: Any, hosts: list[str], change_id: str, *, action: str, actor: str, home: Path) -> Any:
    """The machine-wide locks on ``hosts``' devices (see ``netchange.devicelock``), or exit 3."""
    return devicelock.locked(devicelock.identities(nr, hosts), change_id=change_id, action=action,
                             actor=actor, home=home)


@app.command()
def apply(
    change_id: Annotated[str, typer.Argument(help="The change to run (its latest plan).", show_default=False)],
    emergency: Annotated[str | None, typer.Option(help="Run a medium/major change outside its window: why.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Progress as JSON lines, then a JSON summary.")] = False,
    revert_in: Annotated[int, typer.Option(help="Confirmed-commit timeout in seconds, where supported.")] = 300,
) -> None:
    """Run an approved change: guard, drift check, commit, post-checks; roll back on any failure."""
    from netchange.apply import Applier, Interrupts
    from netchange.credentials import require_logins
    from netchange.inventory import load_nornir
    from netchange.progress import RichProgress, make_progress
    from rollback import SnapshotStore

    cfg = settings()
    policy = _policy()
    actor = current_actor(policy, settings().actor)
    with Journal(cfg.journal) as journal:
        policypin.require(policy, journal, actor=actor.login)
        # The plan the journal names current, verified against its hash and the journal's copy
        # (the guard checks again, under the locks, that it is still the current one).
        the_plan = planstore.current(cfg.plans_dir, journal, change_id)
    changing = [h.host for h in the_plan.hosts if h.changes]
    nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets)
    require_logins(nr, changing)  # before any lock or device: one line per host lacking them
    # The devices first, machine-wide: a second apply of this change, or any other change on
    # these devices from any state directory, is refused here (exit 3) before it reads anything.
    with (_device_locks(nr, changing, change_id, action="apply", actor=actor.login, home=cfg.home),
          Journal(cfg.journal) as journal):
        _warn_in_progress(journal, but=change_id)
        _journal_intact(journal, change_id)
        if not the_plan.ok:
            raise GuardRefused(f"{change_id}: the plan has hosts that cannot be changed; fix and plan again")
        check_apply(the_plan, policy=policy, journal=journal, actor=actor, now=clock.now(policy, settings().now),
                    emergency=emergency)
        progress = make_progress(changing, as_json=as_json, console=out)
        applier = Applier(the_plan, nr, journal=journal, snapshots=SnapshotStore(cfg.snapshots_dir),
                          progress=progress, actor=actor.login, revert_in=revert_in)
        journal.acquire_locks(change_id, changing, actor=actor.login)
        try:
            with Interrupts(applier, progress.message).installed():
                try:
                    applier.prepare()
                except NetchangeError:
                    progress.close()
                    raise
                journal.set_state(change_id, "in_progress", actor=actor.login, reason="apply")
                outcome = applier.rollout()
                journal.set_state(change_id, outcome.outcome, actor=actor.login,
                                  reason="; ".join(f"{h.host}: {h.error}" for h in outcome.hosts.values() if h.error))
        finally:
            progress.close()
            applier.close()
            journal.release_locks(change_id, changing, actor=actor.login)
    if as_json:
        print(redact.scrub(json.dumps(_outcome_json(outcome), indent=2)))
    else:
        # The live table on a terminal already shows each host's end state.
        _summary(outcome, as_table=not isinstance(progress, RichProgress))
    raise typer.Exit(outcome.exit_code)


def _outcome_json(outcome: ApplyOutcome) -> dict[str, object]:
    return {
        "change": outcome.change_id,
        "outcome": outcome.outcome,
        "interrupted": outcome.interrupted,
        "alarms": outcome.alarms,
        "hosts": {
            h.host: {"status": h.status, "error": h.error, "post_checks": h.post_checks,
                     "restore": None if h.restore is None else {
                         "verified": h.restore.verified, "strategies": h.restore.strategies,
                         "seconds": round(h.restore.seconds, 3), "errors": h.restore.errors}}
            for h in outcome.hosts.values()
        },
    }


def _plan_diffs(journal: Journal, change_id: str) -> dict[str, str]:
    """Host → diff of the plan the last apply ran (from the journal's copy of that plan)."""
    started = [e for e in journal.events(change_id) if e.kind == "apply_started"]
    plan_hash = str(started[-1].data.get("plan_hash")) if started and started[-1].data else None
    # Verified against its hash: a diff edited in the journal would make foreign lines look ours.
    plan = planstore.from_journal(journal, change_id, plan_hash)
    return {h.host: h.diff for h in plan.hosts} if plan is not None else {}


def _restore_command(change_id: str, *, mode: str, emergency: str | None) -> None:
    from netchange.credentials import require_logins
    from netchange.inventory import load_nornir
    from netchange.progress import make_progress
    from netchange.recover import last_apply, refuse_if_changed_since, restore_hosts
    from rollback import SnapshotStore

    cfg = settings()
    policy = _policy()
    actor = current_actor(policy, settings().actor)
    # Which devices: the last apply's hosts, read once to take their machine-wide locks; every
    # decision is then made again under the locks (another recover may have finished meanwhile).
    with Journal(cfg.journal) as journal:
        journal.state(change_id)
        hosts = sorted(last_apply(journal.events(change_id)))
    nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets)
    require_logins(nr, hosts)
    with (_device_locks(nr, hosts, change_id, action=mode, actor=actor.login, home=cfg.home),
          Journal(cfg.journal) as journal):
        state = journal.state(change_id)
        touched = last_apply(journal.events(change_id))
        if mode == "recover":
            # in_progress: left by a crash; failed: an alarm (a device unreachable during the
            # rollback, say): once the devices answer again, recover finishes the rollback.
            if state not in ("in_progress", "failed"):
                raise StateConflict(
                    f"{change_id} is {state}: only a change left in_progress or failed can be recovered")
            actor.require("recover")
            targets = [t for t in touched.values() if t.snapshot and not t.restored]
        else:
            if state != "completed":
                hint = "; run 'netchange recover' to bring back its devices" if state == "failed" else ""
                raise StateConflict(
                    f"{change_id} is {state}: only a completed change can be rolled back on request{hint}")
            policypin.require(policy, journal, actor=actor.login)
            the_plan = planstore.current(cfg.plans_dir, journal, change_id)
            _guard_rollback(the_plan, policy=policy, journal=journal, emergency=emergency)
            targets = [t for t in touched.values() if t.snapshot and t.commit_started]
        names = [t.host for t in targets]
        snapshots = SnapshotStore(cfg.snapshots_dir)
        # Every host the last apply had (all of them locked above): a crashed apply's rows go too.
        journal.acquire_locks(change_id, hosts, actor=actor.login)
        progress = make_progress(names, as_json=False, console=out)
        try:
            if mode == "rollback":
                refuse_if_changed_since(nr, targets, snapshots)
            if state != "in_progress":
                journal.set_state(change_id, "in_progress", actor=actor.login,
                                  reason="rollback on request" if mode == "rollback" else "recover after failure")
            journal.event(change_id, f"{mode}_started", actor=actor.login, data={"hosts": names})

            def note(kind: str, host: str, **data: object) -> None:
                journal.event(change_id, kind, actor=actor.login, host=host, data=data or None)

            run = restore_hosts(nr, targets, snapshots=snapshots, progress=progress, journal_event=note,
                                diffs=_plan_diffs(journal, change_id))
            outcome = "failed" if run.alarms else "rolled_back"
            journal.event(change_id, f"{mode}_finished", actor=actor.login,
                          data={"outcome": outcome, "alarms": run.alarms, "already": run.already})
            journal.set_state(change_id, outcome, actor=actor.login, reason=mode)
        finally:
            progress.close()
            journal.release_locks(change_id, hosts, actor=actor.login)
    if run.alarms:
        err.print(f"[bold white on red] ALARM [/] not restored: {', '.join(run.alarms)}", highlight=False)
        for host in run.alarms:
            err.print(f"  {host}: {redact.scrub('; '.join(run.reports[host].errors))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"{change_id}: {len(targets)} host(s) back to their snapshot, verified")


def _guard_rollback(the_plan: Plan, *, policy: Policy, journal: Journal, emergency: str | None) -> None:
    """A rollback on request is a change too: the guard's person, window and freeze rules."""
    check_rollback(the_plan, policy=policy, journal=journal, actor=current_actor(policy, settings().actor),
                   now=clock.now(policy, settings().now), emergency=emergency)


@app.command()
def rollback(
    change_id: Annotated[str, typer.Argument(help="A completed change.", show_default=False)],
    emergency: Annotated[str | None, typer.Option(help="Outside the window: why.")] = None,
) -> None:
    """Undo a completed change on request: restore each host's snapshot and verify (guarded, journaled)."""
    _restore_command(change_id, mode="rollback", emergency=emergency)


@app.command()
def recover(change_id: Annotated[str, typer.Argument(help="A change left in_progress or failed.",
                                                     show_default=False)]) -> None:
    """After a crash or an alarm: bring every device the last apply touched back to its snapshot, and verify."""
    _restore_command(change_id, mode="recover", emergency=None)


__all__ = ["apply", "inventory", "plan", "recover", "rollback"]
