"""``static_route``: add a static route whose next hop the device already reaches (minor), or
remove one (medium: routing changes without a topology change).

IOS and ASA are judged on their running configuration. On FRR (``frr`` syntax) the checks read the
router itself: the next hop must sit on a network ``show ip route connected json`` lists, and after
the commit the route must be in the namespace's kernel table (``ip -j route``), where forwarding
happens, with a new TCP connection from the site's client to its server still getting through.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check, connected_networks, has_line, reachable
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, SafeName
from netchange.tasks import _routing
from netchange.vocabulary import Perimeter, Role


class StaticRouteParams(StrictModel):
    prefix: ipaddress.IPv4Network
    next_hop: ipaddress.IPv4Address
    distance: Annotated[int, Field(ge=1, le=255)] | None = None
    interface: SafeName | None = Field(default=None, description="ASA: the nameif the next hop sits behind")
    action: Literal["add", "remove"] = "add"
    converge_within: _routing.Seconds = Field(
        default=10.0, description="FRR: how long the post-checks wait for the kernel's table and traffic")

    @model_validator(mode="after")
    def _remove_is_exact(self) -> StaticRouteParams:
        if self.action == "remove" and self.prefix.prefixlen == 0:
            raise ValueError("removing the default route is not a static_route change (use a reviewed snippet)")
        return self


class StaticRoute(ChangeType[StaticRouteParams]):
    name = "static_route"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH, Role.FIREWALL}) | _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "asa", "frr"})
    Params = StaticRouteParams

    def route_line(self, ctx: Context[StaticRouteParams]) -> str:
        """The route as the device shows it in its running configuration (never with ``no``)."""
        line = self.render(ctx).strip()
        return line[3:] if line.startswith("no ") else line

    def _networks(self, ctx: Context[StaticRouteParams]) -> list[ipaddress.IPv4Network]:
        if ctx.syntax == "frr":
            return _routing.connected_networks(ctx)
        return connected_networks(ctx.running)

    def pre_checks(self, ctx: Context[StaticRouteParams]) -> list[CheckResult]:
        p = ctx.params
        present = has_line(ctx.running, self.route_line(ctx))
        if p.action == "remove":
            return [check("route is configured", present)]
        name = f"next hop {p.next_hop} is on a connected network"

        def connected() -> CheckResult:
            networks = self._networks(ctx)
            ok = reachable(p.next_hop, networks)
            return check(name, ok, "" if ok else f"connected: {', '.join(map(str, networks)) or 'none'}")

        # FRR: the router's own table, asked live; IOS/ASA: the running configuration's addresses.
        checks = [ctx.device_check(name, connected) if ctx.syntax == "frr" else connected(),
                  check("route is not configured yet", not present)]
        if ctx.syntax == "asa" and p.interface is None:
            checks.append(check("interface (nameif) given for ASA", False))
        return checks

    def restored_checks(self, ctx: Context[StaticRouteParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[StaticRouteParams]) -> list[CheckResult]:
        p = ctx.params
        added = p.action == "add"
        present = has_line(ctx.running, self.route_line(ctx))
        checks = [check(f"route is {'in' if added else 'gone from'} the running config", present is added)]
        if ctx.syntax == "frr":
            checks += self._network_checks(ctx)
        return checks

    def _network_checks(self, ctx: Context[Any]) -> list[CheckResult]:
        p: StaticRouteParams = ctx.params
        added = p.action == "add"
        within = p.converge_within
        # A removed route may still be in the kernel through another source (OSPF, BGP): only
        # this next hop's static route must be gone.
        checks = [_routing.kernel_route_check(ctx, p.prefix, p.next_hop, added, within)]
        flow = _routing.flow_check(ctx, within)
        if flow is not None:
            checks.append(flow)
        return checks
