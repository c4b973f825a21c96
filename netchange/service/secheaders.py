"""The security headers of every answer, errors included.

Outermost of the service's middleware, so that a 413 of the body limit, a 4xx of a handler and
an unexpected error (answered 500 here, then raised on for the server to log) all carry the same
``Content-Security-Policy``, ``X-Content-Type-Options``, ``Referrer-Policy`` and ``X-Frame-Options``.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeaders:
    """ASGI middleware: ``always`` set on every response, ``defaults`` where the response has none."""

    def __init__(self, app: ASGIApp, *, always: Mapping[str, str], defaults: Mapping[str, str]) -> None:
        self.app = app
        self.always = dict(always)
        self.defaults = dict(defaults)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in self.always.items():
                    headers[name] = value
                for name, value in self.defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await PlainTextResponse("Internal error: it is in the service's log.", status_code=500)(
                    scope, receive, send_with_headers
                )
            raise
