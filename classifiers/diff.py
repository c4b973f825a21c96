"""Read a driver's diff: which lines changed, and under which parent lines they live.

The format every driver produces: ``+`` added, ``-`` removed, a space for unchanged context, then
the configuration line exactly as the device prints it, indentation kept. A line's parent is the
nearest preceding line (context or changed) with a smaller indentation, which is how IOS, ASA,
HAProxy and ``nft list ruleset`` all nest their configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIGNS = frozenset("+- ")
# Comment-only lines carry no configuration: IOS/ASA '!', HAProxy/nft '#', BIND ';'.
_COMMENT = ("!", "#", ";")
# A closing brace (nft) only ends a block whose header the diff already shows.
_NOISE = frozenset({"}", "};", ")"})
# Unified-diff headers some tools add around the lines.
_HEADERS = ("+++ ", "--- ", "@@ ")
# A multi-line banner: "banner motd ^C" (IOS prints the delimiter as ^C; any character may be
# used) or EOS's bare "banner motd", whose text ends at "EOF". Its text lines are free text at any
# indentation: they are read as children of the banner line, never as commands.
_BANNER = re.compile(r"^banner\s+\S+(?:\s+(?P<rest>\S.*))?$")


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One meaningful line of a diff, with the chain of its parents."""

    raw: str
    sign: str
    body: str
    indent: int
    parent: DiffLine | None

    @property
    def ancestors(self) -> tuple[tuple[str, str], ...]:
        """(sign, stripped text) of every parent, nearest first."""
        out: list[tuple[str, str]] = []
        node = self.parent
        while node is not None:
            out.append((node.sign, node.body))
            node = node.parent
        return tuple(out)


@dataclass(frozen=True, slots=True)
class ParsedDiff:
    lines: tuple[DiffLine, ...]
    malformed: tuple[str, ...]

    @property
    def changed(self) -> tuple[DiffLine, ...]:
        return tuple(line for line in self.lines if line.sign != " ")


def parse_diff(diff: str, *, banners: bool = True) -> ParsedDiff:
    """Split a diff into lines with their parents; lines of no known shape are ``malformed``.

    A malformed line is not dropped: the classifier reports it as unclassified (the change becomes
    major), because a line we cannot read may be a change we cannot see. A multi-line banner's
    text lines become children of the banner line (they are text, not commands).
    """
    lines: list[DiffLine] = []
    malformed: list[str] = []
    stack: list[DiffLine] = []
    banner: tuple[DiffLine, str] | None = None  # the open banner line and its closing delimiter
    for raw in diff.splitlines():
        if not raw.strip() or raw.startswith(_HEADERS):
            continue
        sign, text = raw[0], raw[1:]
        body = text.strip()
        if sign not in SIGNS:
            malformed.append(raw)
            continue
        if banner is not None:
            head, delimiter = banner
            if body == delimiter or (body.endswith(delimiter) and not body.startswith(_COMMENT)):
                banner = None
            if body and body != delimiter:
                lines.append(DiffLine(raw=raw.rstrip(), sign=sign, body=body, indent=head.indent + 1, parent=head))
            continue
        if not body or body.startswith(_COMMENT) or body in _NOISE:
            continue
        expanded = text.expandtabs(8)
        indent = len(expanded) - len(expanded.lstrip())
        while stack and stack[-1].indent >= indent:
            stack.pop()
        line = DiffLine(
            raw=raw.rstrip(), sign=sign, body=body, indent=indent, parent=stack[-1] if stack else None
        )
        stack.append(line)
        lines.append(line)
        banner = _open_banner(line) if banners else None
    if banner is not None:
        # A banner whose delimiter never comes (an ASA "banner motd" with no text, a cut diff):
        # read again without banners rather than swallow the configuration that follows.
        return parse_diff(diff, banners=False)
    return ParsedDiff(lines=tuple(lines), malformed=tuple(malformed))


def _open_banner(line: DiffLine) -> tuple[DiffLine, str] | None:
    """The banner a line opens, with the delimiter that closes it; None if it opens none."""
    if line.parent is not None or not line.body.startswith("banner"):
        return None
    m = _BANNER.match(line.body)
    if m is None:
        return None
    rest = m.group("rest")
    if rest is None:
        return (line, "EOF")  # EOS: "banner motd", text, "EOF"
    delimiter = "^C" if rest.startswith("^C") else rest[0]
    after = rest[len(delimiter) :]
    if delimiter in after:
        return None  # opened and closed on the same line
    if len(rest) > 2 and delimiter != "^C" and rest[0] not in "^#%$@&*~`|":
        return None  # ASA style: one banner line per text line ("banner motd text")
    return (line, delimiter)
