"""The contract between the lab's manager and each kind of stand-in device.

A component starts its processes (recording every PID it started in ``LabContext.pids``), creates
its network namespaces (recorded in ``LabContext.namespaces``), and returns the inventory entries
of the devices it serves. ``down`` is the manager's job: it kills exactly the recorded PIDs and
deletes exactly the recorded namespaces and directories (``LabContext.paths``), so a component
needs no teardown code of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(kw_only=True)
class LabHost:
    """One device as the lab's generated Nornir inventory shows it."""

    name: str
    hostname: str
    port: int
    platform: str
    role: str
    site: str
    groups: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    optional_args: dict[str, Any] = field(default_factory=dict)
    """Non-secret driver arguments (e.g. ``known_hosts`` path). Secrets go to ``LabContext.secrets``."""


@dataclass(kw_only=True)
class LabContext:
    """Shared state of one ``lab up``: where files go, and what was started."""

    root: Path
    """``$NETCHANGE_HOME/lab``: generated keys, configs, logs, pid and state files."""
    pids: dict[str, int] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Directories made outside ``root`` (e.g. run directories a daemon's own user must reach,
    which the 0700 lab root forbids): ``down`` deletes exactly these."""
    instance: int = 0
    """This lab's machine-wide instance number (namespace and subnet names), reserved by the manager."""
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """host name → ``{"username", "password", "optional_args": {...}}``, written to secrets.yaml (0600)."""

    @property
    def known_hosts(self) -> Path:
        """The SSH host keys of every lab device: components append, drivers verify against it."""
        return self.root / "known_hosts"


class LabComponent(Protocol):
    """A kind of stand-in device (switches, firewalls, load balancers, DNS, NETCONF)."""

    name: str
    platforms: tuple[str, ...]
    """The inventory platforms its hosts have (the manager refuses a host of another): what the
    lab's integration tests drive, read without starting anything (the production inventory's
    drivers are checked against it, tests/unit/test_production_drivers.py)."""

    def available(self) -> str | None:
        """``None`` when its software is installed; otherwise what is missing, in one line."""

    def up(self, ctx: LabContext) -> list[LabHost]:
        """Start the devices, wait until each answers, and return their inventory entries."""

    def status(self, ctx: LabContext) -> dict[str, str]:
        """Device name → one-line state, for ``netchange lab status``."""
