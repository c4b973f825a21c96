"""The change types' helpers, now public as :mod:`netchange.authoring`; these names still import."""

from __future__ import annotations

from netchange.authoring import (
    Endpoint,
    check,
    cisco_endpoint,
    config_lines,
    connected_networks,
    has_line,
    has_section,
    reachable,
    section,
)

__all__ = [
    "Endpoint",
    "check",
    "cisco_endpoint",
    "config_lines",
    "connected_networks",
    "has_line",
    "has_section",
    "reachable",
    "section",
]
