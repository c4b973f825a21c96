"""The rollout: the applier, its observers and live progress, typed outcomes, device locks.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.apply._applier import Applier as Applier
    from netchange.apply._applier import ApplyOutcome as ApplyOutcome
    from netchange.apply._applier import HostOutcome as HostOutcome
    from netchange.apply._applier import Interrupts as Interrupts
    from netchange.apply._applier import rollout_batches as rollout_batches
    from netchange.apply._applier import supports_confirmed_commit as supports_confirmed_commit
    from netchange.apply._observers import ApplyObserver as ApplyObserver
    from netchange.apply._observers import JournalRecorder as JournalRecorder
    from netchange.apply._observers import Observers as Observers
    from netchange.apply._observers import ProgressView as ProgressView
    from netchange.apply._observers import RunEvent as RunEvent
    from netchange.apply._observers import restore_events as restore_events
    from netchange.apply._outcome import ChangeOutcome as ChangeOutcome
    from netchange.apply._outcome import HostFailure as HostFailure
    from netchange.apply._outcome import HostStatus as HostStatus
    from netchange.apply._progress import PlainProgress as PlainProgress
    from netchange.apply._progress import Progress as Progress
    from netchange.apply._progress import RichProgress as RichProgress
    from netchange.apply._progress import make_progress as make_progress

_WHERE = {
    "Observers": "_observers",
    "restore_events": "_observers",
    "Applier": "_applier",
    "ApplyObserver": "_observers",
    "ApplyOutcome": "_applier",
    "ChangeOutcome": "_outcome",
    "HostFailure": "_outcome",
    "HostOutcome": "_applier",
    "HostStatus": "_outcome",
    "Interrupts": "_applier",
    "JournalRecorder": "_observers",
    "PlainProgress": "_progress",
    "Progress": "_progress",
    "ProgressView": "_observers",
    "RichProgress": "_progress",
    "RunEvent": "_observers",
    "make_progress": "_progress",
    "rollout_batches": "_applier",
    "supports_confirmed_commit": "_applier",
}

__all__ = [
    "Applier",
    "ApplyObserver",
    "ApplyOutcome",
    "ChangeOutcome",
    "HostFailure",
    "HostOutcome",
    "HostStatus",
    "Interrupts",
    "JournalRecorder",
    "Observers",
    "PlainProgress",
    "Progress",
    "ProgressView",
    "RichProgress",
    "RunEvent",
    "make_progress",
    "restore_events",
    "rollout_batches",
    "supports_confirmed_commit",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
