"""``static_route``: add a static route whose next hop the device already reaches (minor)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar

from pydantic import Field

from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, Perimeter, Role, SafeName, StrictModel
from netchange.tasks._common import check, connected_networks, has_line, reachable


class StaticRouteParams(StrictModel):
    prefix: ipaddress.IPv4Network
    next_hop: ipaddress.IPv4Address
    distance: Annotated[int, Field(ge=1, le=255)] | None = None
    interface: SafeName | None = Field(default=None, description="ASA: the nameif the next hop sits behind")


class StaticRoute(ChangeType[StaticRouteParams]):
    name = "static_route"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH, Role.FIREWALL})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "asa"})
    Params = StaticRouteParams

    def route_line(self, ctx: Context[StaticRouteParams]) -> str:
        return self.render(ctx).strip()

    def pre_checks(self, ctx: Context[StaticRouteParams]) -> list[CheckResult]:
        p = ctx.params
        networks = connected_networks(ctx.running)
        ok = reachable(p.next_hop, networks)
        checks = [
            check(
                f"next hop {p.next_hop} is on a connected network",
                ok,
                "" if ok else f"connected: {', '.join(map(str, networks)) or 'none'}",
            ),
            check("route is not configured yet", not has_line(ctx.running, self.route_line(ctx))),
        ]
        if ctx.syntax == "asa" and p.interface is None:
            checks.append(check("interface (nameif) given for ASA", False))
        return checks

    def post_checks(self, ctx: Context[StaticRouteParams]) -> list[CheckResult]:
        return [check("route is in the running config", has_line(ctx.running, self.route_line(ctx)))]
