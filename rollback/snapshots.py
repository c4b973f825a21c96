"""Content-addressed, durable snapshot files: ``<dir>/<sha[:2]>/<sha>``.

Content addressing makes a snapshot impossible to overwrite with something else under the same
name, and lets identical running configs share one file. The journal records which snapshot
(by SHA-256) belongs to which change and host.

A team whose journal is in PostgreSQL (``NETCHANGE_DATABASE_URL``, docs/team-setup.md) also keeps
each snapshot in that database's append-only ``blobs`` table, so that another engineer's machine
can roll back or recover a change it did not apply: a snapshot missing from this machine's
directory is read from there, and checked against its SHA-256 as a file is (``journal verify``
checks every blob against its digest too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from pathlib import Path
from typing import Any

from netchange.errors import RollbackFailed
from netchange.privatefile import write_private


class SnapshotStore:
    def __init__(self, directory: Path, *, database: str | None = None) -> None:
        self.directory = directory
        self.database = database
        self._conn: Any = None
        self._lock = threading.Lock()

    def _path(self, sha: str) -> Path:
        return self.directory / sha[:2] / sha

    def _db(self) -> Any:
        """One connection to the team's database, opened on first use (hosts save from threads)."""
        from netchange.journal.database import connect

        if self._conn is None:
            self._conn = connect(str(self.database))
        return self._conn

    def save(self, text: str, *, durable: bool = True) -> str:
        """Store ``text`` durably (written, fsynced, renamed) and return its SHA-256.

        ``durable=False`` skips the disk sync (still written whole, renamed): for what only names
        things if it is there, such as a plan's running state (a snapshot is always synced)."""
        data = text.encode()
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not path.exists():
            # Created 0600 in 0700 directories (running configs can carry hashed secrets), synced,
            # renamed; the temporary name is unique per writer (two hosts may share a config).
            write_private(path, data, durable=durable)
        if self.database is not None:
            with self._lock:
                self._db().execute(
                    "INSERT INTO blobs(sha, kind, change_id, host, text, at) VALUES (%s, 'snapshot', NULL, NULL, %s,"
                    " %s) ON CONFLICT DO NOTHING",
                    (sha, text, dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")))
        return sha

    def load(self, sha: str) -> str:
        path = self._path(sha)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = self._from_database(sha)
        if hashlib.sha256(data).hexdigest() != sha:
            raise RollbackFailed(f"snapshot {sha[:12]} is corrupt")
        return data.decode()

    def _from_database(self, sha: str) -> bytes:
        if self.database is not None:
            with self._lock:
                row = self._db().execute("SELECT text FROM blobs WHERE sha = %s", (sha,)).fetchone()
            if row is not None:
                return str(row[0]).encode()
        raise RollbackFailed(f"snapshot {sha[:12]} is missing from {self.directory}"
                             + (" and from the team's database" if self.database is not None else ""))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
