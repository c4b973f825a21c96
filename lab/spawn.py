"""Process plumbing shared by the lab's stand-ins: free ports, started PIDs, readiness waits.

Every process a component starts goes through :func:`start`, which records its PID in
``LabContext.pids`` under a stable key: ``lab down`` kills exactly those PIDs and nothing else.
Processes run in their own session so that the terminal that ran ``lab up`` can close.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from netchange.lab.component import LabContext
from netchange.lab.instances import reserve_port


def _kernel_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _udp_tcp_port() -> int:
    for _ in range(50):
        port = _kernel_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both TCP and UDP on 127.0.0.1")


def free_port(ctx: LabContext | None = None) -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it).

    With ``ctx``, the port is also reserved machine-wide for this lab until ``lab down``
    (:func:`netchange.lab.instances.reserve_port`): between this choice and the server binding it, another
    lab starting at the same moment is never handed the same port.
    """
    return _kernel_port() if ctx is None else reserve_port(ctx.root, _kernel_port)


def free_udp_tcp_port(ctx: LabContext | None = None) -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (DNS listens on both); reserved as above."""
    return _udp_tcp_port() if ctx is None else reserve_port(ctx.root, _udp_tcp_port)


def start(
    ctx: LabContext,
    key: str,
    argv: Sequence[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in the background, output to ``log``, and record its PID as ``key``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    ctx.pids[key] = proc.pid
    return proc


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``check`` until it holds; on timeout, fail with the tail of ``log`` to say why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tail = ""
    if log is not None and log.exists():
        tail = "; log tail: " + " | ".join(log.read_text(errors="replace").splitlines()[-5:])
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s{tail}")


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (exited, not yet reaped by us) still answers kill 0.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1]
        return state != "Z"
    return True


def stop(ctx: LabContext, keys: Sequence[str] | None = None, *, timeout: float = 5.0) -> None:
    """Stop recorded processes by PID (tests use it; ``lab down`` has its own copy of this rule)."""
    for key in list(keys if keys is not None else ctx.pids):
        pid = ctx.pids.pop(key, None)
        if pid is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
