"""The body limit, counted on the bytes received, before any parsing or authentication.

A declared ``Content-Length`` over the limit is refused at once; a body without one (sent
chunked) is counted as it arrives and refused as soon as it passes the limit, unread beyond that.
A body within the limit is read whole here and handed on: the form and JSON parsers, the CSRF
check and the bearer token all run after this count, never on more than ``limit`` bytes.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``limit`` bytes, however it is framed."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before its body was whole: nobody to answer
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        whole: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replay() -> Message:
            # The body once, whole; then the server's own messages (a disconnect, for a stream).
            return whole.pop() if whole else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"error": f"request body too large (over {self.limit} bytes)", "exit_code": 2},
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
