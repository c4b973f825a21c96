"""``bgp_policy``: which operator a site's traffic goes through, by BGP policy toward one neighbour
or toward every session of one operator (AS).

- ``local_preference``: set on the routes the neighbour sends (its inbound route-map): the highest
  wins, so this moves the site's **outbound** traffic.
- ``prepend``: the router's own AS added N times to what it announces to the neighbour (its
  outbound route-map; 0 removes it): the operator and those behind it see a longer path, so the
  site's **inbound** traffic prefers the other operator.
- ``communities``: the standard communities set on what is announced (empty: removed), for an
  operator's own traffic-engineering communities or the well-known ones.
- ``multipath``: ECMP across operators where chosen (``bgp bestpath as-path multipath-relax``:
  equal paths from different ASes share the load; FRR's default ``maximum-paths`` allows it);
  ``false`` removes it. With equal local preferences the kernel's route then has a next hop
  through each operator (``expect_exit_via`` lists them all).

Every one of these moves traffic across operators: major (the classifier's
``frr.route_map_path_selection``). The pre-checks read the router: its AS, the neighbours, their
route-maps (a neighbour without one, or a route-map another session shares, is bad input), and,
when the request names where traffic should leave (``expect_exit_via``), that this neighbour's
session is Established and carries the watched prefix. The post-checks **watch traffic move**:
BGP's best path and the kernel's route for the watched prefix go through ``expect_exit_via``, and
a flow traced from the site's server leaves through that operator (its second hop is the
operator's router); a new TCP connection from the internet-side client still reaches the service.
The traced flow is the site's: the router must carry it (the VRRP master). After a rollback the
site's traffic is checked back on the operator ``lab up`` prefers (``data.outbound``).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from netchange.authoring import check, has_line
from netchange.changetype import ChangeType, Context
from netchange.errors import UnknownReference
from netchange.models import CheckResult
from netchange.tasks import _operators, _routing
from netchange.vocabulary import Perimeter

Prepend = Annotated[int, Field(ge=0, le=10)]
MULTIPATH = "bgp bestpath as-path multipath-relax"
_IPV4 = {"type": "string", "format": "ipv4"}


def _listed(value: object) -> object:
    """One neighbour may be written alone: ``expect_exit_via: 10.214.1.1``."""
    return [value] if isinstance(value, str) else value


Exits = Annotated[tuple[ipaddress.IPv4Address, ...], BeforeValidator(_listed), Field(min_length=1, max_length=8),
                  WithJsonSchema({"anyOf": [_IPV4, {"type": "array", "items": _IPV4, "minItems": 1, "maxItems": 8}]})]


class BgpPolicyParams(_operators.Peers):
    local_preference: _operators.U32 | None = Field(default=None,
                                                    description="On the routes received (outbound traffic)")
    prepend: Prepend | None = Field(default=None, description="Own AS prepended N times on what is announced (0: none)")
    communities: tuple[_operators.Community, ...] | None = Field(default=None, max_length=16)
    multipath: bool | None = Field(default=None, description="ECMP across operators (as-path multipath-relax)")
    expect_exit_via: Exits | None = Field(
        default=None, description="After the change, traffic to watch_prefix leaves through this neighbour "
                                  "(several: through each of them, ECMP)")
    watch_prefix: ipaddress.IPv4Network | None = None
    converge_within: _routing.Seconds = 20.0

    @model_validator(mode="after")
    def _something_to_set(self) -> BgpPolicyParams:
        _operators.one_of_neighbor_or_operator(self)
        if self.local_preference is None and self.prepend is None and self.communities is None \
                and self.multipath is None:
            raise ValueError("give local_preference, prepend, communities or multipath (what the policy sets)")
        if len(set(self.exits)) != len(self.exits):
            raise ValueError("expect_exit_via: a neighbour is listed twice")
        if self.communities is not None and len(set(self.communities)) != len(self.communities):
            raise ValueError("communities: a community is listed twice")
        if self.watch_prefix is not None and self.expect_exit_via is None:
            raise ValueError("watch_prefix needs expect_exit_via (where its traffic should leave)")
        return self

    @property
    def exits(self) -> tuple[ipaddress.IPv4Address, ...]:
        """The neighbours traffic should leave through (one, or several: ECMP)."""
        return self.expect_exit_via or ()


def _lines(p: BgpPolicyParams) -> list[tuple[str, str, str | None]]:
    """(direction, set keyword, the clause or None to remove) for each attribute the request sets."""
    out: list[tuple[str, str, str | None]] = []
    if p.local_preference is not None:
        out.append(("in", "local-preference", f"set local-preference {p.local_preference}"))
    if p.prepend is not None:
        out.append(("out", "as-path prepend",
                    f"set as-path prepend {' '.join([str(p.asn)] * p.prepend)}" if p.prepend else None))
    if p.communities is not None:
        out.append(("out", "community", f"set community {' '.join(p.communities)}" if p.communities else None))
    return out


class BgpPolicy(ChangeType[BgpPolicyParams]):
    name = "bgp_policy"
    perimeter = Perimeter.NETWORK
    roles: ClassVar = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = BgpPolicyParams

    def _maps(self, ctx: Context[BgpPolicyParams]) -> list[tuple[str, str, str | None]]:
        """(route-map, keyword, clause) to set, the route-maps checked (raises UnknownReference)."""
        neighbors = _operators.targets(ctx, ctx.params)
        return [(name, keyword, line) for direction, keyword, line in _lines(ctx.params)
                for name in _operators.route_maps_for(ctx, neighbors, direction)]

    def _watched(self, ctx: Context[BgpPolicyParams]) -> ipaddress.IPv4Network | None:
        if ctx.params.watch_prefix is not None:
            return ctx.params.watch_prefix
        outbound = ctx.data.get("outbound")
        if isinstance(outbound, dict) and outbound.get("watch_prefix"):
            return ipaddress.IPv4Network(str(outbound["watch_prefix"]))
        return None

    def pre_checks(self, ctx: Context[BgpPolicyParams]) -> list[CheckResult]:
        p = ctx.params
        maps = self._maps(ctx)
        checks = [check(f"route-map {name} does not already have {line or f'no set {keyword}'}",
                        not _operators.carries(ctx.running, name, keyword, line))
                  for name, keyword, line in maps]
        if p.multipath is not None:
            checks.append(check(f"{'' if p.multipath else 'no '}{MULTIPATH} is not there already",
                                has_line(ctx.running, MULTIPATH) is not p.multipath))
        prefix = self._watched(ctx)
        for address in p.exits:
            via = str(address)
            if via not in _operators.remote_as(ctx.running):
                raise UnknownReference(f"expect_exit_via {via} is not a BGP neighbour of {ctx.host}")
            if prefix is None:
                raise UnknownReference(f"expect_exit_via needs watch_prefix "
                                       f"({ctx.host} has no data.outbound to take it from)")
            checks.append(ctx.device_check(f"{_operators.label(ctx, via)} is Established and carries {prefix}",
                                           functools.partial(_operators.session_carries, ctx, via, [str(prefix)])))
        return checks

    def render(self, ctx: Context[BgpPolicyParams]) -> str:
        p = ctx.params
        lines: list[str] = []
        for name, keyword, line in self._maps(ctx):
            lines += _operators.set_clauses(ctx.running, name, keyword, line)
        if p.multipath is not None and has_line(ctx.running, MULTIPATH) is not p.multipath:
            lines += [f"router bgp {p.asn}", f" {'' if p.multipath else 'no '}{MULTIPATH}", "exit"]
        return "\n".join(lines) + "\n" if lines else ""

    def post_checks(self, ctx: Context[BgpPolicyParams]) -> list[CheckResult]:
        p = ctx.params
        checks = [check(f"route-map {name}: every permit entry has {line or f'no set {keyword}'}",
                        _operators.carries(ctx.running, name, keyword, line))
                  for name, keyword, line in self._maps(ctx)]
        if p.multipath is not None:
            checks.append(check(f"{MULTIPATH} is {'' if p.multipath else 'no longer '}configured",
                                has_line(ctx.running, MULTIPATH) is p.multipath))
        for neighbor in _operators.targets(ctx, p):
            checks.append(_routing.bgp_established_check(ctx, neighbor, p.converge_within))
        prefix = self._watched(ctx)
        if p.expect_exit_via is not None and prefix is not None:
            exits = {str(a) for a in p.exits}
            what = " and ".join(_operators.label(ctx, via) for via in sorted(exits))
            checks += _operators.traffic_leaves(ctx, prefix, exits, p.converge_within, what, every=len(exits) > 1)
        return checks + _operators.internet_flow_checks(ctx, p.converge_within)

    def restored_checks(self, ctx: Context[BgpPolicyParams]) -> list[CheckResult]:
        """After a rollback: sessions and traffic as ``lab up`` left them, outbound on the preferred operator."""
        return _operators.network_restored(ctx, ctx.params.converge_within)

