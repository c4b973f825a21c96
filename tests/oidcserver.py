"""An OpenID Connect provider for the tests, started once per test run (issue 24 item 6).

The provider is ``oidc-provider-mock`` from PyPI (0.3.4, the last release for Python 3.11): a real
OIDC provider process built on authlib's server side (discovery, JWKS with an RS256 key made at
start, authorization endpoint with a one-click sign-in page, token and userinfo endpoints,
client registration, refresh tokens), on 127.0.0.1 at a free port, as this run's child process.
Its client registration is required (``--require-registration``): the service's client id,
secret and redirect URI are checked as a real provider checks them.

One thing is added to it here, before it starts: PKCE (RFC 7636, S256) enforced on the
authorization-code grant — the package accepts a ``code_challenge`` but does not check the
verifier, and the point of the test is that the service's verifier is checked. It is authlib's
own ``CodeChallenge(required=True)`` extension, with the challenge kept beside each code.

``PUT /users/<sub>`` sets a person's claims (``preferred_username``, ``groups``) and
``POST /users/<sub>/revoke-tokens`` makes the provider forget their tokens: how the tests remove
someone from the "directory".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from netchange.service.launch import stop

REPO = Path(__file__).resolve().parent.parent
GROUPS_OF = {
    "amoreau": ["ops-doif", "requesters"],
    "bleroy": ["ops-doso", "requesters"],
    "dnguyen": ["netops"],
    "efaure": ["netops"],
    "zintrus": ["netops"],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OidcServer:
    issuer: str
    startup_seconds: float

    def call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.issuer + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
            return answer.status, json.loads(text) if text else None

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A new client of the provider for ``redirect_uri``: (client id, client secret)."""
        _status, doc = self.call("POST", "/oauth2/clients", {"redirect_uris": [redirect_uri],
                                                             "token_endpoint_auth_method": "client_secret_basic"})
        assert isinstance(doc, dict)
        return str(doc["client_id"]), str(doc["client_secret"])

    def set_person(self, login: str, groups: list[str] | None = None) -> None:
        """The provider's claims for subject ``login``: its login and groups (``groups=None``: the
        test's default groups for that login)."""
        claims = {"preferred_username": login, "email": f"{login}@netchange.test",
                  "groups": GROUPS_OF.get(login, []) if groups is None else groups}
        self.call("PUT", f"/users/{login}", claims)

    def revoke(self, login: str) -> None:
        """The provider forgets every token it gave ``login`` (their grant is withdrawn)."""
        self.call("POST", f"/users/{login}/revoke-tokens")


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcServer]:
    """The run's OIDC provider (see the module's docstring); stopped at the end of the run."""
    started = time.monotonic()
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "tests.oidcserver", str(port)], cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        issuer = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"the OIDC provider did not start: {log.read()[-2000:]!r}") from None
                    time.sleep(0.1)
            server = OidcServer(issuer=issuer, startup_seconds=time.monotonic() - started)
            for login in GROUPS_OF:
                server.set_person(login)
            yield server
        finally:
            stop(proc)


def _serve(port: int) -> None:  # pragma: no cover - runs in the provider's own process
    """oidc-provider-mock with PKCE enforced (see the module's docstring), on 127.0.0.1:``port``."""
    from typing import Any

    import oidc_provider_mock._app as mock
    import uvicorn
    from authlib.oauth2.rfc7636 import CodeChallenge

    challenges: dict[str, tuple[str, str]] = {}

    class KeptChallenge(CodeChallenge):  # type: ignore[misc]
        def get_authorization_code_challenge(self, authorization_code: Any) -> str | None:
            return challenges.get(authorization_code.code, (None, None))[0]

        def get_authorization_code_challenge_method(self, authorization_code: Any) -> str | None:
            return challenges.get(authorization_code.code, (None, None))[1]

    class PkceCodeGrant(mock.AuthorizationCodeGrant):  # type: ignore[misc, name-defined]
        def __init__(self, request: Any, server: Any) -> None:
            super().__init__(request, server)
            KeptChallenge(required=True)(self)

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            challenges[code] = (data.get("code_challenge"), data.get("code_challenge_method"))
            super().save_authorization_code(code, request)

    mock.AuthorizationCodeGrant = PkceCodeGrant
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain HTTP on loopback, as the package's own CLI does
    app = mock.app(require_client_registration=True, require_nonce=True)
    uvicorn.run(app, interface="wsgi", host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
