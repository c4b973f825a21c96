"""Commands: classify (a diff file → minor | medium | major, with reasons) and version."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netchange.cli._lazy import LazyConsole
from netchange.cli.main import app
from netchange.errors import BadRequest

if TYPE_CHECKING:  # loaded by the command (start-up: 'netchange --help' imports this module)
    from netchange.vocabulary import Role

out = LazyConsole()


@app.command()
def classify(  # noqa: PLR0917 - typer maps each option to a parameter
    platform: Annotated[
        str, typer.Option(help="The host's platform (ios, ios_cli, asa, nftables, haproxy, bind, …).")
    ],
    diff: Annotated[str, typer.Option(help="The diff file ('-' reads standard input); a regular file, 8 MiB at most.")],
    role: Annotated[
        str | None, typer.Option(help="switch | firewall | load_balancer | dns | router (default: from the platform).")
    ] = None,
    change_type: Annotated[str | None, typer.Option(help="The change type, if known.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as one JSON document.")] = False,
    running: Annotated[
        str | None,
        typer.Option(help="The host's running configuration, as the plan passes it to the context rules."),
    ] = None,
) -> None:
    """Classify one host's diff as the quality plan says: minor, medium or major, and why."""
    from netchange.classifiers import classify_diff, load_ruleset

    ruleset = load_ruleset()
    family = ruleset.family(platform)  # an unknown platform is BadRequest (exit 2)
    host_role = _role(role) if role is not None else family.default_role
    text = _read(diff)
    running_text = _read(running, what="running configuration") if running is not None else None
    verdict = classify_diff(
        text, platform=platform, role=host_role, change_type=change_type, ruleset=ruleset, running=running_text
    )
    if as_json:
        from netchange.cli.jsonface import ClassifyDocument

        doc = {
            "category": str(verdict.category),
            "platform": platform,
            "role": str(host_role),
            "unclassified": list(verdict.unclassified),
            "reasons": [
                {
                    "rule": r.rule,
                    "category": str(r.category),
                    "paq_item": r.paq_item,
                    "description": r.description,
                    "lines": list(r.lines),
                }
                for r in verdict.reasons
            ],
            "rules_version": ruleset.version,
        }
        print(ClassifyDocument.model_validate(doc).to_json())
        return
    from rich.table import Table

    table = Table("category", "rule", "quality-plan item", "lines", title=f"{platform} as {host_role}")
    for r in verdict.reasons:
        table.add_row(str(r.category), r.rule, r.paq_item, _shown(r.lines))
    out.print(table)
    out.print(f"[bold]{verdict.category}[/] (rules {ruleset.version})", highlight=False)


TABLE_LINES = 20
"""Matched lines shown per reason in the table (``--json`` gives them all): a terminal table of
tens of thousands of lines took rich minutes to lay out (a 2 MiB diff: 20 s, against 2 s in JSON)."""


def _shown(lines: tuple[str, ...] | list[str]) -> str:
    if len(lines) <= TABLE_LINES:
        return "\n".join(lines)
    return "\n".join([*lines[:TABLE_LINES], f"… and {len(lines) - TABLE_LINES} more (--json lists them all)"])


def _role(value: str) -> Role:
    from netchange.vocabulary import Role

    try:
        return Role(value)
    except ValueError:
        raise BadRequest(f"unknown role {value!r} (known: {', '.join(r.value for r in Role)})") from None


def _read(path: str, what: str = "diff") -> str:
    """The file's text, bounded (:data:`netchange.request._bounds.MAX_DIFF_BYTES`) before it is classified."""
    from netchange.request import MAX_DIFF_BYTES, read_bounded_stream, read_regular_file

    if path == "-":
        return read_bounded_stream(sys.stdin.buffer, limit=MAX_DIFF_BYTES, what=what)
    return read_regular_file(Path(path), limit=MAX_DIFF_BYTES, what=what)
