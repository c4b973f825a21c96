"""``vrrp``: a VRRP group's priority, preemption and virtual address, as a keepalived ``vrrp_instance``.

Setting up or changing VRRP is major in the quality plan. The change is rendered as the whole
``vrrp_instance`` block (keepalived has no per-line edits: a block replaces the block of the same
name), built from the block the device runs with the requested values changed, so a priority
change never drops the interface, the group or the address.

Pre-checks read the device: the instance exists with that group (``virtual_router_id``), unless it
is created; the group's peer is up. From one member's own state VRRP only tells a backup that the
master is alive (a master hears nothing: backups are silent by design), so a backup's check is
"the master answers adverts" and a master's is "I hold the virtual address".
Post-checks watch the network: the master is where it should be (``expect_master``, else the
lab's ``data.vrrp.expected_master``) within ``converge_within`` seconds, and the virtual address
answers from the site's client network.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context, render_template
from netchange.errors import UnknownReference
from netchange.models import CheckResult, SafeName
from netchange.tasks import _routing
from netchange.vocabulary import Perimeter, Role


class VrrpParams(StrictModel):
    instance: SafeName
    group: Annotated[int, Field(ge=1, le=255)] = Field(description="virtual_router_id")
    priority: Annotated[int, Field(ge=1, le=254)] | None = None
    preempt: bool | None = None
    virtual_address: ipaddress.IPv4Interface | None = None
    interface: _routing.IfName | None = Field(default=None, description="Needed only to create the instance")
    advert_int: Annotated[int, Field(ge=1, le=255)] | None = None
    create: bool = False
    expect_master: bool | None = Field(
        default=None, description="Whether this device must be master after the change (default: the lab's data)")
    converge_within: _routing.Seconds = 10.0

    @model_validator(mode="after")
    def _fields_for_create_or_update(self) -> VrrpParams:
        if self.create and (self.interface is None or self.virtual_address is None or self.priority is None):
            raise ValueError("creating a VRRP instance needs interface, virtual_address and priority")
        if not self.create and self.priority is None and self.preempt is None and self.virtual_address is None \
                and self.advert_int is None:
            raise ValueError("give priority, preempt, virtual_address or advert_int")
        return self


def instance_block(running: str, name: str) -> list[str] | None:
    """The lines inside ``vrrp_instance NAME { … }`` (nested blocks included), or None."""
    lines = running.splitlines()
    for i, line in enumerate(lines):
        if re.fullmatch(rf"\s*vrrp_instance\s+{re.escape(name)}\s*\{{\s*", line):
            depth, body = 1, list[str]()
            for inner in lines[i + 1:]:
                depth += inner.count("{") - inner.count("}")
                if depth <= 0:
                    return body
                body.append(inner.rstrip())
            return body
    return None


def settings(body: list[str]) -> dict[str, Any]:
    """The keys of an instance block that this change type knows."""
    out: dict[str, Any] = {"preempt": True, "addresses": []}
    in_vip = False
    for line in body:
        words = line.split()
        if not words or words[0].startswith(("!", "#")):
            continue
        if in_vip:
            if words[0] == "}":
                in_vip = False
            else:
                out["addresses"].append(" ".join(words))
            continue
        if words[0] == "virtual_ipaddress":
            in_vip = True
        elif words[0] == "nopreempt":
            out["preempt"] = False
        elif len(words) == 2 and words[0] in ("state", "interface", "virtual_router_id", "priority", "advert_int"):
            out[words[0]] = words[1]
    return out


def vip_state(ctx: Context[Any], interface: str, address: ipaddress.IPv4Interface) -> bool:
    """Whether this device holds ``address`` on ``interface`` now."""
    return _routing.holds_address(ctx, interface, str(address.ip))


def edited_block(p: VrrpParams, body: list[str]) -> str:
    """The running block with the requested values changed, every other line kept as it is
    (authentication, tracking, notify scripts: what this type does not know, it does not drop)."""
    values = {"priority": p.priority, "advert_int": p.advert_int, "virtual_router_id": p.group}
    out: list[str] = []
    skip_vip = False
    depth = 0
    for line in body:
        words = line.split()
        if skip_vip:
            if words[:1] == ["}"]:
                skip_vip = False
            continue
        if depth == 0 and words and words[0] in values and values[words[0]] is not None:
            out.append(f"{line[:len(line) - len(line.lstrip())]}{words[0]} {values[words[0]]}")
        elif depth == 0 and words == ["nopreempt"] and p.preempt is True:
            continue
        elif depth == 0 and words[:1] == ["virtual_ipaddress"] and p.virtual_address is not None:
            pad = line[:len(line) - len(line.lstrip())]
            out += [f"{pad}virtual_ipaddress {{", f"{pad}    {p.virtual_address}", f"{pad}}}"]
            skip_vip = True
        else:
            out.append(line)
        depth += line.count("{") - line.count("}")
    if p.preempt is False and not any(line.strip() == "nopreempt" for line in out):
        out.append("    nopreempt")
    inner = "".join(f"{line}\n" for line in out)
    return f"vrrp_instance {p.instance} {{\n{inner}}}\n"


class Vrrp(ChangeType[VrrpParams]):
    name = "vrrp"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = _routing.ROUTING_ROLES
    syntaxes: ClassVar[frozenset[str]] = frozenset({"keepalived"})
    Params = VrrpParams

    def _current(self, ctx: Context[VrrpParams]) -> dict[str, Any] | None:
        body = instance_block(ctx.running, ctx.params.instance)
        return None if body is None else settings(body)

    def _merged(self, ctx: Context[VrrpParams]) -> dict[str, Any]:
        """The instance after the change: what runs, with the requested values."""
        p = ctx.params
        cur = self._current(ctx) or {"preempt": True, "addresses": [], "state": "BACKUP", "advert_int": "1"}
        new = dict(cur)
        new["virtual_router_id"] = str(p.group)
        if p.interface is not None:
            new["interface"] = p.interface
        if p.priority is not None:
            new["priority"] = str(p.priority)
        if p.advert_int is not None:
            new["advert_int"] = str(p.advert_int)
        if p.preempt is not None:
            new["preempt"] = p.preempt
        if p.virtual_address is not None:
            new["addresses"] = [str(p.virtual_address)]
        return new

    def _vip(self, ctx: Context[VrrpParams]) -> ipaddress.IPv4Interface | None:
        merged = self._merged(ctx)
        for text in merged.get("addresses", []):
            try:
                return ipaddress.IPv4Interface(text.split()[0])
            except ValueError:
                continue
        return None

    def pre_checks(self, ctx: Context[VrrpParams]) -> list[CheckResult]:
        p = ctx.params
        cur = self._current(ctx)
        if cur is None and not p.create:
            raise UnknownReference(f"vrrp_instance {p.instance!r} does not exist on {ctx.host}; set create: true")
        if cur is None:
            return [check(f"vrrp_instance {p.instance} is new", True)]
        checks = [check(f"vrrp_instance {p.instance} is group {p.group}", cur.get("virtual_router_id") == str(p.group),
                        f"virtual_router_id {cur.get('virtual_router_id')}")]
        vip = self._vip(ctx)
        interface = str(cur.get("interface", ""))
        if vip is not None and interface:
            name = f"VRRP group {p.group} has a live master"

            def live_master() -> CheckResult:
                assert vip is not None
                master = vip_state(ctx, interface, vip)
                detail = ("this device is master: it holds the virtual address (backups are silent by design)"
                          if master else
                          "this device is backup: the virtual address is held by the peer, whose adverts it hears")
                return check(name, master or self._vip_answers(ctx, vip) is not False, detail)

            checks.append(ctx.device_check(name, live_master))
        return checks

    def render(self, ctx: Context[VrrpParams]) -> str:
        body = instance_block(ctx.running, ctx.params.instance)
        if body is None:
            return render_template("vrrp/keepalived.j2", p=ctx.params, s=self._merged(ctx))
        return edited_block(ctx.params, body)

    def _vip_answers(self, ctx: Context[Any], vip: ipaddress.IPv4Interface) -> bool | None:
        probe = ctx.data.get("probe")
        if not isinstance(probe, dict) or "client_namespace" not in probe:
            return None
        from netchange.changetype.probes import tcp_probe

        return tcp_probe(str(probe["client_namespace"]), str(vip.ip), 9, refused_answers=True)

    def restored_checks(self, ctx: Context[VrrpParams]) -> list[CheckResult]:
        """After a rollback: the router's adjacencies, sessions, VRRP master and traffic as before."""
        if ctx.syntax not in ("frr", "keepalived"):
            return []
        return _routing.network_back(ctx, ctx.params.converge_within)

    def post_checks(self, ctx: Context[VrrpParams]) -> list[CheckResult]:
        p = ctx.params
        merged = self._merged(ctx)
        checks = [check(f"vrrp_instance {p.instance} runs priority {merged.get('priority')}",
                        (self._current(ctx) or {}).get("priority") == merged.get("priority"))]
        vip = self._vip(ctx)
        interface = str(merged.get("interface", ""))
        expect = p.expect_master
        vrrp = ctx.data.get("vrrp")
        if expect is None and isinstance(vrrp, dict) and vrrp.get("expected_master"):
            expect = vrrp["expected_master"] == ctx.host
        if vip is not None and interface and expect is not None:
            checks.append(_routing.vrrp_master_check(ctx, interface, str(vip.ip), expect, p.converge_within))
        if vip is not None:
            answers, took = _routing.wait_for(lambda: self._vip_answers(ctx, vip), lambda a: a is not False,
                                              p.converge_within)
            if answers is not None:
                checks.append(check(f"virtual address {vip.ip} answers from the client network", answers,
                                    f"after {took:.1f} s"))
        flow = _routing.flow_check(ctx, p.converge_within)
        if flow is not None:
            checks.append(flow)
        return checks
