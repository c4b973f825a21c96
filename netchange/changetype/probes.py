"""Flow probes for post-checks: does a NEW connection get through the firewall now? Which way
does a flow leave (the hops a traced flow meets)?

A firewall keeps established connections alive after the rule that allowed them is gone
(``ct state established``), so a probe always opens a fresh connection, from the client side of
the firewall. In the lab the client side is a network namespace (``data.probe.client_namespace``
of the firewall host); the probe enters it with ``ip netns exec`` in a child process, so the
engine's own process never changes namespace.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    source = (sys.argv[5], 0) if len(sys.argv) > 5 else None\n"
    "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]),\n"
    "                             source_address=source).close()\n"
    "except ConnectionRefusedError:\n"
    "    sys.exit(0 if sys.argv[4] == 'refused' else 1)\n"
    "except OSError:\n"
    "    sys.exit(1)\n"
)


def tcp_probe(namespace: str, host: str, port: int, timeout: float = 1.0, *, refused_answers: bool = False,
              source: str | None = None) -> bool:
    """``True`` when a new TCP connection from ``namespace`` to ``host:port`` opens within ``timeout``.

    A firewall that drops the SYN shows as a timeout, one that rejects as a refusal: both are
    ``False``. ``refused_answers``: a refusal (RST) is ``True`` too, for an address with no
    service behind it (a VRRP virtual address, probed on the discard port 9): it proves that
    something holds the address and answers; a timeout or an unreachable network does not.
    ``source``: the client's own address to send from (a client with one address per path).
    Bad arguments raise ``ValueError`` (nothing is run).
    """
    if not _NAMESPACE.match(namespace):
        raise ValueError(f"not a network namespace name: {namespace!r}")
    address = ipaddress.ip_address(host)
    if not 0 < port < 65536:
        raise ValueError(f"not a TCP port: {port}")
    sources = [str(ipaddress.ip_address(source))] if source is not None else []
    try:
        proc = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", _CONNECT, str(address), str(port),
             str(timeout), "refused" if refused_answers else "closed", *sources],
            capture_output=True, timeout=timeout + 10, check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    if proc.returncode not in (0, 1):
        detail = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"probe from {namespace} failed to run: {detail}")
    return proc.returncode == 0


# A traced flow, as tracepath does it (no raw socket, no extra package): UDP datagrams with a
# growing TTL on a socket with IP_RECVERR; the kernel queues each ICMP "time exceeded" on the
# socket's error queue with the address of the hop that sent it (struct sock_extended_err, then
# the offender's sockaddr_in).
_TRACE = (
    "import json, socket, struct, sys, time\n"
    "dst, ttls, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])\n"
    "source = sys.argv[4] if len(sys.argv) > 4 else ''\n"
    "hops = []\n"
    "for ttl in range(1, ttls + 1):\n"
    "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "    s.bind((source, 0))\n"
    "    s.setsockopt(socket.IPPROTO_IP, 11, 1)  # IP_RECVERR\n"
    "    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)\n"
    "    s.sendto(b'netchange trace', (dst, 33434 + ttl))\n"
    "    hop, end = None, time.monotonic() + wait\n"
    "    while hop is None and time.monotonic() < end:\n"
    "        try:\n"
    "            _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)\n"
    "        except BlockingIOError:\n"
    "            time.sleep(0.01)\n"
    "            continue\n"
    "        for level, kind, data in anc:\n"
    "            if level == socket.IPPROTO_IP and kind == 11 and len(data) >= 24:\n"
    "                hop = socket.inet_ntoa(data[20:24])\n"
    "    s.close()\n"
    "    hops.append(hop)\n"
    "print(json.dumps(hops))\n"
)


def trace_hops(namespace: str, destination: str, hops: int = 3, wait: float = 1.0, *,
               source: str | None = None) -> list[str | None]:
    """The first ``hops`` routers a flow from ``namespace`` to ``destination`` meets, in order
    (``None`` for a hop that did not answer within ``wait`` seconds).

    Each router answers a datagram whose TTL runs out with an ICMP error from its own address:
    the address of the second hop says which way the first router sent the flow. ``source``:
    the address to send from (a client with one address per path). Bad arguments raise
    ``ValueError`` (nothing is run).
    """
    if not _NAMESPACE.match(namespace):
        raise ValueError(f"not a network namespace name: {namespace!r}")
    address = ipaddress.ip_address(destination)
    if not 0 < hops <= 16 or not 0 < wait <= 10:
        raise ValueError("hops must be 1-16 and wait 0-10 s")
    sources = [str(ipaddress.ip_address(source))] if source is not None else []
    proc = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", _TRACE, str(address),
                           str(hops), str(wait), *sources], capture_output=True, text=True, timeout=hops * wait + 10,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"trace from {namespace} failed to run: {proc.stderr.strip()[-200:]}")
    found = json.loads(proc.stdout)
    return [str(h) if h is not None else None for h in found]
