"""The application factory: routes, error handling, security headers, static files.

``create_app(settings)`` is all a server (``netchange serve``, a test, a benchmark) needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from netchange.config import Settings
from netchange.errors import NetchangeError
from netchange.service import api, auth, pages
from netchange.service.state import STATIC, Service

# No script at all: the pages are plain HTML forms. Anything injected cannot run.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
MAX_BODY = 64 * 1024
"""Forms and API bodies are small (a comment, a hash): anything larger is refused unread."""


def create_app(settings: Settings, *, secure_cookies: bool = False) -> FastAPI:
    app = FastAPI(title="netchange approval service", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.service = Service(settings=settings, secure_cookies=secure_cookies)
    app.include_router(pages.router)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def guard_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return JSONResponse({"error": "request body too large", "exit_code": 2}, status_code=413)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

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
