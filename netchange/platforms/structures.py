"""Named structures of a configuration: where each is defined, where it is referenced, as data.

An access list, an object-group, a route-map, a prefix-list, an AAA server group or a VLAN is
defined once and referenced by name elsewhere (``ip access-group NAME in``, ``neighbor … route-map
NAME in``, ``server name TAC1``). A reference to a name nothing defines is Batfish's *undefined
reference* (its ``undefinedReferences`` question: structure type, name, usage, lines); a
definition nothing references is its *unused structure* (``unusedStructures``). Devices accept
many such references without a word (IOS permits all through an ``ip access-group`` naming no
list, and only warns for a method list naming no server group), so a change that breaks one is
found by reading the configuration, not by the device.

The kinds are data, one file per configuration syntax (``references/<syntax>.yaml``): per kind,
the patterns of the lines that define a name and of the lines that use one, each with the
top-level block it sits in. This module reads them and scans configurations given as
*lineages* (each line with its parents, top level first), so it knows nothing of a parser:
:mod:`netchange.plan` checks a plan's predicted configuration with it, and the CLI driver orders
the lines it sends by it (:func:`dependency_order`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from netchange.basemodels import FrozenModel
from netchange.platforms import read_data_file

REFERENCES_DIR = Path(__file__).parent / "references"

Path_ = tuple[str, ...]
"""A line with its parents: the top-level line first, the line itself last."""


def _compiles(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r}: {exc}") from None
    return value


class Pattern(FrozenModel):
    """A line that defines or references names: ``match`` is a regular expression the whole line
    (stripped) must match; the names are its group ``name``, or every match of ``each`` in the
    line (a method list names several server groups: ``… group A group B local``)."""

    match: str
    within: str | None = None
    """The top-level block the line sits in (a regular expression the block's first line must
    match); the line may be at any depth below it. Absent: the line is itself a top-level line."""
    each: str | None = None
    """A regular expression with a group ``name``, searched repeatedly in a line ``match`` matched."""
    names: Literal["one", "words", "vlan-list"] = "one"
    """How the captured text is read: one name; several separated by spaces; a VLAN list
    (``10,20-22``)."""

    _check = field_validator("match", "within", "each")(_compiles)


class Use(Pattern):
    usage: str
    """Where the reference is, in Batfish's words (``bgp neighbor route-map``)."""


class Kind(FrozenModel):
    kind: str
    """The structure type, in Batfish's words (``route-map``, ``ipv4 acl``)."""
    define: tuple[Pattern, ...] = Field(min_length=1)
    use: tuple[Use, ...] = Field(min_length=1)
    builtin: tuple[str, ...] = ()
    """Names the device knows without a definition (``default``, ``tacacs+``, VLAN 1)."""
    judged_when: tuple[str, ...] = ()
    """Regular expressions over the top-level lines: the kind is judged only when one matches
    (none given: always). For VLANs: a switch in VTP server or client mode keeps them in vlan.dat,
    not in its configuration, so a configuration without VLAN lines says nothing about them."""
    not_judged_when: tuple[str, ...] = ()
    """Top-level lines that make the configuration silent about this kind, whatever else it holds."""
    unjudged: str = ""
    """Why the kind is not judged when ``judged_when`` finds nothing (said in the plan)."""
    unused: bool = True
    """Report a definition this change leaves unreferenced (false where unused ones are the rule)."""

    @field_validator("judged_when", "not_judged_when")
    @classmethod
    def _compile_all(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _compiles(value)
        return values


class ReferenceKinds(FrozenModel):
    """One syntax's file: its kinds, in the order the plan reports them."""

    syntax: str
    kinds: tuple[Kind, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Reference:
    """One use of a name: ``path`` is the line that uses it, with its parents."""

    kind: str
    name: str
    usage: str
    path: Path_


@dataclass(frozen=True)
class Structures:
    """What a configuration defines and references, per kind (kinds judged on it only)."""

    defined: dict[str, frozenset[str]]
    references: tuple[Reference, ...]
    unjudged: dict[str, str]
    """Kinds the configuration says nothing reliable about, with why."""

    def undefined(self) -> list[Reference]:
        """Batfish's undefined references: uses of a name no line defines (builtins aside)."""
        return [r for r in self.references
                if r.kind not in self.unjudged and r.name not in self.defined.get(r.kind, frozenset())]

    def referenced(self, kind: str) -> set[str]:
        return {r.name for r in self.references if r.kind == kind}


class _Compiled:
    """A pattern ready to run: its expressions compiled once."""

    def __init__(self, pattern: Pattern) -> None:
        self.match = re.compile(pattern.match)
        self.within = re.compile(pattern.within) if pattern.within is not None else None
        self.each = re.compile(pattern.each) if pattern.each is not None else None
        self.names = pattern.names
        self.usage = pattern.usage if isinstance(pattern, Use) else ""

    def found(self, path: Path_) -> Iterator[str]:
        """The names this line defines or uses (nothing if it is not such a line)."""
        if self.within is None:
            if len(path) != 1:
                return
        elif len(path) < 2 or not self.within.fullmatch(path[0]):
            return
        m = self.match.fullmatch(path[-1].strip())
        if m is None:
            return
        if self.each is not None:
            for hit in self.each.finditer(path[-1].strip()):
                yield from _split(hit.group("name"), self.names)
        elif "name" in self.match.groupindex and m.group("name") is not None:
            yield from _split(m.group("name"), self.names)


def _split(text: str, how: str) -> Iterator[str]:
    if how == "one":
        yield text
    elif how == "words":
        yield from text.split()
    else:
        yield from vlan_list(text)


def vlan_list(text: str) -> Iterator[str]:
    """The VLAN numbers of ``10,20-22`` (``10``, ``20``, ``21``, ``22``); a range over 4094 long is
    not expanded past 4094."""
    for part in text.split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            yield from (str(n) for n in range(int(low), min(int(high or low), 4094) + 1))


class Catalog:
    """One syntax's kinds, compiled: scans lineages for definitions and references."""

    def __init__(self, data: ReferenceKinds) -> None:
        self.data = data
        self.kinds = {k.kind: k for k in data.kinds}
        self._define = [(k.kind, _Compiled(p)) for k in data.kinds for p in k.define]
        self._use = [(k.kind, _Compiled(u)) for k in data.kinds for u in k.use]

    def definitions_in(self, path: Path_) -> Iterator[tuple[str, str]]:
        """``(kind, name)`` for each name this line defines."""
        for kind, pattern in self._define:
            for name in pattern.found(path):
                yield kind, name

    def references_in(self, path: Path_) -> Iterator[Reference]:
        for kind, pattern in self._use:
            for name in pattern.found(path):
                if name not in self.kinds[kind].builtin:
                    yield Reference(kind, name, pattern.usage, path)

    def nested_kinds(self, top: str) -> set[str]:
        """The kinds a block whose first line is ``top`` can reference inside it (``aaa group server
        tacacs+ G`` holds ``server name T``): removing the block stops using names of these kinds."""
        return {kind for kind, pattern in self._use if pattern.within is not None and pattern.within.fullmatch(top)}

    def scan(self, paths: Iterable[Path_]) -> Structures:
        """Definitions and references of a whole configuration, given as its lineages."""
        defined: dict[str, set[str]] = {k: set() for k in self.kinds}
        references: list[Reference] = []
        tops: list[str] = []
        for path in paths:
            if len(path) == 1:
                tops.append(path[0])
            for kind, name in self.definitions_in(path):
                defined[kind].add(name)
            references.extend(self.references_in(path))
        return Structures(defined={k: frozenset(v) for k, v in defined.items()}, references=tuple(references),
                          unjudged=self._unjudged(tops))

    def _unjudged(self, tops: list[str]) -> dict[str, str]:
        out = {}
        for kind in self.data.kinds:
            if not kind.judged_when and not kind.not_judged_when:
                continue
            judged = not kind.judged_when or any(re.fullmatch(p, t) for p in kind.judged_when for t in tops)
            if judged and any(re.fullmatch(p, t) for p in kind.not_judged_when for t in tops):
                judged = False
            if not judged:
                out[kind.kind] = kind.unjudged or "the configuration does not say"
        return out


def read_kinds(path: Path) -> ReferenceKinds:
    """Validate one file (its ``syntax`` must be its file name)."""
    return read_data_file(path, ReferenceKinds, "syntax")


@cache
def catalog(syntax: str) -> Catalog | None:
    """The reference kinds of ``syntax``, or ``None`` when it has none declared."""
    path = REFERENCES_DIR / f"{syntax}.yaml"
    return Catalog(read_kinds(path)) if path.is_file() else None


# -- the order of lines that define and use ----------------------------------------------------


def dependency_order(blocks: Sequence[Sequence[Path_]], kinds: Catalog,
                     replacing: Collection[Path_] = ()) -> list[int]:
    """The order in which to type ``blocks`` so that a name is defined before a line uses it and
    no longer used before its definition is removed.

    Each block is a top-level line of a remediation with its lines below it, as lineages (the
    block's own line first). A block *removes* a name when it is ``no <a defining line>``; it
    *stops using* one through a ``no …`` line that referenced it; it *defines* one through a
    defining line; it *uses* one through any other line that references it. hier_config puts
    removals in the order of the configuration they leave (a rollback negates the server group
    before the method list that names it, ``no tacacs server T`` before the group's ``no server
    name T``); here each block is preceded by the blocks it needs, pulled forward, and the others
    keep their order. A cycle (two blocks each needing the other) is typed in the given order.

    ``replacing``: the lines that replace a line of their kind on the device (the profile's
    idempotent commands: ``ip access-group NEW in`` replaces ``ip access-group OLD in``). Such a
    line stops using whatever its slot named before, which the remediation does not show: it is
    taken to stop using every name of the kinds it references, so that ``no ip access-list
    extended OLD`` waits for the interface to switch to NEW.
    """
    before = _needs(blocks, kinds, frozenset(replacing))
    order: list[int] = []
    state: dict[int, bool] = {}  # False: being placed, True: placed

    def place(i: int) -> None:
        state[i] = False
        for j in sorted(before[i]):
            if j not in state:
                place(j)
        state[i] = True
        order.append(i)

    for i in range(len(blocks)):
        if i not in state:
            place(i)
    return order


Key = tuple[str, str]
"""A named structure: ``(kind, name)``."""
ANY = "\0any"
"""The name of a key standing for every name of its kind (never a configuration word)."""


def _roles(block: Sequence[Path_], kinds: Catalog,
           replacing: frozenset[Path_] = frozenset()) -> tuple[set[Key], set[Key], set[Key], set[Key]]:
    """What one block does to named structures: ``(removes, stops using, defines, uses)``."""
    removes: set[Key] = set()
    unuses: set[Key] = set()
    defines: set[Key] = set()
    uses: set[Key] = set()
    top = block[0][0]
    if top.startswith("no "):
        removes.update(kinds.definitions_in((top[3:],)))
        # The block removed took its lines with it; which names they used is in the configuration
        # left, not here: it stops using any name of the kinds such a block holds.
        unuses.update((kind, ANY) for kind in kinds.nested_kinds(top[3:]))
    for path in block:
        last = path[-1].strip()
        if last.startswith("no "):
            unuses.update((r.kind, r.name) for r in kinds.references_in((*path[:-1], last[3:])))
        elif not any(p.startswith("no ") for p in path):
            defines.update(kinds.definitions_in(path))
            referenced = list(kinds.references_in(path))
            uses.update((r.kind, r.name) for r in referenced)
            if tuple(path) in replacing:
                unuses.update((r.kind, ANY) for r in referenced)
    return removes, unuses, defines, uses


def _needs(blocks: Sequence[Sequence[Path_]], kinds: Catalog,
           replacing: frozenset[Path_] = frozenset()) -> dict[int, set[int]]:
    """For each block, the blocks that must be typed before it (see :func:`dependency_order`)."""
    roles = [_roles(block, kinds, replacing) for block in blocks]
    defined_by: dict[Key, set[int]] = {}
    unused_by: dict[Key, set[int]] = {}
    for i, (_, unuses, defines, _) in enumerate(roles):
        for key in defines:
            defined_by.setdefault(key, set()).add(i)
        for key in unuses:
            unused_by.setdefault(key, set()).add(i)
    before: dict[int, set[int]] = {}
    for i, (removes, _, _, uses) in enumerate(roles):
        needed = set().union(*(defined_by.get(key, set()) for key in uses),
                             *(unused_by.get(key, set()) | unused_by.get((key[0], ANY), set()) for key in removes))
        before[i] = needed - {i}
    return before
