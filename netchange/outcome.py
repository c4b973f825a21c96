"""What an execution ends in: typed, so that callers branch on a value, never on a string.

Both enums are ``StrEnum``: their values are the words the journal, the JSON output and the
live progress have always shown ("completed", "restored", "ALARM", ...), so a record or a
script reading them sees no change.
"""

from __future__ import annotations

from enum import StrEnum


class HostStatus(StrEnum):
    """Where one host stands during and after an apply, a rollback or a recover."""

    WAITING = "waiting"
    NO_CHANGE = "no change"
    CHECKING = "checking"
    COMMITTING = "committing"
    POST_CHECKS = "post-checks"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    ROLLING_BACK = "rolling back"
    RESTORED = "restored"
    ALARM = "ALARM"
    """A restore that did not verify: the device may not be as it was."""


class ChangeOutcome(StrEnum):
    """How a run of a change ended; also the change's state in the journal afterwards."""

    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"

    @property
    def exit_code(self) -> int:
        return 0 if self is ChangeOutcome.COMPLETED else 1


__all__ = ["ChangeOutcome", "HostStatus"]
