"""``lb_member``: add, remove, drain, enable or re-weight one server of a load-balancer backend.

Pre-check: after the change the backend still has a server that is up, ready and weighted, so a
member change never empties a pool. Post-checks: the runtime state shows the change, and a new
request through the frontend is served (by the new member itself when the lab's members answer
their own name: ``data.member_echo``).
"""

from __future__ import annotations

import ipaddress
import time
import urllib.error
import urllib.request
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.drivers.haproxy import Server, parse_state
from netchange.models import CheckResult, SafeName
from netchange.vocabulary import Perimeter, Role

Action = Literal["add", "remove", "drain", "enable", "weight"]


class LbMemberParams(StrictModel):
    action: Action
    backend: SafeName
    server: SafeName
    address: ipaddress.IPv4Address | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    weight: Annotated[int, Field(ge=0, le=256)] | None = None

    @model_validator(mode="after")
    def _fields_for_action(self) -> LbMemberParams:
        if self.action == "add" and (self.address is None or self.port is None):
            raise ValueError("action add needs address and port")
        if self.action == "weight" and self.weight is None:
            raise ValueError("action weight needs weight")
        if self.action not in ("add", "weight") and self.weight is not None:
            raise ValueError(f"action {self.action} takes no weight")
        if self.action != "add" and (self.address is not None or self.port is not None):
            raise ValueError(f"action {self.action} takes no address or port (only add does)")
        return self


def _servers(running: str, backend: str) -> dict[str, Server] | None:
    section = parse_state(running).get(f"backend {backend}") or parse_state(running).get(f"listen {backend}")
    return None if section is None else section.servers


def _health(show: str) -> dict[str, bool]:
    """``show servers state`` → server name → operationally up (srv_op_state 2)."""
    out = {}
    for line in show.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 5 and not line.startswith("#"):
            out[fields[3]] = fields[5] == "2"
    return out


def _after(servers: dict[str, Server], p: LbMemberParams) -> dict[str, Server]:
    """The backend's servers as the change leaves them (the new one is not counted: not proven yet)."""
    result = dict(servers)
    current = result.get(p.server)
    if current is None:
        return result
    if p.action == "remove":
        del result[p.server]
    elif p.action == "drain":
        result[p.server] = Server(current.name, current.address, current.port, current.weight, "drain")
    elif p.action == "enable":
        result[p.server] = Server(current.name, current.address, current.port, current.weight, "ready")
    elif p.action == "weight" and p.weight is not None:
        result[p.server] = Server(current.name, current.address, current.port, p.weight, current.state)
    return result


class LbMember(ChangeType[LbMemberParams]):
    name = "lb_member"
    perimeter = Perimeter.LOAD_BALANCING
    roles: ClassVar[frozenset[Role]] = frozenset({Role.LOAD_BALANCER})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"haproxy"})
    Params = LbMemberParams

    def pre_checks(self, ctx: Context[LbMemberParams]) -> list[CheckResult]:
        p = ctx.params
        servers = _servers(ctx.running, p.backend)
        if servers is None:
            return [check(f"backend {p.backend} exists", False, "not in the running configuration")]
        checks = [check(f"backend {p.backend} exists", True)]
        if p.action == "add":
            taken = [s.name for s in servers.values() if (s.address, s.port) == (str(p.address), p.port)]
            checks.append(check(f"server {p.server} is not in {p.backend} yet", p.server not in servers))
            checks.append(
                check(
                    f"{p.address}:{p.port} is not served already",
                    not taken,
                    ", ".join(taken) and f"by {taken}",
                )
            )
        else:
            checks.append(check(f"server {p.server} is in {p.backend}", p.server in servers))
        name = f"{p.backend} keeps at least one server up"

        def keeps_one_up() -> CheckResult:
            # Health moves on its own: only the live load balancer knows it (not run offline).
            health = _health(ctx.show(f"show servers state {p.backend}"))
            serving = sorted(
                s.name
                for s in _after(servers, p).values()
                if s.state == "ready" and s.weight > 0 and health.get(s.name)
            )
            return check(name, bool(serving), f"serving after the change: {', '.join(serving) or 'none'}")

        checks.append(ctx.device_check(name, keeps_one_up))
        return checks

    def post_checks(self, ctx: Context[LbMemberParams]) -> list[CheckResult]:
        p = ctx.params
        servers = _servers(ctx.running, p.backend) or {}
        srv = servers.get(p.server)
        if p.action == "remove":
            state_ok, detail = srv is None, "absent" if srv is None else srv.line()
        elif srv is None:
            state_ok, detail = False, "absent"
        else:
            expected = {"add": "ready", "enable": "ready", "drain": "drain"}.get(p.action, srv.state)
            state_ok = srv.state == expected and (p.weight is None or srv.weight == p.weight)
            if p.action == "add":
                state_ok = state_ok and (srv.address, srv.port) == (str(p.address), p.port)
            detail = srv.line()
        checks = [check(f"runtime state shows {p.action} of {p.backend}/{p.server}", state_ok, detail)]
        url = ctx.data.get("frontend_url")
        if url:
            want = p.server if p.action in ("add", "enable") and ctx.data.get("member_echo") else None
            checks.append(_served(str(url), want, tries=2 * (len(servers) + 1), within=4.0))
        return checks


def _served(url: str, member: str | None, *, tries: int, within: float) -> CheckResult:
    """New requests through the frontend succeed (and, with ``member``, one is served by it)."""
    deadline = time.monotonic() + within
    seen: list[str] = []
    while True:
        for _ in range(tries):
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - URL from the inventory
                    body = response.read(200).decode(errors="replace").strip()
                    status = response.status
            except (urllib.error.URLError, OSError) as exc:
                seen.append(f"error {exc}")
                continue
            seen.append(body if status == 200 else f"HTTP {status}")
            if status == 200 and (member is None or body == member):
                what = f"served by {body}" if member else f"HTTP 200 ({body[:40]})"
                return check(
                    f"a request through {url} is served" + (f" by {member}" if member else ""), True, what
                )
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    name = f"a request through {url} is served" + (f" by {member}" if member else "")
    return check(name, False, f"answers: {', '.join(seen[-6:])}")
