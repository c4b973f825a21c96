"""Sign-in, sign-out, the session of a request, and the CSRF check of every form.

A page needs a live session (signed cookie + server-side entry). Every POST carries the
session's CSRF token in its form; a missing token or another session's token is refused (403)
before anything is read from the form. The sign-in form itself is protected by a token bound to
a short-lived signed cookie. Failed sign-ins are slowed per (login, client address) and per client
address, never per login alone (``throttle``); each is journaled (kind ``signin_failed``, no change
id, never the password), and a login being guessed from anywhere is journaled once per window
(``signin_guessing``, with the addresses) for the notifier to mail its owner.

Who proves who they are depends on ``identity:`` (``netchange.config.IdentitySettings``): the
local accounts file (the default), an LDAP bind as the person through the same form, or an OIDC
provider (``/signin/oidc``, the browser sent there and back). With a directory, each request's
person is what the policy makes of the directory's answer (``Holds.person``): the policy stays
the authority, the directory is asked again every ``recheck_minutes``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from netchange.journal import EventKind
from netchange.policy import Policy, seen_by_directory
from netchange.service.directory import DirectoryUnavailable, Found
from netchange.service.sessions import COOKIE, PRE_COOKIE, Session
from netchange.service.state import Service
from netchange.service.throttle import Guessing

if TYPE_CHECKING:
    from netchange.service.directory.oidcdir import Tokens

OIDC_COOKIE = "netchange_oidc"
"""A started OIDC sign-in (state, nonce, PKCE verifier, start), sealed (``oidcdir.PendingSeal``):
binds it to this browser and lets any replica finish it. SameSite=Lax: the provider's redirect back
is a cross-site navigation, which a Strict cookie would not follow."""


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
    if service.holds is not None:
        person = service.holds.person(session.sid, service.policy())
        if person is None:
            # Gone from the directory, from every mapped group, or from the policy: signed out.
            service.sessions.close(session)
            raise NotSignedIn
        request.state.person = person
        return session
    if session.stamp != service.password_stamp(session.login):
        # The password changed since this session opened (here, or `netchange users set-password`).
        service.sessions.close(session)
        raise NotSignedIn
    return session


def policy_of(request: Request, session: Session) -> Policy:
    """The policy as this session's person may act under it: the file in force, with their entry
    narrowed by their directory groups (``seen_by_directory``); the file itself for local accounts."""
    service = service_of(request)
    policy = service.policy()
    person = getattr(request.state, "person", None)
    if service.holds is None or person is None or person.login != session.login:
        return policy
    return seen_by_directory(policy, person)


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
    provider = service.holds.provider if service.holds is not None else "local"
    html = service.render("signin.html", error=error, login=login, csrf=token, session=None, title="Sign in",
                          provider=provider)
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
    found: Found | None = None
    if service.holds is None:
        person = policy.person(login)
        ok = service.accounts().check_password(login, password) and person is not None
    elif service.holds.provider == "ldap":
        try:
            found, person = service.holds.sign_in(policy, login, password)
        except DirectoryUnavailable as exc:
            journal_failure(service, login, address, str(exc))
            return signin_form(request, error="The directory cannot be reached: try again later.", login=login,
                               status_code=503)
        # Nobody the policy leaves without a role signs in, whatever the directory says (same message).
        ok = person is not None
    else:
        return signin_form(request, error="Sign in with the identity provider below.", status_code=400)
    if not ok:
        failures, guessing = service.throttle.failed(login, address)
        journal_failure(service, login, address, f"wrong login or password ({failures} in a row from {address})")
        journal_guessing(service, guessing)
        return signin_form(request, error="Wrong login or password.", login=login, status_code=401)
    service.throttle.succeeded(login, address)
    response = RedirectResponse("/queue", status_code=303)
    open_session(service, response, login, address, found)
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


def open_session(service: Service, response: Response, login: str, address: str, found: Found | None, *,
                 tokens: Tokens | None = None) -> None:
    """A new session for ``login`` on ``response`` (its cookie), held against the directory if one
    vouched for it; journaled (``signin``, with how)."""
    session, cookie = service.sessions.open(login, stamp="" if found else service.password_stamp(login))
    if service.holds is not None and found is not None:
        service.holds.opened(session.sid, found, tokens)
    set_cookie(response, service, COOKIE, cookie, int(service.sessions.ttl))
    data = {"client": address}
    if service.holds is not None:
        data["via"] = service.holds.provider
    with service.journal() as journal:
        journal.event(None, EventKind.SIGNIN, actor=login, data=data)


def sign_out(request: Request, session: Session) -> Response:
    service = service_of(request)
    service.sessions.close(session)
    if service.holds is not None:
        service.holds.closed(session.sid)
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


def oidc_start(request: Request) -> Response:
    """Send the browser to the OIDC provider (authorization code with PKCE)."""
    service = service_of(request)
    if service.holds is None or service.holds.oidc is None:
        return signin_form(request, error="This service does not sign in through an OIDC provider.", status_code=404)
    try:
        url, _pending, sealed = service.holds.oidc.start()
    except DirectoryUnavailable as exc:
        journal_failure(service, "", client_address(request), str(exc))
        return signin_form(request, error="The identity provider cannot be reached: try again later.",
                           status_code=503)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(OIDC_COOKIE, sealed, max_age=600, httponly=True, samesite="lax",
                        secure=service.secure_cookies, path="/signin/oidc")
    return response


def oidc_callback(request: Request, *, state: str, code: str, error: str) -> Response:
    """The provider's answer: the ID token checked, then the policy decides (``directory_person``)."""
    from netchange.policy import directory_person
    from netchange.service.directory.oidcdir import SignInRefused

    service = service_of(request)
    address = client_address(request)
    if service.holds is None or service.holds.oidc is None:
        return signin_form(request, error="This service does not sign in through an OIDC provider.", status_code=404)
    if error:
        journal_failure(service, "", address, f"the OIDC provider answered {error[:80]!r}")
        return _refused(request, "The identity provider did not sign you in.", 401)
    try:
        found, tokens = service.holds.oidc.finish(request.cookies.get(OIDC_COOKIE, ""), state, code)
    except SignInRefused as exc:
        journal_failure(service, "", address, f"OIDC: {exc}")
        return _refused(request, f"Sign-in refused: {exc}.", 401)
    except DirectoryUnavailable as exc:
        journal_failure(service, "", address, str(exc))
        return _refused(request, "The identity provider cannot be reached: try again later.", 503)
    if directory_person(service.policy(), found.login, found.groups) is None:
        journal_failure(service, found.login, address, "OIDC: not a person of the policy, or no role of theirs "
                        f"granted by their groups ({', '.join(found.groups) or 'none'})")
        return _refused(request, f"{found.login} is not allowed to use this service (the policy gives no role).", 403)
    html = service.render("signed_in.html", session=None, title="Signed in", login=found.login)
    response = HTMLResponse(html)
    open_session(service, response, found.login, address, found, tokens=tokens)
    response.delete_cookie(OIDC_COOKIE, path="/signin/oidc")
    return response


def _refused(request: Request, error: str, status: int) -> Response:
    response = signin_form(request, error=error, status_code=status)
    response.delete_cookie(OIDC_COOKIE, path="/signin/oidc")
    return response
