"""What ``make demo`` needs to show the approval service: ``netchange serve`` on a free loopback
port for the length of a block, and a local SMTP server that keeps the mails (aiosmtpd, a
development dependency: without it the demo runs without mail)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """``netchange serve`` on 127.0.0.1 and a free port, its own process; yields its URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netchange", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/signin", timeout=2):  # noqa: S310 - our own loopback URL
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("netchange serve did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class MailSink:
    """An SMTP server on 127.0.0.1 that keeps (recipients, subject) of every mail."""

    def __init__(self, controller: Any, port: int) -> None:
        self.controller = controller
        self.port = port
        self.mails: list[tuple[list[str], str]] = []
        self.lock = threading.Lock()

    @classmethod
    def start(cls) -> MailSink | None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            return None
        port = free_port()
        sink = cls(None, port)

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = message_from_bytes(bytes(envelope.original_content), policy=policy.default)
                with sink.lock:
                    sink.mails.append((list(envelope.rcpt_tos), str(msg["Subject"])))
                return "250 OK"

        sink.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        sink.controller.start()
        return sink

    def stop(self) -> None:
        self.controller.stop()

    def summary(self) -> list[str]:
        with self.lock:
            return [f"  {subject}\n      to {', '.join(to)}" for to, subject in self.mails] or ["  (no mail)"]
