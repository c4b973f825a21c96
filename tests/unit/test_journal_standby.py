"""A streaming standby with synchronous replication loses no acknowledged event (issue 24, done when).

The primary is the tests' kind of server with ``synchronous_standby_names`` naming the standby; the
standby is made by ``pg_basebackup -R`` (it follows the primary from the start) and started on its
own port. Durable events are appended until the primary crashes (``immediate`` stop, in the middle
of the writes); the standby is promoted; every event whose append returned is there, the chain
verifies, and the journal goes on from the promoted server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from netchange.errors import NetchangeError
from netchange.journal import EventKind, Journal
from netchange.journal.testing import make_plan
from tests import pgserver

KEY = "4d" * 32


@dataclass
class Pair:
    primary: pgserver.PgServer
    standby: pgserver.PgServer


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture
def pair() -> Iterator[Pair]:
    parent = Path(tempfile.mkdtemp(prefix="netchange-pg-standby-"))
    parent.chmod(0o755)
    primary = pgserver.start(parent / "primary")
    standby_dir = parent / "standby"
    try:
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby1'")
            conn.execute("SELECT pg_reload_conf()")
        standby_dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("nobody")
            os.chown(standby_dir, entry.pw_uid, entry.pw_gid)
        subprocess.run(_as_owner([str(pgserver.BIN / "pg_basebackup"), "-D", str(standby_dir / "data"), "-R",
                                  "-X", "stream", "-d",
                                  f"host=127.0.0.1 port={primary.port} user=postgres application_name=standby1"]),
                       check=True, capture_output=True, timeout=120)
        standby = pgserver.PgServer(port=pgserver._free_port(), directory=standby_dir, startup_seconds=0.0)
        pgserver.restart(standby)  # starts it: a standby, from the standby.signal -R wrote
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            for _ in range(300):
                row = conn.execute("SELECT sync_state FROM pg_stat_replication"
                                   " WHERE application_name = 'standby1'").fetchone()
                if row and row[0] == "sync":
                    break
                threading.Event().wait(0.1)
            else:
                pytest.fail("the standby never became synchronous")
        yield Pair(primary, standby)
    finally:
        for server in (primary, pgserver.PgServer(0, standby_dir, 0.0)):
            pgserver.stop(server)
        shutil.rmtree(parent, ignore_errors=True)


def test_no_acknowledged_event_is_lost_when_the_standby_is_promoted(pair: Pair, tmp_path: Path) -> None:
    app = pgserver.journal_database(pair.primary)
    database = app.rsplit("/", 1)[1]
    acknowledged: list[int] = []
    crashed = threading.Event()

    def writer() -> None:
        try:
            with Journal(tmp_path / "j.sqlite", database=app, key=KEY) as journal:
                plan = make_plan()
                journal.record_plan(plan, "dnguyen")
                for i in range(100_000):
                    journal.event(plan.change.id, EventKind.POST_CHECKS, actor="dnguyen", data={"i": i})
                    acknowledged.append(journal.head()[0])
        except (NetchangeError, psycopg.Error):
            crashed.set()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    while len(acknowledged) < 50:
        threading.Event().wait(0.05)
    pgserver.crash(pair.primary)  # in the middle of the appends
    thread.join(60)
    assert crashed.is_set()
    last = acknowledged[-1]
    subprocess.run(_as_owner([str(pgserver.BIN / "pg_ctl"), "-D", str(pair.standby.directory / "data"), "-w",
                              "promote"]), check=True, capture_output=True, timeout=60)
    with psycopg.connect(pair.standby.url(), autocommit=True) as conn:
        # The promoted server has no standby of its own yet: it stops waiting for one (the operator's step).
        conn.execute("ALTER SYSTEM RESET synchronous_standby_names")
        conn.execute("SELECT pg_reload_conf()")
    promoted = pair.standby.url(database, user=pgserver.APP_ROLE)
    with Journal(tmp_path / "j.sqlite", database=promoted, key=KEY) as journal:
        assert journal.head()[0] >= last  # every acknowledged append is there (perhaps one more)
        assert journal.verify() == []
        journal.event(None, EventKind.POLICY_PINNED, actor="dnguyen", data={"note": "after the promotion"})
        assert journal.verify() == []
