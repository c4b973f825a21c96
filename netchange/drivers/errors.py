"""netchange's driver errors, each also the NAPALM exception it means.

A netchange driver and a NAPALM driver stay interchangeable: code written against NAPALM catches
``MergeConfigException`` and still catches :class:`MergeRejected`; netchange's own code catches
by phase (:class:`~netchange.errors.ConnectionFailed`, :class:`~netchange.errors.CommitFailed`).
Messages name the device and what it said, never a credential.
"""

from __future__ import annotations

from napalm.base.exceptions import (
    CommitError,
    ConnectionClosedException,
    ConnectionException,
    MergeConfigException,
    ReplaceConfigException,
)

from netchange.errors import CommitFailed, ConnectionFailed, DeviceLost


class OpenFailed(ConnectionFailed, ConnectionException):  # type: ignore[misc]  # napalm is untyped
    """Phase connect: the session could not be opened (refused, host key, credentials, timeout)."""


class SessionClosed(DeviceLost, ConnectionClosedException):  # type: ignore[misc]
    """Phase any: the session is gone (or was never opened)."""


class MergeRejected(CommitFailed, MergeConfigException):  # type: ignore[misc]
    """Phase load or commit of a merge: the candidate (or one of its lines) was refused."""


class ReplaceRejected(CommitFailed, ReplaceConfigException):  # type: ignore[misc]
    """Phase load or commit of a replace: the candidate (or one of its lines) was refused."""


class CommitRefused(CommitFailed, CommitError):  # type: ignore[misc]
    """Phase commit or rollback, outside a candidate's own lines: nothing loaded, a rollback the
    device refused, a session stuck in configuration mode."""
