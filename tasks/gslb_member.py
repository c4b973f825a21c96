"""``gslb_member``: add, remove, re-weight, re-prioritise, drain or bring back one centre of the
global load balancer.

The global load balancer (gdnsd, docs/load-sharing.md) answers a service name with the centres
that are up: by weight (a weighted resource), or the first up in priority order (a failover one).
Moving clients between centres is among the riskiest changes an operations team makes, so this
change type watches the traffic move rather than trusting the configuration:

- pre-check (live): after the change another centre still serves: the load balancer's own monitor
  sees it up and its HAProxy answers now; a drain never sends every client to a centre that is down.
- post-checks: the managed state shows the change; the name's answers, asked ``queries`` times from
  each of several resolvers' points of view (source address and EDNS client subnet), match the
  intended shares within ``tolerance`` (a drained centre: never); on a drain, new clients following
  the answers reach only the other centres (the drained centre's client listener counts no new
  session) while a client already connected to it is still served on its connection; on a return,
  new clients reach the centre again.
- restored checks: after a rollback, the answers match the restored weights again.

The traffic checks need the inventory's ``data``: ``dns_port``, ``service_name`` (or ``names``:
resource → name), ``service_port`` and ``centres`` (per centre: ``address``, ``stats`` (its
HAProxy runtime API), ``frontend`` and ``listener``); without them only the state is checked.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.drivers.gdnsd import MAX_PRIORITY, MAX_WEIGHT, Member, Resource, ordered, parse_state
from netchange.models import CheckResult, SafeName
from netchange.tasks import _gslb_traffic as traffic
from netchange.vocabulary import Perimeter, Role

Action = Literal["add", "remove", "weight", "priority", "drain", "enable"]
CentreName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")]
SETTLE_WITHIN = 8.0
"""Seconds the answers may take to match (gdnsd applies a drain within ~2 s, a replace at once)."""
NEW_CLIENTS = 12


class GslbMemberParams(StrictModel):
    action: Action
    resource: SafeName
    centre: CentreName
    address: ipaddress.IPv4Address | None = None
    weight: Annotated[int, Field(ge=1, le=MAX_WEIGHT)] | None = None
    """A weighted resource's share (add, weight)."""
    priority: Annotated[int, Field(ge=1, le=MAX_PRIORITY)] | None = None
    """A failover resource's place, 1 first (add, priority)."""
    queries: Annotated[int, Field(ge=50, le=2000)] = 200
    """Questions asked from each point of view by the post-check."""
    tolerance: Annotated[float, Field(ge=0.02, le=0.5)] = 0.12
    """How far an observed share may be from the intended one (a drained centre: never answered)."""

    @model_validator(mode="after")
    def _fields_for_action(self) -> GslbMemberParams:
        if self.action == "add" and self.address is None:
            raise ValueError("action add needs address")
        if self.action == "weight" and self.weight is None:
            raise ValueError("action weight needs weight")
        if self.action == "priority" and self.priority is None:
            raise ValueError("action priority needs priority")
        if self.action not in ("add", "weight") and self.weight is not None:
            raise ValueError(f"action {self.action} takes no weight")
        if self.action not in ("add", "priority") and self.priority is not None:
            raise ValueError(f"action {self.action} takes no priority")
        if self.weight is not None and self.priority is not None:
            raise ValueError("give a weight (weighted resource) or a priority (failover resource), not both")
        if self.action != "add" and self.address is not None:
            raise ValueError(f"action {self.action} takes no address (only add does)")
        return self


def _members(running: str, resource: str) -> dict[str, Member] | None:
    res = parse_state(running).get(resource)
    return None if res is None else res.members


def _is_failover(members: dict[str, Member]) -> bool:
    return any(m.priority for m in members.values())


def _after(members: dict[str, Member], p: GslbMemberParams) -> dict[str, Member]:
    """The resource's centres as the change leaves them (a new centre is not counted: not proven yet)."""
    out = dict(members)
    current = out.get(p.centre)
    if current is None:
        return out
    if p.action == "remove":
        del out[p.centre]
    elif p.action in ("drain", "enable"):
        out[p.centre] = Member(current.name, current.address, current.weight, "drain" if p.action == "drain" else "up")
    elif p.action == "weight" and p.weight is not None:
        out[p.centre] = Member(current.name, current.address, p.weight, current.state, current.priority)
    return out


def _monitor_up(states: dict[str, Any], address: str) -> bool:
    """Whether the load balancer's own monitor sees ``address`` up (``real_state``, not forced)."""
    found = [v for key, v in states.items() if key.split("/", 1)[0] == address]
    return bool(found) and all(str(v.get("real_state", "")).startswith("UP") for v in found)


def _answers_http(address: str, port: int) -> bool:
    try:
        conn = http.client.HTTPConnection(address, port, timeout=2)
        conn.request("GET", "/")
        ok = conn.getresponse().status == 200
        conn.close()
    except (OSError, http.client.HTTPException):
        return False
    return ok


def intended_shares(members: dict[str, Member], states: dict[str, Any]) -> dict[str, float]:
    """Address → the share of answers gdnsd should give it: configured weight over the serving
    centres' (not drained, monitor up); with none serving, gdnsd answers all by weight (fail open).
    A failover resource: the first serving centre in priority order alone (none: the first)."""
    if _is_failover(members):
        line = ordered(Resource("", "", members))
        first = next((m for m in line if m.state == "up" and _monitor_up(states, m.address)), line[0])
        return {first.address: 1.0}
    serving = {m.address: m.weight for m in members.values() if m.state == "up" and _monitor_up(states, m.address)}
    if not serving:
        serving = {m.address: m.weight for m in members.values()}
    total = sum(serving.values())
    return {address: weight / total for address, weight in serving.items()}


class GslbMember(ChangeType[GslbMemberParams]):
    name = "gslb_member"
    perimeter = Perimeter.LOAD_BALANCING
    roles: ClassVar[frozenset[Role]] = frozenset({Role.LOAD_BALANCER})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"gdnsd"})
    Params = GslbMemberParams

    def pre_checks(self, ctx: Context[GslbMemberParams]) -> list[CheckResult]:
        p = ctx.params
        members = _members(ctx.running, p.resource)
        if members is None:
            return [check(f"resource {p.resource} exists", False, "not among the weighted resources")]
        checks = [check(f"resource {p.resource} exists", True)]
        failover = _is_failover(members)
        if (failover and p.weight is not None) or (not failover and p.priority is not None):
            kind = "a failover resource: give a priority" if failover else "a weighted resource: give a weight"
            checks.append(check(f"{p.resource} takes a {'priority' if failover else 'weight'}", False,
                                f"{p.resource} is {kind}"))
        if p.action == "add":
            taken = sorted(m.name for m in members.values() if m.address == str(p.address))
            checks.append(check(f"centre {p.centre} is not in {p.resource} yet", p.centre not in members))
            checks.append(check(f"{p.address} is not answered already", not taken, ", ".join(taken) and f"by {taken}"))
        else:
            checks.append(check(f"centre {p.centre} is in {p.resource}", p.centre in members))
        name = f"another centre of {p.resource} is healthy and serves after the change"

        def another_serves() -> CheckResult:
            # Health moves on its own: the monitor's view and the centre's HAProxy, asked now.
            states = json.loads(ctx.show("states") or "{}")
            centres = ctx.data.get("centres") or {}
            serving = []
            for m in _after(members, p).values():
                if m.state != "up" or (p.action in ("drain", "remove") and m.name == p.centre):
                    continue
                if not _monitor_up(states, m.address):
                    continue
                centre = centres.get(m.name)
                if centre and not _answers_http(str(centre["address"]), int(centre["port"])):
                    continue
                serving.append(m.name)
            return check(name, bool(serving), f"healthy and serving after the change: {', '.join(serving) or 'none'}")

        checks.append(ctx.device_check(name, another_serves))
        return checks

    def post_checks(self, ctx: Context[GslbMemberParams]) -> list[CheckResult]:
        p = ctx.params
        members = _members(ctx.running, p.resource) or {}
        m = members.get(p.centre)
        if p.action == "remove":
            ok, detail = m is None, "absent" if m is None else m.line()
        elif m is None:
            ok, detail = False, "absent"
        else:
            want = {"drain": "drain", "enable": "up", "add": "up"}.get(p.action, m.state)
            ok = m.state == want and (p.weight is None or m.weight == p.weight)
            ok = ok and (p.priority is None or m.priority == p.priority)
            ok = ok and (p.action != "add" or m.address == str(p.address))
            detail = m.line()
        checks = [check(f"the load balancer shows {p.action} of {p.resource}/{p.centre}", ok, detail)]
        if not _has_traffic_data(ctx.data):
            return checks
        checks.append(_answers_match(ctx, members))
        centres = ctx.data["centres"]
        if p.action == "drain" and p.centre in centres:
            checks.append(_drained_gets_no_new_client(ctx, p.centre))
        elif p.action in ("enable", "add") and p.centre in centres:
            checks.append(_back_gets_new_clients(ctx, p.centre))
        return checks

    def restored_checks(self, ctx: Context[GslbMemberParams]) -> list[CheckResult]:
        if not _has_traffic_data(ctx.data):
            return []
        return [_answers_match(ctx, _members(ctx.running, ctx.params.resource) or {})]


def _name(ctx: Context[GslbMemberParams]) -> str:
    """The service name of the change's resource (``data.names``), else ``data.service_name``."""
    return str((ctx.data.get("names") or {}).get(ctx.params.resource, ctx.data["service_name"]))


def _has_traffic_data(data: dict[str, Any]) -> bool:
    return all(key in data for key in ("dns_port", "service_name", "service_port", "centres"))


def _answers_match(ctx: Context[GslbMemberParams], members: dict[str, Member]) -> CheckResult:
    p, data = ctx.params, ctx.data
    server, port, name = str(data.get("dns_server", "127.0.0.1")), int(data["dns_port"]), _name(ctx)
    views = len(traffic.VIEWS)

    def wrong() -> list[str]:
        expected = intended_shares(members, json.loads(ctx.show("states") or "{}"))
        return traffic.mismatch(traffic.sample(server, port, name, p.queries), expected, p.tolerance)

    findings, seconds = traffic.settle(wrong, SETTLE_WITHIN)
    what = (f"answers of {name} from {views} resolvers' points of view match the intended weights "
            f"within {p.tolerance:.0%} over {p.queries} queries each")
    if findings:
        return check(what, False, f"after {seconds:.1f} s: " + "; ".join(findings[:4]))
    return check(what, True, f"matched after {seconds:.1f} s")


def _drained_gets_no_new_client(ctx: Context[GslbMemberParams], centre: str) -> CheckResult:
    """A client already on the drained centre keeps being served; new clients go elsewhere."""
    data = ctx.data
    drained = data["centres"][centre]
    name = f"{centre} gets no new client while a client already on it is still served"
    try:
        held = traffic.HeldClient(str(drained["address"]), int(drained["port"]))
    except (OSError, http.client.HTTPException) as exc:
        return check(name, False, f"cannot hold a connection to {centre}: {exc}")
    try:
        before = traffic.sessions(str(drained["stats"]), str(drained["frontend"]), str(drained["listener"]))
        served = traffic.new_clients(str(data.get("dns_server", "127.0.0.1")), int(data["dns_port"]),
                                     _name(ctx), int(data["service_port"]), NEW_CLIENTS)
        after = traffic.sessions(str(drained["stats"]), str(drained["frontend"]), str(drained["listener"]))
        status, same = held.again()
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return check(name, False, f"{type(exc).__name__}: {exc}")
    finally:
        held.close()
    elsewhere = sum(n for address, n in served.items() if address not in (drained["address"], "(failed)"))
    ok = after == before and elsewhere == NEW_CLIENTS and status == 200 and same
    return check(name, ok, f"{NEW_CLIENTS} new clients served by {dict(served)}; {centre}'s new sessions "
                           f"+{after - before}; the held client: HTTP {status}"
                           f"{' on the same connection' if same else ' on a NEW connection'}")


def _back_gets_new_clients(ctx: Context[GslbMemberParams], centre: str) -> CheckResult:
    """New clients following the answers reach the centre again (its own counters say so)."""
    data = ctx.data
    back = data["centres"][centre]
    name = f"new clients reach {centre} again"
    try:
        before = traffic.sessions(str(back["stats"]), str(back["frontend"]), str(back["listener"]))
        served = traffic.new_clients(str(data.get("dns_server", "127.0.0.1")), int(data["dns_port"]),
                                     _name(ctx), int(data["service_port"]), 2 * NEW_CLIENTS)
        after = traffic.sessions(str(back["stats"]), str(back["frontend"]), str(back["listener"]))
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return check(name, False, f"{type(exc).__name__}: {exc}")
    reached = served.get(str(back["address"]), 0)
    ok = reached > 0 and after - before >= reached and "(failed)" not in served
    return check(name, ok, f"{2 * NEW_CLIENTS} new clients served by {dict(served)}; {centre}'s new sessions "
                           f"+{after - before}")
