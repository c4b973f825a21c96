"""``ospf_interface``: an interface's OSPF cost, passive state or area, and network statements.

Every OSPF change is major in the quality plan ("OSPF changes", "any routing-protocol change with
side effects"), and the post-checks say why: after the commit the adjacency the host is known to
have on the interface (``data.ospf`` in the lab) must be Full again within ``converge_within``
seconds, and a new TCP connection from the site's client to its server must get through. A cost
change keeps the adjacency; an area moved on one side only, or a transit link made passive,
breaks it, and the change is rolled back.

The area of an interface is the area of the ``network`` statement that covers its address (the
lab's routers use network statements, and FRR refuses ``ip ospf area`` beside them): changing it
rewrites that statement.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from netchange.authoring import check, has_section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.errors import UnknownReference
from netchange.models import CheckResult
from netchange.tasks import _routing
from netchange.vocabulary import Perimeter, Role


def area_id(value: str | int) -> str:
    """An OSPF area: a number (0 to 2^32-1) or a dotted quad, kept as the operator wrote it."""
    text = str(value)
    if re.fullmatch(r"\d{1,10}", text) and int(text) <= 4294967295:
        return str(int(text))
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValueError("must be an area number (0-4294967295) or a dotted quad") from None


AreaId = Annotated[str | int, AfterValidator(area_id)]


class OspfNetwork(StrictModel):
    prefix: ipaddress.IPv4Network
    area: AreaId
    action: Literal["add", "remove"] = "add"

    def line(self) -> str:
        return f"network {self.prefix} area {self.area}"


class OspfInterfaceParams(StrictModel):
    interface: _routing.IfName
    cost: Annotated[int, Field(ge=1, le=65535)] | None = None
    passive: bool | None = None
    area: AreaId | None = Field(default=None, description="Move the network statement covering the interface")
    networks: tuple[OspfNetwork, ...] = Field(default=(), max_length=50)
    converge_within: _routing.Seconds = 20.0

    @model_validator(mode="after")
    def _at_least_one_setting(self) -> OspfInterfaceParams:
        if self.cost is None and self.passive is None and self.area is None and not self.networks:
            raise ValueError("give cost, passive, area or networks")
        return self


def interface_networks(ctx: Context[Any], interface: str) -> list[ipaddress.IPv4Interface]:
    """The interface's IPv4 addresses (``show interface IF json``); empty when it does not exist."""
    data = _routing.show_json(ctx, f"show interface {interface} json")
    entry = data.get(interface, {}) if isinstance(data, dict) else {}
    out = []
    for item in entry.get("ipAddresses", []) if isinstance(entry, dict) else []:
        try:
            out.append(ipaddress.IPv4Interface(str(item.get("address", ""))))
        except ValueError:
            continue
    return out


def network_statements(running: str) -> list[tuple[ipaddress.IPv4Network, str]]:
    out = []
    for line in _routing.block(running, "router ospf"):
        m = re.fullmatch(r"\s*network (\S+) area (\S+)", line)
        if m:
            out.append((ipaddress.IPv4Network(m.group(1)), m.group(2)))
    return out


class OspfInterface(ChangeType[OspfInterfaceParams]):
    name = "ospf_interface"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"frr"})
    Params = OspfInterfaceParams

    def _moved(self, ctx: Context[OspfInterfaceParams]) -> list[tuple[ipaddress.IPv4Network, str]]:
        """The network statements covering the interface's addresses, with their current area."""
        addresses = interface_networks(ctx, ctx.params.interface)
        return [(net, area) for net, area in network_statements(ctx.running)
                if any(a.ip in net for a in addresses)]

    def pre_checks(self, ctx: Context[OspfInterfaceParams]) -> list[CheckResult]:
        p = ctx.params
        if not has_section(ctx.running, "router ospf"):
            raise UnknownReference(f"no OSPF process (router ospf) on {ctx.host}")
        name = f"interface {p.interface} exists with an IPv4 address"
        checks = [ctx.device_check(name, lambda: check(name, bool(interface_networks(ctx, p.interface))))]
        if p.area is not None:
            covering = self._moved(ctx)
            checks.append(check(f"a network statement covers {p.interface}", bool(covering),
                                ", ".join(f"{n} area {a}" for n, a in covering)))
            checks.append(check(f"{p.interface} is not in area {p.area} already",
                                all(a != p.area for _, a in covering)))
        present = {f"network {n} area {a}" for n, a in network_statements(ctx.running)}
        for net in p.networks:
            if net.action == "remove":
                checks.append(check(f"{net.line()} is configured", net.line() in present))
            else:
                checks.append(check(f"{net.line()} is not configured yet", net.line() not in present))
        return checks

    def render(self, ctx: Context[OspfInterfaceParams]) -> str:
        p = ctx.params
        moved = self._moved(ctx) if p.area is not None else []
        return _render(p, moved)

    def restored_checks(self, ctx: Context[OspfInterfaceParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[OspfInterfaceParams]) -> list[CheckResult]:
        p = ctx.params
        block = [line.strip() for line in _routing.block(ctx.running, f"interface {p.interface}")]
        checks = []
        if p.cost is not None:
            checks.append(check(f"cost {p.cost} on {p.interface}", f"ip ospf cost {p.cost}" in block))
        if p.passive is not None:
            checks.append(check(f"{p.interface} is {'' if p.passive else 'not '}passive",
                                ("ip ospf passive" in block) is p.passive))
        ospf = ctx.data.get("ospf")
        if isinstance(ospf, dict) and ospf.get("neighbor") and ospf.get("interface") == p.interface:
            checks.append(_routing.ospf_full_check(ctx, str(ospf["neighbor"]), p.interface, p.converge_within))
        flow = _routing.flow_check(ctx, p.converge_within)
        if flow is not None:
            checks.append(flow)
        return checks


def _render(p: OspfInterfaceParams, moved: list[tuple[ipaddress.IPv4Network, str]]) -> str:
    from netchange.changetype import render_template

    return render_template("ospf_interface/frr.j2", p=p, moved=moved)
