"""Documents for people: the tracking sheet of a change and the quarterly and weekly volumes.

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
    from netchange.report.pdf import html_to_pdf as html_to_pdf
    from netchange.report.quarterly import PeriodStats as PeriodStats
    from netchange.report.quarterly import parse_quarter as parse_quarter
    from netchange.report.quarterly import parse_week as parse_week
    from netchange.report.quarterly import quarter_stats as quarter_stats
    from netchange.report.quarterly import render_period as render_period
    from netchange.report.quarterly import render_quarterly as render_quarterly
    from netchange.report.quarterly import render_weekly as render_weekly
    from netchange.report.quarterly import week_stats as week_stats
    from netchange.report.sheet import Sheet as Sheet
    from netchange.report.sheet import build_sheet as build_sheet
    from netchange.report.sheet import render_sheet as render_sheet

_WHERE = {
    "html_to_pdf": "pdf",
    "PeriodStats": "quarterly",
    "parse_quarter": "quarterly",
    "parse_week": "quarterly",
    "quarter_stats": "quarterly",
    "render_period": "quarterly",
    "render_quarterly": "quarterly",
    "render_weekly": "quarterly",
    "week_stats": "quarterly",
    "Sheet": "sheet",
    "build_sheet": "sheet",
    "render_sheet": "sheet",
}

__all__ = [
    "PeriodStats",
    "Sheet",
    "build_sheet",
    "html_to_pdf",
    "parse_quarter",
    "parse_week",
    "quarter_stats",
    "render_period",
    "render_quarterly",
    "render_sheet",
    "render_weekly",
    "week_stats",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
