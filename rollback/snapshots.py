"""Content-addressed, durable snapshot files: ``<dir>/<sha[:2]>/<sha>``.

Content addressing makes a snapshot impossible to overwrite with something else under the same
name, and lets identical running configs share one file. The journal records which snapshot
(by SHA-256) belongs to which change and host.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from netchange.errors import RollbackFailed


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
        path.parent.mkdir(parents=True, exist_ok=True)
        # Unique per writer: two hosts with the same running config store the same file at once.
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        path.chmod(0o600)  # running configs can carry hashed secrets
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
