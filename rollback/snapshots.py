"""Content-addressed, durable snapshot files: ``<dir>/<sha[:2]>/<sha>``.

Content addressing makes a snapshot impossible to overwrite with something else under the same
name, and lets identical running configs share one file. The journal records which snapshot
(by SHA-256) belongs to which change and host.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from netchange.errors import RollbackFailed
from netchange.privatefile import write_private


class SnapshotStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, sha: str) -> Path:
        return self.directory / sha[:2] / sha

    def save(self, text: str) -> str:
        """Store ``text`` durably (written, fsynced, renamed) and return its SHA-256."""
        data = text.encode()
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if path.exists():
            return sha
        # Created 0600 in 0700 directories (running configs can carry hashed secrets), synced,
        # renamed; the temporary name is unique per writer (two hosts may share a config).
        write_private(path, data, durable=True)
        return sha

    def load(self, sha: str) -> str:
        path = self._path(sha)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RollbackFailed(f"snapshot {sha[:12]} is missing from {self.directory}") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise RollbackFailed(f"snapshot {sha[:12]} is corrupt")
        return data.decode()
