"""The ios_cli driver over an in-memory device: the engine's own code paths, no SSH.

:class:`MemoryDevice` answers ``show running-config`` and ``show vlan brief`` from a stored
configuration (it is never changed: plans only). :class:`MemoryCliDriver`
is the real :class:`netchange.drivers.ios_cli.IosCliDriver` with that device as its session, so
hier_config parsing, diff, remediation and rollback lines run exactly as against a switch.
"""

from __future__ import annotations

from typing import Any

from bench.configs import show_vlan_brief
from netchange.drivers.ios_cli import IosCliDriver


class MemoryDevice:
    """A netmiko-like session over a configuration held in memory."""

    def __init__(self, config: str) -> None:
        self.config = config

    def send_command(self, command: str, **_: Any) -> str:
        if command == "show running-config":
            return f"Building configuration...\n\nCurrent configuration : {len(self.config)} bytes\n{self.config}end\n"
        if command == "show vlan brief":
            return show_vlan_brief(self.config)
        return "% Invalid input detected at '^' marker.\n"

    def is_alive(self) -> bool:
        return True

    def disconnect(self) -> None:
        return None

    def check_config_mode(self) -> bool:
        return False


class MemoryCliDriver(IosCliDriver):
    def __init__(self, config: str, name: str = "memory", *, reuse_seconds: float = 2.0) -> None:
        super().__init__(hostname=name, username="", password="",
                         optional_args={"running_reuse_seconds": reuse_seconds})
        self.device = MemoryDevice(config)

    def open(self) -> None:
        return None


class MemoryConnection:
    """What Nornir keeps in ``host.connections``: an object with ``.connection`` and ``close()``."""

    def __init__(self, driver: MemoryCliDriver) -> None:
        self.connection = driver

    def close(self) -> None:
        return None
