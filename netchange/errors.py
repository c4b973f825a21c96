"""One exception root, split by the phase of the change that failed.

The command line maps each class to its exit code once (``exit_code``), so library code raises
what happened and never decides how the process ends.
"""

from __future__ import annotations


class NetchangeError(Exception):
    """Root of every error netchange raises on purpose."""

    exit_code = 1


class BadRequest(NetchangeError, ValueError):
    """The input (change file, option, inventory name) is wrong; nothing reached a device."""

    exit_code = 2


class UnknownReference(BadRequest):
    """The request names something the device does not have (a prefix-list, a route-map, a BGP
    neighbour): found by a pre-check reading the device, and still bad input (exit 2), so the
    whole plan stops and nothing is sent or stored."""


class GuardRefused(NetchangeError):
    """The guard refuses to run the change now: window, approvals, freeze, lead time or lock."""

    exit_code = 3


class DriftDetected(GuardRefused):
    """The device no longer matches the state the plan was made against."""


class LockHeld(GuardRefused):
    """Another change is in progress on one of the same devices."""


class LeaseLost(LockHeld):
    """This process's device lease expired or was taken over by a newer holder (a higher fencing
    token): it may no longer write to the journal nor touch the device (issue 24 item 3)."""


class DatabaseUnavailable(GuardRefused):
    """The shared database (``NETCHANGE_DATABASE_URL``) cannot be reached: nothing is done without it."""


class EngineUnavailable(GuardRefused):
    """The workflow engine (``NETCHANGE_TEMPORAL_ADDRESS``) cannot be reached: nothing was started,
    as for an unreachable database (exit 3)."""


class DatabaseRefused(GuardRefused):
    """The shared database refused a statement (a right the role lacks, an append-only trigger):
    what the statement was part of is not done."""


class StateConflict(GuardRefused):
    """The change is not in a state that allows this step (applying a change already running,
    closing a change still planned): a refusal (exit 3), not bad input."""


class DriverError(NetchangeError):
    """A device or its session failed (connection lost, command rejected, timeout)."""


class ConnectionFailed(DriverError, ConnectionError):
    """The session to the device could not be opened or was lost."""


class DeviceLost(ConnectionFailed):
    """The session died under a step (EOF, socket closed, sshd gone): the device was lost, which
    says nothing about whether its configuration changed."""


class CommitFailed(DriverError):
    """The device rejected the candidate or the commit failed."""


class PostCheckFailed(NetchangeError):
    """The change was committed but its post-checks say it does not work."""


class RollbackFailed(NetchangeError):
    """A rollback could not be applied or verified: an alarm, never silence."""
