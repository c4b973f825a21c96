"""Commands: ``netchange lab up | down | status`` — the stand-in devices of the demo and the tests.

The lab lives in ``<home>/lab`` (``--home``, else ``$NETCHANGE_HOME``, else ``.netchange``): its state, generated keys
and passwords, and the Nornir inventory it writes (``nornir.yaml`` there). Secrets are written to
a 0600 file and never shown here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from netchange.cli.main import app, settings
from netchange.errors import NetchangeError

lab_app = typer.Typer(help="Start, stop and inspect the lab of stand-in devices.", no_args_is_help=True)
app.add_typer(lab_app, name="lab")
console = Console()
stderr = Console(stderr=True)


if TYPE_CHECKING:
    from netchange.lab.manager import LabManager


class LabFailed(NetchangeError):
    """The lab could not be started or stopped cleanly."""


def _manager(*, quiet: bool = False, team: bool | None = None) -> LabManager:
    # The invocation's settings (--home > NETCHANGE_HOME > default), not a fresh read of the
    # environment: ``netchange --home H lab status`` is about H's lab. Imported here: the lab's
    # modules (dnspython, cryptography) are not paid for by the commands that do not use them.
    # Under --json the progress goes to stderr: stdout holds the one document.
    from netchange.lab.manager import LabManager

    shown = stderr if quiet else console
    root = settings().home / "lab"
    if team is None:  # status and down: whichever kind of lab is there
        team = (root / "team.yaml").exists()
    def log(msg: str) -> None:
        shown.print(f"[dim]{msg}[/]")

    if team:
        from netchange.lab.team import team_components

        return LabManager(root, components=team_components(), log=log)
    return LabManager(root, log=log)


@lab_app.command("up")
def up(
    as_json: Annotated[bool, typer.Option("--json", help="Print what started as one JSON document.")] = False,
    team: Annotated[bool, typer.Option("--team", help="The team lab instead: a centre (PostgreSQL, Temporal), "
                                       "one jump namespace per site, each site's switches behind it.")] = False,
) -> None:
    """Start every available stand-in and write its inventory (idempotent)."""
    root = settings().home / "lab"
    if (root / "state.json").exists() and (root / "team.yaml").exists() != team:
        raise LabFailed("a lab of the other kind is running here: netchange lab down first")
    manager = _manager(quiet=as_json, team=team)
    try:
        report = manager.up()
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise LabFailed(f"lab up failed: {exc}") from exc
    if as_json:
        from netchange.cli.jsonface import LabComponentOut, LabUpDocument

        names = [c.name for c in manager.components]
        components = [LabComponentOut(name=name, started=name not in report.skipped,
                                      seconds=round(report.timings[name], 3) if name in report.timings else None,
                                      skipped=report.skipped.get(name)) for name in names]
        print(LabUpDocument(already_running=report.already_running, components=components,
                            hosts=[{"name": h} for h in report.hosts], seconds=round(report.seconds, 3),
                            inventory=str(manager.nornir_config)).to_json())
        return
    for name, reason in report.skipped.items():
        console.print(f"[yellow]skipped[/] {name}: {reason}")
    if report.already_running:
        console.print(f"lab already running and healthy: {len(report.hosts)} devices")
    else:
        console.print(f"lab up: {len(report.hosts)} devices in {report.seconds:.1f} s")
    console.print(f"inventory: {manager.nornir_config}  (NETCHANGE_NORNIR_CONFIG={manager.nornir_config})")


@lab_app.command("down")
def down(
    as_json: Annotated[bool, typer.Option("--json", help="Print what was stopped as one JSON document.")] = False,
) -> None:
    """Stop exactly what ``lab up`` started and check that nothing is left."""
    manager = _manager(quiet=as_json)
    started = time.monotonic()
    report = manager.down()
    if as_json:
        from netchange.cli.jsonface import LabDownDocument

        code = 1 if report.leftovers else 0
        print(LabDownDocument(killed=list(report.killed), namespaces=list(report.namespaces),
                              leftovers=list(report.leftovers), errors=list(report.errors),
                              seconds=round(time.monotonic() - started, 3), exit_code=code).to_json())
        if code:
            raise typer.Exit(code)
        return
    console.print(f"stopped {len(report.killed)} processes, deleted {len(report.namespaces)} namespaces")
    for error in report.errors:  # each step stood alone: the others were still done
        console.print(f"[yellow]could not[/] {error}", highlight=False)
    if report.leftovers:
        raise LabFailed("still there after lab down: " + ", ".join(report.leftovers))
    console.print("nothing left running")


@lab_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as one JSON document.")] = False,
) -> None:
    """What the lab runs, device by device."""
    manager = _manager()
    problems = manager.problems()
    if as_json:
        from netchange.cli.jsonface import LabStatusDocument

        running = problems != ["not running"]
        hosts = [{"name": device, "component": component, "state": state}
                 for component, devices in (manager.status().items() if running else [])
                 for device, state in devices.items()]
        print(LabStatusDocument(running=running, healthy=running and not problems,
                                problems=[] if not running else problems, hosts=hosts).to_json())
        if running and problems:
            raise typer.Exit(1)
        return
    if problems == ["not running"]:
        console.print("lab not running")
        return
    table = Table("component", "device", "state")
    for component, devices in manager.status().items():
        for device, state in devices.items():
            table.add_row(component, device, state)
    console.print(table)
    if problems:
        console.print("[red]unhealthy:[/] " + "; ".join(problems))
        raise typer.Exit(1)
    console.print("healthy")
