"""The service's state in the team's database, shared by every replica (issue 24 item 5).

With ``NETCHANGE_DATABASE_URL`` set, two or more ``netchange serve`` processes behind one address
(a proxy sending each request to any of them) must agree on who is signed in and on how many
sign-ins failed: sessions and the throttle's counts live in the tables ``service_sessions``,
``service_throttle`` and ``service_guessing`` (:data:`netchange.journal.pgstore.SERVICE_SCHEMA`,
created by the journal's owner with the rest of the schema). The mail outbox is already there
(``netchange.notify.outbox``): each notice is mailed once whatever the number of replicas.

Sessions are mutable state, not history: the application's role may update and delete these rows
(signing out deletes one), so they are protected otherwise than the journal:

- a row holds the **SHA-256 of the session token**, never the token: whoever reads the table (a
  backup, a read-only role) cannot present a session; the cookie is also signed with the key kept
  0600 under the service's home, which every replica has (docs/team-setup.md);
- **expiry is the database's clock** (``expires_at > now()``), one clock for every replica, so a
  replica whose clock is behind does not keep a session alive longer;
- the CSRF token is stored as is (each page's forms carry it): alone it opens nothing without the
  session's cookie.

The throttle's arithmetic is :class:`netchange.service.throttle.Throttle`'s, run on the rows of the
login and address concerned, read and written in one transaction under an advisory lock, with the
database's clock (seconds since the epoch) as its clock: failures count across replicas.

With ``identity: ldap`` or ``oidc`` the directory's hold on each session (who the directory said
the person was, their groups, when it was last asked: ``Holds``) is kept in the session's row, so
the bound on a removed person's session holds whichever replica they reach. An OIDC hold also
carries the provider's access and refresh tokens, which the re-check presents: the row holds them
**encrypted** (AES-GCM; the key derived by HKDF-SHA256 from ``service/session.key``, the cookie
signing key every replica already has; the row's token hash as associated data, so a sealed value
copied to another row does not open), never in clear. Whoever reads the table, or a backup of it,
without the home's key file gets neither a session nor the provider's tokens.

Connections: one per thread of the service (uvicorn's thread pool), opened on first use and
opened again once if the server dropped it; a database that does not answer is one line
(``DatabaseUnavailable``), the error page of the request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from netchange.errors import DatabaseRefused, DatabaseUnavailable
from netchange.journal.database import connect, where
from netchange.service.directory import Found
from netchange.service.sessions import Session
from netchange.service.throttle import WINDOW, Guessing, Throttle, _Count, _Pattern

if TYPE_CHECKING:
    import psycopg

    from netchange.service.directory.oidcdir import Tokens

T = TypeVar("T")
_THROTTLE_LOCK = 0x6E63_7468  # pg_advisory_xact_lock key: the throttle's read-count-write is one at a time


def token_hash(sid: str) -> str:
    """What the table keeps of a session token: its SHA-256 (the token has 256 random bits)."""
    return hashlib.sha256(sid.encode()).hexdigest()


class Database:
    """One connection per thread to the team's database, with errors in one line."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.url)
            self._local.conn = conn
        return conn

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work`` on this thread's connection, in a transaction; once more on a new connection if
        the old one was dropped (a restarted server)."""
        import psycopg

        for attempt in (1, 2):
            conn = self._conn()
            try:
                with conn.transaction():
                    return work(conn)
            except psycopg.OperationalError as exc:
                conn.close()
                if attempt == 2:
                    raise DatabaseUnavailable(f"{where(self.url)}: the service's database stopped answering"
                                              f" ({_first_line(exc)})") from None
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable) as exc:
                raise DatabaseRefused(f"{where(self.url)}: the database refused the service's statement"
                                      f" ({_first_line(exc)}): its owner creates the service's tables"
                                      " (docs/team-setup.md)") from None
        raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class TokenSeal:
    """AES-GCM over an OIDC hold's tokens, keyed from the service's session key (HKDF-SHA256)."""

    INFO = b"netchange service_sessions oidc tokens v1"

    def __init__(self, session_key: bytes) -> None:
        # cryptography comes with authlib/joserfc (the ``directory`` extra): loaded when a hold has tokens.
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=self.INFO).derive(session_key)

    def seal(self, plain: bytes, bound_to: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(12)
        return base64.b64encode(nonce + AESGCM(self._key).encrypt(nonce, plain, bound_to.encode())).decode()

    def open(self, sealed: str, bound_to: str) -> bytes | None:
        """The plain bytes; ``None`` when they do not open (another key, another row, altered)."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = base64.b64decode(sealed, validate=True)
            return AESGCM(self._key).decrypt(raw[:12], raw[12:], bound_to.encode())
        except (InvalidTag, ValueError):
            return None


class PgSessionStore:
    """Sessions in ``service_sessions``: one row per session, keyed by its token's hash."""

    def __init__(self, db: Database, *, key: bytes | None = None) -> None:
        self.db = db
        self._key = key
        self._seal: TokenSeal | None = None

    def _sealer(self) -> TokenSeal:
        if self._key is None:
            raise AssertionError("an OIDC hold's tokens need the session key (PgSessionStore(key=...))")
        if self._seal is None:
            self._seal = TokenSeal(self._key)
        return self._seal

    def put(self, session: Session, ttl: float) -> None:
        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute("DELETE FROM service_sessions WHERE expires_at <= now()")
            conn.execute(
                "INSERT INTO service_sessions(token_hash, login, csrf, stamp, expires_at)"
                " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))",
                (token_hash(session.sid), session.login, session.csrf, session.stamp, float(ttl)))
        self.db.run(work)

    def find(self, sid: str) -> Session | None:
        def work(conn: psycopg.Connection[Any]) -> Session | None:
            row = conn.execute(
                "SELECT login, csrf, stamp, extract(epoch FROM expires_at) FROM service_sessions"
                " WHERE token_hash = %s AND expires_at > now()", (token_hash(sid),)).fetchone()
            if row is None:
                return None
            return Session(sid=sid, login=str(row[0]), csrf=str(row[1]), expires=float(row[3]), stamp=str(row[2]))
        return self.db.run(work)

    def load_hold(self, sid: str) -> tuple[Found, float, Tokens | None] | None:
        """A directory session's hold (``Holds``): the directory's answer, when it was given, and
        (OIDC) the provider's tokens, decrypted; a hold whose tokens do not open is no hold."""
        def work(conn: psycopg.Connection[Any]) -> str | None:
            row = conn.execute("SELECT hold FROM service_sessions WHERE token_hash = %s AND expires_at > now()",
                               (token_hash(sid),)).fetchone()
            return None if row is None or row[0] is None else str(row[0])
        text = self.db.run(work)
        if text is None:
            return None
        data = json.loads(text)
        tokens = None
        if data.get("tokens"):
            from netchange.service.directory.oidcdir import Tokens

            plain = self._sealer().open(str(data["tokens"]), token_hash(sid))
            if plain is None:
                return None
            pair = json.loads(plain)
            tokens = Tokens(str(pair["access"]), None if pair["refresh"] is None else str(pair["refresh"]))
        return Found(str(data["login"]), tuple(str(g) for g in data["groups"])), float(data["checked"]), tokens

    def save_hold(self, sid: str, found: Found, checked: float, tokens: Tokens | None = None) -> None:
        hold: dict[str, object] = {"login": found.login, "groups": list(found.groups), "checked": checked}
        if tokens is not None:
            plain = json.dumps({"access": tokens.access_token, "refresh": tokens.refresh_token}).encode()
            hold["tokens"] = self._sealer().seal(plain, token_hash(sid))
        text = json.dumps(hold)
        self.db.run(lambda conn: conn.execute("UPDATE service_sessions SET hold = %s WHERE token_hash = %s",
                                              (text, token_hash(sid))))

    def drop(self, sid: str) -> None:
        self.db.run(lambda conn: conn.execute("DELETE FROM service_sessions WHERE token_hash = %s",
                                              (token_hash(sid),)))

    def drop_login(self, login: str) -> int:
        def work(conn: psycopg.Connection[Any]) -> int:
            return int(conn.execute("DELETE FROM service_sessions WHERE login = %s", (login,)).rowcount)
        return self.db.run(work)


class PgThrottle(Throttle):
    """The throttle whose counts every replica shares (the same rules as :class:`Throttle`)."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    def wait(self, login: str, address: str) -> float:
        def work(conn: psycopg.Connection[Any]) -> float:
            with self._loaded(conn, login, address, lock=False) as local:
                return Throttle.wait(local, login, address)
        return self.db.run(work)

    def failed(self, login: str, address: str) -> tuple[int, Guessing | None]:
        def work(conn: psycopg.Connection[Any]) -> tuple[int, Guessing | None]:
            with self._loaded(conn, login, address) as local:
                return Throttle.failed(local, login, address)
        return self.db.run(work)

    def refused(self, login: str, address: str) -> Guessing | None:
        def work(conn: psycopg.Connection[Any]) -> Guessing | None:
            with self._loaded(conn, login, address) as local:
                return Throttle.refused(local, login, address)
        return self.db.run(work)

    def succeeded(self, login: str, address: str) -> None:
        pair = self._keys(login, address)[0]
        self.db.run(lambda conn: conn.execute("DELETE FROM service_throttle WHERE key = %s", (_key(pair),)))

    @contextmanager
    def _loaded(self, conn: psycopg.Connection[Any], login: str, address: str, *,
                lock: bool = True) -> Iterator[Throttle]:
        """A throttle holding this login's and address's rows, clocked by the database; its rows
        written back after (within the caller's transaction)."""
        if lock:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_THROTTLE_LOCK,))
        row = conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()
        now = float(row[0]) if row else 0.0
        local = Throttle(clock=lambda: now)
        keys = self._keys(login, address)
        for key in keys:
            found = conn.execute("SELECT failures, last, until FROM service_throttle WHERE key = %s",
                                 (_key(key),)).fetchone()
            if found is not None:
                local._counts[key] = _Count(failures=int(found[0]), last=float(found[1]), until=float(found[2]))
        found = conn.execute("SELECT since, failures, addresses, reported FROM service_guessing WHERE login = %s",
                             (login,)).fetchone()
        if found is not None:
            local._patterns[login] = _Pattern(since=float(found[0]), failures=int(found[1]),
                                              addresses=dict(json.loads(found[2])), reported=bool(found[3]))
        yield local
        if not lock:
            return
        for key in keys:
            count = local._counts.get(key)
            if count is not None:
                conn.execute(
                    "INSERT INTO service_throttle(key, failures, last, until) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (key) DO UPDATE SET failures = EXCLUDED.failures, last = EXCLUDED.last,"
                    " until = EXCLUDED.until", (_key(key), count.failures, count.last, count.until))
        pattern = local._patterns.get(login)
        if pattern is not None:
            conn.execute(
                "INSERT INTO service_guessing(login, since, failures, addresses, reported) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (login) DO UPDATE SET since = EXCLUDED.since, failures = EXCLUDED.failures,"
                " addresses = EXCLUDED.addresses, reported = EXCLUDED.reported",
                (login, pattern.since, pattern.failures, json.dumps(pattern.addresses), pattern.reported))
        # What no window still counts is forgotten (Throttle bounds its memory likewise).
        conn.execute("DELETE FROM service_throttle WHERE last < %s", (now - WINDOW,))
        conn.execute("DELETE FROM service_guessing WHERE since < %s", (now - WINDOW,))


def _key(key: tuple[str, str]) -> str:
    return f"{key[0]}:{key[1]}"

