"""The journal: the written record of every change (its tracking sheet), in SQLite.

``Journal(path)`` is the whole API; the records it returns are plain frozen dataclasses.
"""

from netchange.journal.records import (
    OUTCOMES,
    TRANSITIONS,
    Approval,
    ChangeRow,
    Event,
    Lock,
    PlanRecord,
    State,
)
from netchange.journal.store import Journal, StateError

__all__ = [
    "OUTCOMES",
    "TRANSITIONS",
    "Approval",
    "ChangeRow",
    "Event",
    "Journal",
    "Lock",
    "PlanRecord",
    "State",
    "StateError",
]
