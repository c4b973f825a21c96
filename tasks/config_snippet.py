"""``config_snippet``: raw lines in a platform's syntax; the classifier alone decides the category.

The escape hatch for what no change type covers yet. Lines are still checked, when the request
is read (exit 2, before any device is contacted): one line per list item (no embedded newline or
control character), at most :data:`netchange.request._bounds.MAX_SNIPPET_LINES` of them; each top-level
line starts with a configuration keyword of the syntax's platform profile (an allow-list) and no
line types a refused command (a mode change such as ``end``, an exec command such as ``do …``,
``write erase``, ``reload``, or a second command after nft's ``;``) on any abbreviation — see
:mod:`netchange.platforms.lines` for why. The snippet must declare the syntax it is written in,
which must be the target's.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, model_validator

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult
from netchange.platforms.lines import check_snippet
from netchange.request import MAX_SNIPPET_LINES
from netchange.vocabulary import Perimeter, Role

_PRINTABLE = re.compile(r"^[\x20-\x7e]{1,400}$")


def _one_line(value: str) -> str:
    if not _PRINTABLE.fullmatch(value) or not value.strip():
        raise ValueError("each line must be 1-400 printable characters, without newline or control character")
    return value


class ConfigSnippetParams(StrictModel):
    syntax: Annotated[str, Field(pattern=r"^(ios|asa|nftables)$")]
    lines: Annotated[tuple[Annotated[str, AfterValidator(_one_line)], ...],
                     Field(min_length=1, max_length=MAX_SNIPPET_LINES)]

    @model_validator(mode="after")
    def _allowed(self) -> ConfigSnippetParams:
        check_snippet(self.syntax, self.lines)
        return self


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
