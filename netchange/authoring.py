"""What a change type from any package is written with: the public authoring interface.

A change type is a class (:class:`ChangeType`) with a parameters model (a :class:`StrictModel`),
registered under the entry-point group ``netchange.change_types`` of its distribution; its templates
live in the ``templates/<type name>/<syntax>.j2`` folder of its own package; the classifier rules for
the lines it produces ship with it (entry-point group ``netchange.classifier_rules``). The tutorial is
docs/write-a-change-type.md; this module gathers what it uses so that an author imports one module::

    from netchange.authoring import ChangeType, Context, StrictModel, Role, Perimeter, check, has_line

The helpers below read IOS-style running configurations (``ctx.running``) and build check
results. netchange's own change types (``netchange.tasks``) use exactly this module.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Annotated

from pydantic import BeforeValidator

from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context, render_template
from netchange.models import CheckResult, DeviceText, InterfaceName, Prose, ProseLine, SafeName, VlanId
from netchange.vocabulary import Perimeter, Role

__all__ = [
    "ChangeType",
    "CheckResult",
    "Context",
    "DeviceText",
    "Endpoint",
    "InterfaceName",
    "Perimeter",
    "Prose",
    "ProseLine",
    "Role",
    "SafeName",
    "StrictModel",
    "VlanId",
    "check",
    "cisco_endpoint",
    "config_lines",
    "connected_networks",
    "has_line",
    "has_section",
    "reachable",
    "render_template",
    "section",
]


def check(name: str, passed: bool, detail: str = "") -> CheckResult:
    """One check's result: ``name`` says what must hold, ``detail`` what was seen (shown on failure)."""
    return CheckResult(name=name, passed=passed, detail=detail)


def config_lines(running: str) -> list[str]:
    """The lines of a configuration, trailing blanks removed."""
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
    """Whether the top-level line ``header`` (a section such as ``interface Vlan10``) exists."""
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
    """Whether ``address`` is in one of ``networks``."""
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
