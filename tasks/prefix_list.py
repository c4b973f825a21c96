"""``prefix_list``: add or remove entries of an FRR prefix-list (``ip prefix-list NAME seq N …``).

Adding networks to an existing prefix-list is minor (the quality plan's "add networks/routes to
existing route-maps or proven existing configurations"); removing one narrows what a routing
policy lets through, which is a routing change without a topology change (medium). Creating a new
list is allowed only when asked (``create: true``): a typo in a list's name would otherwise
create a list nothing uses, and the change would do nothing while looking done.

Post-checks watch what the list filters: when the host's BGP neighbour applies the list (the
lab's ``data.bgp``), the session is Established again and the prefixes it should accept arrive.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check, has_line
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.errors import UnknownReference
from netchange.models import CheckResult, SafeName
from netchange.tasks import _routing
from netchange.vocabulary import Perimeter, Role

Length = Annotated[int, Field(ge=0, le=32)]


class PrefixListEntry(StrictModel):
    seq: Annotated[int, Field(ge=1, le=4294967295)]
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

    def body(self) -> str:
        text = f"seq {self.seq} {self.action} {self.prefix}"
        if self.ge is not None:
            text += f" ge {self.ge}"
        if self.le is not None:
            text += f" le {self.le}"
        return text


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
        seqs = [e.seq for e in self.add]
        if len(seqs) != len(set(seqs)):
            raise ValueError("two entries to add have the same seq")
        return self


class PrefixList(ChangeType[PrefixListParams]):
    name = "prefix_list"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = PrefixListParams

    @staticmethod
    def line(name: str, entry: PrefixListEntry) -> str:
        return f"ip prefix-list {name} {entry.body()}"

    def pre_checks(self, ctx: Context[PrefixListParams]) -> list[CheckResult]:
        p = ctx.params
        known = _routing.prefix_list_names(ctx.running)
        if p.name not in known and not p.create:
            raise UnknownReference(
                f"prefix-list {p.name!r} does not exist on {ctx.host} (known: {', '.join(sorted(known)) or 'none'}); "
                "set create: true to make a new one")
        used = {int(m.group(1)) for m in re.finditer(rf"^ip prefix-list {re.escape(p.name)} seq (\d+) ",
                                                        ctx.running, re.M)}
        checks = [check(f"entry to remove is present: {e.body()}", has_line(ctx.running, self.line(p.name, e)))
                  for e in p.remove]
        removed = {e.seq for e in p.remove}
        checks += [check(f"seq {e.seq} of {p.name} is free", e.seq not in used - removed) for e in p.add]
        return checks

    def restored_checks(self, ctx: Context[PrefixListParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[PrefixListParams]) -> list[CheckResult]:
        p = ctx.params
        checks = [check(f"added: {self.line(p.name, e)}", has_line(ctx.running, self.line(p.name, e)))
                  for e in p.add]
        checks += [check(f"removed: {self.line(p.name, e)}", not has_line(ctx.running, self.line(p.name, e)))
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
