"""netchange's driver errors, each also the NAPALM exception it means; and the translation of a
library's exceptions into them at the driver boundary.

A netchange driver and a NAPALM driver stay interchangeable: code written against NAPALM catches
``MergeConfigException`` and still catches :class:`MergeRejected`; netchange's own code catches
by phase (:class:`~netchange.errors.ConnectionFailed`, :class:`~netchange.errors.CommitFailed`,
:class:`~netchange.errors.DeviceLost`) with ``isinstance``, never by a class name or a message.
Messages name the device and what it said, never a credential.

netchange's own drivers raise these classes themselves. A driver that is NAPALM's own (``ios``,
``eos``, ``junos``, …) or a plain NAPALM ``NetworkDriver`` plugin is used through
:func:`translating`, a subclass whose lifecycle methods turn the library's exceptions into these
(:func:`translate`), so the engine sees one set of errors whatever the driver.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from napalm.base.exceptions import (
    CommandErrorException,
    CommitConfirmException,
    CommitError,
    ConnectAuthError,
    ConnectionClosedException,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)

from netchange.errors import (
    BadRequest,
    CommitFailed,
    ConnectionFailed,
    DeviceLost,
    DriftDetected,
    DriverError,
    NetchangeError,
)


class OpenFailed(ConnectionFailed, ConnectionException):  # type: ignore[misc]  # napalm is untyped
    """Phase connect: the session could not be opened (refused, host key, credentials, timeout)."""


class LoginRefused(OpenFailed, ConnectAuthError):  # type: ignore[misc]
    """Phase connect: the device refused the credentials."""


class SessionClosed(DeviceLost, ConnectionClosedException):  # type: ignore[misc]
    """Phase any: the session is gone (or was never opened)."""


class MergeRejected(CommitFailed, MergeConfigException):  # type: ignore[misc]
    """Phase load or commit of a merge: the candidate (or one of its lines) was refused."""


class ReplaceRejected(CommitFailed, ReplaceConfigException):  # type: ignore[misc]
    """Phase load or commit of a replace: the candidate (or one of its lines) was refused."""


class CommitRefused(CommitFailed, CommitError):  # type: ignore[misc]
    """Phase commit or rollback, outside a candidate's own lines: nothing loaded, a rollback the
    device refused, a session stuck in configuration mode."""


class ChangedMeanwhile(DriftDetected, CommitError):  # type: ignore[misc]
    """Phase commit or restore: the device, read again just before the write, differs from the
    state that was checked (another hand changed it in between); nothing was written. The
    message names the device and the lines (``+`` added, ``-`` removed since the check), also
    kept in :attr:`lines`. A drift (exit 3) and NAPALM's ``CommitError``."""

    def __init__(self, message: str, lines: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.lines = lines


class ChangedDuringWrite(DriftDetected, CommitError):  # type: ignore[misc]
    """Phase commit or restore: the write **was made**, but lines another hand typed during it
    (after the re-read, while netchange's own commands were being sent: FRR) are on the device;
    they were kept, not erased, and are named in the message and :attr:`lines`. Unlike
    :class:`ChangedMeanwhile` the device changed: the engine restores it (and its restore alarms
    on those lines instead of erasing them)."""

    def __init__(self, message: str, lines: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.lines = lines


class ConfirmRefused(CommitFailed, CommitConfirmException):  # type: ignore[misc]
    """Phase confirm: no confirmed commit pending (or the platform has none), or the device
    refused to confirm it."""


class CommandRefused(BadRequest, CommandErrorException):  # type: ignore[misc]
    """Phase read: ``cli()`` was given a command its platform's profile does not call read-only
    (:func:`netchange.drivers.base.check_read_only`); nothing was sent. Bad input, exit 2."""


class NotAnswering(ConnectionFailed, TimeoutError):
    """Phase any: the device, or one of its daemons, does not answer (a timeout, a refused
    connection, an empty answer where one was due, a daemon that is down). Says nothing of its
    configuration, nor of anyone's hand on it."""


class AnswerUnreadable(DriverError, ValueError):
    """Phase read: the device answered, but not in a form the driver can read (JSON, XML, a
    table it cannot parse)."""


class FailureCause(StrEnum):
    """Why a step on a device failed, in the operator's words: what an alarm says happened.

    The value is what the journal keeps (the ``cause`` of a ``rollback_failed`` event);
    :attr:`says` is the sentence the terminal, the tracking sheet and the mail begin with. A
    daemon that died is not a person's change: each cause has its own words.
    """

    NOT_ANSWERING = "not_answering"
    SESSION_LOST = "session_lost"
    UNREADABLE = "unreadable_answer"
    REFUSED = "refused"
    CHANGED_BY_OTHERS = "changed_by_someone_else"
    NOT_AS_SNAPSHOT = "not_as_snapshot"
    NETWORK_NOT_BACK = "network_not_back"
    NO_SNAPSHOT = "no_snapshot"
    FAILED = "failed"

    @property
    def says(self) -> str:
        return _SAYS[self]


_SAYS = {
    FailureCause.NOT_ANSWERING: "the device (or one of its daemons) is not answering",
    FailureCause.SESSION_LOST: "the session to the device was lost",
    FailureCause.UNREADABLE: "the device's answer could not be read",
    FailureCause.REFUSED: "the device refused a command",
    FailureCause.CHANGED_BY_OTHERS: "changed by someone else since the change",
    FailureCause.NOT_AS_SNAPSHOT: "restore sent, but the device does not match its snapshot",
    FailureCause.NETWORK_NOT_BACK: "configuration restored, but the network is not back",
    FailureCause.NO_SNAPSHOT: "no intact snapshot to restore from",
    FailureCause.FAILED: "the restore failed",
}


def _timeout_types() -> tuple[type[BaseException], ...]:
    """The classes that say "no answer in time" (or "nobody there"), of every library present."""
    found: list[type[BaseException]] = [TimeoutError, ConnectionRefusedError, NotAnswering]
    for module, names in (("netmiko.exceptions", ("NetmikoTimeoutException", "ReadTimeout")),
                          ("paramiko.ssh_exception", ("NoValidConnectionsError",))):
        try:
            imported = __import__(module, fromlist=list(names))
        except ImportError:
            continue
        found.extend(getattr(imported, name) for name in names if hasattr(imported, name))
    return tuple(found)


def _unreadable_types() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [AnswerUnreadable, UnicodeDecodeError]
    try:
        from lxml.etree import XMLSyntaxError

        found.append(XMLSyntaxError)
    except ImportError:
        pass
    return tuple(found)


def _one_cause(exc: BaseException) -> FailureCause | None:
    import json

    if isinstance(exc, _timeout_types()):
        return FailureCause.NOT_ANSWERING
    if isinstance(exc, OpenFailed) and not isinstance(exc, LoginRefused):
        return FailureCause.NOT_ANSWERING  # the session could not even be opened
    if isinstance(exc, DeviceLost | ConnectionClosedException) or session_lost(exc):
        return FailureCause.SESSION_LOST
    if isinstance(exc, DriftDetected):
        return FailureCause.CHANGED_BY_OTHERS
    if isinstance(exc, CommitFailed | LoginRefused | CommandErrorException | CommitError | BadRequest):
        return FailureCause.REFUSED
    if isinstance(exc, (json.JSONDecodeError, *_unreadable_types())):
        return FailureCause.UNREADABLE
    return None


def cause_of(exc: BaseException) -> FailureCause:
    """What ``exc`` says happened, by class (never by message): the exception itself first, then
    what it was translated from (a read timeout translated into :class:`SessionClosed` is a device
    not answering, not a lost session); :attr:`FailureCause.FAILED` when nothing more is known."""
    seen: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in seen:
        seen.append(node)
        node = node.__cause__ or node.__context__
    # The deepest known cause is the most precise (what the translation started from) ...
    for candidate in reversed(seen):
        found = _one_cause(candidate)
        if found is FailureCause.NOT_ANSWERING:
            return found
    # ... otherwise the exception as raised.
    for candidate in seen:
        found = _one_cause(candidate)
        if found is not None:
            return found
    return FailureCause.FAILED


class Phase(StrEnum):
    """Which step of NAPALM's lifecycle a call belongs to: decides what an unknown failure means."""

    CONNECT = "connect"
    READ = "read"
    MERGE = "merge"
    REPLACE = "replace"
    COMMIT = "commit"
    CONFIRM = "confirm"


LIFECYCLE: dict[str, Phase] = {
    "open": Phase.CONNECT,
    "get_config": Phase.READ,
    "cli": Phase.READ,
    "compare_config": Phase.READ,
    "discard_config": Phase.READ,
    "load_merge_candidate": Phase.MERGE,
    "load_replace_candidate": Phase.REPLACE,
    "commit_config": Phase.COMMIT,
    "rollback": Phase.COMMIT,
    "confirm_commit": Phase.CONFIRM,
}
"""The methods :func:`translating` guards, and their phase."""


def _session_lost_types() -> tuple[type[BaseException], ...]:
    """The exception classes that say "the session died", of every transport library present.

    Imported when first needed (each library is optional here: a driver that uses none of them
    never pays for their import).
    """
    found: list[type[BaseException]] = [EOFError, ConnectionError, TimeoutError, ConnectionClosedException]
    for module, names in (("paramiko", ("SSHException",)),
                          ("netmiko.exceptions", ("NetmikoTimeoutException", "ReadTimeout")),
                          ("ncclient.transport", ("TransportError", "SessionCloseError"))):
        try:
            imported = __import__(module, fromlist=list(names))
        except ImportError:
            continue
        found.extend(getattr(imported, name) for name in names if hasattr(imported, name))
    return tuple(found)


_lost_types: tuple[type[BaseException], ...] | None = None


def session_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is a transport library's "the session died" (by class, not by name)."""
    global _lost_types  # noqa: PLW0603 - computed once per process
    if _lost_types is None:
        _lost_types = _session_lost_types()
    return isinstance(exc, _lost_types)


def _text(exc: BaseException) -> str:
    """The library's own words, its class name first (as netchange has always reported them)."""
    return f"{type(exc).__name__}: {str(exc) or type(exc).__name__}"


def translate(exc: Exception, phase: Phase) -> Exception:  # noqa: PLR0911 - a table: one return per NAPALM error
    """``exc`` raised by a driver in ``phase``, as netchange's typed error (itself if already one,
    or if nothing more precise is known of it)."""
    if isinstance(exc, NetchangeError):
        return exc
    text = _text(exc)
    if isinstance(exc, ConnectAuthError):
        return LoginRefused(text)
    if phase is Phase.CONNECT and (isinstance(exc, ConnectionException) or session_lost(exc)):
        return OpenFailed(text)
    if isinstance(exc, ConnectionException) or session_lost(exc):
        return SessionClosed(text)
    if isinstance(exc, MergeConfigException):
        return MergeRejected(text)
    if isinstance(exc, ReplaceConfigException):
        return ReplaceRejected(text)
    if isinstance(exc, CommitConfirmException):
        return ConfirmRefused(text)
    if isinstance(exc, CommitError):
        return CommitRefused(text)
    return exc


def _guarded(cls: type[Any], name: str, phase: Phase) -> Callable[..., Any]:
    # The method is looked up on ``cls`` at each call: a later patch of ``cls`` still applies.
    @functools.wraps(getattr(cls, name))
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(cls, name)(*args, **kwargs)
        except NetchangeError:
            raise
        except Exception as exc:  # KeyboardInterrupt and SystemExit pass through untouched
            translated = translate(exc, phase)
            if translated is exc:
                raise
            raise translated from exc

    return call


_translating: dict[type[Any], type[Any]] = {}
_translating_lock = threading.Lock()


def translating(cls: type[Any]) -> type[Any]:
    """A subclass of the NAPALM driver ``cls`` whose lifecycle methods raise netchange's errors.

    Same name, same signatures (``functools.wraps``), one class per driver class (cached), so
    ``type(device) is driver_class(platform)`` holds and isinstance checks on ``cls`` still pass.
    """
    with _translating_lock:
        wrapped = _translating.get(cls)
        if wrapped is None:
            members: dict[str, Any] = {name: _guarded(cls, name, phase)
                       for name, phase in LIFECYCLE.items() if callable(getattr(cls, name, None))}
            members["__doc__"] = f"{cls.__doc__ or cls.__name__}\n\n(netchange: exceptions translated at the boundary)"
            members["__module__"] = cls.__module__
            members["__qualname__"] = cls.__qualname__
            members["translated_from"] = cls
            wrapped = type(cls.__name__, (cls,), members)
            _translating[cls] = wrapped
        return wrapped


__all__ = [
    "LIFECYCLE",
    "AnswerUnreadable",
    "ChangedDuringWrite",
    "ChangedMeanwhile",
    "CommandRefused",
    "CommitRefused",
    "ConfirmRefused",
    "FailureCause",
    "LoginRefused",
    "MergeRejected",
    "NotAnswering",
    "OpenFailed",
    "Phase",
    "ReplaceRejected",
    "SessionClosed",
    "cause_of",
    "session_lost",
    "translate",
    "translating",
]
