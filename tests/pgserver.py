"""A PostgreSQL 15 server for the tests, started once per test run (issue 24).

Debian's ``initdb``/``pg_ctl`` (package ``postgresql-15``, installed by ``make lab-deps``) in a
temporary directory, listening on 127.0.0.1 at a free port and on a Unix socket in that directory;
no service manager. ``initdb`` refuses root: as root the cluster belongs to ``nobody`` (the
directory is given to it, the commands run through ``runuser``). Authentication is ``trust`` on
127.0.0.1: the tests connect as whichever role they test (the application role, a hostile writer,
the superuser), and each role's rights are what the tests assert, not a password.

Each test that needs a clean database asks :meth:`PgServer.database` for a new one (a copy of
``template1``, a few tens of milliseconds), so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running cluster: its port, its directory, and new databases on demand."""

    port: int
    directory: Path
    startup_seconds: float
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def database(self, prefix: str = "t") -> str:
        """A new, empty database; its URL (as the superuser)."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._numbers)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def start(directory: Path, *, fsync: bool = True) -> PgServer:
    """initdb and start a cluster in ``directory`` (which must not exist yet).

    ``fsync=False`` for a server whose data matters only while it runs (the test run's): nothing is
    synced to disk, which a crash of the server process itself does not need (only a crash of the
    machine would); the benchmarks and the crash and standby tests keep PostgreSQL's default.
    """
    if not (BIN / "initdb").exists():
        raise RuntimeError(f"{BIN}/initdb is missing: install postgresql-15 (make lab-deps)")
    owner = "nobody" if os.geteuid() == 0 else None
    started = time.monotonic()
    directory.mkdir(mode=0o700)
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    data = directory / "data"
    subprocess.run(_as_owner([str(BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                              "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"], owner),
                   check=True, capture_output=True, timeout=120)
    port = _free_port()
    options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=100"
               " -c shared_buffers=32MB" + ("" if fsync else " -c fsync=off -c synchronous_commit=off"
                                            " -c full_page_writes=off"))
    subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"),
                              "-w", "-t", "60", "start"], owner), check=True, capture_output=True, timeout=90)
    return PgServer(port=port, directory=directory, startup_seconds=time.monotonic() - started)


def _options(server: PgServer) -> str:
    return (f"-p {server.port} -k {server.directory} -c listen_addresses=127.0.0.1 -c max_connections=100"
            " -c shared_buffers=32MB")


def crash(server: PgServer) -> None:
    """Stop the server at once (``immediate``: no checkpoint, every client cut off), as a crash would."""
    owner = "nobody" if os.geteuid() == 0 else None
    subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-D", str(server.directory / "data"), "-m", "immediate", "-w",
                              "stop"], owner), check=True, capture_output=True, timeout=60)


def restart(server: PgServer) -> None:
    """Start a stopped server again, on the same port and directory (crash recovery replays its WAL)."""
    owner = "nobody" if os.geteuid() == 0 else None
    subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-D", str(server.directory / "data"), "-o", _options(server),
                              "-l", str(server.directory / "log"), "-w", "-t", "60", "start"], owner),
                   check=True, capture_output=True, timeout=90)


def stop(server: PgServer) -> None:
    """Stop the server at once (its data is thrown away: no shutdown checkpoint) and remove it."""
    owner = "nobody" if os.geteuid() == 0 else None
    subprocess.run(_as_owner([str(BIN / "pg_ctl"), "-D", str(server.directory / "data"), "-m", "immediate", "-w",
                              "stop"], owner), check=False, capture_output=True, timeout=60)
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """The test run's PostgreSQL server (started on first use, stopped at the end of the run).

    The directory is made under the system's temporary directory, not pytest's (which is 0700 and
    root's: ``nobody`` could not reach its own cluster there).
    """
    parent = Path(tempfile.mkdtemp(prefix="netchange-pg-"))
    parent.chmod(0o755)
    server = start(parent / "cluster", fsync=False)
    try:
        yield server
    finally:
        stop(server)
        shutil.rmtree(parent, ignore_errors=True)


APP_ROLE = "netchange_app"
"""The application's role in the tests: INSERT and SELECT on the journal's history, nothing it owns."""


def journal_database(server: PgServer) -> str:
    """A new database holding an empty journal (created by its owner, the superuser here), and the
    URL the application connects with: as :data:`APP_ROLE`."""
    import psycopg

    from netchange.journal import pgstore

    owner = server.database("journal")
    with psycopg.connect(server.url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
    pgstore.create_schema(owner, app_role=APP_ROLE)
    database = owner.rsplit("/", 1)[1]
    return server.url(database, user=APP_ROLE)
