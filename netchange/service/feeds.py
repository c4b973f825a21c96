"""The calendar feed of a site, ``/calendar/{site}.ics``, and the per-person link that reads it.

A calendar client (Thunderbird, Outlook, Apple Calendar, Google Calendar) subscribes to a URL
and fetches it on its own schedule: it cannot sign in, hold the session cookie, nor, for most of
them, send an ``Authorization`` header. So the feed is read with a **per-person feed token in the
URL** (``?token=LOGIN.MAC``), shown to the signed-in person on the calendar page, rather than
with an API token: an API token approves changes, and a calendar URL is copied into third-party
services (a Google account syncing it), so the one in the URL can only read calendars.

The token is ``HMAC-SHA256(service key, login, the person's password hash)``: nothing is stored,
the page can show it again at any time, and it stops working when the person's password changes
(or their account or their place in the policy goes), which is how a leaked link is revoked; a new
service key (``<home>/service/session.key``) revokes every link. Tools may send an API token as
``Authorization: Bearer`` instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from netchange.errors import BadRequest
from netchange.service import api, auth, calendar, ical
from netchange.service.sessions import load_key
from netchange.service.state import Service

router = APIRouter()

_PURPOSE = b"netchange calendar feed v1"


def feed_token(service: Service, login: str) -> str | None:
    """``login``'s feed token (None: no password set, so no account to tie it to)."""
    stored = service.accounts().data.get(login, {}).get("password")
    if not isinstance(stored, str):
        return None
    message = b"\0".join((_PURPOSE, login.encode(), stored.encode()))
    mac = hmac.new(load_key(service.settings.home), message, hashlib.sha256).hexdigest()[:40]
    return f"{login}.{mac}"


def feed_owner(service: Service, token: str) -> str | None:
    """The person a feed token is for, when it is still valid."""
    login, _, mac = token.rpartition(".")
    if not login or not mac or service.policy().person(login) is None:
        return None
    expected = feed_token(service, login)
    if expected is None or not secrets.compare_digest(expected.encode(), token.encode()):
        return None
    return login


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/calendar/{site}.ics")
def site_feed(request: Request, site: str, token: Annotated[str, Query(max_length=300)] = "") -> Response:
    service = auth.service_of(request)
    if request.headers.get("authorization"):
        api.api_login(request)  # a tool's API token; a wrong one is the API's 401
    elif feed_owner(service, token) is None:
        return PlainTextResponse(
            "A valid calendar link is needed: copy yours from the calendar page (signed in).",
            status_code=401, headers={"WWW-Authenticate": "Bearer"},
        )
    policy = service.policy()
    checked = calendar.check_site(policy, site)
    if checked is None:
        raise BadRequest("which site's calendar? /calendar/SITE.ics")
    now = service.now(policy)
    with service.journal() as journal:
        placed = calendar.entries(policy, journal, now=now, since=now - ical.PAST, until=now + ical.AHEAD,
                                  site=checked)
    body = ical.feed(policy, checked, placed, now=now, base_url=base_url(request))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'inline; filename="netchange-{checked}.ics"'})
