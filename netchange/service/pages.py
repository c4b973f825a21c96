"""The pages: my queue, the change, its tracking sheet (and printable sheet), calendar (reports: ``reports``)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from netchange import redact
from netchange.errors import BadRequest, GuardRefused, NetchangeError, StateConflict
from netchange.plan import store as planstore
from netchange.report.render import render
from netchange.report.sheet import build_sheet
from netchange.service import auth, calendar, changeview, feeds, live, timeline, worklist
from netchange.service.decide import PlanChanged, decide
from netchange.service.sessions import Session

router = APIRouter()


def page(
    request: Request, template: str, session: Session | None, *, status_code: int = 200, **context: Any
) -> Response:
    service = auth.service_of(request)
    policy = context.pop("policy", None) or service.policy()
    # The person as the request found them (a directory session: roles narrowed by their groups).
    person = (getattr(request.state, "person", None) or policy.person(session.login)) if session else None
    html = service.render(
        template, policy, session=session, person=person, csrf=session.csrf if session else "",
        project=policy.project, client=policy.client, **context,
    )
    return HTMLResponse(html, status_code=status_code)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/signin")
def signin_page(request: Request) -> Response:
    return auth.signin_form(request)


@router.post("/signin")
def signin_post(
    request: Request,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return auth.sign_in(request, login, password, csrf)


@router.get("/signin/oidc")
def signin_oidc(request: Request) -> Response:
    return auth.oidc_start(request)


@router.get("/signin/oidc/callback")
def signin_oidc_callback(
    request: Request,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return auth.oidc_callback(request, state=state, code=code, error=error)


@router.post("/signout")
def signout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    session = auth.session_of(request)
    auth.check_csrf(session, csrf)
    return auth.sign_out(request, session)


@router.get("/queue")
def my_queue(  # noqa: PLR0917 (FastAPI reads each query parameter from a parameter)
    request: Request,
    site: Annotated[str, Query(max_length=40)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
    state: Annotated[str, Query(max_length=20)] = "open",
    requester: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query(max_length=20)] = "waiting",
    order: Annotated[str, Query(max_length=4)] = "asc",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    session = auth.session_of(request)
    service = auth.service_of(request)
    policy = auth.policy_of(request, session)
    filters = worklist.check_filters(policy, site, category, state, requester, sort, order, page_number)
    with service.journal() as journal:
        w = worklist.build_worklist(policy, journal, session.login, filters, now=service.now(policy))
    return page(request, "queue.html", session, policy=policy, w=w, title="My queue", sites=list(policy.sites),
                categories=worklist.CATEGORIES, states=list(worklist.STATES), columns=worklist.COLUMNS)


def _change_page(
    request: Request, session: Session, change_id: str, *, message: str = "", error: str = "", status_code: int = 200,
    since: str = "",
) -> Response:
    service = auth.service_of(request)
    policy = auth.policy_of(request, session)
    with service.journal() as journal:
        row = journal.require(change_id)
        if row.plan_hash is None:
            raise BadRequest(f"{change_id}: no plan recorded")
        plan = planstore.current(service.settings.plans_dir, journal, change_id)
        view = changeview.build(policy, journal, plan, row, login=session.login, now=service.now(policy),
                                since=since)
        following = live.build(journal.events(change_id), [h.host for h in plan.hosts if h.changes], policy.tz,
                               row.state.value)
    return page(
        request, "change.html", session, policy=policy, v=view, message=message, error=error,
        title=f"{change_id} — {plan.change.title}", local=lambda t: timeline.local(t, policy.tz),
        status_code=status_code, live=following, refresh=live.REFRESH,
    )


@router.get("/changes/{change_id}")
def change_page(
    request: Request, change_id: str, done: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    session = auth.session_of(request)
    message = {"approved": "Your approval is recorded.", "rejected": "Your rejection is recorded."}.get(done, "")
    return _change_page(request, session, change_id, message=message, since=since)


@router.post("/changes/{change_id}/decide")
def change_decide(  # noqa: PLR0917 (FastAPI reads each form field from a parameter)
    request: Request,
    change_id: str,
    csrf: Annotated[str, Form(max_length=200)] = "",
    plan_hash: Annotated[str, Form(max_length=200)] = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    session = auth.session_of(request)
    auth.check_csrf(session, csrf)
    if decision not in {"approve", "reject"}:
        return _change_page(request, session, change_id, error="Choose Approve or Reject.", status_code=400)
    service = auth.service_of(request)
    try:
        decide(service, session.login, change_id, plan_hash=plan_hash, reject=decision == "reject", comment=comment,
               policy=auth.policy_of(request, session))
    except PlanChanged as exc:
        # What changed between the plan the person read (their form's hash) and the current one.
        return _change_page(request, session, change_id, error=str(exc), status_code=409, since=plan_hash)
    except (GuardRefused, StateConflict) as exc:
        return _change_page(request, session, change_id, error=f"Refused: {exc}", status_code=403)
    except BadRequest as exc:
        return _change_page(request, session, change_id, error=str(exc), status_code=400)
    done = "rejected" if decision == "reject" else "approved"
    return RedirectResponse(f"/changes/{change_id}?done={done}", status_code=303)


@router.get("/changes/{change_id}/sheet")
def sheet_page(request: Request, change_id: str) -> Response:
    session = auth.session_of(request)
    service = auth.service_of(request)
    policy = service.policy()
    with service.journal() as journal:
        sheet = build_sheet(policy, journal, change_id, now=service.now(policy))
    return page(
        request, "sheet.html", session, policy=policy, sheet=sheet, title=f"Tracking sheet {change_id}",
        lines=timeline.timeline(sheet.events, policy.tz),
        outcome=timeline.outcome(sheet.events, sheet.change.state.value),
        local=lambda t: timeline.local(t, policy.tz),
    )


@router.get("/changes/{change_id}/sheet/print")
def sheet_print(request: Request, change_id: str) -> Response:
    auth.session_of(request)
    service = auth.service_of(request)
    policy = service.policy()
    from netchange.report import render_sheet

    with service.journal() as journal:
        # Its style is a file of the service's (static/print.css): the CSP refuses inline style.
        html = render_sheet(policy, journal, change_id, fmt="html", now=service.now(policy),
                            stylesheets=("/static/print.css", f"/changes/{quote(change_id, safe='')}/sheet/print.css"))
    return HTMLResponse(redact.scrub(html))


@router.get("/changes/{change_id}/sheet/print.css")
def sheet_print_css(request: Request, change_id: str) -> Response:
    """The printed sheet's page boxes (project, client, version, date on every page): the document's
    own values in a stylesheet of the service's, as its CSP allows no inline style."""
    auth.session_of(request)
    service = auth.service_of(request)
    policy = service.policy()
    from netchange.report.sheet import render_sheet_page_css

    with service.journal() as journal:
        css = render_sheet_page_css(policy, journal, change_id, now=service.now(policy))
    return Response(css, media_type="text/css; charset=utf-8")


@router.get("/calendar")
def calendar_page(request: Request, weeks: int = 3, site: Annotated[str, Query(max_length=40)] = "") -> Response:
    session = auth.session_of(request)
    service = auth.service_of(request)
    policy = service.policy()
    shown = calendar.check_site(policy, site)
    weeks = min(max(weeks, 1), 8)
    now = service.now(policy)
    with service.journal() as journal:
        days = calendar.build_calendar(policy, journal, now=now, weeks=weeks, site=shown)
    token = feeds.feed_token(service, session.login)
    base = feeds.base_url(request)
    links = {s: f"{base}/calendar/{s}.ics?token={quote(token)}" for s in policy.sites} if token else {}
    today = now.astimezone(policy.tz).date()
    freezes = [f for f in policy.freezes if f.end >= today]
    return page(request, "calendar.html", session, policy=policy, days=days, all_sites=list(policy.sites),
                sites=[shown] if shown else list(policy.sites), site=shown, weeks=weeks, feeds=links,
                freezes=freezes, title="Calendar", today=today)


def error_page(request: Request, exc: NetchangeError) -> Response:
    session = None
    with contextlib.suppress(auth.NotSignedIn):
        session = auth.session_of(request)
    status = 404 if "no such change" in str(exc) else (
        400 if isinstance(exc, BadRequest) else 403
    )
    return page(request, "error.html", session, error=redact.scrub(str(exc)), title="Error", status_code=status)


__all__ = ["error_page", "render", "router"]
