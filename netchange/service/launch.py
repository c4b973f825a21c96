"""Start ``netchange serve`` in its own process on a free loopback port, for as long as a block.

One way to do it for the demo, the benchmark and the tests: they need a real server (a real
socket, a real process the way an operator runs it), and they must all wait for it the same way
and stop it by its PID, never by name. The server's output goes to a temporary file, not a pipe:
a pipe nobody reads fills up and stalls the server under a benchmark's load.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a server this process started, by its PID: SIGTERM, then SIGKILL after ``grace`` s."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serving(env: dict[str, str], *, start_timeout: float = 60.0, port: int | None = None,
            args: Sequence[str] = ()) -> Iterator[str]:
    """``netchange serve`` on 127.0.0.1 and a free port (or ``port``: a caller that must name the
    URL beforehand, as an OIDC client's redirect URI), its own process, with ``args`` added (as
    ``--behind-tls-proxy``); yields its base URL.

    Ready once its sign-in page answers; a server that exits or never answers raises with what it
    printed. On leaving, the process is terminated (killed after 10 s) by its PID.
    """
    port = port or free_port()
    with tempfile.TemporaryFile(mode="w+") as said:
        proc = subprocess.Popen([sys.executable, "-m", "netchange", "serve", "--port", str(port), *args],
                                env=env,
                                stdout=said, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    with urllib.request.urlopen(base + "/signin", timeout=2):  # noqa: S310 - our own loopback URL
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        said.seek(0)
                        raise RuntimeError(f"netchange serve did not start: {said.read()[-2000:]}") from None
                    time.sleep(0.1)
            yield base
        finally:
            stop(proc)
