"""The journal: the written record of every change (its tracking sheet), in SQLite.

``Journal(path)`` is the whole API; the records it returns are plain frozen dataclasses. Names
load on first use (:mod:`netchange._face`): ``netchange.journal.key``, which every command
configures, does not load the store, nor the store the request models (start-up, issue 20 item 5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.journal.records import OUTCOMES as OUTCOMES
    from netchange.journal.records import TRANSITIONS as TRANSITIONS
    from netchange.journal.records import Approval as Approval
    from netchange.journal.records import ChangeRow as ChangeRow
    from netchange.journal.records import Event as Event
    from netchange.journal.records import EventKind as EventKind
    from netchange.journal.records import Lock as Lock
    from netchange.journal.records import PlanRecord as PlanRecord
    from netchange.journal.records import State as State
    from netchange.journal.store import Journal as Journal
    from netchange.journal.store import StateError as StateError

_WHERE = {
    "OUTCOMES": "records",
    "TRANSITIONS": "records",
    "Approval": "records",
    "ChangeRow": "records",
    "Event": "records",
    "EventKind": "records",
    "Lock": "records",
    "PlanRecord": "records",
    "State": "records",
    "Journal": "store",
    "StateError": "store",
}

__all__ = [
    "OUTCOMES",
    "TRANSITIONS",
    "Approval",
    "ChangeRow",
    "Event",
    "EventKind",
    "Journal",
    "Lock",
    "PlanRecord",
    "State",
    "StateError",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
