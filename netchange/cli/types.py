"""Command: ``netchange types`` — the installed change types, their parameters, the schema for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from netchange.cli.main import app


@app.command("types")
def types_(
    as_json: Annotated[bool, typer.Option("--json", help="Print every type with its parameters' JSON Schema.")] = False,
    schema: Annotated[
        Path | None,
        typer.Option("--schema", help="Write the JSON Schema of change-request files to this file ('-': stdout).",
                     metavar="FILE"),
    ] = None,
) -> None:
    """List the installed change types: roles, syntaxes, where they come from, their parameters."""
    from netchange.changetype import change_request_schema, describe_types

    if schema is not None:
        text = json.dumps(change_request_schema(), indent=2, sort_keys=True) + "\n"
        if str(schema) == "-":
            typer.echo(text, nl=False)
        else:
            schema.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {schema}", err=True)
        return
    types = describe_types()
    if as_json:
        from netchange.cli.jsonface import TypesDocument

        typer.echo(TypesDocument.model_validate({"types": types}).to_json())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("type", "roles", "syntaxes", "parameters", "from", box=None, pad_edge=False)
    for t in types:
        props = t["params_schema"].get("properties", {})
        required = set(t["params_schema"].get("required", []))
        params = ", ".join(f"{p}{'' if p in required else '?'}" for p in props)
        table.add_row(t["name"], ", ".join(t["roles"]), ", ".join(t["syntaxes"]), params, t["distribution"])
    Console().print(table)
