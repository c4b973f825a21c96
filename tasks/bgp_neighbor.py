"""``bgp_neighbor``: add or remove a BGP neighbour, shut or re-open its session, set its prefix-lists.

Any change to a BGP session is a routing-protocol change with side effects (major). The pre-checks
read the router: a BGP process exists (and has the AS the request names), the neighbour exists
for every action but ``add`` (and does not for ``add``), a prefix-list named for in/out exists (an
unknown name is bad input: FRR accepts it and then filters everything). The post-checks watch the
session: Established within ``converge_within`` seconds and the expected prefixes received (or,
after a shutdown or a removal, no longer there), and a new TCP connection from the site's client
to its server through the routers.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check, has_line
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.errors import UnknownReference
from netchange.models import CheckResult, SafeName
from netchange.tasks import _routing
from netchange.vocabulary import Perimeter, Role

Asn = Annotated[int, Field(ge=1, le=4294967295)]
Action = Literal["add", "remove", "shutdown", "no_shutdown", "prefix_lists"]


class BgpNeighborParams(StrictModel):
    action: Action
    asn: Asn = Field(description="The router's own AS (router bgp ASN): a guard against the wrong router")
    neighbor: ipaddress.IPv4Address
    remote_as: Asn | None = None
    prefix_list_in: SafeName | None = None
    prefix_list_out: SafeName | None = None
    expected_prefixes: tuple[ipaddress.IPv4Network, ...] = Field(default=(), max_length=1000)
    converge_within: _routing.Seconds = 30.0

    @model_validator(mode="after")
    def _fields_for_action(self) -> BgpNeighborParams:
        if self.action == "add" and self.remote_as is None:
            raise ValueError("action add needs remote_as")
        if self.action != "add" and self.remote_as is not None:
            raise ValueError(f"action {self.action} takes no remote_as (only add does)")
        lists = self.prefix_list_in is not None or self.prefix_list_out is not None
        if self.action == "prefix_lists" and not lists:
            raise ValueError("action prefix_lists needs prefix_list_in or prefix_list_out")
        if self.action in ("remove", "shutdown", "no_shutdown") and lists:
            raise ValueError(f"action {self.action} takes no prefix-list")
        if self.action in ("remove", "shutdown") and self.expected_prefixes:
            raise ValueError(f"after {self.action} no prefix is expected from the neighbour")
        return self

    @property
    def session_up(self) -> bool:
        return self.action not in ("remove", "shutdown")


class BgpNeighbor(ChangeType[BgpNeighborParams]):
    name = "bgp_neighbor"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = BgpNeighborParams

    def pre_checks(self, ctx: Context[BgpNeighborParams]) -> list[CheckResult]:
        p = ctx.params
        asn = _routing.bgp_asn(ctx.running)
        if asn is None:
            raise UnknownReference(f"no BGP process (router bgp) on {ctx.host}")
        if asn != p.asn:
            raise UnknownReference(f"{ctx.host} runs router bgp {asn}, not {p.asn}")
        lists = _routing.prefix_list_names(ctx.running)
        for name in (p.prefix_list_in, p.prefix_list_out):
            if name is not None and name not in lists:
                raise UnknownReference(
                    f"prefix-list {name!r} does not exist on {ctx.host} (known: {', '.join(sorted(lists)) or 'none'})")
        known = str(p.neighbor) in _routing.bgp_neighbors(ctx.running)
        if p.action == "add":
            return [check(f"neighbour {p.neighbor} is not configured yet", not known)]
        checks = [check(f"neighbour {p.neighbor} exists", known)]
        shut = has_line(ctx.running, f"neighbor {p.neighbor} shutdown")
        if p.action == "shutdown":
            checks.append(check(f"neighbour {p.neighbor} is not shut down already", not shut))
        if p.action == "no_shutdown":
            checks.append(check(f"neighbour {p.neighbor} is shut down", shut))
        return checks

    def render(self, ctx: Context[BgpNeighborParams]) -> str:
        if ctx.params.action != "remove":
            return super().render(ctx)
        return removal(ctx.running, ctx.params.asn, str(ctx.params.neighbor))

    def restored_checks(self, ctx: Context[BgpNeighborParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[BgpNeighborParams]) -> list[CheckResult]:
        p = ctx.params
        neighbor = str(p.neighbor)
        configured = neighbor in _routing.bgp_neighbors(ctx.running)
        checks = [check(f"neighbour {neighbor} is {'' if p.action != 'remove' else 'no longer '}configured",
                        configured is (p.action != "remove"))]
        for direction, name in (("in", p.prefix_list_in), ("out", p.prefix_list_out)):
            if name is not None:
                checks.append(check(f"prefix-list {name} applied {direction}",
                                    has_line(ctx.running, f"neighbor {neighbor} prefix-list {name} {direction}")))
        if p.session_up:
            checks.append(_routing.bgp_established_check(ctx, neighbor, p.converge_within))
            if p.expected_prefixes:
                checks.append(_routing.bgp_prefixes_check(ctx, neighbor, map(str, p.expected_prefixes),
                                                          p.converge_within))
        else:
            state, took = _routing.wait_for(
                lambda: str(_routing.bgp_peers(ctx).get(neighbor, {}).get("state", "absent")),
                lambda s: s != "Established", p.converge_within)
            checks.append(check(f"BGP session with {neighbor} is down", state != "Established",
                                f"after {took:.1f} s: {state}"))
        flow = _routing.flow_check(ctx, p.converge_within)
        if flow is not None:
            checks.append(flow)
        return checks


def removal(running: str, asn: int, neighbor: str) -> str:
    """``no`` for every line of ``router bgp ASN`` that configures ``neighbor``, under its parents.

    FRR's configuration is a target, not a list of commands: removing a neighbour means removing
    each line the running configuration has for it (``remote-as``, timers, the address family's
    prefix-lists), exactly as written, so that the target has none of them left.
    """
    out = [f"router bgp {asn}"]
    family: str | None = None
    for line in _routing.block(running, f"router bgp {asn}"):
        text = line.strip()
        if line.startswith(" address-family "):
            family = text
            continue
        if text == "exit-address-family":
            family = None
            continue
        if text.startswith(f"neighbor {neighbor} "):
            if family is not None and line.startswith("  "):
                out += [f" {family}", f"  no {text}", " exit-address-family"]
            else:
                out.append(f" no {text}")
    out.append("exit")
    return "\n".join(out) + "\n"
