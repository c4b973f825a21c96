"""A person's own account: change one's password (a form page and the JSON API).

The current password is required, and a wrong one counts as a failed sign-in (the same throttle,
per login and address, and the same journal events), so a session left open or a copied API token
is not a way to guess it. A new password signs the person out everywhere: their other sessions
end (``Sessions.close_all`` here; a stamp of the password in each session ends those of any other
process, ``auth.session_of``), their calendar feed links change with it (``feeds``); this browser
gets a fresh session. The change is journaled (``password_changed``: who, from where, how many
sessions ended; never a password). An administrator resets a password with ``netchange users
set-password LOGIN`` on the service's host, journaled as ``password_reset``.
API tokens are not passwords and stay valid: ``netchange users token LOGIN --revoke`` ends them.

With a directory (LDAP, OIDC) the password is the directory's: the page instead lets the person
make an API token for the CLI (``netchange login``), shown once, valid ``identity.token_hours``
and only while the directory and the policy still let them in (``Holds.token_person``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from netchange.errors import BadRequest
from netchange.journal import EventKind
from netchange.service import api, auth
from netchange.service.accounts import MAX_PASSWORD, MIN_PASSWORD, WrongPassword, check_new_password
from netchange.service.pages import page
from netchange.service.sessions import COOKIE
from netchange.service.state import Service

router = APIRouter()


class SlowedDown(BadRequest):
    """Too many wrong passwords from this address for this login: wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"Too many wrong passwords from here: try again in {int(wait) + 1} s.")


def change_own_password(service: Service, login: str, current: str, new: str, *, address: str) -> int:
    """Replace ``login``'s password, the current one given; returns how many sessions were signed out.

    A new password that could not be set is refused first: only a request that would change the
    password tries the current one (and counts, when wrong, as a failed sign-in)."""
    check_new_password(new)
    wait = service.throttle.wait(login, address)
    if wait > 0:
        auth.journal_failure(service, login, address, "password change refused while slowed down")
        raise SlowedDown(wait)
    policy = service.policy()
    accounts = service.accounts()
    try:
        accounts.change_password(policy, login, current, new)
    except WrongPassword:
        failures, guessing = service.throttle.failed(login, address)
        auth.journal_failure(service, login, address, f"wrong current password to change it ({failures} in a row)")
        auth.journal_guessing(service, guessing)
        raise
    accounts.save()
    service.throttle.succeeded(login, address)
    ended = service.sessions.close_all(login)
    with service.journal() as journal:
        journal.event(None, EventKind.PASSWORD_CHANGED, actor=login, data={"client": address, "sessions_ended": ended})
    return ended


@router.get("/account")
def account_page(request: Request, done: Annotated[str, Query(max_length=20)] = "") -> Response:
    session = auth.session_of(request)
    message = "Your password is changed; your other sessions are signed out." if done == "password" else ""
    return page(request, "account.html", session, title="My account", message=message, error="",
                min_password=MIN_PASSWORD, max_password=MAX_PASSWORD, **_directory(request))


def _directory(request: Request) -> dict[str, Any]:
    service = auth.service_of(request)
    if service.holds is None:
        return {"directory": ""}
    return {"directory": service.holds.provider, "token_hours": service.settings.identity.token_hours}


@router.post("/account/token")
def account_token(
    request: Request,
    csrf: Annotated[str, Form(max_length=200)] = "",
    label: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """A directory person makes an API token for their CLI: shown once, only its hash kept."""
    session = auth.session_of(request)
    auth.check_csrf(session, csrf)
    service = auth.service_of(request)
    if service.holds is None:
        raise BadRequest("API tokens of local accounts are made on the service's host: netchange users token LOGIN")
    hours = service.settings.identity.token_hours
    accounts = service.accounts()
    token = accounts.new_token(service.policy(), session.login, label=label.strip() or "web",
                               expires=time.time() + hours * 3600)
    accounts.save()
    return page(request, "account.html", session, title="My account", message="", error="", token=token,
                min_password=MIN_PASSWORD, max_password=MAX_PASSWORD, **_directory(request))


@router.post("/account/password")
def account_password(
    request: Request,
    csrf: Annotated[str, Form(max_length=200)] = "",
    current: Annotated[str, Form(max_length=MAX_PASSWORD + 1)] = "",
    new: Annotated[str, Form(max_length=MAX_PASSWORD + 1)] = "",
    again: Annotated[str, Form(max_length=MAX_PASSWORD + 1)] = "",
) -> Response:
    session = auth.session_of(request)
    auth.check_csrf(session, csrf)
    service = auth.service_of(request)
    if service.holds is not None:
        raise BadRequest("your password is the directory's: change it there")

    def refused(error: str, status: int) -> Response:
        return page(request, "account.html", session, title="My account", message="", error=error,
                    min_password=MIN_PASSWORD, max_password=MAX_PASSWORD, status_code=status)

    if new != again:
        return refused("The two new passwords differ.", 400)
    try:
        change_own_password(service, session.login, current, new, address=auth.client_address(request))
    except SlowedDown as exc:
        return refused(str(exc), 429)
    except WrongPassword:
        return refused("The current password is wrong.", 401)
    except BadRequest as exc:
        return refused(f"Refused: {exc}.", 400)
    _fresh, cookie = service.sessions.open(session.login, stamp=service.password_stamp(session.login))
    response = RedirectResponse("/account?done=password", status_code=303)
    auth.set_cookie(response, service, COOKIE, cookie, int(service.sessions.ttl))
    return response


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=MAX_PASSWORD + 1)
    new_password: str = Field(max_length=MAX_PASSWORD + 1)


@router.post("/api/account/password")
def api_password(request: Request, body: PasswordBody) -> JSONResponse:
    """The token's owner changes their password (the current one required)."""
    login = api.api_login(request)
    service = auth.service_of(request)
    if service.holds is not None:
        return api.api_error(400, "your password is the directory's: change it there")
    try:
        ended = change_own_password(service, login, body.current_password, body.new_password,
                                    address=auth.client_address(request))
    except SlowedDown as exc:
        return api.api_error(429, exc)
    except WrongPassword as exc:
        return api.api_error(403, exc)
    return JSONResponse({"login": login, "password_changed": True, "sessions_signed_out": ended})
