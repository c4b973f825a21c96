"""Show-command output parsed with ntc-templates (TextFSM), with the template lookup done once.

``ntc_templates.parse.parse_output`` reads and matches the template index (some 1,500 entries)
on every call: about 10 ms of CPU, paid twice per host in a plan and an apply. The index and each
template's text are loaded once here; a fresh ``TextFSM`` parses each output (they are not
reusable across threads). The results are the same dictionaries, with lower-case keys.
"""

from __future__ import annotations

import io
import threading
from functools import cache
from pathlib import Path
from typing import Any

import textfsm
from textfsm import clitable

from netchange.errors import BadRequest

_lock = threading.Lock()


@cache
def _templates_dir() -> Path:
    import ntc_templates

    return Path(ntc_templates.__file__).parent / "templates"


@cache
def _index() -> clitable.CliTable:
    return clitable.CliTable("index", str(_templates_dir()))


@cache
def _template(platform: str, command: str) -> str:
    with _lock:  # CliTable's index matching keeps state between calls
        row = _index().index.GetRowMatch({"Platform": platform, "Command": command})
        if row == 0:
            raise BadRequest(f"no ntc-templates template for {platform!r} {command!r}")
        name = str(_index().index.index[row]["Template"]).split(":")[0]
    return (_templates_dir() / name).read_text()


def parse_show(platform: str, command: str, output: str) -> list[dict[str, Any]]:
    """Rows of ``command``'s ``output`` on ``platform`` (an ntc-templates platform name)."""
    fsm = textfsm.TextFSM(io.StringIO(_template(platform, command)))
    return [{key.lower(): value for key, value in row.items()} for row in fsm.ParseTextToDicts(output)]
