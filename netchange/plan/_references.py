"""The reference check of a plan: a change must not leave a name used and undefined.

Run on the configuration the change leads to (running + candidate, predicted as the CLI driver
predicts it: hier_config's ``future()`` over the blocks the candidate touches, the rest as it is),
for the syntaxes that declare their named structures (``netchange/platforms/references/``: IOS-style,
ASA). Batfish's ``undefinedReferences`` is the model: a reference to an access list, object-group,
route-map, prefix-list, AAA server group, TACACS+/RADIUS server or VLAN that no line defines.

Only what the change does fails the check:

- a reference the change *introduces* to a name nothing defines (``server name TAC1`` with no
  ``tacacs server TAC1``; ``ip access-group EDGE in`` with no list ``EDGE``);
- a definition the change *removes* while a line still uses it (``no route-map M`` while
  ``neighbor X route-map M in`` stays).

A dangling reference the device already had is a note, not a failure: the change did not make
it, the device runs with it today (IOS permits all through an ``ip access-group`` naming no list),
and failing would block every change to that device until someone repairs an unrelated line —
the reviewer is told, the gate is not. A definition the change leaves unused, or adds and uses
nowhere (Batfish's ``unusedStructures``), is a note too, and so is a kind the configuration cannot tell (VLANs of a
switch in VTP server or client mode live in vlan.dat).

Each finding names the line: its text, the block it is in, and its number in the candidate when
the change types it, else in the running configuration (numbered without the ``show
running-config`` header, "Building configuration…", "Current configuration : N bytes", as the
plan reads it; a stored backup without that header is numbered as its file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from netchange.models import CheckResult
from netchange.platforms import PlatformProfile
from netchange.platforms.structures import Catalog, Path_, Reference, Structures, catalog

CHECK_NAME = "referenced structures are defined"
"""The pre-check's name in the plan (``pre-check failed: referenced structures are defined``)."""

_SEQUENCE = re.compile(r"^\d+ ")
_MAX_LISTED = 10  # findings of one sort listed by line; the rest are counted


def read_paths(text: str, *, banners: bool = True) -> list[tuple[Path_, int]]:
    """Every configuration line of ``text`` with its parents, and its line number (from 1).

    Tolerant where hier_config is strict (a device's own text may repeat a line in a block, or
    hold comment lines an ASA does not strip): nesting is read from the indentation alone;
    blank lines and comments (``!``, ASA's ``: …``) are skipped, and so are the text lines of an
    IOS banner (``banners``: the delimiter closes it, as :func:`netchange.drivers.ios_cli.banner_end`
    reads it; an ASA banner is one line per line of text).
    """
    from netchange.drivers.ios_cli import banner_end

    lines = text.replace("\r\n", "\n").split("\n")
    out: list[tuple[Path_, int]] = []
    stack: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        stripped = raw.strip()
        if not stripped or stripped.startswith(("!", ":")):
            i += 1
            continue
        indent = len(raw) - len(raw.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (*(t for _, t in stack), stripped)
        out.append((path, i + 1))
        stack.append((indent, stripped))
        if banners and indent == 0 and stripped.startswith("banner ") and len(stripped.split()) > 2:
            i = banner_end(lines, i) + 1
            stack.clear()
            continue
        i += 1
    return out


def _key(path: Path_) -> Path_:
    """A path as the index knows it: hier_config numbers IOS ACL entries (``10 permit …``) that a
    device may print unnumbered."""
    return tuple(_SEQUENCE.sub("", p) for p in path)


def _lineages(config: Any) -> Iterator[Path_]:
    for child in config.all_children():
        yield tuple(node.text for node in child.lineage())


def predicted(running: str, candidate: str, profile: PlatformProfile) -> tuple[list[Path_], list[Path_]]:
    """The configuration before and after the change, as lineages.

    The blocks the candidate touches are parsed and merged as the CLI driver does
    (:func:`netchange.drivers.ios_cli.merge_scope`, hier_config's ``future()``): what the check
    judges is what the plan predicts. The other blocks are read as they are (:func:`read_paths`)
    and are the same on both sides.
    """
    from netchange.drivers.ios_cli import canonical_config, check_candidate, merge_scope, parse

    text = canonical_config(running, profile)
    if profile.syntax != "ios":
        # An ASA prints its banner one `banner motd <text>` line per line of text; the driver's
        # merge_scope reads a banner as IOS's delimited block and would take the rest of the
        # configuration for its text. Banner lines name no structure: left out of the prediction.
        text = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("banner "))
    wanted = parse(check_candidate(candidate, profile), profile)
    scope_text = merge_scope(text, wanted)
    touched = {line.strip() for line in scope_text.splitlines() if line and not line[0].isspace()}
    rest = [path for path, _ in read_paths(text, banners=profile.syntax == "ios") if path[0] not in touched]
    scope = parse(scope_text, profile)
    return rest + list(_lineages(scope)), rest + list(_lineages(scope.future(wanted)))


class _Lines:
    """Where a line is, for a person: its number in the candidate, else in the running configuration."""

    def __init__(self, running: str, candidate: str, *, banners: bool) -> None:
        self.running = self._index(read_paths(running, banners=banners))
        self.candidate = self._index(read_paths(candidate, banners=banners))

    @staticmethod
    def _index(paths: Iterable[tuple[Path_, int]]) -> dict[Path_, int]:
        index: dict[Path_, int] = {}
        for path, number in paths:
            index.setdefault(_key(path), number)
        return index

    def where(self, path: Path_) -> str:
        key = _key(path)
        if key in self.candidate:
            return f"candidate line {self.candidate[key]}"
        for depth in range(len(key), 0, -1):  # the line, else the block it is in
            if key[:depth] in self.running:
                return f"running line {self.running[key[:depth]]}"
        return "line not found"

    def describe(self, ref: Reference) -> str:
        block = f" in {ref.path[0]!r}" if len(ref.path) > 1 else ""
        return f"{self.where(ref.path)} {ref.path[-1]!r}{block} ({ref.usage})"


def _listed(items: list[str]) -> str:
    more = len(items) - _MAX_LISTED
    return "; ".join(items[:_MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")


def findings(before: Structures, after: Structures, kinds: Catalog, lines: _Lines) -> tuple[list[str], list[str]]:
    """``(failures, notes)``: what the change breaks, and what the reviewer should know."""
    had = {(r.kind, r.name, _key(r.path)) for r in before.undefined()}
    failures, kept = [], []
    for ref in after.undefined():
        if (ref.kind, ref.name, _key(ref.path)) in had:
            kept.append(f"{ref.kind} {ref.name} used by {lines.describe(ref)}")
        elif ref.name in before.defined.get(ref.kind, frozenset()):
            failures.append(f"{ref.kind} {ref.name} is removed by this change and still used: {lines.describe(ref)}")
        else:
            failures.append(f"{ref.kind} {ref.name} is used but not defined: {lines.describe(ref)}")
    notes = []
    if kept:
        notes.append(f"already undefined before this change, not caused by it (a note, not a failure): {_listed(kept)}")
    old = {(r.kind, r.name, _key(r.path)) for r in before.references}
    for kind, why in after.unjudged.items():
        new = sorted({r.name for r in after.references if r.kind == kind and (r.kind, r.name, _key(r.path)) not in old})
        if new:
            notes.append(f"{kind} {', '.join(new)} not checked: {why}")
    unused = [f"{kind.kind} {name}" for kind in kinds.data.kinds if kind.unused
              for name in sorted((after.defined.get(kind.kind, frozenset()) & before.referenced(kind.kind))
                                 - after.referenced(kind.kind))]
    if unused:
        notes.append(f"left defined and no longer used by this change: {_listed(unused)}")
    idle = [f"{kind.kind} {name}" for kind in kinds.data.kinds if kind.unused
            for name in sorted(after.defined.get(kind.kind, frozenset()) - before.defined.get(kind.kind, frozenset())
                               - after.referenced(kind.kind))]
    if idle:  # an access list no interface applies filters nothing: said, the request may be a first step
        notes.append(f"defined by this change and used nowhere yet: {_listed(idle)}")
    return failures, notes


def reference_check(running: str, candidate: str, *, platform: str, syntax: str) -> CheckResult | None:
    """The check for one host, or ``None`` when its syntax declares no named structures."""
    from netchange.drivers.ios_cli import canonical_config
    from netchange.drivers.stored import cli_profile

    kinds = catalog(syntax)
    profile = cli_profile(platform, syntax) if kinds is not None else None
    if kinds is None or profile is None:
        return None
    try:
        before, after = predicted(running, candidate, profile)
    except Exception as exc:  # a configuration hier_config cannot read: said, never passed
        return CheckResult(name=CHECK_NAME, passed=False,
                           not_run=f"not run: the configuration after the change could not be predicted "
                                   f"({type(exc).__name__}: {exc})")
    # Numbered as the plan reads the configuration: without the `show running-config` header.
    lines = _Lines(canonical_config(running, profile), candidate, banners=syntax == "ios")
    old = kinds.scan(before)
    # A kind the running configuration cannot tell stays untold after the change: a VTP server's
    # `vlan 300` typed by the change is not evidence that its other VLANs are in the configuration.
    new = kinds.scan(after)
    new = replace(new, unjudged={**new.unjudged, **old.unjudged})
    failures, notes = findings(old, new, kinds, lines)
    if failures:
        detail = _listed(failures) + "".join(f". Note: {n}" for n in notes)
        return CheckResult(name=CHECK_NAME, passed=False, detail=detail)
    return CheckResult(name=CHECK_NAME, passed=True, detail=". ".join(notes))
