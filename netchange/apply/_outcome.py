"""What an execution ends in: typed, so that callers branch on a value, never on a string.

Both enums are ``StrEnum``: their values are the words the journal, the JSON output and the
live progress have always shown ("completed", "restored", "ALARM", ...), so a record or a
script reading them sees no change.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """How a run of a change ended; also the change's state in the journal afterwards (but for
    ``no_change``: the change is then ``closed``)."""

    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    NO_CHANGE = "no_change"
    """A plan with no change applied: nothing to do, nothing sent, the change closed (issue 22)."""

    @property
    def exit_code(self) -> int:
        return 0 if self in (ChangeOutcome.COMPLETED, ChangeOutcome.NO_CHANGE) else 1


@dataclass(frozen=True)
class HostFailure:
    """Why one host failed: the error's class (branch on it with :meth:`is_a`) and its message,
    scrubbed of every registered secret.

    :attr:`text` is the one line the journal, the table and the JSON output show: the message of
    netchange's own errors, ``Class: message`` for any other (as they have always read).
    """

    error_type: type[BaseException]
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> HostFailure:
        from netchange import redact
        from netchange.errors import NetchangeError

        if isinstance(exc, KeyboardInterrupt):
            return cls(KeyboardInterrupt, "interrupted")
        text = str(exc) or type(exc).__name__
        if not isinstance(exc, NetchangeError):
            text = f"{type(exc).__name__}: {text}"
        return cls(type(exc), redact.scrub(text))

    def is_a(self, *types: type[BaseException]) -> bool:
        return issubclass(self.error_type, types)

    @property
    def text(self) -> str:
        return self.message

    def __str__(self) -> str:
        return self.message


__all__ = ["ChangeOutcome", "HostFailure", "HostStatus"]
