"""Diff of indented configuration text, rendered the way every netchange diff reads.

A line's parents are the less indented lines above it (IOS, haproxy.cfg, the NETCONF rendering).
The diff prints a removed or added line, and all its children, prefixed ``-`` or ``+``; a parent
present on both sides whose children changed is printed once as context, prefixed with a space.
So the classifier sees each changed line together with where it lives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Node:
    line: str
    children: list[Node] = field(default_factory=list)

    def render(self) -> list[str]:
        out = [self.line]
        for child in self.children:
            out.extend(child.render())
        return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def parse_tree(text: str) -> list[Node]:
    """Indented text as a forest; blank lines and ``!``/``#`` comment lines are left out."""
    roots: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith(("!", "#")):
            continue
        node = Node(line)
        depth = _indent(line)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def diff_forest(old: list[Node], new: list[Node], keep: Callable[[str], bool] | None = None) -> list[str]:
    """Lines removed (``-``), added (``+``), and the unchanged parents of changes (`` ``).

    ``keep`` selects unchanged siblings that are printed as context next to a change (e.g. the
    servers that stay in a backend), so that the reader — and the classifier — can tell a
    removal that empties a section from one that does not.
    """
    old_by = {node.line: node for node in old}
    new_by = {node.line: node for node in new}
    out: list[str] = []
    for node in old:
        if node.line not in new_by:
            out.extend("-" + line for line in node.render())
    for node in new:
        before = old_by.get(node.line)
        if before is None:
            out.extend("+" + line for line in node.render())
            continue
        inner = diff_forest(before.children, node.children, keep)
        if inner:
            out.append(" " + node.line)
            if keep is not None:
                out.extend(
                    " " + child.line for child in node.children
                    if keep(child.line) and child.line in {c.line for c in before.children}
                    and not child.children
                )
            out.extend(inner)
    return out


def diff_text(old: str, new: str, keep: Callable[[str], bool] | None = None) -> str:
    """The diff of two indented texts; empty when they hold the same lines under the same parents."""
    lines = diff_forest(parse_tree(old), parse_tree(new), keep)
    return "\n".join(lines) + "\n" if lines else ""
