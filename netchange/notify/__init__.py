"""Notifications: each step of the procedure mailed to the people the policy names.

How it hangs together (one hook, nothing sprinkled in the change's path):

1. A step happens and is journaled (plan, approve, reject, apply, rollback, close — from the CLI or
   the approval service alike).
2. :meth:`Notifier.queue` follows the journal from its cursor: each new event that the procedure
   mails (:mod:`netchange.notify.notices`) becomes one mail per notice, rendered now and kept in the
   outbox (:mod:`netchange.notify.outbox`). Mails about an account rather than a change (a
   password being guessed: :mod:`netchange.notify.account`) go the same way, with no change id.
3. :meth:`Notifier.deliver` sends what is due over SMTP. Each delivery is journaled
   (``notification_sent``; ``notification_failed`` with the error and the next attempt;
   ``notification_abandoned`` after :data:`MAX_ATTEMPTS`). A failure waits with exponential backoff.

The CLI runs both after every command (:func:`after_command`, from its root callback), and
``netchange notify flush`` sends everything pending now; the service runs them in its loop
(:func:`run_forever`). A mail never blocks or fails a change: the change is journaled before
any mail exists, and every error of the notifier is reported as a warning, never raised.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from netchange import redact
from netchange.config import MailSettings, Settings
from netchange.journal import EventKind, Journal
from netchange.notify.account import account_mails
from netchange.notify.compose import Composed, compose, message
from netchange.notify.notices import notices_for
from netchange.notify.outbox import Mail, Outbox, outbox_path
from netchange.notify.sender import DeliveryError, send, smtp_session
from netchange.policy import Policy, load_policy

MAX_ATTEMPTS = 12
"""With the backoff below, a mail is tried for about seven hours before it is abandoned."""
FIRST_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=1)
ACTOR = "netchange"
"""Who the notifier's journal events are by."""


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_DELAY * (1 << max(0, min(attempts - 1, 30))), MAX_DELAY)


@dataclass
class Report:
    queued: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    abandoned: int = 0


class Notifier:
    """Queue and deliver for one journal, under one policy and one SMTP setting."""

    def __init__(self, mail: MailSettings, policy: Policy, journal_path: Path,
                 *, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 database: str | None = None) -> None:
        """``database``: the team's PostgreSQL URL, where the journal and the outbox then are."""
        self.mail = mail
        self.policy = policy
        self.journal_path = Path(journal_path)
        self.clock = clock
        self.database = database

    def _journal(self) -> Journal:
        # Short busy timeout: a notifier waits for nobody; what it cannot do now it does next time.
        return Journal(self.journal_path, busy_timeout=5.0, database=self.database or "")

    def _outbox(self) -> Outbox:
        return Outbox(outbox_path(self.journal_path), database=self.database)

    def _has_journal(self) -> bool:
        return self.database is not None or self.journal_path.exists()

    def queue(self, *, since: dt.datetime | None = None) -> int:
        """Turn the journal's new events into queued mails; returns how many were queued.

        A new outbox starts with the events written since ``since`` (the command that created it),
        or from the journal's head: enabling mail does not send a journal's whole history.
        """
        if not self._has_journal():
            return 0
        with self._outbox() as outbox, self._journal() as journal:
            start = journal.first_seq_since(since) if since is not None else journal.head()[0]
            with outbox.queueing(start) as q:
                while True:
                    events = journal.events_after(q.cursor, limit=500)
                    if not events:
                        break
                    for event in events:
                        for draft in notices_for(self.policy, journal, event):
                            composed = compose(self.policy, draft, base_url=self.mail.base_url)
                            q.add(event.seq, draft.notice.value, composed, self.clock())
                        for notice, composed in account_mails(self.policy, event, base_url=self.mail.base_url):
                            q.add(event.seq, notice, composed, self.clock())
                        q.cursor = event.seq
            return q.added

    def deliver(self, *, force: bool = False) -> Report:
        """Send the mails due (every pending one with ``force``); journal each outcome."""
        report = Report()
        if self.database is None and not outbox_path(self.journal_path).exists():
            return report
        with self._outbox() as outbox:
            mails = outbox.claim(self.clock(), due_only=not force)
            if not mails:
                return report
            results: list[tuple[Mail, str | None, list[str]]] = []
            try:
                with smtp_session(self.mail) as client:
                    for m in mails:
                        try:
                            refused = send(client, self._message(m), [a for _, _, a in m.recipients], self.mail)
                            results.append((m, None, refused))
                        except DeliveryError as exc:
                            results.append((m, str(exc), []))
            except DeliveryError as exc:
                done = {r[0].id for r in results}
                results += [(m, str(exc), []) for m in mails if m.id not in done]
            with self._journal() as journal:
                for m, error, refused in results:
                    self._record(outbox, journal, m, (error, refused), report)
        return report

    def _message(self, m: Mail) -> EmailMessage:
        composed = Composed(subject=m.subject, text=m.text, html=m.html, recipients=m.recipients,
                            change_id=m.change_id, link=m.link)
        domain = self.mail.sender.rpartition("@")[2] or socket.getfqdn()
        return message(composed, sender=self.mail.sender, to=m.recipients, domain=domain)

    def _record(self, outbox: Outbox, journal: Journal, m: Mail, outcome: tuple[str | None, list[str]],
                report: Report) -> None:
        error, refused = outcome
        now = self.clock()
        base = {"mail_id": m.id, "notice": m.notice, "to": m.logins, "event_seq": m.event_seq}
        if error is None:
            outbox.sent(m.id, now)
            report.sent += 1
            data = {**base, "subject": m.subject, **({"refused": refused} if refused else {})}
            journal.event(m.change_id or None, EventKind.NOTIFICATION_SENT, actor=ACTOR, data=data)
            return
        error = redact.scrub(error)
        attempts = m.attempts + 1
        report.failed.append(error)
        if attempts >= MAX_ATTEMPTS:
            outbox.failed(m.id, error, None)
            report.abandoned += 1
            journal.event(m.change_id or None, EventKind.NOTIFICATION_ABANDONED, actor=ACTOR,
                          data={**base, "error": error, "attempts": attempts})
            return
        retry_at = now + backoff(attempts)
        outbox.failed(m.id, error, retry_at)
        journal.event(m.change_id or None, EventKind.NOTIFICATION_FAILED, actor=ACTOR,
                      data={**base, "error": error, "attempt": attempts, "retry_at": retry_at.isoformat()})

    def run(self, *, since: dt.datetime | None = None, force: bool = False) -> Report:
        queued = self.queue(since=since)
        report = self.deliver(force=force)
        report.queued = queued
        return report


def notifier(cfg: Settings) -> Notifier | None:
    """The notifier these settings describe, or ``None`` when no SMTP host is set."""
    mail = cfg.mail
    if mail is None:
        return None
    return Notifier(mail, load_policy(cfg.policy_file()), cfg.journal, database=cfg.database_url)


def after_command(cfg: Settings, started: dt.datetime, warn: Callable[[str], None]) -> None:
    """The CLI's one hook, after every command: queue what it journaled, deliver what is due.

    Never raises: a notifier that cannot work says so in one line and the command's own result
    (already journaled) stands.
    """
    try:
        n = notifier(cfg)
        if n is None or not n._has_journal():
            return
        report = n.run(since=started)
    except Exception as exc:  # the change is done and journaled; a mail problem must not undo that
        warn(f"notifications not processed: {redact.scrub(str(exc))} (the change is unaffected)")
        return
    if report.failed:
        warn(f"{len(report.failed)} mail(s) not delivered: {report.failed[0]}; journaled, retried later"
             " (or now with 'netchange notify flush')")


def run_forever(cfg: Settings, *, interval: float = 15.0, stop: threading.Event | None = None,
                warn: Callable[[str], None] = lambda _: None) -> None:
    """The service's loop: queue and deliver every ``interval`` seconds until ``stop`` is set.

    What the service journals (a decision in the browser) and what any CLI on the same journal
    journals are mailed from here, and failed mails are retried when due.
    """
    n = notifier(cfg)
    if n is None:
        return
    stop = stop or threading.Event()
    started = dt.datetime.now(dt.UTC)
    while not stop.is_set():
        try:
            report = n.run(since=started)
            if report.failed:
                warn(f"{len(report.failed)} mail(s) not delivered: {report.failed[0]}; retried later")
        except Exception as exc:  # keep serving; the next turn tries again
            warn(f"notifications: {redact.scrub(str(exc))}")
        stop.wait(interval)


def in_background(cfg: Settings, *, warn: Callable[[str], None] = lambda _: None) -> Callable[[], None]:
    """Start :func:`run_forever` in a daemon thread, every ``mail.interval`` seconds (nothing when
    no SMTP host is set); returns the function that stops it."""
    if cfg.mail is None:
        return lambda: None
    interval = cfg.mail.interval
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(cfg,), name="netchange-notify", daemon=True,
                              kwargs={"interval": interval, "stop": stop, "warn": warn})
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=interval + 30)

    return halt


__all__ = ["MAX_ATTEMPTS", "Notifier", "Report", "after_command", "backoff", "in_background", "notifier", "run_forever"]
