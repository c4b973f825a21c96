"""The application factory: routes, error handling, security headers, static files.

``create_app(settings)`` is all a server (``netchange serve``, a test, a benchmark) needs.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from netchange.config import Settings
from netchange.errors import NetchangeError
from netchange.service import account, api, auth, feeds, live, pages, reports
from netchange.service.bodylimit import BodyLimit
from netchange.service.secheaders import SecurityHeaders
from netchange.service.state import STATIC, Service

# The pages are plain HTML forms; the one script is a static file of the service (static/live.js,
# the live apply), so no inline or injected script can run; it may open the page's own event stream.
CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MAX_BODY = 64 * 1024
"""Forms and API bodies are small (a comment, a hash): anything larger is refused unread, counted
on the bytes received whether or not a Content-Length was sent (``bodylimit.BodyLimit``)."""


def create_app(settings: Settings, *, secure_cookies: bool = False) -> FastAPI:
    app = FastAPI(title="netchange approval service", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.service = Service(settings=settings, secure_cookies=secure_cookies)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(live.router)
    app.include_router(reports.router)
    app.include_router(account.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # Added last is outermost: the headers wrap the body limit, so its 413 carries them too.
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    app.add_middleware(SecurityHeaders, always=SECURITY_HEADERS, defaults={"Cache-Control": "no-store"})

    @app.exception_handler(auth.NotSignedIn)
    async def not_signed_in(request: Request, exc: auth.NotSignedIn) -> Response:
        if request.method == "GET":
            return RedirectResponse("/signin", status_code=303)
        return HTMLResponse("<h1>403</h1><p>Not signed in: sign in again.</p>", status_code=403)

    @app.exception_handler(auth.CsrfRefused)
    async def csrf_refused(request: Request, exc: auth.CsrfRefused) -> Response:
        return HTMLResponse(
            "<h1>403</h1><p>Refused: the form's security token is missing or is not this session's. "
            "Reload the page and try again.</p>",
            status_code=403,
        )

    @app.exception_handler(api.ApiUnauthorized)
    async def api_unauthorized(request: Request, exc: api.ApiUnauthorized) -> Response:
        return JSONResponse(
            {"error": "a valid bearer token is needed (netchange users token NAME)", "exit_code": 2},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(NetchangeError)
    async def netchange_error(request: Request, exc: NetchangeError) -> Response:
        if request.url.path.startswith("/api/"):
            status = 404 if "no such change" in str(exc) else 400 if exc.exit_code == 2 else 403
            return api.api_error(status, exc)
        return pages.error_page(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}", "exit_code": 2}, status_code=400)

    return app
