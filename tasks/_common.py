"""Small helpers the change types share: reading IOS-style running configs, building checks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Annotated

from pydantic import BeforeValidator

from netchange.models import CheckResult


def check(name: str, passed: bool, detail: str = "") -> CheckResult:
    return CheckResult(name=name, passed=passed, detail=detail)


def config_lines(running: str) -> list[str]:
    return [line.rstrip() for line in running.splitlines()]


def has_line(running: str, line: str) -> bool:
    """Whether ``line`` appears (stripped) anywhere in ``running``."""
    wanted = line.strip()
    return any(candidate.strip() == wanted for candidate in config_lines(running))


def section(running: str, header: str) -> list[str]:
    """The indented children of the top-level line ``header`` (empty when it is absent)."""
    lines = config_lines(running)
    children: list[str] = []
    inside = False
    for line in lines:
        if not line.startswith(" "):
            if inside:
                break
            inside = line.strip() == header
            continue
        if inside:
            children.append(line.strip())
    return children


def has_section(running: str, header: str) -> bool:
    return any(line.strip() == header and not line.startswith(" ") for line in config_lines(running))


def connected_networks(running: str) -> list[ipaddress.IPv4Network]:
    """Networks of ``ip address A M`` lines: what the device reaches without a route."""
    networks = []
    for line in config_lines(running):
        words = line.split()
        if len(words) >= 4 and words[:2] == ["ip", "address"]:
            try:
                networks.append(ipaddress.IPv4Interface(f"{words[2]}/{words[3]}").network)
            except ValueError:
                continue
    return networks


def reachable(address: ipaddress.IPv4Address, networks: Iterable[ipaddress.IPv4Network]) -> bool:
    return any(address in net for net in networks)


def _any_or_network(value: object) -> object:
    if value == "any":
        return ipaddress.IPv4Network("0.0.0.0/0")
    return value


# An endpoint of a flow: ``any``, a host address or a prefix; always stored as a network.
Endpoint = Annotated[ipaddress.IPv4Network, BeforeValidator(_any_or_network)]


def cisco_endpoint(net: ipaddress.IPv4Network, *, wildcard: bool) -> str:
    """``any`` / ``host A`` / ``A W`` (IOS wildcard) or ``A M`` (ASA netmask)."""
    if net.prefixlen == 0:
        return "any"
    if net.prefixlen == 32:
        return f"host {net.network_address}"
    mask = net.hostmask if wildcard else net.netmask
    return f"{net.network_address} {mask}"
