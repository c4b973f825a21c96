"""Diff of indented configuration text: now in :mod:`netchange.diffformat` (re-exported here)."""

from netchange.diffformat import Node, diff_forest, diff_text, parse_tree

__all__ = ["Node", "diff_forest", "diff_text", "parse_tree"]
