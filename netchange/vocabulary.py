"""The quality plan's vocabulary: categories, perimeters, roles — plain enums, no pydantic.

They sit apart from :mod:`netchange.models` because commands that never read a change file need
them too (``list``, ``show`` and the journal read a category back from every row), and importing
the request models builds their pydantic schemas: about 0.1 s of every such command's start
(issue 20 item 5). ``tests/unit/test_startup_imports.py`` keeps ``list`` free of pydantic.
"""

from __future__ import annotations

import enum
from typing import Any


class Category(enum.StrEnum):
    """The quality plan's three categories, ordered from the least to the most demanding."""

    MINOR = "minor"
    MEDIUM = "medium"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def highest(cls, categories: Any) -> Category:
        """The most demanding of ``categories`` (minor when there are none)."""
        best = cls.MINOR
        for cat in categories:
            if Category(cat).rank > best.rank:
                best = Category(cat)
        return best


_RANK = {Category.MINOR: 0, Category.MEDIUM: 1, Category.MAJOR: 2}


class Perimeter(enum.StrEnum):
    """Which list of the quality plan applies: it follows the device's role."""

    NETWORK = "network"
    SECURITY = "security"
    DNS = "dns"
    LOAD_BALANCING = "load_balancing"


class Role(enum.StrEnum):
    SWITCH = "switch"
    FIREWALL = "firewall"
    LOAD_BALANCER = "load_balancer"
    DNS = "dns"
    ROUTER = "router"
    """Routers and first-hop redundancy gateways (FRR, keepalived VRRP): the network perimeter."""

    @property
    def perimeter(self) -> Perimeter:
        return {
            Role.SWITCH: Perimeter.NETWORK,
            Role.FIREWALL: Perimeter.SECURITY,
            Role.LOAD_BALANCER: Perimeter.LOAD_BALANCING,
            Role.DNS: Perimeter.DNS,
            Role.ROUTER: Perimeter.NETWORK,
        }[self]
