"""Load balancers: one HAProxy per site in master-worker mode, with tiny HTTP members.

Each site gets ``$root/haproxy-<site>/``: ``haproxy.cfg``, the master socket, the admin unix
socket, logs, and one directory per HTTP member whose ``index.html`` holds the member's name, so
that a request through the frontend says which member served it. The backend starts with
``web1`` and ``web2``; ``web3`` runs but is not in the backend, ready for a test to add it.

The runtime API listens on 127.0.0.1 TCP at ``level admin`` with no authentication, which is why
it never binds anywhere but loopback.
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from functools import partial
from pathlib import Path

from netchange.lab.component import LabContext, LabHost
from netchange.lab.spawn import alive, free_port, start, tcp_open, wait_until

SITES = ("doif", "doso")
SOCKET_PATH_MAX = 96
"""HAProxy's longest master socket path, less a margin (its message: "too long (max 97)")."""
BACKEND = "be_web"
FRONTEND = "fe_web"
MEMBERS = ("web1", "web2", "web3")
IN_BACKEND = ("web1", "web2")
SERVICE_ADDRESSES = {"doif": "127.0.1.80", "doso": "127.0.2.80"}
"""Each centre's public service address, as the global load balancer (lab/gslb.py) answers it: one
address per centre on the same port, as two data centres' VIPs would be. Loopback addresses
(127.0.0.0/8 is local on ``lo``), so nothing listens beyond this machine."""


def host_name(site: str) -> str:
    return f"lb-{site}"


def render_config(*, admin_port: int, admin_socket: Path, frontend_port: int, members: dict[str, int],
                  service: str | None = None, health: str | None = None) -> str:
    """The site's haproxy.cfg. Short health checks so that a dead member shows within ~1 s.
    ``service``: the centre's service address ``ADDR:PORT``, a second bind of the frontend, and
    ``health`` the same address on the port the global load balancer's monitor asks: apart, so
    that the ``service`` listener's own counters (``option socket-stats``) count clients only."""
    servers = "".join(
        f"    server {name} 127.0.0.1:{port} weight 1 check\n"
        for name, port in members.items()
        if name in IN_BACKEND
    )
    return (
        "global\n"
        f"    stats socket 127.0.0.1:{admin_port} level admin\n"
        f"    stats socket {admin_socket} mode 600 level admin\n"
        "    log stderr format short local0 notice\n"
        "\n"
        "defaults\n"
        "    mode http\n"
        "    log global\n"
        "    timeout connect 2s\n"
        "    timeout client 10s\n"
        "    timeout server 10s\n"
        "    default-server inter 500ms fall 2 rise 1\n"
        "\n"
        f"frontend {FRONTEND}\n"
        f"    bind 127.0.0.1:{frontend_port}\n"
        + (f"    bind {service} name service\n    bind {health} name health\n    option socket-stats\n"
           if service and health else "")
        + f"    default_backend {BACKEND}\n"
        "\n"
        f"backend {BACKEND}\n"
        "    balance roundrobin\n"
        f"{servers}"
    )


def service_endpoint(config: str, name: str = "service") -> tuple[str, int] | None:
    """The centre's service address and port from its haproxy.cfg (the bind named ``name``:
    ``service`` for clients, ``health`` for the global load balancer's monitor)."""
    for line in config.splitlines():
        words = line.split()
        if words[:1] == ["bind"] and words[2:4] == ["name", name]:
            address, _, port = words[1].rpartition(":")
            return address, int(port)
    return None


def admin_port(config: str) -> int:
    """The runtime API's TCP port from a haproxy.cfg the lab wrote."""
    return int(config.split("stats socket 127.0.0.1:", 1)[1].split(maxsplit=1)[0])


def runtime_command(port: int, command: str, timeout: float = 2.0) -> str:
    """One runtime-API command on its own connection (the API closes after each answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


class HaproxyLab:
    """One HAProxy per site, with its HTTP members (a :class:`netchange.lab.component.LabComponent`)."""

    name = "haproxy"
    platforms: tuple[str, ...] = ("haproxy",)

    def available(self) -> str | None:
        if shutil.which("haproxy") is None:
            return "haproxy not installed (apt-get install haproxy)"
        return None

    def up(self, ctx: LabContext) -> list[LabHost]:
        # One port for every centre's service address, one for their health checks.
        service_port, health_port = free_port(ctx), free_port(ctx)
        return [self._site(ctx, site, service_port, health_port) for site in SITES]

    def _site(self, ctx: LabContext, site: str, service_port: int, health_port: int) -> LabHost:
        base = ctx.root / f"haproxy-{site}"
        base.mkdir(parents=True, exist_ok=True)
        members: dict[str, int] = {}
        for member in MEMBERS:
            docroot = base / "members" / member
            docroot.mkdir(parents=True, exist_ok=True)
            (docroot / "index.html").write_text(f"{member}\n")
            port = free_port(ctx)
            members[member] = port
            log = base / f"{member}.log"
            argv = [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(docroot),
            ]
            start(ctx, f"haproxy-{site}-{member}", argv, log=log)
        admin_port, frontend_port = free_port(ctx), free_port(ctx)
        sockets = base
        if len(str(base / "master.sock")) > SOCKET_PATH_MAX:
            # A deep state directory (a test's temporary path): HAProxy refuses a longer socket path
            # ("too long (max 97)"); the sockets go to a short private directory that lab down deletes.
            sockets = Path(tempfile.mkdtemp(prefix=f"nc{ctx.instance}-haproxy-{site}-"))
            ctx.paths.append(str(sockets))
        admin_socket = sockets / "admin.sock"
        master_socket = sockets / "master.sock"
        for stale in (admin_socket, master_socket):
            stale.unlink(missing_ok=True)
        cfg = base / "haproxy.cfg"
        cfg.write_text(
            render_config(
                admin_port=admin_port, admin_socket=admin_socket, frontend_port=frontend_port, members=members,
                service=f"{SERVICE_ADDRESSES[site]}:{service_port}",
                health=f"{SERVICE_ADDRESSES[site]}:{health_port}",
            )
        )
        log = base / "haproxy.log"
        start(ctx, f"haproxy-{site}", ["haproxy", "-W", "-S", str(master_socket), "-f", str(cfg)], log=log)
        for member, port in members.items():
            wait_until(
                partial(tcp_open, port),
                timeout=10,
                what=f"{site} member {member}",
                log=base / f"{member}.log",
            )
        wait_until(
            lambda: tcp_open(admin_port) and tcp_open(frontend_port),
            timeout=10,
            what=f"haproxy {site}",
            log=log,
        )
        return LabHost(
            name=host_name(site),
            hostname="127.0.0.1",
            port=admin_port,
            platform="haproxy",
            role="load_balancer",
            site=site,
            data={
                "frontend": FRONTEND,
                "frontend_url": f"http://127.0.0.1:{frontend_port}/",
                "service_address": SERVICE_ADDRESSES[site],
                "service_port": service_port,
                "member_echo": True,
                "backend": BACKEND,
                "members": {name: f"127.0.0.1:{port}" for name, port in members.items()},
            },
            optional_args={"config_path": str(cfg), "master_socket": str(master_socket)},
        )

    def status(self, ctx: LabContext) -> dict[str, str]:
        result: dict[str, str] = {}
        for site in SITES:
            pid = ctx.pids.get(f"haproxy-{site}")
            if not alive(pid):
                result[host_name(site)] = "stopped"
                continue
            cfg = (ctx.root / f"haproxy-{site}" / "haproxy.cfg").read_text()
            port = int(cfg.split("stats socket 127.0.0.1:", 1)[1].split()[0])
            try:
                state = runtime_command(port, f"show servers state {BACKEND}")
            except OSError as exc:
                result[host_name(site)] = f"pid {pid}, runtime API unreachable: {exc}"
                continue
            servers = [
                line.split()[3]
                for line in state.splitlines()[2:]
                if line.strip() and not line.startswith("#")
            ]
            result[host_name(site)] = (
                f"running (pid {pid}), runtime API 127.0.0.1:{port}, {BACKEND}: {', '.join(servers)}"
            )
        return result
