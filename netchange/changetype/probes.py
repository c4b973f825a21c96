"""Flow probes for post-checks: does a NEW connection get through the firewall now?

A firewall keeps established connections alive after the rule that allowed them is gone
(``ct state established``), so a probe always opens a fresh connection, from the client side of
the firewall. In the lab the client side is a network namespace (``data.probe.client_namespace``
of the firewall host); the probe enters it with ``ip netns exec`` in a child process, so the
engine's own process never changes namespace.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
import sys

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_CONNECT = (
    "import socket, sys\n"
    "try:\n"
    "    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()\n"
    "except ConnectionRefusedError:\n"
    "    sys.exit(0 if sys.argv[4] == 'refused' else 1)\n"
    "except OSError:\n"
    "    sys.exit(1)\n"
)


def tcp_probe(namespace: str, host: str, port: int, timeout: float = 1.0, *, refused_answers: bool = False) -> bool:
    """``True`` when a new TCP connection from ``namespace`` to ``host:port`` opens within ``timeout``.

    A firewall that drops the SYN shows as a timeout, one that rejects as a refusal: both are
    ``False``. ``refused_answers``: a refusal (RST) is ``True`` too, for an address with no
    service behind it (a VRRP virtual address, probed on the discard port 9): it proves that
    something holds the address and answers; a timeout or an unreachable network does not.
    Bad arguments raise ``ValueError`` (nothing is run).
    """
    if not _NAMESPACE.match(namespace):
        raise ValueError(f"not a network namespace name: {namespace!r}")
    address = ipaddress.ip_address(host)
    if not 0 < port < 65536:
        raise ValueError(f"not a TCP port: {port}")
    try:
        proc = subprocess.run(
            ["ip", "netns", "exec", namespace, sys.executable, "-c", _CONNECT, str(address), str(port),
             str(timeout), "refused" if refused_answers else "closed"],
            capture_output=True, timeout=timeout + 10, check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    if proc.returncode not in (0, 1):
        detail = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"probe from {namespace} failed to run: {detail}")
    return proc.returncode == 0
