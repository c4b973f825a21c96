"""The Jinja2 environment for the package's templates: HTML autoescaped, Markdown verbatim."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from netchange import redact
from netchange.errors import BadRequest

FORMATS = ("md", "html")


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    # HTML escapes every value (a diff line or a comment is data, never markup); Markdown does not.
    env = Environment(
        loader=PackageLoader("netchange.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md_cell"] = lambda v: str(v).replace("|", "\\|").replace("\n", " ")
    return env


def render(template: str, fmt: str, context: dict[str, Any]) -> str:
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    return redact.scrub(_env().get_template(f"{template}.{fmt}.j2").render(**context))
