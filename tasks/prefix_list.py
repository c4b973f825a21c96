"""``prefix_list``: add or remove entries of an FRR prefix-list (``ip prefix-list NAME seq N …``).

Adding networks to an existing prefix-list is minor (the quality plan's "add networks/routes to
existing route-maps or proven existing configurations"); removing one narrows what a routing
policy lets through, which is a routing change without a topology change (medium). Creating a new
list is allowed only when asked (``create: true``): a typo in a list's name would otherwise
create a list nothing uses, and the change would do nothing while looking done.

An entry to add takes the ``seq`` the request gives, which must be free (FRR would replace the
entry that has it), or the one that puts it where the request says (``position``, ``before``,
``after``; by default before a final ``deny any`` / ``deny 0.0.0.0/0 le 32``, else 5 after the
last, as FRR numbers): :mod:`netchange.tasks._sequence`. The diff shows the ``seq`` typed.

Post-checks watch what the list filters: when the host's BGP neighbour applies the list (the
lab's ``data.bgp``), the session is Established again and the prefixes it should accept arrive.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check
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
    prefix_catch_all,
    squeeze,
)
from netchange.vocabulary import Perimeter, Role

Length = Annotated[int, Field(ge=0, le=32)]


PREFIX_LIST = ListShape("seq", prefix_catch_all, step=5, renumber_hint="renumber the list first")


class PrefixListEntry(Placement):
    seq: Annotated[int, Field(ge=1, le=4294967295)] | None = None
    """The entry's number: free in the list (to add), the entry's own (to remove); else placed."""
    action: Literal["permit", "deny"]
    prefix: ipaddress.IPv4Network
    ge: Length | None = None
    le: Length | None = None

    @model_validator(mode="after")
    def _lengths(self) -> PrefixListEntry:
        low = self.prefix.prefixlen
        if self.ge is not None and self.ge <= low:
            raise ValueError(f"ge {self.ge} must be longer than the prefix length /{low}")
        if self.le is not None and self.le < max(low, self.ge or 0):
            raise ValueError(f"le {self.le} must be at least the prefix length and ge")
        return self

    def _explicit_number(self) -> int | None:
        return self.seq

    def text(self) -> str:
        """The entry as FRR prints it after its ``seq N``."""
        text = f"{self.action} {self.prefix}"
        if self.ge is not None:
            text += f" ge {self.ge}"
        if self.le is not None:
            text += f" le {self.le}"
        return text

    def body(self, seq: int | None = None) -> str:
        number = seq if seq is not None else self.seq
        return f"seq {number} {self.text()}" if number is not None else self.text()

    @property
    def placed_by_request(self) -> bool:
        return any(x is not None for x in (self.position, self.before, self.after))


class PrefixListParams(StrictModel):
    name: SafeName
    add: tuple[PrefixListEntry, ...] = Field(default=(), max_length=200)
    remove: tuple[PrefixListEntry, ...] = Field(default=(), max_length=200)
    create: bool = Field(default=False, description="The list may be new (otherwise it must exist)")
    converge_within: _routing.Seconds = 20.0

    @model_validator(mode="after")
    def _entries_to_add_or_remove(self) -> PrefixListParams:
        if not self.add and not self.remove:
            raise ValueError("give entries to add or remove")
        seqs = [e.seq for e in self.add if e.seq is not None]
        if len(seqs) != len(set(seqs)):
            raise ValueError("two entries to add have the same seq")
        if any(e.placed_by_request for e in self.remove):
            raise ValueError("remove: an entry to remove has no position, before or after (give its seq or itself)")
        return self


def entries(running: str, name: str) -> list[Entry]:
    """The entries of prefix-list ``name`` in the running configuration, by ``seq``."""
    found = [Entry(int(m.group(1)), squeeze(m.group(2)))
             for m in re.finditer(rf"^ip prefix-list {re.escape(name)} seq (\d+) (.+)$", running, re.M)]
    return sorted(found, key=lambda e: e.number)


class PrefixList(ChangeType[PrefixListParams]):
    name = "prefix_list"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = PrefixListParams

    @staticmethod
    def line(name: str, entry: PrefixListEntry, seq: int | None = None) -> str:
        return f"ip prefix-list {name} {entry.body(seq)}"

    @staticmethod
    def _find(listed: list[Entry], entry: PrefixListEntry) -> Entry | None:
        """The running entry ``entry`` names: its text, at its ``seq`` when given."""
        return next((e for e in listed if e.text == entry.text() and entry.seq in (None, e.number)), None)

    def placements(self, ctx: Context[PrefixListParams]) -> list[Placed]:
        """Where each entry to add goes once the step's removals are typed (raises PlacementError)."""
        listed = entries(ctx.running, ctx.params.name)
        removed = {found.number for e in ctx.params.remove if (found := self._find(listed, e)) is not None}
        kept = [e for e in listed if e.number not in removed]
        return place(kept, [(e, e.seq) for e in ctx.params.add], PREFIX_LIST)

    def pre_checks(self, ctx: Context[PrefixListParams]) -> list[CheckResult]:
        p = ctx.params
        known = _routing.prefix_list_names(ctx.running)
        if p.name not in known and not p.create:
            raise UnknownReference(
                f"prefix-list {p.name!r} does not exist on {ctx.host} (known: {', '.join(sorted(known)) or 'none'}); "
                "set create: true to make a new one")
        listed = entries(ctx.running, p.name)
        checks = [check(f"entry to remove is present: {e.body()}", self._find(listed, e) is not None)
                  for e in p.remove]
        removing = {e.text() for e in p.remove}
        checks += [check(f"entry to add is absent: {e.text()}",
                         e.text() in removing or all(x.text != e.text() for x in listed)) for e in p.add]
        if p.add:
            checks += placement_checks(lambda: self.placements(ctx), p.name,
                                       lambda i, where: f"seq {where.number} of {p.name} is free: {p.add[i].text()}")
        return checks

    def render(self, ctx: Context[PrefixListParams]) -> str:
        """The removals by their running ``seq``, then the additions with the ``seq`` that places them."""
        p = ctx.params
        listed = entries(ctx.running, p.name)
        removals = [(e, found.number) for e in p.remove if (found := self._find(listed, e)) is not None]
        additions = sorted(((e, where.number) for e, where in zip(p.add, self.placements(ctx), strict=True)),
                           key=lambda pair: pair[1])
        return render_template(f"{self.name}/{ctx.syntax}.j2", templates=self.template_package(), p=p,
                               host=ctx, removals=removals, additions=additions)

    def restored_checks(self, ctx: Context[PrefixListParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[PrefixListParams]) -> list[CheckResult]:
        p = ctx.params
        listed = entries(ctx.running, p.name)
        checks = [check(f"added: ip prefix-list {p.name} {e.body()}", self._find(listed, e) is not None)
                  for e in p.add]
        checks += [check(f"removed: ip prefix-list {p.name} {e.body()}", self._find(listed, e) is None)
                   for e in p.remove]
        bgp = ctx.data.get("bgp")
        if isinstance(bgp, dict) and bgp.get("neighbor"):
            neighbor = str(bgp["neighbor"])
            checks.append(_routing.bgp_established_check(ctx, neighbor, p.converge_within))
            # What the lab's neighbour is known to send through this policy, unless this change
            # removes the entry that lets it in; and, when the list filters that neighbour's
            # routes, what the change now lets in of what the neighbour announces.
            removed = {str(e.prefix) for e in p.remove if e.action == "permit"}
            kept = [str(x) for x in bgp.get("accepted_prefixes", []) if str(x) not in removed]
            newly: list[str] = []
            if p.name in _routing.inbound_prefix_lists(ctx.running, neighbor):
                announced = {str(x) for x in bgp.get("announced_prefixes", [])}
                newly = [str(e.prefix) for e in p.add if e.action == "permit" and e.ge is None and e.le is None
                         and str(e.prefix) in announced and str(e.prefix) not in kept]
            if kept or newly:
                checks.append(_routing.bgp_prefixes_check(ctx, neighbor, kept + newly, p.converge_within))
            for prefix in newly:
                # A prefix this change lets in must reach the kernel's table, where forwarding happens.
                checks.append(_routing.kernel_route_check(ctx, ipaddress.IPv4Network(prefix), None, True,
                                                          p.converge_within))
        flow = _routing.flow_check(ctx, p.converge_within)
        if flow is not None:
            checks.append(flow)
        return checks
