"""Documents for people: the tracking sheet of a change and the quarterly volumes.

The quality plan asks every document to carry the project name, the client name, a document
version, an issue date and page numbers; the templates (Jinja2, in ``templates/``) carry them in
a header block, and the HTML ones number pages with CSS ``@page`` counters when printed.
"""

from netchange.report.quarterly import QuarterStats, parse_quarter, quarter_stats, render_quarterly
from netchange.report.sheet import Sheet, build_sheet, render_sheet

__all__ = [
    "QuarterStats",
    "Sheet",
    "build_sheet",
    "parse_quarter",
    "quarter_stats",
    "render_quarterly",
    "render_sheet",
]
