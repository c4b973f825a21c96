"""``upstream_shutdown``: take one operator out of a site gracefully, then shut its sessions; or
bring it back.

FRR 8.4 (Debian 12) has ``bgp graceful-shutdown`` for the whole BGP process only: the per-neighbour
``neighbor X graceful-shutdown`` came later (vtysh 8.4 answers "% Unknown command"). So the
graceful shutdown of one operator is RFC 8326's procedure written in the neighbour's route-maps:

- ``drain``: the operator's routes get local preference 0 (its inbound route-map), so outbound
  traffic leaves through the other operator; what the site announces to it carries the
  GRACEFUL_SHUTDOWN community and the site's AS prepended ``prepend`` times (its outbound
  route-map), so the operator and those behind it prefer the other way in. The session stays up:
  nothing is lost while traffic moves.
- ``shutdown``: ``neighbor X shutdown`` once the operator is drained (the pre-check reads the
  drain in the running configuration): the session goes down with no traffic on it.
- ``restore``: the session opened again and the drain's clauses removed.

Pre-checks read the live state before an operator is taken out: another operator's session is
Established and carries every prefix this one carries now. Post-checks watch traffic move: BGP's
best path and the kernel's route for the watched prefix leave through another operator, and so
does a flow traced from the site's server; the internet-side client still reaches the service.
Taking an operator out is major (a routing change with side effects on every flow it carried).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check, has_line
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult
from netchange.tasks import _operators, _routing
from netchange.vocabulary import Perimeter

DRAIN_COMMUNITY = "graceful-shutdown"  # RFC 8326's GRACEFUL_SHUTDOWN, 65535:0
DRAINED_LOCAL_PREFERENCE = 0


class UpstreamShutdownParams(_operators.Peers):
    action: Literal["drain", "shutdown", "restore"]
    prepend: Annotated[int, Field(ge=0, le=10)] = 3
    watch_prefix: ipaddress.IPv4Network | None = None
    restore_local_preference: _operators.U32 | None = Field(
        default=None, description="restore: the local preference the operator's routes get back (default: none set)")
    converge_within: _routing.Seconds = 20.0

    @model_validator(mode="after")
    def _fields_for_action(self) -> UpstreamShutdownParams:
        _operators.one_of_neighbor_or_operator(self)
        if self.restore_local_preference is not None and self.action != "restore":
            raise ValueError(f"action {self.action} takes no restore_local_preference (only restore does)")
        if self.action != "drain" and "prepend" in self.model_fields_set:
            raise ValueError(f"action {self.action} takes no prepend (only drain does)")
        return self


def _drain_lines(p: UpstreamShutdownParams) -> list[tuple[str, str, str | None]]:
    """(direction, set keyword, clause or None) of the drain, or of its undoing for ``restore``."""
    drain = p.action != "restore"
    prepend = f"set as-path prepend {' '.join([str(p.asn)] * p.prepend)}" if p.prepend else None
    local_pref = (f"set local-preference {DRAINED_LOCAL_PREFERENCE}" if drain else
                  f"set local-preference {p.restore_local_preference}" if p.restore_local_preference is not None
                  else None)
    return [("in", "local-preference", local_pref),
            ("out", "community", f"set community {DRAIN_COMMUNITY} additive" if drain else None),
            ("out", "as-path prepend", prepend if drain else None)]


class UpstreamShutdown(ChangeType[UpstreamShutdownParams]):
    name = "upstream_shutdown"
    perimeter = Perimeter.NETWORK
    roles: ClassVar = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = UpstreamShutdownParams

    def _maps(self, ctx: Context[UpstreamShutdownParams], neighbors: list[str]) -> list[tuple[str, str, str | None]]:
        return [(name, keyword, line) for direction, keyword, line in _drain_lines(ctx.params)
                for name in _operators.route_maps_for(ctx, neighbors, direction)]

    def _drained(self, ctx: Context[UpstreamShutdownParams], neighbors: list[str]) -> bool:
        local_pref = f"set local-preference {DRAINED_LOCAL_PREFERENCE}"
        return all(_operators.carries(ctx.running, name, "local-preference", local_pref)
                   for name in _operators.route_maps_for(ctx, neighbors, "in"))

    def _watched(self, ctx: Context[UpstreamShutdownParams]) -> list[str]:
        if ctx.params.watch_prefix is not None:
            return [str(ctx.params.watch_prefix)]
        outbound = ctx.data.get("outbound")
        return [str(outbound["watch_prefix"])] if isinstance(outbound, dict) and outbound.get("watch_prefix") else []

    def pre_checks(self, ctx: Context[UpstreamShutdownParams]) -> list[CheckResult]:
        p = ctx.params
        neighbors = _operators.targets(ctx, p)
        maps = self._maps(ctx, neighbors) if p.action != "shutdown" else []
        shut = [n for n in neighbors if has_line(ctx.running, f"neighbor {n} shutdown")]
        checks: list[CheckResult] = []
        if p.action == "shutdown":
            checks.append(check("the operator is drained first (its routes at local preference 0)",
                                self._drained(ctx, neighbors)))
            checks.append(check("its sessions are not shut down already", not shut, ", ".join(shut)))
        elif p.action == "drain":
            checks.append(check("the operator is not drained already", not self._drained(ctx, neighbors)))
        else:
            checks.append(check("the operator is drained or shut down (something to restore)",
                                bool(shut) or any(not _operators.carries(ctx.running, n, k, None)
                                                  for n, k, _ in maps)))
        if p.action != "restore":
            def ready() -> CheckResult:
                carried = sorted({prefix for n in neighbors for prefix in _routing.received_prefixes(ctx, n)}
                                 | set(self._watched(ctx)))
                return _operators.other_operator_ready(ctx, neighbors, carried)

            checks.append(ctx.device_check("another operator is Established and carries this one's prefixes", ready))
        return checks

    def render(self, ctx: Context[UpstreamShutdownParams]) -> str:
        p = ctx.params
        neighbors = _operators.targets(ctx, p)
        lines: list[str] = []
        if p.action != "shutdown":
            for name, keyword, line in self._maps(ctx, neighbors):
                lines += _operators.set_clauses(ctx.running, name, keyword, line)
        sessions = [f" {'' if p.action == 'shutdown' else 'no '}neighbor {n} shutdown" for n in neighbors
                    if (p.action == "shutdown") != has_line(ctx.running, f"neighbor {n} shutdown")]
        if sessions:
            lines += [f"router bgp {p.asn}", *sessions, "exit"]
        return "\n".join(lines) + "\n" if lines else ""

    def post_checks(self, ctx: Context[UpstreamShutdownParams]) -> list[CheckResult]:
        p = ctx.params
        neighbors = _operators.targets(ctx, p)
        checks: list[CheckResult] = []
        if p.action == "drain":
            checks.append(check("the operator's routes are at local preference 0", self._drained(ctx, neighbors)))
        for neighbor in neighbors:
            if p.action == "shutdown":
                state, took = _routing.wait_for(
                    lambda n=neighbor: str(_routing.bgp_peers(ctx).get(n, {}).get("state", "absent")),  # type: ignore[misc]
                    lambda s: s != "Established", p.converge_within)
                checks.append(check(f"BGP session with {_operators.label(ctx, neighbor)} is down",
                                    state != "Established", f"after {took:.1f} s: {state}"))
            else:
                checks.append(_routing.bgp_established_check(ctx, neighbor, p.converge_within))
        gone = set().union(*(_operators.operator_addresses(ctx, n) for n in neighbors))
        others = sorted(n for n in _operators.remote_as(ctx.running) if n not in gone)
        for prefix in self._watched(ctx):
            network = ipaddress.IPv4Network(prefix)
            if p.action == "restore":
                checks += _operators.outbound_back(ctx, p.converge_within)
                continue
            what = "another operator (" + ", ".join(_operators.label(ctx, n) for n in others) + ")"
            checks += _operators.traffic_leaves(ctx, network, set(others), p.converge_within, what)
        return checks + _operators.internet_flow_checks(ctx, p.converge_within)

    def restored_checks(self, ctx: Context[UpstreamShutdownParams]) -> list[CheckResult]:
        return _operators.network_restored(ctx, ctx.params.converge_within)
