"""Signed, expiring sessions kept on the server, so that signing out really ends them.

The cookie carries only a random session id, signed (itsdangerous, with a key kept 0600 under
the netchange home) and timestamped: a forged or expired cookie is refused before any lookup.
The session itself (who, its CSRF token, when it expires) lives in a store: this process's memory
by default (:class:`MemoryStore`; a restart signs everybody out, which is the safe side), or, with
``NETCHANGE_DATABASE_URL``, the team's PostgreSQL database (``netchange.service.shared``), which
every replica of the service shares: a session opened on one is open on all, and signing out on
one ends it on all. Signing out deletes it, and a copied cookie then opens nothing.
A session also carries its person's password stamp when it opened (``Accounts.password_stamp``):
once the password changes, here or by ``netchange users set-password`` in another process, the
stamp differs and the session is over (``auth.session_of``).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer

from netchange.privatefile import write_private

COOKIE = "netchange_session"
PRE_COOKIE = "netchange_signin"
"""Before sign-in: binds the sign-in form's CSRF token to this browser."""


@dataclass(frozen=True)
class Session:
    sid: str
    login: str
    csrf: str
    expires: float
    stamp: str = ""
    """The person's password stamp when the session opened."""


def load_key(home: Path) -> bytes:
    """The signing key: made once (0600), kept across restarts."""
    path = home / "service" / "session.key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    write_private(path, key)
    return key


class SessionStore(Protocol):
    """Where sessions live: this process (:class:`MemoryStore`) or the team's database."""

    def put(self, session: Session, ttl: float) -> None: ...
    def find(self, sid: str) -> Session | None:
        """The live session ``sid`` (``None``: unknown or expired)."""
        ...
    def drop(self, sid: str) -> None: ...
    def drop_login(self, login: str) -> int:
        """End every session of ``login``; how many ended."""
        ...


class MemoryStore:
    """Sessions in this process's memory: one process serves, a restart signs everybody out."""

    def __init__(self) -> None:
        self._live: dict[str, Session] = {}
        self._lock = threading.Lock()

    def put(self, session: Session, ttl: float) -> None:
        with self._lock:
            now = time.time()
            for sid in [s for s, v in self._live.items() if v.expires <= now]:
                del self._live[sid]
            self._live[session.sid] = session

    def find(self, sid: str) -> Session | None:
        with self._lock:
            session = self._live.get(sid)
            if session is None or session.expires <= time.time():
                self._live.pop(sid, None)
                return None
            return session

    def drop(self, sid: str) -> None:
        with self._lock:
            self._live.pop(sid, None)

    def drop_login(self, login: str) -> int:
        with self._lock:
            ended = [sid for sid, s in self._live.items() if s.login == login]
            for sid in ended:
                del self._live[sid]
        return len(ended)


class Sessions:
    def __init__(self, key: bytes, *, ttl: float = 8 * 3600, store: SessionStore | None = None) -> None:
        self._signer = URLSafeTimedSerializer(key, salt="netchange-session")
        self._pre = URLSafeTimedSerializer(key, salt="netchange-signin-form")
        self.ttl = ttl
        self.store: SessionStore = store or MemoryStore()

    def open(self, login: str, *, stamp: str = "") -> tuple[Session, str]:
        """A new session for ``login`` (whose password stamp is ``stamp``) and its signed cookie value."""
        session = Session(
            sid=secrets.token_urlsafe(32), login=login, csrf=secrets.token_urlsafe(32), expires=time.time() + self.ttl,
            stamp=stamp,
        )
        self.store.put(session, self.ttl)
        return session, self._signer.dumps(session.sid)

    def get(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 400:
            return None
        try:
            sid = self._signer.loads(cookie, max_age=int(self.ttl))
        except BadSignature:
            return None
        return self.store.find(str(sid))

    def close(self, session: Session) -> None:
        self.store.drop(session.sid)

    def close_all(self, login: str) -> int:
        """Sign ``login`` out everywhere (a new password); returns how many sessions ended."""
        return self.store.drop_login(login)

    # --- the sign-in form's token (no session yet) --------------------------------------------

    def pre_token(self) -> tuple[str, str]:
        """A fresh (cookie value, form token) pair for the sign-in form."""
        nonce = secrets.token_urlsafe(24)
        return self._pre.dumps(nonce), nonce

    def pre_check(self, cookie: str | None, form_token: str) -> bool:
        if not cookie or not form_token or len(cookie) > 400:
            return False
        try:
            nonce = self._pre.loads(cookie, max_age=3600)
        except BadSignature:
            return False
        return secrets.compare_digest(str(nonce), form_token)
