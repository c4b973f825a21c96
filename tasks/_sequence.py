"""Where a new entry of an ordered list goes, and the number it is typed with.

ACLs, prefix-lists and route-maps are read top down: an entry's place decides what it does. A
device numbers the entries (IOS ACL sequence numbers, prefix-list ``seq``, route-map sequences)
or counts them (ASA ``line``), and refuses a number already taken (IOS: ``% Duplicate sequence
number``) or, worse, replaces the entry that had it (FRR). So a change type never lets a
candidate choose a number by itself (hier_config numbers a candidate's unnumbered ACL entries
from 10, whatever the running list holds): it reads the list from the running configuration,
works out the place the request asks for, and renders the entry with the number that puts it
there, which the diff then shows as it will be typed.

The request says where (:class:`Placement`, on each entry to add):

- ``sequence``/``seq``: this number, which must be free (or freed by the same step);
- ``position: N``: the entry becomes the N-th of the list (1: the first);
- ``before: X`` / ``after: X``: next to an existing entry, named by its number or by its text
  as the device prints it without the number (``permit udp any any eq 53``);
- nothing: before the list's final catch-all deny when it ends with one (``deny ip any any``,
  ``deny any``, ``deny 0.0.0.0/0 le 32``, a route-map ``deny`` entry without ``match``), else at the
  end.

An entry placed after a final catch-all deny would never match: that is a failed pre-check,
never a silent plan. Entries going into the same gap are spread evenly over it in request order;
a gap without a free number (10 and 11) is a failed pre-check saying to renumber the list first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from netchange.authoring import CheckResult, check
from netchange.basemodels import StrictModel

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def squeeze(text: str) -> str:
    """An entry's text with its blanks collapsed (classic IOS pads ``deny   ip``)."""
    return " ".join(text.split())


def _entry_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains a newline or control character")
    value = squeeze(value)
    if not value:
        raise ValueError("is blank")
    return value


EntryText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_entry_text)]
"""An existing entry named by its text, as the device prints it without its number."""
Anchor = Annotated[int, Field(ge=1, le=4294967295)] | EntryText
"""An existing entry, by its number (its sequence, or its line on ASA) or by its text."""


class Placement(StrictModel):
    """Where an entry to add goes (at most one of these; none: before a final deny, else last)."""

    position: Annotated[int, Field(ge=1, le=100000)] | None = None
    """The place the entry takes, 1 for the first: the entries from there on move down."""
    before: Anchor | None = None
    """Just before this existing entry (its number, or its text without the number)."""
    after: Anchor | None = None
    """Just after this existing entry (its number, or its text without the number)."""

    def _explicit_number(self) -> int | None:
        return None

    @model_validator(mode="after")
    def _one_placement(self) -> Placement:
        given = [name for name in ("position", "before", "after") if getattr(self, name) is not None]
        if self._explicit_number() is not None:
            given.insert(0, "sequence")
        if len(given) > 1:
            raise ValueError(f"give one of sequence, position, before, after (not {' and '.join(given)})")
        return self


@dataclass(frozen=True)
class Entry:
    """One entry of a list in the running configuration: its number and its text (no number)."""

    number: int
    text: str


@dataclass(frozen=True)
class Placed:
    """Where an entry to add goes: its number, and a sentence saying where, for people."""

    number: int
    where: str


class PlacementError(ValueError):
    """The request's placement cannot be honoured (an unknown anchor, no free number, a dead entry)."""


def placement_checks(placements: Callable[[], list[Placed]], listed: str,
                     said: Callable[[int, Placed], str]) -> list[CheckResult]:
    """The pre-checks of the entries to add: one passed check per entry saying where it goes
    (``said(index, placed)``, the place's sentence as its detail), or the one failed check
    saying why the entries cannot be placed in ``listed``."""
    try:
        placed = placements()
    except PlacementError as exc:
        return [check(f"entries placed in {listed}", False, str(exc))]
    return [check(said(index, where), True, where.where) for index, where in enumerate(placed)]


@dataclass(frozen=True)
class ListShape:
    """What differs between kinds of lists."""

    kind: str
    """How an entry is named in messages (``entry``, ``seq``, ``line``)."""
    catch_all: Callable[[str], bool]
    """Whether an entry's text denies everything that reaches it."""
    step: int = 10
    """The increment after the last entry (the device's own default)."""
    renumber_hint: str = "renumber the list first"
    counted: bool = False
    """Numbers are positions (ASA ``line``), not names: inserting shifts the entries after."""


def _describe(entry: Entry, shape: ListShape) -> str:
    return f"{shape.kind} {entry.number} {entry.text}".rstrip()


def _anchor_index(entries: Sequence[Entry], anchor: int | str, shape: ListShape) -> int:
    if isinstance(anchor, int):
        found = [i for i, e in enumerate(entries) if e.number == anchor]
        if not found:
            raise PlacementError(f"no {shape.kind} {anchor} in the list")
        return found[0]
    wanted = squeeze(anchor)
    found = [i for i, e in enumerate(entries) if squeeze(e.text) == wanted]
    if not found:
        raise PlacementError(f"no entry {wanted!r} in the list")
    if len(found) > 1:
        raise PlacementError(f"entry {wanted!r} is in the list {len(found)} times: name it by its number")
    return found[0]


def _gap(entries: Sequence[Entry], want: Placement, shape: ListShape) -> int:
    """The index of the existing entry the new one goes before (``len(entries)``: at the end)."""
    if want.position is not None:
        if want.position > len(entries) + 1:
            raise PlacementError(f"position {want.position} is past the end of the list "
                                 f"({len(entries)} entries: {len(entries) + 1} is the last place)")
        return want.position - 1
    if want.before is not None:
        return _anchor_index(entries, want.before, shape)
    if want.after is not None:
        return _anchor_index(entries, want.after, shape) + 1
    if entries and shape.catch_all(entries[-1].text):
        return len(entries) - 1
    return len(entries)


def place(entries: Sequence[Entry], wanted: Sequence[tuple[Placement, int | None]], shape: ListShape) -> list[Placed]:
    """The number and place of each entry to add, in request order.

    ``entries``: the list as it will be once the step's removals are typed (numbers ascending,
    as the device keeps it); ``wanted``: each new entry's placement and its explicit number, if
    the request gave one. Raises :class:`PlacementError` with one sentence naming the entry when
    a placement cannot be honoured.
    """
    taken = {e.number for e in entries}
    dead_after = len(entries) - 1 if entries and shape.catch_all(entries[-1].text) else None
    gaps: dict[int, list[int]] = {}  # gap index → indexes into wanted, in request order
    results: dict[int, Placed] = {}
    for k, (want, explicit) in enumerate(wanted):
        if explicit is not None:
            results[k] = _explicit(entries, explicit, taken, dead_after, shape)
            continue
        index = _gap(entries, want, shape)
        if dead_after is not None and index > dead_after:
            raise PlacementError(f"it would come after {_describe(entries[dead_after], shape)} and never match")
        gaps.setdefault(index, []).append(k)
    shift = 0  # counted lists: the lines inserted in earlier gaps move the later ones down
    for index in sorted(gaps):
        members = gaps[index]
        numbers = _numbers(entries, index, len(members), shift=shift, taken=taken, shape=shape)
        for number, k in zip(numbers, members, strict=True):
            results[k] = Placed(number, _where(entries, index, shape))
        shift += len(members)
    return [results[k] for k in range(len(wanted))]


def _explicit(entries: Sequence[Entry], number: int, taken: set[int], dead_after: int | None,
              shape: ListShape) -> Placed:
    """An entry the request numbered itself: the number must be free and before a final deny."""
    if shape.counted:
        raise PlacementError("these entries have no numbers of their own: use position, before or after")
    if number in taken:
        owner = next(e for e in entries if e.number == number)
        raise PlacementError(f"{shape.kind} {number} is taken ({_describe(owner, shape)})")
    taken.add(number)
    index = sum(1 for e in entries if e.number < number)
    if dead_after is not None and index > dead_after:
        raise PlacementError(f"{shape.kind} {number} comes after {_describe(entries[dead_after], shape)} "
                             "and would never match")
    return Placed(number, _where(entries, index, shape))


def _numbers(entries: Sequence[Entry], index: int, count: int, *, shift: int, taken: set[int],
             shape: ListShape) -> list[int]:
    """The numbers of ``count`` entries going before ``entries[index]``, spread evenly."""
    if shape.counted:
        return [index + shift + j + 1 for j in range(count)]
    low = entries[index - 1].number if index > 0 else 0
    step = shape.step
    if index < len(entries):
        high = entries[index].number
        step = (high - low) // (count + 1)
        if step < 1:
            raise PlacementError(f"no free {shape.kind} between {low} and {high} for {count} "
                                 f"entr{'y' if count == 1 else 'ies'}: {shape.renumber_hint}")
    numbers = [low + step * (j + 1) for j in range(count)]
    clash = next((n for n in numbers if n in taken), None)
    if clash is not None:  # an explicit number of the same request sits in the gap
        raise PlacementError(f"{shape.kind} {clash} is asked twice: give explicit numbers")
    taken.update(numbers)
    return numbers


def _where(entries: Sequence[Entry], index: int, shape: ListShape) -> str:
    if not entries:
        return "as the list's first entry"
    if index >= len(entries):
        return f"after {_describe(entries[-1], shape)}"
    return f"before {_describe(entries[index], shape)}"


# -- the lists' catch-all entries ----------------------------------------------------------------------

_ANY = r"(?:any[46]?|0\.0\.0\.0 255\.255\.255\.255)"
_IOS_DENY_ALL = re.compile(rf"^deny (?:ip|ipv4) {_ANY} {_ANY}(?: log(?:-input)?)?$")
_PREFIX_DENY_ALL = re.compile(r"^deny (?:any|0\.0\.0\.0/0 le 32)$")


def acl_catch_all(text: str) -> bool:
    """An IOS or ASA extended ACL entry denying every IP packet (``deny ip any any [log]``)."""
    body = squeeze(text)
    body = re.sub(r"^extended ", "", body)
    return _IOS_DENY_ALL.match(body) is not None


def prefix_catch_all(text: str) -> bool:
    """A prefix-list entry denying every IPv4 prefix (``deny any``, ``deny 0.0.0.0/0 le 32``)."""
    return _PREFIX_DENY_ALL.match(squeeze(text)) is not None


def route_map_catch_all(text: str) -> bool:
    """A route-map entry that denies every route reaching it: ``deny`` without ``match`` clauses
    (its text is its action followed by its ``match`` clauses, ``;``-separated)."""
    return squeeze(text) == "deny"
