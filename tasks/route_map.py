"""``route_map``: add or remove entries (sequences) of an FRR route-map.

An entry matches on a prefix-list and sets attributes (local preference, metric). Adding an entry
to an existing route-map is minor ("add networks/routes to existing route-maps"); removing one,
or a new route-map, changes routing (medium, by the classifier). A prefix-list the entry matches
on must exist on the router: an unknown name is bad input (exit 2), since FRR would accept it and
the entry would match nothing.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check, has_section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.errors import UnknownReference
from netchange.models import CheckResult, SafeName
from netchange.tasks import _routing
from netchange.vocabulary import Perimeter, Role

U32 = Annotated[int, Field(ge=0, le=4294967295)]


class RouteMapEntry(StrictModel):
    seq: Annotated[int, Field(ge=1, le=65535)]
    action: Literal["permit", "deny"]
    match_prefix_list: SafeName | None = None
    set_local_preference: U32 | None = None
    set_metric: U32 | None = None

    def header(self, name: str) -> str:
        return f"route-map {name} {self.action} {self.seq}"

    def body(self) -> list[str]:
        lines = []
        if self.match_prefix_list:
            lines.append(f"match ip address prefix-list {self.match_prefix_list}")
        if self.set_local_preference is not None:
            lines.append(f"set local-preference {self.set_local_preference}")
        if self.set_metric is not None:
            lines.append(f"set metric {self.set_metric}")
        return lines


class RouteMapParams(StrictModel):
    name: SafeName
    add: tuple[RouteMapEntry, ...] = Field(default=(), max_length=100)
    remove: tuple[RouteMapEntry, ...] = Field(default=(), max_length=100)
    create: bool = Field(default=False, description="The route-map may be new (otherwise it must exist)")
    converge_within: _routing.Seconds = 20.0

    @model_validator(mode="after")
    def _entries_to_add_or_remove(self) -> RouteMapParams:
        if not self.add and not self.remove:
            raise ValueError("give entries to add or remove")
        seqs = [e.seq for e in self.add]
        if len(seqs) != len(set(seqs)):
            raise ValueError("two entries to add have the same seq")
        return self


class RouteMap(ChangeType[RouteMapParams]):
    name = "route_map"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = RouteMapParams

    def pre_checks(self, ctx: Context[RouteMapParams]) -> list[CheckResult]:
        p = ctx.params
        maps = _routing.route_map_names(ctx.running)
        if p.name not in maps and not p.create:
            raise UnknownReference(
                f"route-map {p.name!r} does not exist on {ctx.host} (known: {', '.join(sorted(maps)) or 'none'}); "
                "set create: true to make a new one")
        lists = _routing.prefix_list_names(ctx.running)
        for entry in p.add:
            if entry.match_prefix_list and entry.match_prefix_list not in lists:
                raise UnknownReference(
                    f"route-map {p.name} seq {entry.seq}: prefix-list {entry.match_prefix_list!r} does not exist "
                    f"on {ctx.host} (known: {', '.join(sorted(lists)) or 'none'})")
        checks = [check(f"entry to remove is present: {e.header(p.name)}", has_section(ctx.running, e.header(p.name)))
                  for e in p.remove]
        removed = {e.seq for e in p.remove}
        checks += [check(f"seq {e.seq} of route-map {p.name} is free",
                         e.seq in removed or not any(
                             has_section(ctx.running, f"route-map {p.name} {a} {e.seq}") for a in ("permit", "deny")))
                   for e in p.add]
        return checks

    def restored_checks(self, ctx: Context[RouteMapParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[RouteMapParams]) -> list[CheckResult]:
        p = ctx.params
        checks = []
        for e in p.add:
            body = _routing.block(ctx.running, e.header(p.name))
            wanted = e.body()
            checks.append(check(f"added: {e.header(p.name)}",
                                has_section(ctx.running, e.header(p.name))
                                and all(line in [b.strip() for b in body] for line in wanted)))
        checks += [check(f"removed: {e.header(p.name)}", not has_section(ctx.running, e.header(p.name)))
                   for e in p.remove]
        bgp = ctx.data.get("bgp")
        if isinstance(bgp, dict) and bgp.get("neighbor"):
            checks.append(_routing.bgp_established_check(ctx, str(bgp["neighbor"]), p.converge_within))
        flow = _routing.flow_check(ctx, p.converge_within)
        if flow is not None:
            checks.append(flow)
        return checks
