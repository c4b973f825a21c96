"""Sign-in, sign-out, the session of a request, and the CSRF check of every form.

A page needs a live session (signed cookie + server-side entry). Every POST carries the
session's CSRF token in its form; a missing token or another session's token is refused (403)
before anything is read from the form. The sign-in form itself is protected by a token bound to
a short-lived signed cookie. Failed sign-ins are slowed per (login, client address) and per client
address, never per login alone (``throttle``); each is journaled (kind ``signin_failed``, no change
id, never the password), and a login being guessed from anywhere is journaled once per window
(``signin_guessing``, with the addresses) for the notifier to mail its owner.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from netchange.journal import EventKind
from netchange.service.sessions import COOKIE, PRE_COOKIE, Session
from netchange.service.state import Service
from netchange.service.throttle import Guessing


class NotSignedIn(Exception):
    """The request has no live session: the page redirects to the sign-in form."""


class CsrfRefused(Exception):
    """A POST without its session's CSRF token."""


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def session_of(request: Request) -> Session:
    service = service_of(request)
    session = service.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        raise NotSignedIn
    if session.stamp != service.password_stamp(session.login):
        # The password changed since this session opened (here, or `netchange users set-password`).
        service.sessions.close(session)
        raise NotSignedIn
    return session


def check_csrf(session: Session, token: str | None) -> None:
    if not token or not secrets.compare_digest(token.encode(), session.csrf.encode()):
        raise CsrfRefused


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_cookie(response: Response, service: Service, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", secure=service.secure_cookies, path="/"
    )


def signin_form(request: Request, *, error: str = "", login: str = "", status_code: int = 200) -> HTMLResponse:
    service = service_of(request)
    cookie, token = service.sessions.pre_token()
    html = service.render("signin.html", error=error, login=login, csrf=token, session=None, title="Sign in")
    response = HTMLResponse(html, status_code=status_code)
    set_cookie(response, service, PRE_COOKIE, cookie, 3600)
    return response


def sign_in(request: Request, login: str, password: str, csrf: str) -> Response:
    service = service_of(request)
    if not service.sessions.pre_check(request.cookies.get(PRE_COOKIE), csrf):
        raise CsrfRefused
    login = login.strip()[:64]
    address = client_address(request)
    wait = service.throttle.wait(login, address)
    if wait > 0:
        journal_failure(service, login, address, "refused while slowed down")
        journal_guessing(service, service.throttle.refused(login, address))
        return signin_form(
            request,
            error=f"Too many failed sign-ins from here: try again in {int(wait) + 1} s.",
            login=login,
            status_code=429,
        )
    policy = service.policy()
    person = policy.person(login)
    ok = service.accounts().check_password(login, password) and person is not None
    if not ok:
        failures, guessing = service.throttle.failed(login, address)
        journal_failure(service, login, address, f"wrong login or password ({failures} in a row from {address})")
        journal_guessing(service, guessing)
        return signin_form(request, error="Wrong login or password.", login=login, status_code=401)
    service.throttle.succeeded(login, address)
    _session, cookie = service.sessions.open(login, stamp=service.password_stamp(login))
    response = RedirectResponse("/queue", status_code=303)
    set_cookie(response, service, COOKIE, cookie, int(service.sessions.ttl))
    response.delete_cookie(PRE_COOKIE, path="/")
    with service.journal() as journal:
        journal.event(None, EventKind.SIGNIN, actor=login, data={"client": address})
    return response


def sign_out(request: Request, session: Session) -> Response:
    service = service_of(request)
    service.sessions.close(session)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def journal_guessing(service: Service, guessing: Guessing | None) -> None:
    """The pattern on one login, once per throttle window: the notifier mails the person
    (``netchange.notify.account``); the addresses, never a password."""
    if guessing is None:
        return
    with service.journal() as journal:
        journal.event(None, EventKind.SIGNIN_GUESSING, actor="netchange", data={
            "login": guessing.login, "failures": guessing.failures, "addresses": list(guessing.addresses),
            "unlisted_failures": guessing.unlisted_failures, "window_s": int(guessing.window),
        })


def journal_failure(service: Service, login: str, address: str, why: str) -> None:
    with service.journal() as journal:
        journal.event(None, EventKind.SIGNIN_FAILED, actor=login or "?", data={"client": address, "why": why})
