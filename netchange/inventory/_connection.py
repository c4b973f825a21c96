"""A Nornir connection plugin that opens any netchange driver.

Registered as ``netchange`` in ``nornir.plugins.connections``. The engine asks every host for this
one connection, so a host keeps a single session across pre-checks, diff, commit and post-checks.
Extra driver arguments come from the host's ``connection_options["netchange"].extras``
(``optional_args`` and ``timeout``), exactly as nornir_napalm reads its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netchange.drivers.contract import driver_class

if TYPE_CHECKING:
    from nornir.core.configuration import Config

CONNECTION_NAME = "netchange"


class NetchangeConnection:
    """Nornir ``ConnectionPlugin`` wrapping a NAPALM-contract driver."""

    def open(  # noqa: PLR0917 - the signature is Nornir's ConnectionPlugin protocol
        self,
        hostname: str | None,
        username: str | None,
        password: str | None,
        port: int | None,
        platform: str | None,
        extras: dict[str, Any] | None = None,
        configuration: Config | None = None,
    ) -> None:
        extras = dict(extras or {})
        optional_args = dict(extras.pop("optional_args", {}) or {})
        if port and "port" not in optional_args:
            optional_args["port"] = port
        cls = driver_class(platform or "")
        device = cls(
            hostname=hostname or "",
            username=username or "",
            password=password or "",
            timeout=int(extras.pop("timeout", 30)),
            optional_args=optional_args,
        )
        device.open()
        self.connection = device

    def close(self) -> None:
        self.connection.close()
