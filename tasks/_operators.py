"""What ``bgp_policy`` and ``upstream_shutdown`` share: a site's operators, their policies, and the
checks that watch which operator the site's traffic leaves through.

A router's policy toward an operator lives in the route-maps its BGP neighbour uses: the inbound
one sets what the router thinks of the operator's routes (local preference: outbound traffic),
the outbound one what the operator sees of the site (AS-path prepending, communities: inbound
traffic). A change of policy sets or replaces ``set`` clauses in each ``permit`` entry of those
route-maps, so the neighbour's filters (its ``match`` clauses) stay as they are.

Which operator carries the traffic is read three ways after the change: BGP's best path for the
watched prefix (``show ip bgp PREFIX json``), the kernel's route for it (``ip -j route show``:
where forwarding happens), and a traced flow from the site's server toward the internet-side
client (the second hop is the operator's router, which answers from the link the flow came in
on). The lab writes in each router's data who the operators are (``data.operators``: name,
neighbour, AS, the operator's addresses at the site) and what the nominal exit is
(``data.outbound``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import Context
from netchange.errors import UnknownReference
from netchange.models import CheckResult
from netchange.tasks import _routing

Asn = Annotated[int, Field(ge=1, le=4294967295)]
U32 = Annotated[int, Field(ge=0, le=4294967295)]

WELL_KNOWN_COMMUNITIES = ("no-export", "no-advertise", "local-AS", "graceful-shutdown", "blackhole", "no-peer")
_COMMUNITY = re.compile(r"^(\d{1,5}):(\d{1,5})$")


def community(value: str) -> str:
    """A standard BGP community: ``AS:NN`` (each 0-65535) or a well-known name (RFC 1997, 8326)."""
    m = _COMMUNITY.fullmatch(value)
    if value in WELL_KNOWN_COMMUNITIES or (m is not None and max(int(m[1]), int(m[2])) <= 65535):
        return value
    raise ValueError(f"not a BGP community: {value!r} (AS:NN with both 0-65535, or one of "
                     f"{', '.join(WELL_KNOWN_COMMUNITIES)})")


Community = Annotated[str, AfterValidator(community)]


class Peers(StrictModel):
    """Which neighbours a change is about: one neighbour, or every neighbour of one operator (AS)."""

    asn: Asn = Field(description="The router's own AS (router bgp ASN): a guard against the wrong router")
    neighbor: ipaddress.IPv4Address | None = None
    operator_as: Asn | None = Field(default=None, description="Every neighbour whose remote-as is this AS")


def one_of_neighbor_or_operator(p: Peers) -> None:
    if (p.neighbor is None) == (p.operator_as is None):
        raise ValueError("give exactly one of neighbor (one session) or operator_as (every session to that AS)")


# --- reading the running configuration -------------------------------------------------------------


def remote_as(running: str) -> dict[str, int]:
    """Neighbour address → its remote AS (``neighbor X remote-as N`` in ``router bgp``)."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^ neighbor (\S+) remote-as (\d+)\s*$", running, re.M)}


def neighbor_route_map(running: str, neighbor: str, direction: str) -> str | None:
    m = re.search(rf"^\s+neighbor {re.escape(neighbor)} route-map (\S+) {direction}\s*$", running, re.M)
    return m.group(1) if m else None


def route_map_users(running: str, name: str) -> set[tuple[str, str]]:
    """(neighbour, direction) pairs that use route-map ``name``."""
    return {(m.group(1), m.group(2)) for m in re.finditer(
        rf"^\s+neighbor (\S+) route-map {re.escape(name)} (in|out)\s*$", running, re.M)}


def permit_entries(running: str, name: str) -> list[str]:
    """The headers of route-map ``name``'s ``permit`` entries, as the running configuration has them."""
    return [m.group(0).rstrip() for m in re.finditer(rf"^route-map {re.escape(name)} permit \d+\s*$", running, re.M)]


def entry_sets(running: str, header: str, keyword: str) -> list[str]:
    """The entry's ``set KEYWORD …`` lines, stripped."""
    return [line.strip() for line in _routing.block(running, header) if line.strip().startswith(f"set {keyword}")]


def targets(ctx: Context[Any], p: Peers) -> list[str]:
    """The neighbours the change is about, checked against the running configuration; an unknown
    AS, neighbour or operator is bad input (:class:`UnknownReference`)."""
    asn = _routing.bgp_asn(ctx.running)
    if asn is None:
        raise UnknownReference(f"no BGP process (router bgp) on {ctx.host}")
    if asn != p.asn:
        raise UnknownReference(f"{ctx.host} runs router bgp {asn}, not {p.asn}")
    peers = remote_as(ctx.running)
    if p.neighbor is not None:
        if str(p.neighbor) not in peers:
            raise UnknownReference(f"neighbour {p.neighbor} is not configured on {ctx.host} "
                                   f"(known: {', '.join(sorted(peers)) or 'none'})")
        return [str(p.neighbor)]
    found = sorted(n for n, a in peers.items() if a == p.operator_as)
    if not found:
        raise UnknownReference(f"no neighbour of AS {p.operator_as} on {ctx.host} "
                               f"(operators: {', '.join(sorted({str(a) for a in peers.values()})) or 'none'})")
    return found


def route_maps_for(ctx: Context[Any], neighbors: list[str], direction: str) -> list[str]:
    """The route-maps the neighbours use in ``direction``, each once. A neighbour without one, or a
    route-map also used by a neighbour the change is not about, is bad input: the change would
    attach a policy where none is, or move another session's traffic."""
    names: list[str] = []
    for neighbor in neighbors:
        name = neighbor_route_map(ctx.running, neighbor, direction)
        if name is None:
            raise UnknownReference(f"neighbour {neighbor} has no route-map {direction} on {ctx.host}: the policy is "
                                   "set in the neighbour's route-maps (attach one first)")
        others = sorted(f"{n} {d}" for n, d in route_map_users(ctx.running, name) if n not in neighbors)
        if others:
            raise UnknownReference(f"route-map {name} is also used by {', '.join(others)} on {ctx.host}: "
                                   "the change would move that session's traffic too")
        if not permit_entries(ctx.running, name):
            raise UnknownReference(f"route-map {name} has no permit entry on {ctx.host}")
        if name not in names:
            names.append(name)
    return names


def set_clauses(running: str, route_map: str, keyword: str, line: str | None) -> list[str]:
    """The lines that make every permit entry of ``route_map`` carry ``line`` as its only
    ``set KEYWORD`` clause (``None``: none). A clause already there stays; another is removed."""
    out: list[str] = []
    for header in permit_entries(running, route_map):
        present = entry_sets(running, header, keyword)
        body = [f" no {old}" for old in present if old != line]
        if line is not None and line not in present:
            body.append(f" {line}")
        if body:
            out += [header, *body, "exit"]
    return out


def carries(running: str, route_map: str, keyword: str, line: str | None) -> bool:
    """Whether every permit entry of ``route_map`` has ``line`` as its ``set KEYWORD`` (None: none)."""
    want = [line] if line is not None else []
    return all(entry_sets(running, h, keyword) == want for h in permit_entries(running, route_map))


# --- the operators of the lab's data -------------------------------------------------------------


def operators(ctx: Context[Any]) -> list[dict[str, Any]]:
    data = ctx.data.get("operators")
    return [o for o in data if isinstance(o, dict)] if isinstance(data, list) else []


def operator_of(ctx: Context[Any], neighbor: str) -> dict[str, Any] | None:
    """The operator whose session (or one of whose addresses at the site) ``neighbor`` is."""
    for op in operators(ctx):
        if neighbor == str(op.get("neighbor")) or neighbor in [str(a) for a in op.get("addresses", [])]:
            return op
    return None


def operator_addresses(ctx: Context[Any], neighbor: str) -> set[str]:
    op = operator_of(ctx, neighbor)
    if op is None:
        return {neighbor}
    return {str(op.get("neighbor")), *(str(a) for a in op.get("addresses", []))}


def label(ctx: Context[Any], neighbor: str) -> str:
    op = operator_of(ctx, neighbor)
    return f"{op['name']} ({neighbor})" if op is not None and op.get("name") else neighbor


# --- which way traffic leaves ---------------------------------------------------------------------


def bgp_best(ctx: Context[Any], prefix: ipaddress.IPv4Network) -> set[str]:
    """The next hops of BGP's best (and multipath) routes for ``prefix`` (``show ip bgp P json``)."""
    data = _routing.show_json(ctx, f"show ip bgp {prefix} json")
    paths = data.get("paths", []) if isinstance(data, dict) else []
    out: set[str] = set()
    for path in paths if isinstance(paths, list) else []:
        best = path.get("bestpath", {}) if isinstance(path, dict) else {}
        if (isinstance(best, dict) and best.get("overall")) or path.get("multipath"):
            out.update(str(h.get("ip")) for h in path.get("nexthops", []) if isinstance(h, dict))
    return out


def kernel_next_hops(ctx: Context[Any], prefix: ipaddress.IPv4Network) -> set[str]:
    """The next hops of the kernel's route for exactly ``prefix`` (ECMP: each)."""
    hops: set[str] = set()
    for route in _routing.kernel_routes(ctx, prefix):
        if route.get("gateway"):
            hops.add(str(route["gateway"]))
        hops.update(str(n.get("gateway")) for n in route.get("nexthops", []) or [] if n.get("gateway"))
    return hops


def exit_check(ctx: Context[Any], prefix: ipaddress.IPv4Network, via: set[str], within: float,
               what: str, *, every: bool = False) -> CheckResult:
    """BGP's best path and the kernel's route for ``prefix`` both leave through ``via`` only
    (``every``: through each of them, the load shared by ECMP)."""
    def probe() -> tuple[set[str], set[str]]:
        return bgp_best(ctx, prefix), kernel_next_hops(ctx, prefix)

    def ok(seen: tuple[set[str], set[str]]) -> bool:
        return all(bool(hops) and hops <= via and (not every or hops == via) for hops in seen)

    seen, took = _routing.wait_for(probe, ok, within)
    return check(f"traffic to {prefix} leaves through {what} (BGP best path and kernel route)", ok(seen),
                 f"after {took:.1f} s: BGP best via {', '.join(sorted(seen[0])) or 'none'}, "
                 f"kernel via {', '.join(sorted(seen[1])) or 'none'}")


def traced_exit_check(ctx: Context[Any], via: set[str], within: float, what: str) -> CheckResult | None:
    """A flow traced from the site's server to the internet-side client leaves the site through
    ``via`` (its second hop, the operator's router, is one of those addresses). Without the lab's
    probe data (``probe.server_namespace``, ``probe.internet_address``) there is no flow to trace."""
    probe = ctx.data.get("probe")
    if not isinstance(probe, dict) or not probe.get("server_namespace") or not probe.get("internet_address"):
        return None
    from netchange.changetype.probes import trace_hops

    def hops() -> list[str | None]:
        return trace_hops(str(probe["server_namespace"]), str(probe["internet_address"]), hops=2, wait=0.5)

    seen, took = _routing.wait_for(hops, lambda h: len(h) > 1 and h[1] in via, within)
    return check(f"a flow traced from the site's server to {probe['internet_address']} leaves through {what}",
                 len(seen) > 1 and seen[1] in via,
                 f"after {took:.1f} s: hops {' → '.join(h or '*' for h in seen)}")


def internet_flow_checks(ctx: Context[Any], within: float) -> list[CheckResult]:
    """A new TCP connection from the internet-side client to the site's service: the answer leaves
    the site by the path the change chose, so a path that does not deliver shows here. None where
    the inventory's data says of no such client (``probe.internet_namespace``, ``server_address``)."""
    probe = ctx.data.get("probe")
    if not isinstance(probe, dict) or not probe.get("internet_namespace") or not probe.get("server_address"):
        return []
    from netchange.changetype.probes import tcp_probe

    ports = probe.get("service_ports") or [80]
    server, port = str(probe["server_address"]), int(ports[0])
    opened, took = _routing.wait_for(
        lambda: tcp_probe(str(probe["internet_namespace"]), server, port, timeout=1.0), bool, within)
    return [check(f"a new TCP connection from the internet-side client to {server}:{port} opens", opened,
                  f"after {took:.1f} s: {'opened' if opened else 'failed'}")]


def outbound_back(ctx: Context[Any], within: float) -> list[CheckResult]:
    """After a restore: the site's traffic leaves through the operator ``lab up`` prefers
    (``data.outbound``), by BGP, the kernel and a traced flow."""
    outbound = ctx.data.get("outbound")
    if not isinstance(outbound, dict) or not outbound.get("preferred") or not outbound.get("watch_prefix"):
        return []
    preferred = str(outbound["preferred"])
    prefix = ipaddress.IPv4Network(str(outbound["watch_prefix"]))
    return traffic_leaves(ctx, prefix, {preferred}, within, label(ctx, preferred))


def traffic_leaves(ctx: Context[Any], prefix: ipaddress.IPv4Network, via: set[str], within: float, what: str,
                   *, every: bool = False) -> list[CheckResult]:
    """Traffic to ``prefix`` leaves through the neighbours ``via``: BGP's best path and the kernel's
    route (:func:`exit_check`), then a flow traced from the site's server through one of their
    routers' addresses (:func:`traced_exit_check`, where the inventory says how to trace one)."""
    checks = [exit_check(ctx, prefix, via, within, what, every=every)]
    addresses: set[str] = set().union(*(operator_addresses(ctx, neighbor) for neighbor in via))
    traced = traced_exit_check(ctx, addresses, within, what)
    if traced is not None:
        checks.append(traced)
    return checks


def network_restored(ctx: Context[Any], within: float) -> list[CheckResult]:
    """A routing policy change's restored checks: sessions and routes as ``lab up`` left them
    (:func:`netchange.tasks._routing.network_back`) and outbound traffic on the preferred operator."""
    if ctx.syntax != "frr":
        return []
    return [*_routing.network_back(ctx, within), *outbound_back(ctx, within)]


def session_carries(ctx: Context[Any], neighbor: str, prefixes: list[str]) -> CheckResult:
    """The neighbour's session is Established and it sends every prefix of ``prefixes`` (live)."""
    state = str(_routing.bgp_peers(ctx).get(neighbor, {}).get("state", "absent"))
    got = _routing.received_prefixes(ctx, neighbor) if state == "Established" else set()
    missing = sorted(set(prefixes) - got)
    return check(f"{label(ctx, neighbor)} is Established and carries {', '.join(prefixes)}",
                 state == "Established" and not missing,
                 f"{state}; received {', '.join(sorted(got)) or 'none'}"
                 + (f"; missing {', '.join(missing)}" if missing else ""))


def other_operator_ready(ctx: Context[Any], leaving: list[str], prefixes: list[str]) -> CheckResult:
    """Before one operator is taken out: another operator's session is Established and carries every
    prefix of ``prefixes`` (read live). One such operator is enough: the site is not cut off."""
    peers = remote_as(ctx.running)
    gone_as = {peers[n] for n in leaving if n in peers}
    others = sorted(n for n, a in peers.items() if a not in gone_as)
    name = f"another operator is Established and carries {', '.join(prefixes) or 'its prefixes'}"
    if not others:
        return check(name, False, f"{ctx.host} has no neighbour of another AS")
    seen = [session_carries(ctx, neighbor, prefixes) for neighbor in others]
    return check(name, any(c.passed for c in seen),
                 "; ".join(f"{label(ctx, n)}: {c.detail}" for n, c in zip(others, seen, strict=True)))
