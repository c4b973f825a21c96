"""What a rule may know beyond its own line: the section it sits in and the device's running config.

A line alone cannot tell a printer port from an uplink, nor an ACL nobody uses from the one bound
to the outside interface. A rule may therefore ask (``classifiers/rules/*.yaml``):

- ``section_has`` / ``section_lacks``: a regex on the lines of the section the changed line sits in
  (its top-level block: ``interface Vlan10`` for `` shutdown``), taken from the running
  configuration and from every line of the diff in that block (before and after: an uplink that
  the change turns into an access port was still an uplink when it was shut);
- ``running_has``: a regex template on the running configuration (and the diff's added or unchanged
  lines), ``{name}`` being a named group of the rule's ``match`` or ``parent``, escaped;
- ``check``: a named check written here, for what a regex cannot say (subnets, next hops).

Without the running configuration (a diff classified alone) a condition is judged on what the diff
shows; ``running_has`` and ``check`` then follow the rule's ``if_unknown`` (default ``apply``: the
rule's category, which for these rules is the higher one).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from netchange.drivers.diffformat import DiffLine, ParsedDiff, parse_diff

Ancestors = tuple[tuple[str, str], ...]
Address = ipaddress.IPv4Interface | ipaddress.IPv6Interface

_ADDRESS = re.compile(
    r"^ip(?:v6)? address\s+(?P<addr>[0-9A-Fa-f:.]+(?:/\d+)?)(?:\s+(?P<mask>\d+\.\d+\.\d+\.\d+))?(?P<rest>.*)$"
)
# Interface-scoped routing statements: OSPF/EIGRP/RIP "network A [wildcard] [area N]".
_NETWORK = re.compile(r"^network\s+(?P<addr>\d+\.\d+\.\d+\.\d+)(?:\s+(?P<wild>\d+\.\d+\.\d+\.\d+))?(?:\s+area\s+\S+)?$")
_NETWORK_PREFIX = re.compile(r"^network\s+(?P<net>\d+\.\d+\.\d+\.\d+/\d+)(?:\s+area\s+\S+)?$")
_ROUTER = re.compile(r"^router\s+(ospf|eigrp|rip)\b")
_STATIC = re.compile(r"^(?:ip|ipv6) route\s+(?:vrf\s+\S+\s+)?(?P<rest>.+)$")


def parse_address(body: str) -> Address | None:
    """The primary address of an ``ip address`` / ``ipv6 address`` line; None for secondary, dhcp, none."""
    m = _ADDRESS.match(body)
    if m is None or "secondary" in m.group("rest").split():
        return None
    try:
        if m.group("mask"):
            return ipaddress.ip_interface(f"{m.group('addr')}/{m.group('mask')}")
        return ipaddress.ip_interface(m.group("addr"))
    except ValueError:
        return None


@dataclass
class DeviceContext:
    """The diff's sections and, when known, the running configuration's, for context conditions."""

    parsed: ParsedDiff
    running: str | None
    _diff_sections: dict[str, list[DiffLine]] | None = None
    _running_sections: dict[str, list[str]] | None = None
    _known_text: str | None = None
    _section_text: dict[str, str] = field(default_factory=dict)

    @property
    def has_running(self) -> bool:
        return self.running is not None

    # --- sections ---------------------------------------------------------------------------------
    def diff_section(self, header: str) -> list[DiffLine]:
        if self._diff_sections is None:
            self._diff_sections = {}
            for line in self.parsed.lines:
                root = line
                while root.parent is not None:
                    root = root.parent
                if root is not line:
                    self._diff_sections.setdefault(root.body, []).append(line)
        return self._diff_sections.get(header, [])

    def running_section(self, header: str) -> list[str]:
        if self._running_sections is None:
            self._running_sections = {}
            if self.running is not None:
                for line in _running_lines(self.running):
                    root = line
                    while root.parent is not None:
                        root = root.parent
                    section = self._running_sections.setdefault(root.body, [])
                    if root is not line:
                        section.append(line.body)
        return self._running_sections.get(header, [])

    def section_text(self, header: str) -> str:
        """Every line known of a section (running configuration and diff, any sign), one per line."""
        text = self._section_text.get(header)
        if text is None:
            lines = [*self.running_section(header), *(line.body for line in self.diff_section(header))]
            text = self._section_text[header] = "\n".join(lines)
        return text

    def known_text(self) -> str:
        """The running configuration's lines and the diff's added or unchanged lines, stripped."""
        if self._known_text is None:
            lines = [line.body for line in _running_lines(self.running)] if self.running is not None else []
            lines += [line.body for line in self.parsed.lines if line.sign != "-"]
            self._known_text = "\n".join(lines)
        return self._known_text

    # --- named checks -----------------------------------------------------------------------------
    def subnet_moved(self, sign: str, body: str, ancestors: Ancestors) -> bool | None:
        """An interface's primary address replaced by one in another subnet, or out of a network statement.

        The old address is the diff's removed primary address in the same section, else the
        running configuration's. None when neither is known (no running configuration and the diff
        shows only the new address of an existing interface).
        """
        new = parse_address(body)
        if sign != "+" or new is None or not ancestors:
            return False
        header = ancestors[-1][1]
        old = next(
            (a for a in (parse_address(x.body) for x in self.diff_section(header) if x.sign == "-") if a is not None),
            None,
        )
        if old is None:
            old = next(
                (a for a in (parse_address(x) for x in self.running_section(header)) if a is not None and a != new),
                None,
            )
        if old is None:
            if ancestors[-1][0] == "+" or self.has_running:
                return False  # a new interface, or one that had no address: first addressing
            return None
        if old.version != new.version or old.network != new.network:
            return True
        return any(covers(old.ip) and not covers(new.ip) for covers in self._network_statements())

    def next_hop_path(self, sign: str, body: str, ancestors: Ancestors) -> bool | None:
        """A static route of the running configuration leaves through this interface (its next hop
        lies in the interface's subnet, or the route names the interface)."""
        if sign != "+" or not ancestors:
            return False
        if not self.has_running:
            return None
        header = ancestors[-1][1]
        name = header.split(None, 1)[1] if " " in header else header
        known = [*self.running_section(header), *(d.body for d in self.diff_section(header))]
        nets = [a.network for a in (parse_address(x) for x in known) if a is not None]
        for line in _running_lines(self.running or ""):
            m = _STATIC.match(line.body) if line.parent is None else None
            if m is None:
                continue
            for token in m.group("rest").split()[1:]:
                if token.lower() == name.lower():
                    return True
                try:
                    hop = ipaddress.ip_address(token)
                except ValueError:
                    continue
                if any(hop in net for net in nets if net.prefixlen > 0):
                    return True
        return False

    def _network_statements(self) -> list[Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]]:
        tests: list[Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]] = []
        if self.running is None:
            return tests
        for line in _running_lines(self.running):
            if line.parent is None or not _ROUTER.match(line.parent.body):
                continue
            m = _NETWORK.match(line.body)
            p = _NETWORK_PREFIX.match(line.body)
            if m is not None:
                base = int(ipaddress.IPv4Address(m.group("addr")))
                wild = int(ipaddress.IPv4Address(m.group("wild") or _classful_wildcard(m.group("addr"))))
                tests.append(_wildcard_test(base, wild))
            elif p is not None:
                tests.append(_prefix_test(ipaddress.ip_network(p.group("net"), strict=False)))
        return tests


def _wildcard_test(base: int, wild: int) -> Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]:
    def covers(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return ip.version == 4 and (int(ip) & ~wild) == (base & ~wild)

    return covers


def _prefix_test(
    net: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]:
    def covers(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return ip in net

    return covers


def _classful_wildcard(addr: str) -> str:
    first = int(addr.split(".", 1)[0])
    return "0.255.255.255" if first < 128 else "0.0.255.255" if first < 192 else "0.0.0.255"


_RUNNING_CACHE: dict[int, tuple[str, tuple[DiffLine, ...]]] = {}


def _running_lines(running: str) -> tuple[DiffLine, ...]:
    """The running configuration read as an all-context diff (same parents as the diff's lines)."""
    key = id(running)
    cached = _RUNNING_CACHE.get(key)
    if cached is not None and cached[0] is running:
        return cached[1]
    lines = parse_diff("\n".join(" " + line for line in running.splitlines() if line.strip())).lines
    _RUNNING_CACHE.clear()
    _RUNNING_CACHE[key] = (running, lines)
    return lines


def fill(template: str, values: dict[str, str]) -> re.Pattern[str] | None:
    """``running_has`` with its ``{name}`` fields replaced by escaped captures; None if one is missing."""
    try:
        return re.compile(template.format_map({k: re.escape(v) for k, v in values.items()}), re.M)
    except (KeyError, IndexError, re.error):
        return None
