"""The perimeter as a Nornir inventory: loading it, target resolution, the connection plugin.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.inventory._connection import CONNECTION_NAME as CONNECTION_NAME
    from netchange.inventory._connection import NetchangeConnection as NetchangeConnection
    from netchange.inventory._nornir import host_role as host_role
    from netchange.inventory._nornir import host_site as host_site
    from netchange.inventory._nornir import load_inventory as load_inventory
    from netchange.inventory._nornir import load_nornir as load_nornir
    from netchange.inventory._nornir import resolve_targets as resolve_targets
    from netchange.inventory._sot import map_source_of_truth as map_source_of_truth
    from netchange.inventory._sot import parse_mapping as parse_mapping

_WHERE = {
    "CONNECTION_NAME": "_connection",
    "NetchangeConnection": "_connection",
    "host_role": "_nornir",
    "host_site": "_nornir",
    "load_inventory": "_nornir",
    "load_nornir": "_nornir",
    "resolve_targets": "_nornir",
    "map_source_of_truth": "_sot",
    "parse_mapping": "_sot",
}

__all__ = [
    "CONNECTION_NAME",
    "NetchangeConnection",
    "host_role",
    "host_site",
    "load_inventory",
    "load_nornir",
    "map_source_of_truth",
    "parse_mapping",
    "resolve_targets",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
