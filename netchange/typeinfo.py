"""What the installed change types are: for ``netchange types`` and for editors.

:func:`describe_types` lists every change type of the registry (netchange's own and those other
distributions install under ``netchange.change_types``) with its roles, syntaxes, perimeter, the
distribution it comes from and the JSON Schema of its parameters (pydantic's, from its ``Params``
model). :func:`change_request_schema` is the JSON Schema of a change-request file in which each
step's ``params`` is checked against its own type's schema: an editor (the YAML language server,
VS Code, PyCharm) validates a change file as it is typed.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _distributions() -> dict[str, str]:
    """Change-type name → ``distribution version`` of the entry point that declares it."""
    from netchange.changetype import ENTRY_POINT_GROUP

    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown"
    return found


def describe_types() -> list[dict[str, Any]]:
    """Every installed change type, sorted by name (a type registered in code says ``registered``)."""
    from netchange.changetype import change_type_names, get_change_type

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

    from netchange.changetype import change_type_names, get_change_type
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
