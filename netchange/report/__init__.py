"""Documents for people: the tracking sheet of a change and the quarterly volumes.

The quality plan asks every document to carry the project name, the client name, a document
version, an issue date and page numbers; the templates (Jinja2, in ``templates/``) carry them in
a header block, and the HTML ones number pages with CSS ``@page`` counters when printed.

Names load on first use (:mod:`netchange._face`): ``netchange show`` reads the sheet's data
without loading Jinja2 or the quarterly statistics (start-up, issue 20 item 5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.report.quarterly import QuarterStats as QuarterStats
    from netchange.report.quarterly import parse_quarter as parse_quarter
    from netchange.report.quarterly import quarter_stats as quarter_stats
    from netchange.report.quarterly import render_quarterly as render_quarterly
    from netchange.report.sheet import Sheet as Sheet
    from netchange.report.sheet import build_sheet as build_sheet
    from netchange.report.sheet import render_sheet as render_sheet

_WHERE = {
    "QuarterStats": "quarterly",
    "parse_quarter": "quarterly",
    "quarter_stats": "quarterly",
    "render_quarterly": "quarterly",
    "Sheet": "sheet",
    "build_sheet": "sheet",
    "render_sheet": "sheet",
}

__all__ = [
    "QuarterStats",
    "Sheet",
    "build_sheet",
    "parse_quarter",
    "quarter_stats",
    "render_quarterly",
    "render_sheet",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
