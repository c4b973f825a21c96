"""The reports page and its exports: the quarter and the ISO week, as a page, CSV and PDF.

The figures come from SQLite's counts (``netchange.report.quarterly``, ``journal.tallies``): the
page reads the changes it names, never the whole journal. The exports are the steering
committee's and the operations meeting's documents: CSV for a spreadsheet, PDF laid out by
WeasyPrint (A4, the quality plan's header, "Page n of m"), each with the journal head it was
made from.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from netchange import redact
from netchange.errors import BadRequest
from netchange.report.quarterly import quarter_of, quarter_stats, render_period, week_of, week_stats
from netchange.service import auth
from netchange.service.pages import page

router = APIRouter()

PERIOD = 12
"""The longest period text (``2026-W49``, ``2026Q4``)."""


@router.get("/reports")
def reports_page(
    request: Request,
    quarter: Annotated[str, Query(max_length=PERIOD)] = "",
    week: Annotated[str, Query(max_length=PERIOD)] = "",
) -> Response:
    session = auth.session_of(request)
    service = auth.service_of(request)
    policy = service.policy()
    now = service.now(policy).astimezone(policy.tz)
    with service.journal() as journal:
        stats = quarter_stats(policy, journal, quarter or quarter_of(now))
        weekly, endings = week_stats(policy, journal, week or week_of(now))
    lists = {
        "in progress now": endings.in_progress,
        "failed": endings.failed,
        "rolled back": endings.rolled_back,
        "emergencies": endings.emergencies,
        "completed": endings.completed,
    }
    return page(request, "reports.html", session, policy=policy, s=stats, w=weekly, weekly=lists,
                previous_week=week_of(weekly.since.date() - dt.timedelta(days=1)),
                next_week=week_of(weekly.until.date()), week_end=weekly.until.date() - dt.timedelta(days=1),
                title="Reports")


def _export(request: Request, period: str, fmt: str) -> Response:
    auth.session_of(request)
    service = auth.service_of(request)
    policy = service.policy()
    now = service.now(policy)
    with service.journal() as journal:
        text = render_period(policy, journal, period, fmt="html" if fmt == "pdf" else fmt, now=now)
    name = "".join(ch for ch in period.upper() if ch.isalnum() or ch == "-")
    disposition = {"Content-Disposition": f'attachment; filename="netchange-report-{name}.{fmt}"'}
    if fmt == "csv":
        return Response(redact.scrub(text), media_type="text/csv; charset=utf-8", headers=disposition)
    from netchange.report.pdf import html_to_pdf

    return Response(html_to_pdf(redact.scrub(text)), media_type="application/pdf", headers=disposition)


@router.get("/reports/{period}.csv")
def report_csv(request: Request, period: str) -> Response:
    return _export(request, _period(period), "csv")


@router.get("/reports/{period}.pdf")
def report_pdf(request: Request, period: str) -> Response:
    return _export(request, _period(period), "pdf")


def _period(text: str) -> str:
    if len(text) > PERIOD:
        raise BadRequest(f"period {text[:PERIOD]!r}...: not like 2026Q4 or 2026-W49")
    return text
