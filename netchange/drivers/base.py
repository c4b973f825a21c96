"""The one device contract netchange speaks: NAPALM's configuration lifecycle.

    open → get_config → load_merge_candidate | load_replace_candidate → compare_config
         → commit_config(revert_in=) → confirm_commit | rollback → close
         (discard_config drops a loaded candidate; plan always ends there)

A NAPALM driver (ios, eos, junos, nxos_ssh, mock, …) is a netchange driver as it is. Platforms
NAPALM lacks get a subclass of :class:`napalm.base.NetworkDriver` in this package, registered
under the entry-point group ``netchange.drivers`` by platform name.

Two optional extensions, looked up with ``getattr`` so that plain NAPALM drivers still work:

``rollback_preview() -> str``
    After a candidate is loaded: the exact lines that would undo it, in the device's syntax.
    Drivers without it are rolled back by restoring the full snapshot
    (``load_replace_candidate(snapshot)`` + ``commit_config()``).
``normalize_config(text) -> str``
    Canonical form of a ``get_config`` result, so that a restored device compares equal to its
    snapshot despite volatile lines (timestamps, serials).
``supports_commit_confirm: bool`` (class attribute)
    ``True`` when ``commit_config(revert_in=N)`` is a real confirmed commit that the device
    reverts by itself unless ``confirm_commit()`` follows. apply then confirms only after the
    post-checks pass. NAPALM's own drivers are looked up by platform (junos, eos).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from netchange.errors import BadRequest

ENTRY_POINT_GROUP = "netchange.drivers"

# The configuration syntax a platform speaks: change types render per syntax, the classifier's
# rules are written per syntax. A host may override it with ``data.syntax`` (the mock driver has
# no syntax of its own).
_SYNTAX = {
    "ios": "ios",
    "ios_cli": "ios",
    "eos": "ios",
    "nxos": "ios",
    "nxos_ssh": "ios",
    "asa": "asa",
    "asa_cli": "asa",
    "nftables": "nftables",
    "haproxy": "haproxy",
    "bind": "bind",
    "netconf": "netconf",
    "junos": "junos",
}


class NoCommitConfirm:
    """For devices without a confirmed commit: nothing is ever pending, there is nothing to confirm.

    Such a driver refuses ``commit_config(revert_in=…)`` as NAPALM's drivers do, and apply rolls
    back by itself instead of waiting for the device to revert.
    """

    supports_commit_confirm = False

    def has_pending_commit(self) -> bool:
        return False

    def confirm_commit(self) -> None:
        from napalm.base.exceptions import CommitConfirmException

        raise CommitConfirmException(f"{type(self).__name__}: this platform has no confirmed commit")


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


@cache
def _registered() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_platforms() -> list[str]:
    return sorted(set(_registered()) | set(_SYNTAX) | {"mock"})


def driver_class(platform: str) -> type[Any]:
    """The driver class for ``platform``: netchange's own first, then NAPALM's."""
    ep = _registered().get(platform)
    if ep is not None:
        return ep.load()  # type: ignore[no-any-return]
    from napalm import get_network_driver
    from napalm.base.exceptions import ModuleImportError

    try:
        return get_network_driver(platform)  # type: ignore[no-any-return]
    except ModuleImportError as exc:
        raise BadRequest(f"no driver for platform {platform!r} (known: {', '.join(known_platforms())})") from exc


def syntax_of(platform: str, override: str | None = None) -> str:
    """The configuration syntax of a platform (``override`` wins, e.g. for the mock driver)."""
    if override:
        return override
    try:
        return _SYNTAX[platform]
    except KeyError:
        raise BadRequest(f"platform {platform!r} has no known configuration syntax; set data.syntax") from None
