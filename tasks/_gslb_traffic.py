"""Watching traffic move between centres: the global load balancer's answers, and the centres' own
connection counters.

Why both: the answers say where *new* clients are sent; the counters of the centres' HAProxy say
where clients actually arrive, and that a client already connected to a drained centre is still
served while no new one comes (a drain must not cut sessions).

Points of view: gdnsd's weighted plugin does not look at the client, but a resolver does not know
that, and a future geoip map would. So each sample is asked from several resolvers' points of
view: each its own source address on the loopback (``127.0.0.2`` …) and its own EDNS client subnet
(RFC 7871), and every point of view must match the intended shares on its own.
"""

from __future__ import annotations

import http.client
import ipaddress
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dns.edns
import dns.exception
import dns.message
import dns.query
import dns.rdatatype

from netchange.drivers.haproxy import HaproxyDriver

VIEWS: tuple[tuple[str, str], ...] = (
    ("127.0.0.2", "192.0.2.0/24"),
    ("127.0.0.3", "198.51.100.0/24"),
    ("127.0.0.4", "203.0.113.0/24"),
)
"""(source address, EDNS client subnet) of each resolver whose point of view is sampled."""


@dataclass(frozen=True)
class Sample:
    """The answers one point of view got: address → how many of ``queries`` answers held it."""

    view: str
    queries: int
    counts: Mapping[str, int]

    def share(self, address: str) -> float:
        return self.counts.get(address, 0) / self.queries if self.queries else 0.0


def ask(server: str, port: int, name: str, *, source: str, subnet: str, timeout: float = 1.0) -> list[str]:
    """The A records of ``name`` as one resolver (``source``, ``subnet``) gets them."""
    net = ipaddress.ip_network(subnet)
    query = dns.message.make_query(name, "A", use_edns=0,
                                   options=[dns.edns.ECSOption(str(net.network_address), net.prefixlen)])
    reply = dns.query.udp(query, server, port=port, timeout=timeout, source=source)
    return [rr.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for rr in rrset]


def sample(server: str, port: int, name: str, queries: int) -> list[Sample]:
    """``queries`` questions from each point of view (:data:`VIEWS`)."""
    out = []
    for source, subnet in VIEWS:
        counts: Counter[str] = Counter()
        for _ in range(queries):
            try:
                counts.update(ask(server, port, name, source=source, subnet=subnet))
            except (dns.exception.DNSException, OSError):
                counts.update(["(no answer)"])
        out.append(Sample(f"{source} ({subnet})", queries, counts))
    return out


def mismatch(samples: list[Sample], expected: Mapping[str, float], tolerance: float) -> list[str]:
    """What differs from the ``expected`` shares (address → fraction): an address expected at 0
    must never be answered; any other share must be within ``tolerance``."""
    wrong = []
    for s in samples:
        for address in sorted(set(expected) | set(s.counts)):
            want, got = expected.get(address, 0.0), s.share(address)
            if (want == 0.0 and got > 0) or abs(got - want) > tolerance:
                wrong.append(f"{s.view}: {address} {got:.0%} (intended {want:.0%})")
    return wrong


def settle(check: Callable[[], list[str]], within: float) -> tuple[list[str], float]:
    """Run ``check`` until it finds nothing wrong or ``within`` seconds pass: (last findings, seconds)."""
    start = time.monotonic()
    while True:
        wrong = check()
        elapsed = time.monotonic() - start
        if not wrong or elapsed > within:
            return wrong, elapsed
        time.sleep(0.2)


def sessions(stats: str, frontend: str, listener: str) -> int:
    """The total sessions (``stot``) a centre's HAProxy has accepted on the frontend's ``listener``
    (the clients' bind, not the monitor's), from its runtime API."""
    host, _, port = stats.rpartition(":")
    driver = HaproxyDriver(host, "", "", optional_args={"port": int(port)})
    csv = driver.cli(["show stat"])["show stat"]
    header = csv.splitlines()[0].lstrip("# ").split(",")
    column = header.index("stot")
    for line in csv.splitlines()[1:]:
        fields = line.split(",")
        if fields[:2] == [frontend, listener]:
            return int(fields[column])
    raise ValueError(f"no listener {frontend}/{listener} in {stats}'s statistics")


class HeldClient:
    """A client already connected to a centre (it resolved before the drain, its TTL not out):
    one HTTP/1.1 keep-alive connection, asked again later on the same socket."""

    def __init__(self, address: str, port: int) -> None:
        self.conn = http.client.HTTPConnection(address, port, timeout=3)
        self.first = self.get()
        self.sock = self.conn.sock

    def get(self) -> int:
        self.conn.request("GET", "/", headers={"Connection": "keep-alive"})
        response = self.conn.getresponse()
        response.read()
        return response.status

    def again(self) -> tuple[int, bool]:
        """(status of a second request, whether it went over the same connection)."""
        status = self.get()
        return status, self.conn.sock is self.sock and self.sock is not None

    def close(self) -> None:
        self.conn.close()


def new_clients(server: str, port: int, name: str, service_port: int, count: int) -> Counter[str]:
    """``count`` new clients: each resolves ``name`` (points of view in turn) and asks the address
    it got; address → clients served (HTTP 200)."""
    served: Counter[str] = Counter()
    for i in range(count):
        source, subnet = VIEWS[i % len(VIEWS)]
        try:
            address = ask(server, port, name, source=source, subnet=subnet)[0]
            conn = http.client.HTTPConnection(address, service_port, timeout=3)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                served[address] += 1
            conn.close()
        except (dns.exception.DNSException, OSError, IndexError, http.client.HTTPException):
            served["(failed)"] += 1
    return served
