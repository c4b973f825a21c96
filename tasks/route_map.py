"""``route_map``: add or remove entries (sequences) of an FRR route-map.

An entry matches on a prefix-list and sets attributes (local preference, metric). Adding an entry
to an existing route-map is minor ("add networks/routes to existing route-maps"); removing one,
or a new route-map, changes routing (medium, by the classifier). A prefix-list the entry matches
on must exist on the router: an unknown name is bad input (exit 2), since FRR would accept it and
the entry would match nothing.

An entry to add takes the ``seq`` the request gives, which must be free, or the one that puts it
where the request says (``position``, ``before``, ``after`` an entry named by its ``seq``; by
default before a final ``deny`` entry that matches everything, else 10 after the last):
:mod:`netchange.tasks._sequence`. The diff shows the ``route-map NAME permit N`` typed.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check, has_section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context, render_template
from netchange.errors import UnknownReference
from netchange.models import CheckResult, SafeName
from netchange.tasks import _routing
from netchange.tasks._sequence import (
    Entry,
    ListShape,
    Placed,
    Placement,
    place,
    placement_checks,
    route_map_catch_all,
)
from netchange.vocabulary import Perimeter, Role

U32 = Annotated[int, Field(ge=0, le=4294967295)]


ROUTE_MAP = ListShape("seq", route_map_catch_all, step=10, renumber_hint="renumber the route-map first")


class RouteMapEntry(Placement):
    seq: Annotated[int, Field(ge=1, le=65535)] | None = None
    """The entry's number: free in the route-map (to add), the entry's own (to remove); else placed."""
    action: Literal["permit", "deny"]
    match_prefix_list: SafeName | None = None
    set_local_preference: U32 | None = None
    set_metric: U32 | None = None

    def _explicit_number(self) -> int | None:
        return self.seq

    @model_validator(mode="after")
    def _anchors_are_numbers(self) -> RouteMapEntry:
        if isinstance(self.before, str) or isinstance(self.after, str):
            raise ValueError("a route-map entry is named by its seq (a number) in before and after")
        return self

    def header(self, name: str, seq: int | None = None) -> str:
        return f"route-map {name} {self.action} {seq if seq is not None else self.seq}"

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
        seqs = [e.seq for e in self.add if e.seq is not None]
        if len(seqs) != len(set(seqs)):
            raise ValueError("two entries to add have the same seq")
        if any(e.seq is None for e in self.remove):
            raise ValueError("remove: give the seq of each entry to remove")
        if any(x is not None for e in self.remove for x in (e.position, e.before, e.after)):
            raise ValueError("remove: an entry to remove has no position, before or after (give its seq)")
        return self


_HEADER = re.compile(r"^route-map (\S+) (permit|deny) (\d+)\s*$")


def entries(running: str, name: str) -> list[Entry]:
    """The entries of route-map ``name``, by ``seq``; an entry's text is its action followed by
    its ``match`` clauses (``deny`` alone: it denies every route that reaches it)."""
    found: list[Entry] = []
    for line in running.splitlines():
        m = _HEADER.match(line)
        if m is None or m.group(1) != name:
            continue
        matches = [b.strip() for b in _routing.block(running, line.rstrip()) if b.strip().startswith("match ")]
        found.append(Entry(int(m.group(3)), "; ".join([m.group(2), *matches])))
    return sorted(found, key=lambda e: e.number)


def _has_entry(running: str, name: str, entry: RouteMapEntry) -> bool:
    """Whether route-map ``name`` has ``entry`` (its action and clauses; at its ``seq`` when given)."""
    for e in entries(running, name):
        header = f"route-map {name} {entry.action} {e.number}"
        if entry.seq not in (None, e.number) or not has_section(running, header):
            continue
        body = [b.strip() for b in _routing.block(running, header)]
        if all(line in body for line in entry.body()):
            return True
    return False


class RouteMap(ChangeType[RouteMapParams]):
    name = "route_map"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = RouteMapParams

    def placements(self, ctx: Context[RouteMapParams]) -> list[Placed]:
        """Where each entry to add goes once the step's removals are typed (raises PlacementError)."""
        removed = {e.seq for e in ctx.params.remove}
        kept = [e for e in entries(ctx.running, ctx.params.name) if e.number not in removed]
        return place(kept, [(e, e.seq) for e in ctx.params.add], ROUTE_MAP)

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
                    f"route-map {p.name} {entry.action} {entry.seq or '(placed)'}: prefix-list "
                    f"{entry.match_prefix_list!r} does not exist on {ctx.host} "
                    f"(known: {', '.join(sorted(lists)) or 'none'})")
        checks = [check(f"entry to remove is present: {e.header(p.name)}", has_section(ctx.running, e.header(p.name)))
                  for e in p.remove]
        if p.add:
            checks += placement_checks(lambda: self.placements(ctx), f"route-map {p.name}",
                                       lambda _, where: f"seq {where.number} of route-map {p.name} is free")
        return checks

    def render(self, ctx: Context[RouteMapParams]) -> str:
        """The removals, then the additions with the ``seq`` that places them."""
        additions = sorted(((e, where.number) for e, where in zip(ctx.params.add, self.placements(ctx), strict=True)),
                           key=lambda pair: pair[1])
        return render_template(f"{self.name}/{ctx.syntax}.j2", templates=self.template_package(), p=ctx.params,
                               host=ctx, additions=additions)

    def restored_checks(self, ctx: Context[RouteMapParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[RouteMapParams]) -> list[CheckResult]:
        p = ctx.params
        checks = []
        for e in p.add:
            checks.append(check(f"added: route-map {p.name} {e.action} {e.seq or '(placed)'}: {'; '.join(e.body())}",
                                _has_entry(ctx.running, p.name, e)))
        checks += [check(f"removed: {e.header(p.name)}", not has_section(ctx.running, e.header(p.name)))
                   for e in p.remove]
        bgp = ctx.data.get("bgp")
        if isinstance(bgp, dict) and bgp.get("neighbor"):
            checks.append(_routing.bgp_established_check(ctx, str(bgp["neighbor"]), p.converge_within))
        flow = _routing.flow_check(ctx, p.converge_within)
        if flow is not None:
            checks.append(flow)
        return checks
