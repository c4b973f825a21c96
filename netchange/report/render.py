"""The one Jinja2 set-up for every document netchange writes: plans, tracking sheets, reports, and
the configuration candidates the change types render.

Both kinds share the same options (:data:`COMMON_OPTIONS`: undefined values are errors, blocks do
not leave blank lines, the final newline is kept). Documents (:func:`environment`) add escaping
for their format; configuration candidates (:func:`config_environment`) are device text, escaped
by nothing: their values are validated by the change type's params before any template is loaded.
Each change type's templates are found in *its own package* (``<package>/templates``), so a
change type shipped by another distribution brings its templates next to its module.

Every value a template prints is data, never markup, whatever the format:

- HTML (``*.html.j2``): autoescaped. ``select_autoescape`` matches on the end of the template's
  name, so the extension it is given is ``html.j2``: the plan view once passed ``html``, which never
  matched ``plan.html.j2``, and a diff line ``<script>`` reached the manager's browser as a tag.
- Markdown (``*.md.j2``): a Markdown viewer renders inline HTML and Markdown syntax, so every value
  is escaped for Markdown by the environment's ``finalize`` (``&``, ``<``, ``>`` as entities;
  emphasis, link, code and table characters with a backslash; a value cannot start a block or a
  new line). Device text shown verbatim goes through ``md_fence`` / ``md_code``, which pick a fence
  longer than any run of backticks in the text, so the text cannot close it.
- CSS strings inside ``<style>`` (the printed page headers) use ``css_string``.

Secrets are scrubbed from each value *before* it is escaped (``p<ss`` would otherwise reach the
page as ``p&lt;ss`` and slip past the scrubber), and from the whole output after.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from netchange import redact
from netchange.errors import BadRequest

FORMATS = ("md", "html")
HTML_EXTENSIONS = ("html.j2", "htm.j2", "xml.j2", "html", "htm", "xml")
"""Template names that are HTML/XML, matched on the end of the name (``plan.html.j2``)."""

COMMON_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}
"""The options every netchange Jinja2 environment shares (documents and configuration candidates)."""


class MarkdownText(str):
    """Text already made inert for Markdown (by the functions below). Only Markdown templates let
    it through as is: an HTML template escapes it like any other string, so a Markdown helper used
    by mistake in an HTML template cannot open a hole (``markupsafe.Markup`` would)."""

    __slots__ = ()


_MD_INLINE = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_BLOCK_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+=]+(?=\s|$)|\d{1,9}[.)](?=\s|$))")
_NEWLINES = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_BACKTICKS = re.compile(r"`+")


def md_text(value: object) -> MarkdownText:
    """``value`` as inert Markdown inline text: no HTML, no emphasis/link/code/table syntax, one line."""
    text = _NEWLINES.sub(" ", redact.scrub(str(value)))
    text = "".join(_MD_ENTITIES.get(ch, ch) for ch in text)
    text = _MD_INLINE.sub(lambda m: "\\" + m.group(0), text)
    # A value printed at the start of a template line must not open a heading, list or quote.
    return MarkdownText(_MD_BLOCK_START.sub(_inert_block_start, text, count=1))


def _inert_block_start(m: re.Match[str]) -> str:
    lead, token = m.group(1), m.group(2)
    if token[0].isdigit():  # "1." / "1)" open an ordered list
        return f"{lead}{token[:-1]}\\{token[-1]}"
    return f"{lead}\\{token}"


def _longest_backtick_run(text: str) -> int:
    return max((len(m.group(0)) for m in _BACKTICKS.finditer(text)), default=0)


def md_code(value: object) -> MarkdownText:
    """``value`` as an inline code span (shown verbatim, never interpreted)."""
    text = _NEWLINES.sub(" ", redact.scrub(str(value)))
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return MarkdownText(f"{ticks}{pad}{text}{pad}{ticks}")


def md_fence(value: object, info: str = "") -> MarkdownText:
    """``value`` as a fenced code block: its fence is longer than any backtick run inside it."""
    text = redact.scrub(str(value)).rstrip("\n")
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return MarkdownText(f"{fence}{info}\n{text}\n{fence}")


def css_string(value: object) -> str:
    """``value`` inside a CSS string literal: everything but letters, digits and spaces hex-escaped
    (so neither ``"`` nor ``</style>`` survives; HTML autoescaping then has nothing left to change).
    Each escape ends with a space, which CSS takes as the escape's end: a space of the text after it
    is kept (``netchange — perimeter`` was printed ``netchange —perimeter``)."""
    text = _NEWLINES.sub(" ", redact.scrub(str(value)))
    return ("".join(ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):06x} " for ch in text))


def is_markdown(template_name: str | None) -> bool:
    return bool(template_name) and str(template_name).endswith((".md.j2", ".md"))


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """Every ``{{ value }}``: scrubbed, then escaped for Markdown (HTML is escaped by autoescape next)."""
    if value is None or isinstance(value, Markup):
        return value  # only a template's own ``|safe`` makes Markup; the whole output is scrubbed after
    if is_markdown(context.name):
        return value if isinstance(value, MarkdownText) else md_text(value)
    return redact.scrub(str(value))


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """Plan documents (``netchange/plan/templates``) and reports (``netchange/report/templates``)."""
    env = Environment(
        loader=ChoiceLoader([PackageLoader("netchange.plan", "templates"),
                             PackageLoader("netchange.report", "templates")]),
        autoescape=select_autoescape(enabled_extensions=HTML_EXTENSIONS, disabled_extensions=(),
                                     default_for_string=True, default=False),
        finalize=_finalize,
        **COMMON_OPTIONS,
    )
    env.filters["md_cell"] = md_text  # kept for the report templates: a table cell is inline text
    env.filters["md_code"] = md_code
    env.filters["md_fence"] = md_fence
    env.filters["css_string"] = css_string
    return env


@functools.cache
def config_environment(package: str) -> Environment:
    """Configuration candidates of the change types defined in ``package``: its ``templates`` folder
    (``netchange.tasks`` -> ``tasks/templates``; ``acme_changes`` -> ``acme_changes/templates``)."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=False,  # noqa: S701 - device configuration, not HTML; params are validated upstream
        **COMMON_OPTIONS,
    )


def render(template: str, fmt: str, context: dict[str, Any]) -> str:
    """Render ``<template>.<fmt>.j2`` (``md`` or ``html``); the result is scrubbed of secrets."""
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    return redact.scrub(environment().get_template(f"{template}.{fmt}.j2").render(**context))
