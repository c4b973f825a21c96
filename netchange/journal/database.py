"""The shared PostgreSQL database of a team (issue 24): its URL, connections, and its errors in one line.

One setting selects it (``NETCHANGE_DATABASE_URL``, a ``postgresql://`` URL: see
:class:`netchange.config.Settings`); without it every store stays on the machine (SQLite, OS
locks). psycopg is imported here only, and only when a URL is set: a single-machine install needs
neither the package nor a server.

The URL may carry a password; it is never printed: :func:`where` names the database by host,
port and name only. A password is better kept out of the URL (libpq's ``PGPASSFILE``, or a
client certificate): see docs/team-setup.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from netchange.errors import BadRequest, DatabaseUnavailable

if TYPE_CHECKING:
    import psycopg

SCHEMES = ("postgresql://", "postgres://")


def is_database_url(value: str | None) -> bool:
    return bool(value) and str(value).startswith(SCHEMES)


def check_url(url: str) -> str:
    """The URL if it names a PostgreSQL database, else ``BadRequest`` (one line, no password)."""
    if not is_database_url(url):
        raise BadRequest("NETCHANGE_DATABASE_URL: expected a postgresql:// URL")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise BadRequest(f"NETCHANGE_DATABASE_URL: not a valid URL ({exc})") from None
    return url


def where(url: str) -> str:
    """``host:port/database`` of ``url``, for messages: never the user's password."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"
    except ValueError:
        return "the database"


def password_of(url: str | None) -> str | None:
    """The password written in the URL, if any (registered for scrubbing by the settings)."""
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def connect(url: str, *, autocommit: bool = True, timeout: float = 10.0, **options: Any) -> psycopg.Connection[Any]:
    """A connection to the team's database, or ``DatabaseUnavailable`` naming where (exit 3)."""
    try:
        import psycopg
    except ImportError:
        raise BadRequest("NETCHANGE_DATABASE_URL is set but psycopg is not installed"
                         " (pip install 'netchange[team]')") from None
    check_url(url)
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, int(timeout)),
                               application_name="netchange", **options)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"{where(url)}: the database cannot be reached ({reason})") from None
