"""SMTP delivery with Python's smtplib: STARTTLS, TLS from the first byte, or a local relay in clear.

One session per batch of mails; every step bounded by the settings' timeout, so an unreachable
relay costs a command at most that long (and the mail waits in the outbox for the next try).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from netchange.config import MailSettings


class DeliveryError(Exception):
    """The relay refused or could not be reached; the text is safe to journal (no secret)."""


@contextmanager
def smtp_session(mail: MailSettings) -> Iterator[smtplib.SMTP]:
    context = ssl.create_default_context()
    try:
        if mail.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout, context=context)
        else:
            client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout)
            if mail.security == "starttls":
                client.starttls(context=context)
        if mail.user:
            client.login(mail.user, mail.password or "")
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(describe(exc, mail)) from None
    try:
        yield client
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


def send(client: smtplib.SMTP, msg: EmailMessage, to: list[str], mail: MailSettings) -> list[str]:
    """Send ``msg`` to ``to``; returns the addresses the relay refused (the others have it)."""
    try:
        refused = client.send_message(msg, from_addr=mail.sender, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"every recipient refused: {sorted(exc.recipients)}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(describe(exc, mail)) from None
    return sorted(refused)


def describe(exc: BaseException, mail: MailSettings) -> str:
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error
        text = f"{exc.smtp_code} {raw.decode(errors='replace') if isinstance(raw, bytes) else raw}"
    return f"{mail.host}:{mail.port} ({mail.security}): {exc.__class__.__name__}: {text}"
