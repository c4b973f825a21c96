"""What an ASA network object-group matches: its entries expanded as the firewall expands them.

A group's own lines are not its members. ``group-object OTHER`` brings in every member of another
group, ``network-object object O`` the host, subnet or range of a network object, a ``name``
stands for an address, and a subnet or range covers each address inside it. A check that compares
the group's lines as text passes "10.1.0.50 not yet in G" when G already matches it through a
nested group's range, and the plan adds it a second time (issue 22, finding 5).

Read from the running configuration, which on an ASA holds every definition the expansion needs
(``object network``, ``object-group network``, ``name``): live it is the device's own
``show running-config``, read once for the plan (the diff is computed from the same text); offline
the stored copy of it, so an offline plan decides here too. What the configuration cannot say is
reported, never guessed: an ``fqdn`` object (resolved by the firewall at run time) and a reference
to a group or object the text does not define.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

IPv4 = ipaddress.IPv4Address


@dataclass(frozen=True)
class Entry:
    """One IPv4 block a group matches, and the way the group reaches it."""

    first: int
    last: int
    via: tuple[str, ...]
    """The lines walked from the group to the block, outermost first (``group-object B``,
    ``network-object object O``, the object's ``range A B``)."""

    @property
    def direct(self) -> bool:
        """A line of the group itself (not through a nested group or an object)."""
        return len(self.via) == 1

    def describe(self) -> str:
        return " > ".join(self.via)


@dataclass
class Expansion:
    """The IPv4 blocks a group matches, with what could not be expanded from the text."""

    entries: list[Entry] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    """Members the text cannot expand (``fqdn`` objects, undefined groups or objects), described."""


@dataclass(frozen=True)
class Definitions:
    """The definitions of an ASA configuration that network object-groups refer to."""

    groups: dict[str, list[str]]
    objects: dict[str, list[str]]
    names: dict[str, str]

    @classmethod
    def read(cls, running: str) -> Definitions:
        groups: dict[str, list[str]] = {}
        objects: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        current: list[str] | None = None
        for raw in running.splitlines():
            line = raw.rstrip()
            if not line.strip():
                continue
            if not line[0].isspace():
                words = line.split()
                current = None
                if words[:2] == ["object-group", "network"] and len(words) >= 3:
                    current = groups.setdefault(words[2], [])
                elif words[:2] == ["object", "network"] and len(words) >= 3:
                    current = objects.setdefault(words[2], [])
                elif words[0] == "name" and len(words) >= 3:
                    names[words[2]] = words[1]
                continue
            if current is not None:
                current.append(" ".join(line.split()))
        return cls(groups=groups, objects=objects, names=names)

    def address(self, token: str) -> IPv4 | None:
        """An IPv4 address written as such or as a ``name``; ``None`` otherwise (IPv6, unknown)."""
        try:
            found = ipaddress.ip_address(self.names.get(token, token))
        except ValueError:
            return None
        return found if isinstance(found, IPv4) else None

    def expand(self, group: str) -> Expansion | None:
        """What ``group`` matches; ``None`` when the configuration defines no such network group."""
        if group not in self.groups:
            return None
        found = Expansion()
        self._walk(group, (), found, frozenset({group}))
        return found

    def _walk(self, group: str, via: tuple[str, ...], found: Expansion, seen: frozenset[str]) -> None:
        for line in self.groups.get(group, []):
            words = line.split()
            here = (*via, line)
            if words[0] == "group-object" and len(words) == 2:
                nested = words[1]
                if nested not in self.groups:
                    found.unresolved.append(f"{' > '.join(here)} (no such network group in the configuration)")
                elif nested not in seen:
                    self._walk(nested, here, found, seen | {nested})
            elif words[0] == "network-object" and len(words) == 3 and words[1] == "object":
                self._object(words[2], here, found)
            elif words[0] == "network-object":
                self._block(words[1:], here, found)

    def _object(self, name: str, via: tuple[str, ...], found: Expansion) -> None:
        lines = self.objects.get(name)
        if lines is None:
            found.unresolved.append(f"{' > '.join(via)} (no such network object in the configuration)")
            return
        for line in lines:
            words = line.split()
            if words[0] in ("host", "subnet", "range"):
                self._block(words, (*via, line), found)
            elif words[0] == "fqdn":
                found.unresolved.append(f"{' > '.join((*via, line))} (resolved by the firewall, not in the text)")

    def _block(self, words: list[str], via: tuple[str, ...], found: Expansion) -> None:
        """``host A``, ``A M``, ``subnet A M``, ``range A B`` (IPv6 forms are not IPv4 blocks)."""
        kind, rest = (words[0], words[1:]) if words[0] in ("host", "subnet", "range") else ("subnet", words)
        block: tuple[int, int] | None = None
        if kind == "host" and len(rest) == 1 and (one := self.address(rest[0])) is not None:
            block = (int(one), int(one))
        elif kind == "range" and len(rest) == 2:
            low, high = self.address(rest[0]), self.address(rest[1])
            block = (int(low), int(high)) if low is not None and high is not None else None
        elif kind == "subnet" and len(rest) == 2 and (base := self.address(rest[0])) is not None:
            try:
                net = ipaddress.IPv4Network(f"{base}/{rest[1]}", strict=False)
            except ValueError:
                net = None
            block = (int(net.network_address), int(net.broadcast_address)) if net is not None else None
        if block is not None:
            found.entries.append(Entry(first=block[0], last=block[1], via=via))


def covering(expansion: Expansion, net: ipaddress.IPv4Network) -> list[Entry]:
    """The entries through which the group already matches every address of ``net`` (empty when
    some address of it is not matched): the one entry holding it all if there is one (a line of
    the group itself first), else every entry that together cover it."""
    first, last = int(net.network_address), int(net.broadcast_address)
    whole = [e for e in expansion.entries if e.first <= first and last <= e.last]
    if whole:
        return [min(whole, key=lambda e: (not e.direct, len(e.via)))]
    parts = sorted((e for e in expansion.entries if e.last >= first and e.first <= last), key=lambda e: e.first)
    reached = first - 1
    for index, entry in enumerate(parts):
        if entry.first > reached + 1:
            return []
        reached = max(reached, entry.last)
        if reached >= last:
            return parts[: index + 1]
    return []
