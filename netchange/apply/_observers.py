"""Who watches an apply: the journal and the live progress subscribe to what the applier reports.

The applier (:class:`netchange.apply._applier.Applier`) only says what happened, through one small
protocol, :class:`ApplyObserver`:

- :meth:`~ApplyObserver.record`: facts for the record (``snapshot``, ``commit_started``,
  ``committed``, ``post_checks``, ``confirmed``, ``host_failed``, ``rollback_verified``, …, the
  journal's words), in order, in groups that belong together; ``durable`` says the group must be
  on disk before the applier goes on (``commit_started`` before the commit it announces; the
  snapshots before the first commit), the rest may wait for the next sync (recovery does without);
- :meth:`~ApplyObserver.host_status`: a host's new :class:`~netchange.apply._outcome.HostStatus` and a
  detail for people;
- :meth:`~ApplyObserver.message`: one line for people (interrupted, still finishing…).

:class:`JournalRecorder` writes the facts to the journal (one transaction per group) and
:class:`ProgressView` shows statuses and messages on a :class:`~netchange.apply._progress.Progress`
(terminal table, plain lines, JSON lines). The pipeline subscribes both; another caller (the
approval service) subscribes what it needs. Restores report the same way through
:class:`netchange.rollback.runner.RestoreObserver`.

Observers are called from the applier's worker threads; each serialises itself.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from netchange.journal import EventKind

if TYPE_CHECKING:
    from netchange.apply._outcome import HostStatus
    from netchange.apply._progress import Progress
    from netchange.rollback import RestoreReport


@dataclass(frozen=True)
class RunEvent:
    """One fact of a run, as the journal records it: its kind, the host (if any), its data."""

    kind: EventKind
    host: str | None = None
    data: dict[str, Any] | None = None


class ApplyObserver(Protocol):
    """What an apply tells whoever watches it (see the module)."""

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None: ...
    def host_status(self, host: str, status: HostStatus, detail: str) -> None: ...
    def message(self, text: str) -> None: ...


class JournalLike(Protocol):
    def event_batch(self, change_id: str | None, items: Sequence[tuple[EventKind, str | None, dict[str, Any] | None]],
                    *, actor: str, durable: bool = True) -> None: ...


class JournalRecorder:
    """:class:`ApplyObserver` that writes each group of facts in one journal transaction."""

    def __init__(self, journal: JournalLike, change_id: str, actor: str) -> None:
        self.journal = journal
        self.change_id = change_id
        self.actor = actor
        self._lock = threading.Lock()

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        with self._lock:
            self.journal.event_batch(self.change_id, [(e.kind, e.host, e.data or None) for e in events],
                                     actor=self.actor, durable=durable)

    def host_status(self, host: str, status: HostStatus, detail: str) -> None:
        return None

    def message(self, text: str) -> None:
        return None


class ProgressView:
    """:class:`ApplyObserver` that shows statuses and messages live (the record is not shown)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        return None

    def host_status(self, host: str, status: HostStatus, detail: str) -> None:
        self.progress.host(host, status, detail)

    def message(self, text: str) -> None:
        self.progress.message(text)


def restore_events(host: str, report: RestoreReport, **extra: Any) -> list[RunEvent]:
    """The record of one host's restore: ``rollback_started``, then ``rollback_verified`` (with
    ``extra``, then ``saved`` where the restored state was saved) or ``rollback_failed``.

    One way for every restore: apply's automatic rollback, a rollback on request and recover
    journal the same facts with the same data, so the tracking sheet and the mails read them alike.
    """
    checks = {"checks": report.checks} if report.checks else {}
    started = RunEvent(EventKind.ROLLBACK_STARTED, host)
    if report.verified:
        saved = [RunEvent(EventKind.SAVED, host, report.saved)] if report.saved is not None else []
        return [started, RunEvent(EventKind.ROLLBACK_VERIFIED, host, {
            "strategies": report.strategies, "seconds": round(report.seconds, 3), **extra, **checks}), *saved]
    # ``cause``: what happened, by its kind (a daemon down is not someone's change); ``who``: who
    # changed the foreign lines, where the device records it.
    cause = report.cause.value if report.cause is not None else None
    who = {"who": report.who} if report.who else {}
    return [started, RunEvent(EventKind.ROLLBACK_FAILED, host, {"cause": cause, "errors": report.errors,
                                                                 "foreign": report.foreign, **who, **checks})]


class Observers:
    """Several observers as one, called in the order they subscribed (the journal first: a fact
    is on record before anyone is shown it). Facts reach every observer in one and the same
    order, whatever the threads reporting them (one lock around each group, as the journal's
    transactions were)."""

    def __init__(self, *observers: ApplyObserver) -> None:
        self.observers: list[ApplyObserver] = list(observers)
        self._lock = threading.Lock()

    def subscribe(self, observer: ApplyObserver) -> None:
        with self._lock:
            self.observers.append(observer)

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        if events:
            with self._lock:
                for observer in self.observers:
                    observer.record(events, durable=durable)

    def host_status(self, host: str, status: HostStatus, detail: str) -> None:
        for observer in self.observers:
            observer.host_status(host, status, detail)

    def message(self, text: str) -> None:
        for observer in self.observers:
            observer.message(text)


__all__ = ["ApplyObserver", "JournalRecorder", "Observers", "ProgressView", "RunEvent", "restore_events"]
