"""Commands: inventory, plan (and, with the apply issue, apply, rollback, recover)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from netchange import planstore, redact
from netchange.cli.main import app, settings
from netchange.errors import BadRequest
from netchange.inventory import load_nornir
from netchange.models import Category
from netchange.plan import Plan, build_plan
from netchange.planview import print_plan, render_document
from netchange.request import load_request

out = Console()


@app.command()
def inventory(
    role: Annotated[str | None, typer.Option(help="Only this role.")] = None,
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the hosts of the inventory."""
    nr = load_nornir(settings().nornir_config)
    hosts = [
        h for h in nr.inventory.hosts.values()
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


def _requirements_and_version() -> tuple[str, object]:
    from netchange.policy import load_policy

    policy = load_policy(settings().policy)
    return policy.version, policy.requirements


def _actor() -> str:
    from netchange.identity import current_actor

    try:
        return current_actor(settings().policy)
    except Exception:  # an unknown account may still plan (read-only)
        return getpass.getuser()


def _client() -> str:
    from netchange.policy import load_policy

    return load_policy(settings().policy).client


def plan_json(plan: Plan) -> dict[str, object]:
    """The plan as the ``--json`` contract: change, category, plan_hash, hosts → diff, category, reasons."""
    data = json.loads(plan.model_dump_json())
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
    request = load_request(change_file)
    if output is not None and output.suffix not in (".html", ".md"):
        raise BadRequest(f"{output}: the report must end in .html or .md")
    cfg = settings()
    nr = load_nornir(cfg.nornir_config)
    version, requirements = _requirements_and_version()
    try:
        result = build_plan(request, nr, actor=_actor(), policy_version=version,
                            requirements=requirements)  # type: ignore[arg-type]
    except BadRequest as exc:
        raise BadRequest(f"{change_file}: {exc}") from None
    planstore.save(cfg.plans_dir, result)
    from netchange.journal import Journal

    with Journal(cfg.journal) as journal:
        journal.record_plan(result, actor=result.created_by)
    if output is not None:
        output.write_text(render_document(result, output.suffix.lstrip("."), client=_client()))
    if as_json:
        print(redact.scrub(json.dumps(plan_json(result), indent=2)))
    else:
        print_plan(result, out)
        if output is not None:
            out.print(f"report written to {output}")
    if not result.ok:
        raise typer.Exit(1)


__all__ = ["Category", "inventory", "plan"]
