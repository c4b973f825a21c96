"""Read a driver's diff: the parser lives with the writers in :mod:`netchange.drivers.diffformat`."""

from netchange.drivers.diffformat import SIGNS, DiffLine, ParsedDiff, parse_diff

__all__ = ["SIGNS", "DiffLine", "ParsedDiff", "parse_diff"]
