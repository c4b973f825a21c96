"""What the installed change types are: for ``netchange types`` and for editors.

:func:`describe_types` lists every change type of the registry (netchange's own and those other
distributions install under ``netchange.change_types``) with its roles, syntaxes, perimeter, the
distribution it comes from and the JSON Schema of its parameters (pydantic's, from its ``Params``
model). :func:`change_request_schema` is the JSON Schema of a change-request file in which each
step's ``params`` is checked against its own type's schema: an editor (the YAML language server,
VS Code, PyCharm) validates a change file as it is typed.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _distributions() -> dict[str, str]:
    """Change-type name → ``distribution version`` of the entry point that declares it."""
    from netchange.changetype._contract import ENTRY_POINT_GROUP

    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown"
    return found


def describe_types() -> list[dict[str, Any]]:
    """Every installed change type, sorted by name (a type registered in code says ``registered``)."""
    from netchange.changetype._contract import change_type_names, get_change_type

    dists = _distributions()
    described = []
    for name in change_type_names():
        kind = get_change_type(name)
        cls = type(kind)
        described.append({
            "name": name,
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else _module_summary(cls),
            "distribution": dists.get(name, "registered"),
            "class": f"{cls.__module__}:{cls.__qualname__}",
            "perimeter": str(kind.perimeter),
            "roles": sorted(str(r) for r in kind.roles),
            "syntaxes": sorted(kind.syntaxes),
            "params_schema": kind.Params.model_json_schema(),
        })
    return described


def _module_summary(cls: type[Any]) -> str:
    import sys

    doc = getattr(sys.modules.get(cls.__module__), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def change_request_schema() -> dict[str, Any]:
    """The JSON Schema of a change-request file, each step's ``params`` per its ``type``."""
    from pydantic.json_schema import models_json_schema

    from netchange.changetype._contract import change_type_names, get_change_type
    from netchange.models import ChangeRequest

    names = change_type_names()
    params = [get_change_type(n).Params for n in names]
    keys, top = models_json_schema([(ChangeRequest, "validation"), *[(p, "validation") for p in params]],
                                   ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]
    step = defs["Step"]
    step["properties"]["type"] = {**step["properties"]["type"], "enum": names,
                                  "description": "The change type (netchange types lists them)."}
    step["allOf"] = [
        {"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
         "then": {"properties": {"params": keys[(model, "validation")]}}}
        for name, model in zip(names, params, strict=True)
    ]
    request = defs.pop("ChangeRequest")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://netchange.invalid/schemas/change-request.json",
        **request,
        "title": "netchange change request",
        "$defs": defs,
    }


# -- docs/change-request-format.md, generated from the models ------------------------------------

REFERENCE_HEADER = """# Change-request format

<!-- Generated from the models (netchange/models.py and each change type's Params) by
     `python -m netchange.changetype._typeinfo > docs/change-request-format.md`; a test fails when it is stale. -->

A change request is one YAML file. It is bounded before it is parsed (size, nesting, node count,
steps, hosts), duplicate keys are refused, and a value holding a known secret is refused. Every
problem is one line naming the file and the field, exit 2, before any device is contacted.
`netchange types --schema FILE` writes the same format as a JSON Schema for editors.

```yaml
id: CHG-2026-0042
title: Add VLAN 20 on the DOIF access switches
ticket: INC123
requester: amoreau
steps:
  - type: vlan
    targets: {role: switch, site: doif, syntax: ios}
    params: {vlan_id: 20, name: servers}
```
"""


def _type_of(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        kinds = [_type_of(s) for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = any(s.get("type") == "null" for s in schema["anyOf"])
        return " or ".join(kinds) + (" or null" if nullable else "")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = str(schema.get("type", "any"))
    if kind == "array":
        items = schema.get("items", {})
        return f"list of {_type_of(items) if items else 'any'}"
    if kind == "object":
        return "mapping"
    fmt = schema.get("format")
    text = f"{kind} ({fmt})" if fmt else kind
    bounds = [f"{word} {schema[key]}" for key, word in (
        ("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"),
        ("minLength", "length ≥"), ("maxLength", "length ≤"), ("minItems", "items ≥"), ("maxItems", "items ≤"),
    ) if key in schema]
    return text + (f", {', '.join(bounds)}" if bounds else "")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _fields_table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", ()))
    rows = ["| field | type | required / default | meaning |", "|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        if name in required:
            need = "required"
        elif "default" in prop:
            need = f"default `{json.dumps(prop['default'])}`"
        else:
            need = "optional"
        rows.append(f"| `{name}` | {_cell(_type_of(prop))} | {need} | {_cell(prop.get('description', ''))} |")
    return rows


def change_request_reference() -> str:
    """docs/change-request-format.md: the request's models, then netchange's own change types' params."""
    from netchange.changetype._contract import change_type_names, get_change_type
    from netchange.models import ChangeRequest

    schema = ChangeRequest.model_json_schema()
    defs = schema.get("$defs", {})
    out = [REFERENCE_HEADER]
    for title, model in [("ChangeRequest", schema), *sorted(defs.items())]:
        out.append(f"## {title}\n")
        if model.get("description"):
            out.append(" ".join(str(model["description"]).split()) + "\n")
        if "properties" in model:
            out += [*_fields_table(model), ""]
        elif "enum" in model:
            out.append("One of " + ", ".join(f"`{v}`" for v in model["enum"]) + ".\n")
    out.append("## Parameters of netchange's change types\n")
    out.append("Types installed from other distributions document their own (`netchange types --json`).\n")
    for name in change_type_names():
        kind = get_change_type(name)
        if not type(kind).__module__.startswith("netchange.tasks."):
            continue
        params = kind.Params.model_json_schema()
        out.append(f"### `{name}`\n")
        out.append(f"Roles: {', '.join(sorted(str(r) for r in kind.roles))}; "
                   f"syntaxes: {', '.join(sorted(kind.syntaxes))}.\n")
        out += [*_fields_table(params), ""]
        for sub, sub_schema in sorted(params.get("$defs", {}).items()):
            if "properties" in sub_schema:
                out += [f"`{name}` — {sub}:\n", *_fields_table(sub_schema), ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(change_request_reference())
