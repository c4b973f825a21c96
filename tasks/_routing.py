"""What the routing change types share: FRR's JSON answers, and checks that watch the network.

A routing change is judged by what the network does after it, not by the configuration text
alone: an OSPF neighbour back to Full within a bound, a BGP session Established with the expected
prefixes received, the route in the namespace's kernel table, a new TCP connection from the
site's client to its server through the routers. FRR answers ``show … json`` for each of these, so
they are read as JSON (the field's way), never scraped from text.

Every read goes through the host's driver (``ctx.show``: the platform's read-only commands), so
a check runs where the router runs, over the same session as the change.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import Context
from netchange.models import CheckResult
from netchange.vocabulary import Perimeter, Role

P = TypeVar("P", bound=StrictModel)
T = TypeVar("T")

ROUTING_ROLES = frozenset(role for role in Role if role.perimeter is Perimeter.NETWORK)
"""Routing changes run on the network perimeter's devices (L3 switches, routers)."""

MAX_JSON_BYTES = 4 << 20
"""A ``show … json`` answer larger than this is refused before it is parsed (bounded input)."""

_IFNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,14}$")


def interface_name(value: str) -> str:
    """A Linux/FRR interface name: at most 15 characters (IFNAMSIZ), no space, no control."""
    if not _IFNAME.fullmatch(value):
        raise ValueError("must be a Linux interface name: 1-15 letters, digits, '_', '.', '-', starting with a letter")
    return value


IfName = Annotated[str, AfterValidator(interface_name)]
Seconds = Annotated[float, Field(ge=1, le=120)]
"""How long a post-check waits for the network to converge: bounded, so a check always ends."""


def show_json(ctx: Context[Any], command: str) -> Any:
    """``command`` (a ``show … json`` or ``ip -j …``) run on the host and parsed; bounded."""
    text = ctx.show(command)
    if len(text) > MAX_JSON_BYTES:
        raise ValueError(f"{command!r}: answer over {MAX_JSON_BYTES} bytes")
    text = text.strip()
    return json.loads(text) if text else {}


def wait_for(probe: Callable[[], T], ok: Callable[[T], bool], within: float, interval: float = 0.25) -> tuple[T, float]:
    """Call ``probe`` until ``ok`` holds or ``within`` seconds passed: the last value, seconds taken."""
    start = time.monotonic()
    while True:
        value = probe()
        elapsed = time.monotonic() - start
        if ok(value) or elapsed >= within:
            return value, elapsed
        time.sleep(interval)


# --- OSPF ------------------------------------------------------------------------------------------


def ospf_neighbors(ctx: Context[Any]) -> dict[str, list[dict[str, Any]]]:
    """Router id → its adjacencies (``show ip ospf neighbor json``; FRR 8 and later)."""
    data = show_json(ctx, "show ip ospf neighbor json")
    neighbors = data.get("neighbors", {}) if isinstance(data, dict) else {}
    return {str(k): list(v) for k, v in neighbors.items() if isinstance(v, list)}


def _state(entry: dict[str, Any]) -> str:
    # FRR 8.4 says "nbrState": "Full/-"; later versions also give "state".
    return str(entry.get("nbrState", entry.get("state", "")))


def full_on(neighbors: dict[str, list[dict[str, Any]]], interface: str | None = None) -> set[str]:
    """Router ids with a Full adjacency (on ``interface`` when given)."""
    out = set()
    for router_id, entries in neighbors.items():
        for entry in entries:
            if _state(entry).startswith("Full") and (
                interface is None or str(entry.get("ifaceName", "")).split(":")[0] == interface
            ):
                out.add(router_id)
    return out


def ospf_full_check(ctx: Context[Any], neighbor: str | None, interface: str | None, within: float) -> CheckResult:
    """The OSPF neighbour (any, when not known) is Full within ``within`` seconds."""
    def probe() -> set[str]:
        return full_on(ospf_neighbors(ctx), interface)

    def ok(full: set[str]) -> bool:
        return neighbor in full if neighbor else bool(full)

    full, took = wait_for(probe, ok, within)
    who = f"OSPF neighbour {neighbor}" if neighbor else "an OSPF neighbour"
    where = f" on {interface}" if interface else ""
    return check(f"{who}{where} is Full within {within:g} s", ok(full),
                 f"after {took:.1f} s: Full with {', '.join(sorted(full)) or 'none'}")


# --- BGP -------------------------------------------------------------------------------------------


def bgp_peers(ctx: Context[Any]) -> dict[str, dict[str, Any]]:
    """Neighbour address → its IPv4 unicast summary entry (``show bgp summary json``)."""
    data = show_json(ctx, "show bgp summary json")
    if not isinstance(data, dict):
        return {}
    family = data.get("ipv4Unicast", data)
    peers = family.get("peers", {}) if isinstance(family, dict) else {}
    return {str(k): dict(v) for k, v in peers.items() if isinstance(v, dict)}


def received_prefixes(ctx: Context[Any], neighbor: str) -> set[str]:
    """Prefixes the neighbour sent that passed the inbound policy (``… routes json``)."""
    address = ipaddress.ip_address(neighbor)  # never a free string in a command
    data = show_json(ctx, f"show ip bgp neighbors {address} routes json")
    routes = data.get("routes", {}) if isinstance(data, dict) else {}
    return {str(prefix) for prefix in routes}


def bgp_established_check(ctx: Context[Any], neighbor: str, within: float) -> CheckResult:
    def probe() -> str:
        return str(bgp_peers(ctx).get(neighbor, {}).get("state", "absent"))

    state, took = wait_for(probe, lambda s: s == "Established", within)
    return check(f"BGP session with {neighbor} is Established within {within:g} s", state == "Established",
                 f"after {took:.1f} s: {state}")


def bgp_prefixes_check(ctx: Context[Any], neighbor: str, expected: Iterable[str], within: float) -> CheckResult:
    wanted = {str(ipaddress.ip_network(p)) for p in expected}
    got, took = wait_for(lambda: received_prefixes(ctx, neighbor), lambda g: wanted <= g, within)
    missing = sorted(wanted - got)
    return check(f"BGP neighbour {neighbor} sends the expected prefixes ({', '.join(sorted(wanted))})",
                 not missing, f"after {took:.1f} s: received {', '.join(sorted(got)) or 'none'}"
                 + (f"; missing {', '.join(missing)}" if missing else ""))


# --- The kernel's table and connected networks -----------------------------------------------------


def kernel_routes(ctx: Context[Any], prefix: ipaddress.IPv4Network) -> list[dict[str, Any]]:
    """The namespace's kernel routes for exactly ``prefix`` (``ip -j route show``)."""
    data = show_json(ctx, f"ip -j route show {prefix}")
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def _dst(route: dict[str, Any]) -> str:
    dst = str(route.get("dst", ""))
    return "0.0.0.0/0" if dst == "default" else dst if "/" in dst else f"{dst}/32"


def kernel_route_check(ctx: Context[Any], prefix: ipaddress.IPv4Network, via: ipaddress.IPv4Address | None,
                       present: bool, within: float) -> CheckResult:
    """The route is (or is no longer) in the kernel's table, through ``via`` when given."""
    def matching() -> list[dict[str, Any]]:
        return [r for r in kernel_routes(ctx, prefix) if _dst(r) == str(prefix)
                and (via is None or str(r.get("gateway", "")) == str(via)
                     or any(str(n.get("gateway", "")) == str(via) for n in r.get("nexthops", []) or []))]

    routes, took = wait_for(matching, lambda rs: bool(rs) is present, within)
    through = f" via {via}" if via is not None else ""
    shown = ", ".join(f"{r.get('dst')} via {r.get('gateway', r.get('dev', '?'))} ({r.get('protocol', '?')})"
                      for r in routes) or "none"
    return check(f"route {prefix}{through} {'is' if present else 'is no longer'} in the kernel's table",
                 bool(routes) is present, f"after {took:.1f} s: {shown}")


def connected_networks(ctx: Context[Any]) -> list[ipaddress.IPv4Network]:
    """Networks the router reaches without a route (``show ip route connected json``)."""
    data = show_json(ctx, "show ip route connected json")
    out = []
    for prefix in data if isinstance(data, dict) else {}:
        try:
            out.append(ipaddress.IPv4Network(prefix))
        except ValueError:
            continue
    return out


# --- Traffic ---------------------------------------------------------------------------------------


def flow_check(ctx: Context[Any], within: float, *, expect: bool = True) -> CheckResult | None:
    """A NEW TCP connection from the site's client to its server, through the routers.

    ``data.probe`` of the host says where the client and the server are (the lab writes it);
    without it there is no traffic to watch and no check. Retried for ``within`` seconds: routing
    converges, a firewall rule is there or not.
    """
    probe = ctx.data.get("probe")
    if not isinstance(probe, dict) or "client_namespace" not in probe or "server_address" not in probe:
        return None
    from netchange.changetype.probes import tcp_probe

    ports = probe.get("service_ports") or [probe.get("server_port", 80)]
    port = int(ports[0])
    server = str(probe["server_address"])
    opened, took = wait_for(lambda: tcp_probe(str(probe["client_namespace"]), server, port, timeout=1.0),
                            lambda o: o is expect, within)
    return check(f"a new TCP connection from the client to {server}:{port} "
                 f"{'opens' if expect else 'is refused'} through the routers",
                 opened is expect, f"after {took:.1f} s: {'opened' if opened else 'failed'}")


def holds_address(ctx: Context[Any], interface: str, address: str) -> bool:
    """Whether this device holds ``address`` on ``interface`` now (``ip -j addr show dev IF``)."""
    data = show_json(ctx, f"ip -j addr show dev {interface}")
    ip = str(ipaddress.ip_interface(address).ip)
    for link in data if isinstance(data, list) else []:
        for info in link.get("addr_info", []) if isinstance(link, dict) else []:
            if info.get("family") == "inet" and str(info.get("local")) == ip:
                return True
    return False


def vrrp_master_check(ctx: Context[Any], interface: str, address: str, expect: bool, within: float) -> CheckResult:
    """The VRRP master is where it should be: this device holds the virtual address, or not."""
    held, took = wait_for(lambda: holds_address(ctx, interface, address), lambda h: h is expect, within)
    return check(f"VRRP master {'is' if expect else 'is not'} this device ({ctx.host}) within {within:g} s",
                 held is expect, f"after {took:.1f} s: {address} {'held here' if held else 'not held here'}")


def network_back(ctx: Context[Any], within: float) -> list[CheckResult]:
    """After a restore, the network the host is known to be part of, as it was before the change.

    What is known is the host's inventory data (the lab writes it): its OSPF neighbour
    (``data.ospf``) Full, its BGP session (``data.bgp``) Established with the prefixes it accepts,
    the VRRP master (``data.vrrp``) where it belongs, and a new TCP connection from the site's
    client to its server. A host without such data has nothing to watch.
    """
    checks: list[CheckResult] = []
    if ctx.syntax == "frr":
        ospf = ctx.data.get("ospf")
        if isinstance(ospf, dict) and ospf.get("neighbor"):
            checks.append(ospf_full_check(ctx, str(ospf["neighbor"]), ospf.get("interface"), within))
        bgp = ctx.data.get("bgp")
        if isinstance(bgp, dict) and bgp.get("neighbor"):
            checks.append(bgp_established_check(ctx, str(bgp["neighbor"]), within))
            if bgp.get("accepted_prefixes"):
                checks.append(bgp_prefixes_check(ctx, str(bgp["neighbor"]), map(str, bgp["accepted_prefixes"]),
                                                 within))
    vrrp = ctx.data.get("vrrp")
    if ctx.syntax == "keepalived" and isinstance(vrrp, dict) and vrrp.get("expected_master"):
        checks.append(vrrp_master_check(ctx, str(vrrp["interface"]), str(vrrp["virtual_address"]),
                                        vrrp["expected_master"] == ctx.host, within))
    flow = flow_check(ctx, within)
    if flow is not None:
        checks.append(flow)
    return checks


# --- Reading FRR's running configuration -----------------------------------------------------------


def prefix_list_names(running: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^ip prefix-list (\S+) ", running, re.M)}


def route_map_names(running: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^route-map (\S+) (?:permit|deny) \d+", running, re.M)}


def inbound_prefix_lists(running: str, neighbor: str) -> set[str]:
    """Prefix-lists that filter what ``neighbor`` sends: applied in directly, or matched by its
    inbound route-map."""
    n = re.escape(neighbor)
    direct = set(re.findall(rf"^\s*neighbor {n} prefix-list (\S+) in\s*$", running, re.M))
    maps = set(re.findall(rf"^\s*neighbor {n} route-map (\S+) in\s*$", running, re.M))
    via_maps = set()
    for name in maps:
        for header in re.findall(rf"^route-map {re.escape(name)} (?:permit|deny) \d+\s*$", running, re.M):
            for line in block(running, header.rstrip()):
                m = re.fullmatch(r"\s*match ip address prefix-list (\S+)", line)
                if m:
                    via_maps.add(m.group(1))
    return direct | via_maps


def bgp_asn(running: str) -> int | None:
    m = re.search(r"^router bgp (\d+)\s*$", running, re.M)
    return int(m.group(1)) if m else None


def bgp_neighbors(running: str) -> set[str]:
    """Neighbours declared in ``router bgp`` (``neighbor X remote-as …``)."""
    return {m.group(1) for m in re.finditer(r"^ neighbor (\S+) remote-as ", running, re.M)}


def block(running: str, header: str) -> list[str]:
    """The indented lines under the top-level line ``header`` (FRR ends a block with ``exit``)."""
    out: list[str] = []
    inside = False
    for line in running.splitlines():
        if not line.startswith(" "):
            if inside:
                break
            inside = line.rstrip() == header
            continue
        if inside:
            out.append(line.rstrip())
    return out
