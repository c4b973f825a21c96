"""The CLI's side of the approval service's JSON API: list, show, approve, reject; apply, rollback and
recover started by the service and followed through it (:mod:`netchange.cli.remoterun`).

When a server is configured (``NETCHANGE_SERVER_URL`` or ``server.url`` in settings.yaml, with the
person's token from ``NETCHANGE_API_TOKEN`` or ``server.token`` in the secrets file), ``netchange
approve``, ``show`` and ``list`` go through the service, so an engineer's CLI and a manager's
browser write and read one record. The service judges who acts from the token, never from the
command line; its refusals come back as netchange's own errors with the CLI's exit codes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from netchange import redact
from netchange.config import ServerSettings
from netchange.errors import BadRequest, GuardRefused, NetchangeError, StateConflict

MAX_RESPONSE = 32 * 1024 * 1024
"""A change with its plan and journal: generous, but bounded before it is parsed."""
PAGE = 500
"""Changes asked per page of ``/api/changes`` (the service's most)."""
MAX_PAGES = 10_000
"""Pages followed at most (five million changes): a service whose links loop is not followed forever."""


class ServiceUnavailable(NetchangeError):
    """The approval service could not be reached or answered nonsense (exit 1: nothing was decided)."""


class ServiceClient:
    def __init__(self, server: ServerSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        if not server.token:
            raise BadRequest(
                f"server {server.url} is set but no API token: set NETCHANGE_API_TOKEN or server.token in the"
                " secrets file ('netchange users token LOGIN' on the service's host makes one)"
            )
        redact.register(server.token)
        self.server = server
        self._http = httpx.Client(base_url=server.url, timeout=server.timeout, transport=transport,
                                  headers={"Authorization": f"Bearer {server.token}", "Accept": "application/json"},
                                  follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def list_changes(self) -> list[dict[str, Any]]:
        """Every change, page after page (the service's ``next`` links, on this server only)."""
        rows: list[dict[str, Any]] = []
        path: str | None = f"/api/changes?limit={PAGE}"
        for _ in range(MAX_PAGES):
            if path is None:
                return rows
            data = self._object(self._call("GET", path))
            changes, path = data.get("changes"), data.get("next")
            if not isinstance(changes, list) or not (path is None or _same_server_page(path)):
                raise ServiceUnavailable(f"{self.server.url}: /api/changes did not answer a page of changes")
            rows += changes
        raise ServiceUnavailable(f"{self.server.url}: /api/changes has more than {MAX_PAGES} pages")

    def me(self) -> dict[str, Any]:
        """Whom the token signs in (``GET /api/me``): login, name, roles, sites."""
        return self._object(self._call("GET", "/api/me"))

    def show(self, change_id: str) -> dict[str, Any]:
        return self._object(self._call("GET", f"/api/changes/{_id(change_id)}"))

    def decide(self, change_id: str, *, reject: bool, comment: str = "",
               plan_hash: str | None = None) -> dict[str, Any]:
        """Approve or reject the plan ``plan_hash`` (a prefix is enough); without one, the change's
        current plan as the service shows it now (as ``netchange approve`` without ``--plan``)."""
        current = self.show(change_id).get("plan_hash")
        if not isinstance(current, str) or not current:
            raise StateConflict(f"{change_id}: no plan recorded; nothing to approve")
        if plan_hash and not current.startswith(plan_hash):
            raise GuardRefused(
                f"{change_id}: plan {plan_hash[:12]} is not the current plan ({current[:12]}):"
                " read the new plan and approve that one"
            )
        verb = "reject" if reject else "approve"
        body = {"plan_hash": current, "comment": comment}
        return self._object(self._call("POST", f"/api/changes/{_id(change_id)}/{verb}", json=body))

    def start(self, change_id: str, command: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/changes/{id}/apply|rollback|recover``: the service starts the workflow as the
        token's owner and answers its id and ``after`` (the change's last event before it)."""
        return self._object(self._call("POST", f"/api/changes/{_id(change_id)}/{command}", json=body))

    def events(self, change_id: str, *, after: int, run: str) -> dict[str, Any]:
        """``GET /api/changes/{id}/events``: the change's events after ``after`` in the page's words,
        and where the workflow ``run`` (apply or restore) stands."""
        return self._object(self._call("GET", f"/api/changes/{_id(change_id)}/events?after={int(after)}&run={run}"))

    # --- transport ------------------------------------------------------------------------------

    def _object(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ServiceUnavailable(f"{self.server.url}: the answer is not a JSON object")
        return data

    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> Any:
        try:
            with self._http.stream(method, path, json=json) as response:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE:
                        raise ServiceUnavailable(f"{self.server.url}{path}: answer larger than {MAX_RESPONSE} bytes")
                status = response.status_code
                kind = response.headers.get("content-type", "")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{self.server.url}: cannot reach the approval service ({exc})") from None
        if "json" not in kind:
            raise ServiceUnavailable(f"{self.server.url}{path}: HTTP {status}, not JSON (is this netchange serve?)")
        import json as _json

        try:
            data = _json.loads(body)
        except ValueError:
            raise ServiceUnavailable(f"{self.server.url}{path}: HTTP {status}, malformed JSON") from None
        if status < 400:
            return data
        message = str(data.get("error") if isinstance(data, dict) else data)
        message = redact.scrub(" ".join(message.split()))
        code = data.get("exit_code") if isinstance(data, dict) else None
        if status == 401:
            raise BadRequest(f"{self.server.url}: the API token was refused ({message})")
        if code == 3 or status in (403, 409):
            raise GuardRefused(message)
        if code == 2 or status in (400, 404, 413, 422):
            raise BadRequest(message)
        raise ServiceUnavailable(f"{self.server.url}{path}: HTTP {status}: {message}")


def _same_server_page(path: object) -> bool:
    """A ``next`` link is a path of the list on the server the token was sent to, never another host."""
    return isinstance(path, str) and path.startswith("/api/changes?") and "//" not in path and len(path) < 200


def _id(change_id: str) -> str:
    return quote(change_id, safe="")
