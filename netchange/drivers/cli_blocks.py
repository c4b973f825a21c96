"""Multi-line constructs of an IOS-style CLI, read, typed and removed whole (issue 22 item 5).

A banner and its text, a certificate and its hex lines, a macro and its body are printed over
several lines but are one command each. Read line by line, hier_config diffs and negates their
lines one by one: a banner's rollback was ``no banner motd ^C`` followed by the text lines, each
typed as a command on a device where ``no banner motd`` takes no text (issue 22, finding 7); a
certificate's hex lines were children to negate, and the ``exit`` the driver types after a
section left configuration mode behind the ``quit`` that already ended the certificate.

The platform profile declares each construct (:class:`netchange.platforms.CliBlock`: where it
starts, where it ends, how it is removed). Here a configuration text is read with each block
folded into one line (:func:`fold`, before hier_config parses it), such a line is typed back as
the lines the device expects (:func:`typed_lines`, with a delimiter the text lacks), and a
block's removal is the profile's one command (:func:`removal`). hier_config's own banner reading
never sees a ``banner`` line: it reads an ASA's one-line banners as IOS delimited ones, takes the
rest of the configuration for their text and raises at the end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from netchange.platforms import CliBlock, PlatformProfile

TOKEN = "netchange-block-"  # noqa: S105 - a placeholder, not a secret
"""The placeholder a folded block stands under while hier_config parses the text around it."""


@dataclass(frozen=True, slots=True)
class Span:
    """Where one block is in a list of lines (``first`` and ``last`` included)."""

    first: int
    last: int
    rule: CliBlock


@cache
def _compiled(rule: CliBlock) -> tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None]:
    return (re.compile(rule.start), re.compile(rule.parent) if rule.parent else None,
            re.compile(rule.end) if rule.end else None)


def rules_of(platform: PlatformProfile) -> tuple[CliBlock, ...]:
    return platform.cli.blocks if platform.cli is not None else ()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _fits(rule: CliBlock, parent: str | None) -> bool:
    _, parent_re, _ = _compiled(rule)
    if parent_re is None:
        return parent is None
    return parent is not None and parent_re.search(parent) is not None


def _last_line(lines: Sequence[str], first: int, rule: CliBlock, match: re.Match[str]) -> int:
    """The index of the block's last line (the text's last one when nothing ends it: a device's
    configuration never holds such a block, and a candidate's is refused before)."""
    start_re, _, end_re = _compiled(rule)
    if rule.repeat:
        last = first
        while last + 1 < len(lines):
            nxt = start_re.match(lines[last + 1].strip())
            if nxt is None or nxt.groupdict() != match.groupdict():
                break
            last += 1
        return last
    if rule.delimiter is not None:
        delimiter = match.group(rule.delimiter)
        head = lines[first].strip()
        if delimiter in head[match.end(rule.delimiter):]:
            return first
        return next((i for i in range(first + 1, len(lines)) if delimiter in lines[i]), len(lines) - 1)
    assert end_re is not None
    return next((i for i in range(first + 1, len(lines)) if end_re.match(lines[i].strip())), len(lines) - 1)


def spans(lines: Sequence[str], platform: PlatformProfile) -> list[Span]:
    """Every block of the profile in ``lines``, in order. A block's parent is the nearest line
    above it with less indentation; the lines inside a block are text, never parents."""
    rules = rules_of(platform)
    found: list[Span] = []
    if not rules:
        return found
    stack: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        text = raw.strip()
        if not text or text.startswith("!"):
            i += 1
            continue
        depth = _indent(raw)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        for rule in rules:
            match = _compiled(rule)[0].match(text) if _fits(rule, parent) else None
            if match is not None:
                last = _last_line(lines, i, rule, match)
                found.append(Span(i, last, rule))
                i = last + 1
                break
        else:
            stack.append((depth, text))
            i += 1
    return found


def _canonical(block: str, rule: CliBlock) -> str:
    """A delimited block as the device prints it: its delimiters the printed one (``^C``), what
    follows the closing one on its line dropped (the device does not keep it)."""
    printed = rule.printed_delimiter
    if rule.delimiter is None or printed is None:
        return block
    match = _compiled(rule)[0].match(block)
    if match is None:
        return block
    delimiter = match.group(rule.delimiter)
    head, rest = block[:match.start(rule.delimiter)], block[match.end(rule.delimiter):]
    close = rest.find(delimiter)
    if close < 0:
        return block
    return f"{head}{printed}{rest[:close]}{printed}"


def _dedent(line: str, depth: int) -> str:
    """``line`` without the ``depth`` leading blanks of its block's first line (a text line that
    has fewer keeps what it has: a banner's text is kept as typed)."""
    if depth == 0:
        return line
    return line[depth:] if line[:depth].isspace() else line.lstrip()


def fold(text: str, platform: PlatformProfile) -> tuple[str, dict[str, str]]:
    """``text`` with each block replaced by one placeholder line, and each placeholder's block:
    its lines joined by newlines, each indented relative to the first, delimiters as printed."""
    lines = text.split("\n")
    found = spans(lines, platform)
    if not found:
        return text, {}
    blocks: dict[str, str] = {}
    out: list[str] = []
    done = 0
    for n, span in enumerate(found):
        out.extend(lines[done:span.first])
        first = lines[span.first]
        depth = _indent(first)
        body = [first.strip()] + [_dedent(line, depth) for line in lines[span.first + 1:span.last + 1]]
        token = f"{TOKEN}{n}"
        blocks[token] = _canonical("\n".join(line.rstrip() for line in body), span.rule)
        out.append(" " * depth + token)
        done = span.last + 1
    out.extend(lines[done:])
    return "\n".join(out), blocks


def block_rule(text: str, parent: str | None, platform: PlatformProfile) -> tuple[CliBlock, re.Match[str]] | None:
    """The block rule a configuration line (a folded block, or a one-line one) is read by, if any."""
    first = text.split("\n", 1)[0].strip()
    for rule in rules_of(platform):
        if _fits(rule, parent):
            match = _compiled(rule)[0].match(first)
            if match is not None:
                return rule, match
    return None


def removal(text: str, parent: str | None, platform: PlatformProfile) -> str | None:
    """What is typed to remove the block ``text`` (its lines joined by newlines), or ``None`` if
    ``text`` is not a block."""
    found = block_rule(text, parent, platform)
    if found is None:
        return None
    rule, match = found
    return rule.remove.format(**match.groupdict())


def _confirmation(text: str, parent: str | None, platform: PlatformProfile) -> str | None:
    """The answer typed after ``text`` when it removes a block whose removal the device asks to
    confirm (``no certificate self-signed 01``: ``yes``)."""
    if not text.startswith("no "):
        return None
    found = block_rule(text.removeprefix("no "), parent, platform)
    if found is None or found[0].confirm is None or found[0].remove.format(**found[1].groupdict()) != text:
        return None
    return found[0].confirm


def typed_lines(text: str, parent: str | None, platform: PlatformProfile) -> list[str]:
    """The lines typed for the configuration line ``text``: the line itself (and the answer to
    the confirmation its removal of a block asks), or a block's lines as the device expects them
    typed (a delimited one with a delimiter its text lacks, the lines of the others without
    their indentation). Raises ``ValueError`` when no declared delimiter can be typed around
    the text."""
    found = block_rule(text, parent, platform)
    if found is None:
        answer = _confirmation(text, parent, platform)
        return [text] if answer is None else [text, answer]
    rule, match = found
    if rule.delimiter is None:
        return [line.strip() for line in text.split("\n")]
    printed = rule.printed_delimiter
    delimiter = match.group(rule.delimiter)
    head, rest = text[:match.start(rule.delimiter)], text[match.end(rule.delimiter):]
    close = rest.rfind(delimiter)
    inner = rest[:close] if close >= 0 else rest
    if printed is None or delimiter != printed:
        return f"{head}{delimiter}{inner}{delimiter}".split("\n")
    typed = next((c for c in rule.typed_delimiters if c not in inner), None)
    if typed is None:
        raise ValueError(f"{rule.name} {head.strip()!r}: its text holds every delimiter the profile may "
                         f"type ({rule.typed_delimiters!r})")
    return f"{head}{typed}{inner}{typed}".split("\n")


def shown_lines(text: str, parent: str | None, platform: PlatformProfile, indent: str) -> list[str]:
    """:func:`typed_lines` as shown to people: the lines the device prints indented under a
    block's first line (a certificate's hex lines) are shown one ``indent`` deeper."""
    typed = typed_lines(text, parent, platform)
    found = block_rule(text, parent, platform)
    if found is None or found[0].delimiter is not None or len(typed) < 2 or "\n" not in text:
        return typed
    printed = text.split("\n")
    return [typed[0]] + [f"{indent}{line}" if printed[j + 1][:1].isspace() else line
                         for j, line in enumerate(typed[1:])]


def join_repeated(future: Any, running: Any, platform: PlatformProfile) -> Any:
    """``future`` (hier_config's prediction of a merge into ``running``) with the top-level
    blocks of one ``repeat`` rule and the same groups joined into one, ``running``'s first: the
    lines a merge adds to an ASA banner are appended to it on the device (``banner motd <text>``
    adds a line), so after the merge the banner is one block of all its lines, which the
    remediation types whole after removing the old one, and a rollback likewise."""
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[Any]] = {}
    for child in future.children:
        found = block_rule(child.text, None, platform)
        if found is not None and found[0].repeat:
            groups.setdefault((found[0].name, tuple(sorted(found[1].groupdict().items()))), []).append(child)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda child: child.text not in running.children)
        first, *later = members
        first.text = "\n".join(child.text for child in members)
        for child in later:
            child.delete()
    return future
