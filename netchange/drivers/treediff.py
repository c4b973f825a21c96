"""Diff of indented configuration text: now in :mod:`netchange.drivers.diffformat` (re-exported here)."""

from netchange.drivers.diffformat import Node, diff_forest, diff_text, parse_tree

__all__ = ["Node", "diff_forest", "diff_text", "parse_tree"]
