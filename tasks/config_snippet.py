"""``config_snippet``: raw lines in a platform's syntax; the classifier alone decides the category.

The escape hatch for what no change type covers yet. Lines are still checked: one line per list
item (no embedded newline or control character), and the snippet must declare the syntax it is
written in, which must be the target's.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field

from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, Perimeter, Role, StrictModel
from tasks._common import check

_PRINTABLE = re.compile(r"^[\x20-\x7e]{1,400}$")


def _one_line(value: str) -> str:
    if not _PRINTABLE.fullmatch(value) or not value.strip():
        raise ValueError("each line must be 1-400 printable characters, without newline or control character")
    return value


class ConfigSnippetParams(StrictModel):
    syntax: Annotated[str, Field(pattern=r"^(ios|asa|nftables)$")]
    lines: Annotated[tuple[Annotated[str, AfterValidator(_one_line)], ...], Field(min_length=1, max_length=500)]


class ConfigSnippet(ChangeType[ConfigSnippetParams]):
    name = "config_snippet"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset(Role)
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "asa", "nftables"})
    Params = ConfigSnippetParams

    def pre_checks(self, ctx: Context[ConfigSnippetParams]) -> list[CheckResult]:
        same = ctx.params.syntax == ctx.syntax
        return [check(f"snippet syntax {ctx.params.syntax} matches the host's", same, ctx.syntax)]

    def render(self, ctx: Context[ConfigSnippetParams]) -> str:
        return "\n".join(ctx.params.lines) + "\n"
