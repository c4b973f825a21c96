"""``ntp_server``: add or remove the NTP servers of IOS-style switches, optionally their source."""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from netchange.authoring import (
    ChangeType,
    CheckResult,
    Context,
    InterfaceName,
    Perimeter,
    Role,
    StrictModel,
    check,
    has_line,
    has_section,
)

Servers = Annotated[tuple[ipaddress.IPv4Address, ...], Field(max_length=4)]


class NtpParams(StrictModel):
    servers: Servers = ()
    """Servers to add."""
    remove: Servers = ()
    """Servers to remove."""
    prefer: ipaddress.IPv4Address | None = None
    """One of ``servers``, marked preferred."""
    source: InterfaceName | None = None
    """The interface NTP packets leave from."""

    @model_validator(mode="after")
    def _coherent(self) -> NtpParams:
        if not (self.servers or self.remove or self.source):
            raise ValueError("give servers to add, servers to remove or a source interface")
        if self.prefer is not None and self.prefer not in self.servers:
            raise ValueError("prefer must be one of servers")
        if set(self.servers) & set(self.remove):
            raise ValueError("a server cannot be both added and removed")
        return self


class NtpServer(ChangeType[NtpParams]):
    """NTP servers of a switch (IOS-style CLI)."""

    name = "ntp_server"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios"})
    Params = NtpParams

    def pre_checks(self, ctx: Context[NtpParams]) -> list[CheckResult]:
        p, running = ctx.params, ctx.running
        checks = [check(f"ntp server {s} is configured", has_line(running, f"ntp server {s}")
                        or has_line(running, f"ntp server {s} prefer")) for s in p.remove]
        if p.source:
            checks.append(check(f"interface {p.source} exists", has_section(running, f"interface {p.source}")))
        kept = {line.split()[2] for line in running.splitlines() if line.startswith("ntp server ")}
        left = (kept | {str(s) for s in p.servers}) - {str(s) for s in p.remove}
        checks.append(check("at least one NTP server remains", bool(left), f"{len(left)} after the change"))
        return checks

    def post_checks(self, ctx: Context[NtpParams]) -> list[CheckResult]:
        return [check(f"ntp server {s} is configured", any(
            line.startswith(f"ntp server {s}") for line in ctx.running.splitlines())) for s in ctx.params.servers]
