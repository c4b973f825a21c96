"""The tests' own PostgreSQL server (tests/pgserver.py): real, local, and not root's."""

from __future__ import annotations

import psycopg
import pytest

from tests.pgserver import PgServer


def test_the_server_answers_on_loopback_and_gives_each_test_its_own_database(postgres: PgServer) -> None:
    first, second = postgres.database(), postgres.database()
    assert first != second
    with psycopg.connect(first, autocommit=True) as conn:
        conn.execute("CREATE TABLE only_here (x int)")
        version = conn.execute("SHOW server_version_num").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()
        owner = conn.execute("SELECT pg_catalog.current_setting('data_directory')").fetchone()
    assert version is not None and int(version[0]) // 10000 == 15
    assert listen == ("127.0.0.1",)
    assert owner is not None and str(postgres.directory) in owner[0]
    with psycopg.connect(second) as conn, pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT * FROM only_here")
    assert postgres.startup_seconds < 30
