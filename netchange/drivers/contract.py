"""What the engine asks of a driver, and how it finds one (no NAPALM import here: the command line
imports this module before any driver is needed).

A NAPALM driver (ios, eos, junos, nxos_ssh, mock, …) is a netchange driver as it is: the engine
calls the part of NAPALM's ``NetworkDriver`` that :class:`DriverProtocol` lists, in the order
:class:`netchange.drivers.base.NetchangeDriver` specifies (the lifecycle is documented there,
once). Platforms NAPALM lacks get a subclass of that base class, registered in :data:`DRIVERS`
(entry-point group ``netchange.drivers``).

Optional features are members of :class:`DriverFeatures` with defaults; the engine asks
:func:`rollback_preview`, :func:`normalize` and :func:`is_offline`, which give a plain NAPALM
driver the defaults.

Whether ``commit_config(revert_in=N)`` is a real confirmed commit is a platform fact: the
profile's ``confirmed_commit`` (``netchange/platforms/<name>.yaml``), as are the syntax
(:func:`netchange.platforms.syntax_of`), the ntc-templates platform and the read-only commands.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from netchange.errors import BadRequest
from netchange.platforms import PLATFORMS
from netchange.registry import Registry

if TYPE_CHECKING:
    from netchange.platforms import SaveSteps

ENTRY_POINT_GROUP = "netchange.drivers"


@runtime_checkable
class DriverProtocol(Protocol):
    """The subset of NAPALM's ``NetworkDriver`` that the engine calls."""

    def open(self) -> None: ...
    def close(self) -> None: ...
    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False) -> dict[str, str]: ...
    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None: ...
    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None: ...
    def compare_config(self) -> str: ...
    def commit_config(self, message: str = "", revert_in: int | None = None) -> None: ...
    def confirm_commit(self) -> None: ...
    def has_pending_commit(self) -> bool: ...
    def discard_config(self) -> None: ...
    def rollback(self) -> None: ...
    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]: ...


class DriverFeatures:
    """netchange's optional driver features with their defaults (every
    :class:`~netchange.drivers.base.NetchangeDriver` has them; a NAPALM driver gets the defaults
    through the functions below)."""

    offline: bool = False
    """True for a driver that reads a stored configuration (``plan --offline``): it has no device
    to ask, so a check that needs one is reported "not run offline" (:func:`is_offline`)."""

    commit_checks_state: bool = False
    """True for a driver whose ``commit_config`` computes its write from the state checked
    (:meth:`checked_state`: the last reading of the session, however old) and reads the device again
    immediately before the write, refusing with ``ChangedMeanwhile`` (nothing written) unless the
    device is still in that state. Apply then makes no reading of its own at the host's turn: the
    commit's re-read is the drift check (issue 27 item 1)."""

    def checked_state(self) -> str | None:
        """The state a write of this session would be checked against (``None``: none, or unknown)."""
        return None

    def rollback_preview(self) -> str | None:
        """After a candidate is loaded: the exact lines that would undo it, in the device's syntax.
        ``None`` (the default): rolled back by restoring the full snapshot
        (``load_replace_candidate(snapshot)`` + ``commit_config()``)."""
        return None

    def normalize_config(self, text: str) -> str:
        """Canonical form of a ``get_config`` result, so that a restored device compares equal to
        its snapshot despite volatile lines (timestamps, serials); compared byte for byte.
        Default: the text stripped."""
        return text.strip()

    def can_save(self, save: SaveSteps) -> bool:
        """Whether the device keeps a startup state apart that ``save`` writes (default: no;
        :class:`~netchange.drivers.base.NetchangeDriver` says yes and saves)."""
        return False

    def save_config(self, save: SaveSteps) -> bool:
        """Save running as startup and say whether startup equals running (see the base class)."""
        raise NotImplementedError


@dataclass(frozen=True)
class SaveReport:
    """What one save did (journaled as the event ``saved``)."""

    startup_equals_running: bool
    seconds: float
    error: str = ""

    def event_data(self) -> dict[str, Any]:
        error = {"error": self.error} if self.error else {}
        return {"startup_equals_running": self.startup_equals_running, "seconds": round(self.seconds, 3), **error}


def save_running(driver: object, platform: str) -> SaveReport | None:
    """Save the running state where ``platform``'s profile says how (``save``), read the startup
    back and compare; ``None`` when there is nothing to save: no ``save`` in the profile (no
    startup apart, or a NAPALM driver whose commit saves), a NAPALM driver (mock), or a device
    without the capability. Never raises: a failure is a report whose startup is not running."""
    profile = PLATFORMS.find(platform)
    steps = profile.save if profile is not None else None
    if steps is None or (driver := features(driver)) is None:
        return None
    start = time.monotonic()
    try:
        if not driver.can_save(steps):
            return None
        equal = driver.save_config(steps)
    except Exception as exc:  # the change itself is verified: a failed save is reported, not raised
        return SaveReport(False, time.monotonic() - start, f"{type(exc).__name__}: {exc}")
    return SaveReport(equal, time.monotonic() - start)


def rollback_preview(driver: object) -> str | None:
    """The driver's rollback preview; ``None`` for a driver without netchange's features."""
    found = features(driver)
    return found.rollback_preview() if found is not None else None


def is_offline(driver: object) -> bool:
    """Whether ``driver`` works from a stored configuration, without a device."""
    found = features(driver)
    return found is not None and found.offline


def normalize(driver: object, text: str) -> str:
    """The driver's canonical form of a configuration, or the text stripped (a NAPALM driver)."""
    found = features(driver)
    return found.normalize_config(text) if found is not None else text.strip()


def features(driver: object) -> DriverFeatures | None:
    """``driver`` as a driver with netchange's features, or ``None`` (a NAPALM driver).

    A fenced session (:mod:`netchange.drivers.fencing`, with a team database) is a wrapper whose
    calls go through the lease check: it has its driver's features. Judged by the wrapped
    driver's class (an ``isinstance`` of the wrapper was false: every PostgreSQL-leased apply on
    an IOS switch read as drift, its running configuration never normalised), and used through
    the wrapper, so that its device calls stay fenced.
    """
    inner = getattr(driver, "unfenced", driver)
    return cast(DriverFeatures, driver) if isinstance(inner, DriverFeatures) else None


DRIVERS: Registry[type[Any]] = Registry("driver", ENTRY_POINT_GROUP)
"""netchange's own driver classes by name (entry points ``netchange.drivers``, then
:meth:`Registry.register`). A platform whose profile names no driver of this registry is looked
up with ``napalm.get_network_driver``."""


def known_platforms() -> list[str]:
    return sorted(set(PLATFORMS.names()) | set(DRIVERS.names()))


def driver_class(platform: str) -> type[Any]:
    """The driver class for ``platform``: netchange's own (by the profile's ``driver`` name, else
    the platform's), then NAPALM's."""
    profile = PLATFORMS.find(platform)
    name = (profile.driver if profile is not None and profile.driver else None) or platform
    cls = DRIVERS.find(name)
    if cls is not None:
        return _at_the_boundary(cls)
    from napalm import get_network_driver
    from napalm.base.exceptions import ModuleImportError

    try:
        return _at_the_boundary(get_network_driver(name))
    except ModuleImportError as exc:
        raise BadRequest(f"no driver for platform {platform!r} (known: {', '.join(known_platforms())})") from exc


def _at_the_boundary(cls: type[Any]) -> type[Any]:
    """A NAPALM driver (NAPALM's own ``ios``, ``eos``, ``junos``…, or a plugin's ``NetworkDriver``)
    wrapped so that its exceptions reach the engine as netchange's typed errors
    (:func:`netchange.drivers.errors.translating`); netchange's own drivers (every one has
    :class:`DriverFeatures`) raise them already."""
    base = sys.modules.get("napalm.base.base")
    if base is None or not issubclass(cls, base.NetworkDriver) or getattr(cls, "translated_from", None):
        return cls  # not a NAPALM driver (NAPALM is not even imported), or wrapped already
    if issubclass(cls, DriverFeatures):
        return cls
    from netchange.drivers.errors import translating

    return translating(cls)


__all__ = [
    "DRIVERS",
    "DriverFeatures",
    "DriverProtocol",
    "SaveReport",
    "driver_class",
    "is_offline",
    "known_platforms",
    "normalize",
    "rollback_preview",
    "save_running",
]
