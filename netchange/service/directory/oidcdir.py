"""Sign-in through an OpenID Connect provider: authorization code with PKCE (authlib).

The flow (OIDC Core 3.1, RFC 7636): the service sends the browser to the provider's
authorization endpoint with a random ``state``, a ``nonce`` and the S256 challenge of a random
verifier; the provider sends the browser back with the ``state`` and a code, which the service
exchanges (client secret and verifier) for tokens. The ID token is then checked before anything
is believed: its signature against the provider's JWKS, its issuer, its audience (this client),
its nonce (this sign-in), its expiry and ``at_hash`` (``authlib.oidc.core.CodeIDToken``). The
login is one claim (``login_claim``), the groups another.

The access and refresh tokens stay with the session: the re-check asks the provider's userinfo
endpoint with them (refreshing once when the access token is refused), so a person the provider no
longer vouches for loses the session at the next check. They are in this process's memory, and with
the team's database also in the session's row, encrypted (``netchange.service.shared.TokenSeal``).
A started sign-in (:class:`Pending`: state, nonce, verifier, wall-clock start) travels with the
browser, not in any process: the service's ``netchange_oidc`` cookie (HttpOnly, path
``/signin/oidc``) carries it sealed (AES-GCM under a key derived by HKDF-SHA256 from
``service/session.key``, which every replica has: :class:`PendingSeal`), so the provider's redirect
may come back to any replica. The browser cannot read or alter it (a changed cookie does not open),
a sealed session-row value does not open as one (another key, another associated data), and the
``state`` in the provider's answer must be the sealed one (the answer is for this browser's
sign-in). Its start is the epoch's clock, checked against :data:`PENDING_SECONDS` by whichever
replica finishes it (a monotonic clock is per process). The code is single use at the provider.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from netchange.config import OidcSettings
from netchange.service.directory import DirectoryUnavailable, Found

PENDING_SECONDS = 600.0
"""How long a started sign-in waits for the provider's answer."""
CLOCK_SKEW = 60.0
"""How far in the future another replica's start may be (clocks kept by NTP)."""


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in (state, code, or ID token wrong); one line why."""


@dataclass(frozen=True)
class Pending:
    state: str
    nonce: str
    verifier: str
    started: float


class PendingSeal:
    """AES-GCM over a started sign-in, for the browser's cookie: the key derived (HKDF-SHA256) from
    the service's session key with its own label, and its own associated data, so nothing sealed
    for a session row opens here; URL-safe base64 (a cookie value with no quoting)."""

    INFO = b"netchange oidc pending sign-in v1"
    BOUND_TO = b"netchange_oidc cookie"

    def __init__(self, session_key: bytes) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=self.INFO).derive(session_key)

    def seal(self, pending: Pending) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        plain = json.dumps({"state": pending.state, "nonce": pending.nonce, "verifier": pending.verifier,
                            "started": pending.started}).encode()
        nonce = secrets.token_bytes(12)
        raw = nonce + AESGCM(self._key).encrypt(nonce, plain, self.BOUND_TO)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def open(self, cookie: str) -> Pending | None:
        """The started sign-in; ``None`` when the cookie does not open (another key, altered, none)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not cookie or len(cookie) > 2000:
            return None
        try:
            raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
            data = json.loads(AESGCM(self._key).decrypt(raw[:12], raw[12:], self.BOUND_TO))
            return Pending(state=str(data["state"]), nonce=str(data["nonce"]), verifier=str(data["verifier"]),
                           started=float(data["started"]))
        except (InvalidTag, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Tokens:
    """What the provider gave this session (never shown, never logged; in the database only sealed)."""

    access_token: str
    refresh_token: str | None


class OidcProvider:
    def __init__(self, settings: OidcSettings, *, key: bytes | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``key``: the service's session key (``service/session.key``), which every replica has; without
        it a key of this process's own (a sign-in is then finished only by the process that started it)."""
        issuer = urlsplit(settings.issuer)
        if issuer.scheme != "https" and issuer.hostname not in {"127.0.0.1", "::1", "localhost"}:
            raise DirectoryUnavailable(f"OIDC issuer {settings.issuer}: must be https (http only on loopback)")
        self.settings = settings
        self._clock = clock
        self._metadata: dict[str, Any] | None = None
        self._seal = PendingSeal(key if key is not None else secrets.token_bytes(32))

    # --- discovery ------------------------------------------------------------------------------

    def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        verify: Any = str(self.settings.ca_file) if self.settings.ca_file else True
        try:
            response = httpx.get(url, timeout=self.settings.timeout, verify=verify, **kwargs)
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(f"OIDC provider {self.settings.issuer}: {type(exc).__name__}") from None
        return response

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, read once; its issuer must be the configured one."""
        if self._metadata is None:
            response = self._get(self.settings.issuer + "/.well-known/openid-configuration")
            if response.status_code != 200:
                raise DirectoryUnavailable(f"OIDC provider {self.settings.issuer}: discovery answered "
                                           f"{response.status_code}")
            doc = response.json()
            if not isinstance(doc, dict) or doc.get("issuer", "").rstrip("/") != self.settings.issuer:
                raise DirectoryUnavailable(f"OIDC provider {self.settings.issuer}: its discovery names another issuer")
            self._metadata = doc
        return self._metadata

    def _client(self) -> OAuth2Session:
        # authlib's requests client (its httpx one is deprecated in favour of a package not installed).
        s = self.settings
        session = OAuth2Session(
            client_id=s.client_id, client_secret=s.client_secret, scope=s.scopes, redirect_uri=s.redirect_url,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if s.client_secret else "none",
        )
        session.verify = str(s.ca_file) if s.ca_file else True
        return session

    # --- the sign-in --------------------------------------------------------------------------

    def start(self) -> tuple[str, Pending, str]:
        """The URL to send the browser to, the started sign-in, and its sealed form for the browser's
        cookie (what the answer will be checked against, by whichever replica receives it)."""
        meta = self.metadata()
        pending = Pending(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                          verifier=secrets.token_urlsafe(64), started=self._clock())
        with self._client() as client:
            url, _state = client.create_authorization_url(
                meta["authorization_endpoint"], state=pending.state, nonce=pending.nonce,
                code_verifier=pending.verifier,
            )
        return str(url), pending, self._seal.seal(pending)

    def finish(self, cookie: str, state: str, code: str) -> tuple[Found, Tokens]:
        """The provider's answer (``state``, ``code``) for the sign-in sealed in this browser's ``cookie``."""
        pending = self._seal.open(cookie)
        if pending is None:
            raise SignInRefused("the answer is for a sign-in this browser did not start (or its cookie was altered)")
        if not secrets.compare_digest(pending.state.encode(), state.encode()):
            raise SignInRefused("the answer is for a sign-in this browser did not start")
        age = self._clock() - pending.started
        if age > PENDING_SECONDS or age < -CLOCK_SKEW:
            raise SignInRefused("the sign-in took too long; start again")
        if not code or len(code) > 2000:
            raise SignInRefused("the provider sent no code")
        meta = self.metadata()
        try:
            with self._client() as client:
                token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                           code_verifier=pending.verifier, timeout=self.settings.timeout)
        except requests.RequestException as exc:
            raise DirectoryUnavailable(f"OIDC provider {self.settings.issuer}: {type(exc).__name__}") from None
        except Exception as exc:  # authlib's OAuthError: the provider refused the code
            why = getattr(exc, "error", type(exc).__name__)
            raise SignInRefused(f"the provider refused the code ({why})") from None
        claims = self._id_claims(token, pending.nonce)
        login = claims.get(self.settings.login_claim)
        if not isinstance(login, str) or not login:
            raise SignInRefused(f"the provider's ID token has no {self.settings.login_claim!r}")
        groups = self._groups(claims)
        return Found(login=login, groups=groups), Tokens(str(token["access_token"]), token.get("refresh_token"))

    def _id_claims(self, token: dict[str, Any], nonce: str) -> dict[str, Any]:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("the provider sent no ID token")
        meta = self.metadata()
        response = self._get(meta["jwks_uri"])
        try:
            keys = KeySet.import_key_set(response.json())
            algorithms = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
            decoded = jwt.decode(id_token, keys, algorithms=[a for a in algorithms if a != "none"])
            claims = CodeIDToken(
                decoded.claims, decoded.header, {"iss": {"essential": True, "value": self.settings.issuer}},
                {"nonce": nonce, "client_id": self.settings.client_id, "access_token": token.get("access_token")},
            )
            claims.validate(leeway=60)
        except (JoseError, ValueError) as exc:
            raise SignInRefused(f"the ID token does not hold ({type(exc).__name__}: {exc})") from None
        return dict(claims)

    def _groups(self, claims: dict[str, Any]) -> tuple[str, ...]:
        value = claims.get(self.settings.groups_claim, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return ()
        return tuple(sorted({g for g in value if isinstance(g, str) and 0 < len(g) <= 200}))

    # --- the re-check ------------------------------------------------------------------------------

    def recheck(self, login: str, tokens: Tokens) -> tuple[Found | None, Tokens]:
        """Who the provider says the session's person is now: ``None`` when it no longer vouches for
        them (tokens refused, another login, no login)."""
        meta = self.metadata()
        claims = self._userinfo(meta, tokens.access_token)
        if claims is None and tokens.refresh_token:
            try:
                with self._client() as client:
                    fresh = client.refresh_token(meta["token_endpoint"], refresh_token=tokens.refresh_token,
                                                 timeout=self.settings.timeout)
            except requests.RequestException as exc:
                raise DirectoryUnavailable(f"OIDC provider {self.settings.issuer}: {type(exc).__name__}") from None
            except Exception:  # authlib's OAuthError: the provider refused the refresh token
                return None, tokens
            tokens = Tokens(str(fresh["access_token"]), fresh.get("refresh_token") or tokens.refresh_token)
            claims = self._userinfo(meta, tokens.access_token)
        if claims is None or claims.get(self.settings.login_claim) != login:
            return None, tokens
        return Found(login=login, groups=self._groups(claims)), tokens

    def _userinfo(self, meta: dict[str, Any], access_token: str) -> dict[str, Any] | None:
        response = self._get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code in {400, 401, 403}:
            return None  # the token is refused: the provider no longer vouches for this grant
        if response.status_code != 200:
            raise DirectoryUnavailable(
                f"OIDC provider {self.settings.issuer}: userinfo answered {response.status_code}")
        doc = response.json()
        return doc if isinstance(doc, dict) else None
