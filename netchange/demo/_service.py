"""What ``make demo`` needs to show the approval service: ``netchange serve`` on a free loopback
port for the length of a block, and a local SMTP server that keeps the mails (aiosmtpd, a
development dependency: without it the demo runs without mail)."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy
from typing import Any

from netchange.service.launch import free_port, serving

__all__ = ["MailSink", "free_port", "serving"]


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
