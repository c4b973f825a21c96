"""``dns_record``: add or remove one A, AAAA, CNAME or PTR record in a host's zones.

Names are DNS labels (letters, digits, hyphens; 1-63 characters each), relative to the host's
zone (``data.zone``) or absolute (ending in ``.``); addresses are parsed by ``ipaddress``. A PTR
record is named by its address: its owner is the address's reverse pointer. Pre-checks read the
zone as the plan saw it (``ctx.running``); post-checks ask the server itself, over DNS, on the
host's ``dns_port``.
"""

from __future__ import annotations

import ipaddress
import re
import time
from typing import Annotated, ClassVar, Literal

import dns.exception
import dns.message
import dns.query
import dns.rcode
from pydantic import AfterValidator, Field, model_validator

from netchange.authoring import check
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult
from netchange.vocabulary import Perimeter, Role

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def dns_name(value: str) -> str:
    """A host name: dot-separated labels; absolute when it ends with ``.``; at most 253 characters."""
    body = value[:-1] if value.endswith(".") else value
    if not body or len(body) > 253 or not all(_LABEL.fullmatch(label) for label in body.split(".")):
        raise ValueError(f"{value!r} is not a DNS name (labels of letters, digits and inner hyphens)")
    return value.lower()


DnsName = Annotated[str, AfterValidator(dns_name)]


class DnsRecordParams(StrictModel):
    action: Literal["add", "remove"] = "add"
    type: Literal["A", "AAAA", "CNAME", "PTR"]
    name: DnsName | None = Field(default=None, description="Owner (A, AAAA, CNAME); PTR uses address")
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    target: DnsName | None = Field(default=None, description="CNAME/PTR target")
    ttl: Annotated[int, Field(ge=60, le=86400)] = 300

    @model_validator(mode="after")
    def _fields_for_type(self) -> DnsRecordParams:
        t = self.type
        if t in ("A", "AAAA"):
            want = ipaddress.IPv4Address if t == "A" else ipaddress.IPv6Address
            if self.name is None or not isinstance(self.address, want) or self.target is not None:
                raise ValueError(f"type {t} needs name and an IPv{4 if t == 'A' else 6} address, no target")
        elif t == "CNAME":
            if self.name is None or self.target is None or self.address is not None:
                raise ValueError("type CNAME needs name and target, no address")
        elif self.address is None or self.target is None or self.name is not None:
            raise ValueError("type PTR needs address and target (its name is the address's reverse pointer)")
        return self


def _absolute(name: str, zone: str) -> str:
    return name if name.endswith(".") else f"{name}.{zone}"


def record_of(p: DnsRecordParams, zone: str) -> tuple[str, str, str]:
    """(owner, type, data) with absolute names, as the bind driver's record lines show them."""
    if p.type == "PTR":
        assert p.address is not None
        assert p.target is not None
        return p.address.reverse_pointer + ".", "PTR", _absolute(p.target, zone)
    assert p.name is not None
    owner = _absolute(p.name, zone)
    if p.type == "CNAME":
        assert p.target is not None
        return owner, "CNAME", _absolute(p.target, zone)
    return owner, p.type, str(p.address)


def _records(running: str) -> list[tuple[str, str, str]]:
    """Record lines ``name ttl IN type data`` → (name, type, data)."""
    out = []
    for line in running.splitlines():
        fields = line.split(None, 4)
        if len(fields) == 5:
            out.append((fields[0].lower(), fields[3].upper(), fields[4]))
    return out


class DnsRecord(ChangeType[DnsRecordParams]):
    name = "dns_record"
    perimeter = Perimeter.DNS
    roles: ClassVar[frozenset[Role]] = frozenset({Role.DNS})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"bind"})
    Params = DnsRecordParams

    def render(self, ctx: Context[DnsRecordParams]) -> str:
        owner, rdtype, data = record_of(ctx.params, str(ctx.data["zone"]))
        if ctx.params.action == "add":
            return f"add {owner} {ctx.params.ttl} IN {rdtype} {data}\n"
        return f"delete {owner} IN {rdtype} {data}\n"

    def pre_checks(self, ctx: Context[DnsRecordParams]) -> list[CheckResult]:
        p = ctx.params
        owner, rdtype, data = record_of(p, str(ctx.data["zone"]))
        records = _records(ctx.running)
        at_owner = {(t, d) for n, t, d in records if n == owner}
        exists = (rdtype, data.lower()) in {(t, d.lower()) for t, d in at_owner}
        zones = [z for z in (ctx.data.get("zone"), ctx.data.get("reverse_zone")) if z]
        in_zone = any(owner == z or owner.endswith("." + str(z)) for z in zones)
        checks = [
            check(f"{owner} is in a zone of this server", in_zone, f"zones: {', '.join(map(str, zones))}")
        ]
        if p.action == "remove":
            checks.append(check(f"{owner} {rdtype} {data} exists", exists))
            return checks
        checks.append(check(f"{owner} {rdtype} {data} is not there yet", not exists))
        if rdtype == "CNAME":
            other = sorted(t for t, _ in at_owner)
            checks.append(
                check(f"{owner} holds no other record", not other, f"holds {other}" if other else "")
            )
        else:
            cname = any(t == "CNAME" for t, _ in at_owner)
            checks.append(check(f"{owner} is not a CNAME", not cname))
        return checks

    def post_checks(self, ctx: Context[DnsRecordParams]) -> list[CheckResult]:
        p = ctx.params
        owner, rdtype, data = record_of(p, str(ctx.data["zone"]))
        server = str(ctx.data.get("dns_server") or getattr(ctx.driver, "hostname", "127.0.0.1"))
        port = int(ctx.data.get("dns_port") or 53)
        answers = _query(server, port, owner, rdtype)
        present = data.lower() in {a.lower() for a in answers}
        want = p.action == "add"
        name = f"{server}:{port} answers {owner} {rdtype} {'with' if want else 'without'} {data}"
        return [check(name, present == want, f"answer: {', '.join(answers) or 'none'}")]


def _query(server: str, port: int, owner: str, rdtype: str, tries: int = 3) -> list[str]:
    """The data the server answers for (owner, type); empty on NXDOMAIN or no data."""
    query = dns.message.make_query(owner, rdtype)
    for attempt in range(tries):
        try:
            response = dns.query.udp(query, server, port=port, timeout=1.0)
        except (dns.exception.DNSException, OSError):
            time.sleep(0.1 * (attempt + 1))
            continue
        if response.rcode() != dns.rcode.NOERROR:
            return []
        return [
            rdata.to_text()
            for rrset in response.answer
            if rrset.rdtype == query.question[0].rdtype
            for rdata in rrset
        ]
    return []
