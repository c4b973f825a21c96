"""The service's shared state in PostgreSQL (``netchange.service.shared``), two stores standing for
two replicas on one database: what one writes the other reads; expiry is the database's clock;
the table holds a token's hash, never the token; the throttle's rules hold across both."""

from __future__ import annotations

import psycopg
import pytest

from netchange.errors import DatabaseRefused
from netchange.service.sessions import Sessions
from netchange.service.shared import Database, PgSessionStore, PgThrottle, token_hash
from netchange.service.throttle import FREE, GUESSING
from tests.pgserver import PgServer, journal_database

KEY = b"k" * 32


@pytest.fixture
def url(postgres: PgServer) -> str:
    return journal_database(postgres)


def test_a_session_opened_by_one_store_is_read_and_ended_by_another(url: str) -> None:
    a, b = Sessions(KEY, store=PgSessionStore(Database(url))), Sessions(KEY, store=PgSessionStore(Database(url)))
    session, cookie = a.open("amoreau", stamp="s1")
    seen = b.get(cookie)
    assert seen is not None
    assert (seen.login, seen.csrf, seen.stamp) == ("amoreau", session.csrf, "s1")
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT token_hash FROM service_sessions").fetchall()
    assert rows == [(token_hash(session.sid),)]
    assert session.sid not in rows[0][0]
    b.close(seen)
    assert a.get(cookie) is None
    other, _ = a.open("amoreau")
    a.open("bleroy")
    assert b.close_all("amoreau") == 1
    assert b.store.find(other.sid) is None


def test_expiry_is_the_databases_clock(url: str) -> None:
    sessions = Sessions(KEY, ttl=1.0, store=PgSessionStore(Database(url)))
    session, _cookie = sessions.open("amoreau")
    assert sessions.store.find(session.sid) is not None
    with psycopg.connect(url) as conn:  # the row's expiry moved into the past, as the database sees it
        conn.execute("UPDATE service_sessions SET expires_at = now() - interval '1 second'")
    assert sessions.store.find(session.sid) is None


def test_failures_count_across_two_throttles(url: str) -> None:
    a, b = PgThrottle(Database(url)), PgThrottle(Database(url))
    for i in range(FREE):
        (a if i % 2 == 0 else b).failed("amoreau", "192.0.2.7")
    assert b.wait("amoreau", "192.0.2.7") > 0
    assert a.wait("amoreau", "192.0.2.7") > 0
    assert a.wait("amoreau", "192.0.2.8") == 0  # another address is not slowed
    reports = [(a if i % 2 else b).failed("amoreau", f"198.51.100.{i}")[1] for i in range(GUESSING)]
    found = [r for r in reports if r is not None]
    assert len(found) == 1  # reported once per window, whichever replica counted last
    assert found[0].failures == GUESSING
    a.succeeded("amoreau", "192.0.2.7")
    assert b.wait("amoreau", "192.0.2.7") == 0


def test_a_database_without_the_tables_is_one_line(postgres: PgServer) -> None:
    bare = postgres.database("bare")
    with pytest.raises(DatabaseRefused, match="owner creates the service's tables"):
        PgSessionStore(Database(bare)).find("x")
