"""netchange's diff format, in one place: the writers every driver uses and the parser the
classifier reads them with.

The format: one line per configuration line, ``+`` added, ``-`` removed, a space for unchanged
context, then the line exactly as the device prints it, indentation kept. A changed line comes
after the unchanged parent lines it lives under, so that a reader (and the classifier) sees each
change together with where it lives. A line's parent is the nearest preceding line with a smaller
indentation, which is how IOS, ASA, HAProxy, the NETCONF rendering and ``nft list ruleset`` nest.

Writers (one per shape of configuration):

:func:`typed_diff`
    a hier_config tree and the remediation typed into it (the IOS-style CLI drivers:
    ``drivers/ios_cli.diff_configs``): what is sent is what is shown;
:func:`hier_diff`
    two hier_config trees;
:func:`diff_text` / :func:`diff_forest`
    two indented texts (HAProxy, NETCONF);
:func:`block_diff`
    two brace-block texts in order (nftables: ``drivers/nftables.ruleset_diff``);
:func:`set_diff`
    two sets of one-line records (BIND: ``drivers/bind.diff_records``).

Parser: :func:`parse_diff` (the classifier reads every driver's diff with it).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

ADDED, REMOVED, CONTEXT = "+", "-", " "


def join_lines(lines: list[str]) -> str:
    """A diff's text: one line each, newline-terminated; empty when nothing changed."""
    return "\n".join(lines) + "\n" if lines else ""


# -- writers -------------------------------------------------------------------------------------


def hier_diff(running: Any, future: Any, indent: str = " ") -> str:
    """The difference running → future in device syntax: ``-``/``+`` lines, parents as context.

    Each line is the sign followed by the line as the device prints it (``indent`` per level), so
    ``+ description x`` under `` interface Fa0/2`` reads ``+ description x`` with its parent
    shown as `` interface Fa0/2`` (a space for "unchanged"). Removals come before additions
    within a section, in the device's order.
    """
    out: list[str] = []
    _diff_children(running, future, 0, indent, out)
    return join_lines(out)


def typed_diff(running: Any, typed: Any, *, removes: Callable[[Any, Any], Any],
               replaces: Callable[[Any, Any], Any], indent: str = " ") -> str:
    """The lines typed into a device, in the order they are typed, as a diff of its configuration
    (issue 22 item 5: what is sent is what is shown).

    ``typed`` is the remediation (a hier_config tree, children in the order the driver types
    them) and ``running`` the configuration it is typed into. Each typed line is shown once, in
    its place: a section entered as unchanged context (`` interface Fa0/2``), a line that removes
    a configuration line as that line and its children (``-``, what leaves), any other as itself
    (``+``). A typed line that replaces a line without removing it first (an idempotent command:
    ``hostname B`` over ``hostname A``; the positive form over a negation: ``aaa new-model`` over
    ``no aaa new-model``) is shown right after the line it replaces (``-`` then ``+``).

    ``removes(line, section)`` is the child of ``section`` (a running node) that the typed leaf
    ``line`` removes, or ``None``; ``replaces(line, section)`` the child it replaces in place.
    """
    writer = _TypedWriter(removes, replaces, indent)
    writer.section(running, typed, 0)
    return join_lines(writer.out)


@dataclass
class _TypedWriter:
    removes: Callable[[Any, Any], Any]
    replaces: Callable[[Any, Any], Any]
    indent: str
    out: list[str] = field(default_factory=list)

    def section(self, before: Any, typed: Any, depth: int) -> None:
        """The typed children of one section; ``before`` is the section in the running
        configuration (``None``: a new section, every line of it added)."""
        out, pad = self.out, self.indent * depth
        gone: set[str] = set()  # lines of ``before`` already shown leaving
        for child in typed.children:
            text = child.text
            twin = before.children.get(text) if before is not None and text not in gone else None
            if child.children:
                if twin is not None:
                    out.append(f" {pad}{text}")
                else:
                    out.extend(_signed("+", pad, text))
                self.section(twin, child, depth + 1)
                continue
            if before is not None:
                target = self.removes(child, before)
                if target is not None and target.text not in gone:
                    self._leaving(target, pad, depth, gone)
                    continue
                old = self.replaces(child, before)
                if old is not None and old.text not in gone:
                    self._leaving(old, pad, depth, gone)
            out.extend(_signed("+", pad, text))

    def _leaving(self, line: Any, pad: str, depth: int, gone: set[str]) -> None:
        self.out.extend(_signed("-", pad, line.text))
        _whole(line, depth + 1, self.indent, "-", self.out)
        gone.add(line.text)


def _signed(sign: str, pad: str, text: str) -> list[str]:
    """One diff line per device line: a banner is one hier_config child over several lines."""
    return [f"{sign}{pad}{line}" for line in text.split("\n")]


def _diff_children(old: Any, new: Any, depth: int, indent: str, out: list[str]) -> None:
    pad = indent * depth
    for child in old.children:
        twin = new.children.get(child.text)
        if twin is None:
            out.extend(_signed("-", pad, child.text))
            _whole(child, depth + 1, indent, "-", out)
        else:
            sub: list[str] = []
            _diff_children(child, twin, depth + 1, indent, sub)
            if sub:
                out.append(f" {pad}{child.text}")
                out.extend(sub)
    for child in new.children:
        if child.text not in old.children:
            out.extend(_signed("+", pad, child.text))
            _whole(child, depth + 1, indent, "+", out)


def _whole(node: Any, depth: int, indent: str, sign: str, out: list[str]) -> None:
    for child in node.children:
        out.extend(_signed(sign, indent * depth, child.text))
        _whole(child, depth + 1, indent, sign, out)


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
    return join_lines(diff_forest(parse_tree(old), parse_tree(new), keep))


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip("\t"))


def _ancestors(lines: list[str]) -> list[tuple[str, ...]]:
    """For each line, the block headers (``table …{``, ``chain …{``) it sits in."""
    chains: list[tuple[str, ...]] = []
    stack: list[str] = []
    for line in lines:
        if not line.strip():  # a blank line closes nothing
            chains.append(tuple(stack))
            continue
        depth = _depth(line)
        while stack and _depth(stack[-1]) >= depth:
            stack.pop()
        chains.append(tuple(stack))
        if line.rstrip().endswith("{"):
            stack.append(line)
    return chains


def _brace_ancestors(lines: list[str]) -> list[tuple[str, ...]]:
    """For each line, the block headers it sits in, by counting braces (whatever the indentation:
    keepalived.conf is indented with spaces, or not at all)."""
    chains: list[tuple[str, ...]] = []
    stack: list[str] = []
    for line in lines:
        text = line.strip()
        if text.startswith("}") and stack:
            stack.pop()
        chains.append(tuple(stack))
        if text.endswith("{"):
            stack.append(line)
    return chains


def block_diff(old: str, new: str, *, by_braces: bool = False) -> str:
    """Brace-block text (``nft list ruleset``, keepalived.conf) old → new: ``-``/``+`` lines,
    enclosing blocks as `` `` context, so that every changed line names the block it lives in.

    Blank lines are not shown: they carry no meaning in these syntaxes. ``by_braces``: blocks are
    found by their braces, not by tab indentation (nft prints tabs; a hand-written file may not).
    """
    a, b = old.splitlines(), new.splitlines()
    ancestors = _brace_ancestors if by_braces else _ancestors
    anc_a, anc_b = ancestors(a), ancestors(b)
    out: list[str] = []
    shown: tuple[str, ...] = ()

    def emit(sign: str, line: str, chain: tuple[str, ...]) -> None:
        nonlocal shown
        if not line.strip():
            return
        common = 0
        while common < min(len(chain), len(shown)) and chain[common] == shown[common]:
            common += 1
        for header in chain[common:]:
            out.append(f" {header}")
        shown = chain
        out.append(f"{sign}{line}")
        if line.rstrip().endswith("{"):
            shown = (*chain, line)

    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            emit("-", a[i], anc_a[i])
        for j in range(j1, j2):
            emit("+", b[j], anc_b[j])
    return join_lines(out)


def set_diff(gone: Iterable[str], come: Iterable[str]) -> str:
    """``-`` lines for what goes, ``+`` for what comes (records: no nesting, no context)."""
    return join_lines([f"{REMOVED}{line}" for line in gone] + [f"{ADDED}{line}" for line in come])


# -- parser --------------------------------------------------------------------------------------


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


_MACRO = re.compile(r"^macro name \S+$")


def _open_banner(line: DiffLine) -> tuple[DiffLine, str] | None:
    """The banner a line opens, with the delimiter that closes it; None if it opens none. An IOS
    macro (``macro name M``, its body printed unindented, then ``@``) is read as one too: its
    body is text until the macro is applied, not commands of the configuration."""
    if line.parent is None and _MACRO.match(line.body):
        return (line, "@")
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
