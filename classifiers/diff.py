"""Read a driver's diff: which lines changed, and under which parent lines they live.

The format every driver produces: ``+`` added, ``-`` removed, a space for unchanged context, then
the configuration line exactly as the device prints it, indentation kept. A line's parent is the
nearest preceding line (context or changed) with a smaller indentation, which is how IOS, ASA,
HAProxy and ``nft list ruleset`` all nest their configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

SIGNS = frozenset("+- ")
# Comment-only lines carry no configuration: IOS/ASA '!', HAProxy/nft '#', BIND ';'.
_COMMENT = ("!", "#", ";")
# A closing brace (nft) only ends a block whose header the diff already shows.
_NOISE = frozenset({"}", "};", ")"})
# Unified-diff headers some tools add around the lines.
_HEADERS = ("+++ ", "--- ", "@@ ")


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


def parse_diff(diff: str) -> ParsedDiff:
    """Split a diff into lines with their parents; lines of no known shape are ``malformed``.

    A malformed line is not dropped: the classifier reports it as unclassified (the change becomes
    major), because a line we cannot read may be a change we cannot see.
    """
    lines: list[DiffLine] = []
    malformed: list[str] = []
    stack: list[DiffLine] = []
    for raw in diff.splitlines():
        if not raw.strip() or raw.startswith(_HEADERS):
            continue
        sign, text = raw[0], raw[1:]
        body = text.strip()
        if sign not in SIGNS:
            malformed.append(raw)
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
    return ParsedDiff(lines=tuple(lines), malformed=tuple(malformed))
