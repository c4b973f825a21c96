"""Fencing at the device: every driver call of a lease holder first checks its lease is still current.

A device knows nothing of netchange's leases (:mod:`netchange.apply.leases`), so it cannot refuse a
stale holder's token itself, as a fenced storage would. The next best place is the last step before
the device: each driver call (read, load, commit, confirm, restore...) of a session opened for a
command that holds leases checks them first, in the database; a holder whose lease expired or was
taken over gets :class:`~netchange.errors.LeaseLost` instead of the call. What remains unfenced is
the one call already under way when the lease is lost.

The check travels with the Nornir configuration of the command (``user_defined``), which every
session of that command is opened with (:func:`netchange.rollback.runner.session`); a command
without leases (OS locks) has none, and its drivers are used as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FENCE_KEY = "netchange_fence"
_UNFENCED = frozenset({"open", "close", "is_alive", "normalize_config"})
"""Calls that neither read nor change the device's configuration: closing a session is always
allowed, and normalising a text already read is no device call."""


def install(config: Any, check: Callable[[], None]) -> None:
    """Fence every session opened with this Nornir ``config`` (a ``nornir.core.configuration.Config``)."""
    config.user_defined[FENCE_KEY] = check


def fenced(driver: Any, config: Any) -> Any:
    """``driver`` behind the fence installed on ``config``, or as it is when none is."""
    check = (getattr(config, "user_defined", None) or {}).get(FENCE_KEY)
    return driver if check is None else FencedDriver(driver, check)


class FencedDriver:
    """A driver whose every method call is preceded by the lease check (attributes pass through)."""

    def __init__(self, driver: Any, check: Callable[[], None]) -> None:
        self._driver = driver
        self._check = check

    @property
    def unfenced(self) -> Any:
        """The driver itself (tests, and identity comparisons)."""
        return self._driver

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._driver, name)
        if name.startswith("_") or name in _UNFENCED or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._check()
            return attr(*args, **kwargs)

        return call
