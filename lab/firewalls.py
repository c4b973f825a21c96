"""Stateful firewalls: nftables, one network namespace each, with a client and a server beside it.

For each firewall (an HA pair ``a``/``b`` per site by default)::

    root ns ── nc<k>m<i> 10.250.k.(4i+1)/30 ═ mgmt0 10.250.k.(4i+2)/30 ── [fw ns]  sshd, nft
    [client ns] eth0 10.201.i.10/24 ═ inside0 10.201.i.1/24 ── [fw ns] ── dmz0 10.202.i.1/24
                                                              ═ eth0 10.202.i.10/24 [server ns]

The firewall forwards between client and server and filters with ``table inet filter``; the
server answers TCP on ``SERVICE_PORTS``. Management is SSH (key login as root, generated at
``lab up``) from the root namespace to the firewall's ``mgmt0``. ``k`` is a lab instance number
chosen so that two labs (a developer's and the test suite's) never share a namespace name or a
management subnet; only the management link has addresses in the root namespace.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netchange.lab import keys
from netchange.lab.component import LabContext, LabHost

SITES = ("doif", "doso")
SERVICE_PORTS = (8080, 8443, 9090)
ALLOWED_PORT = 8080
"""The flow the base ruleset allows for every client of the firewall's inside network."""
GROUP_PORT = 8443
"""The flow allowed only for sources in the ``allowed_clients`` set."""
SSHD = "/usr/sbin/sshd"
READY_TIMEOUT = 20.0


@dataclass(frozen=True, kw_only=True)
class FirewallSpec:
    name: str
    site: str
    member: str  # "a" or "b": the two members of the site's HA pair
    index: int  # 1-based, unique in the lab
    instance: int

    def ns(self, kind: str) -> str:
        return f"nc{self.instance}-{kind}-{self.site}-{self.member}"

    @property
    def mgmt_host_if(self) -> str:
        return f"nc{self.instance}m{self.index}"

    @property
    def mgmt_host_addr(self) -> str:
        return f"10.250.{self.instance}.{4 * self.index + 1}"

    @property
    def mgmt_addr(self) -> str:
        return f"10.250.{self.instance}.{4 * self.index + 2}"

    @property
    def client_addr(self) -> str:
        return f"10.201.{self.index}.10"

    @property
    def server_addr(self) -> str:
        return f"10.202.{self.index}.10"

    @property
    def ha_peer(self) -> str:
        return f"fw-{self.site}-{'b' if self.member == 'a' else 'a'}"


def base_ruleset(spec: FirewallSpec) -> str:
    """The ruleset a firewall starts with: default drop on forward, one open flow, one set."""
    return f"""table inet filter {{
	set allowed_clients {{
		type ipv4_addr
		elements = {{ 10.201.{spec.index}.50 }}
	}}

	chain forward {{
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ip saddr 10.201.{spec.index}.0/24 ip daddr {spec.server_addr} tcp dport {ALLOWED_PORT} accept
		ip saddr @allowed_clients ip daddr {spec.server_addr} tcp dport {GROUP_PORT} accept
	}}
}}
"""


def sshd_config(spec: FirewallSpec, host_key: Path, authorized_keys: Path) -> str:
    return "\n".join([
        f"ListenAddress {spec.mgmt_addr}:22",
        f"HostKey {host_key}",
        "PidFile none",
        f"AuthorizedKeysFile {authorized_keys}",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        "StrictModes no",
        "UseDNS no",
        "Subsystem sftp internal-sftp",
        "LogLevel INFO",
        "",
    ])


def plan_firewalls(instance: int, per_site: int = 2) -> list[FirewallSpec]:
    specs = []
    index = 0
    for site in SITES:
        for member in "ab"[:per_site]:
            index += 1
            specs.append(FirewallSpec(name=f"fw-{site}-{member}", site=site, member=member, index=index,
                                      instance=instance))
    return specs


def _run(*cmd: str, ns: str | None = None, stdin: str | None = None) -> str:
    full = ["ip", "netns", "exec", ns, *cmd] if ns else list(cmd)
    proc = subprocess.run(full, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def used_instances() -> set[int]:
    """Lab instance numbers in use on this machine right now (namespaces ``nc<k>-…``, subnets ``10.250.<k>.*``).

    Only a snapshot: the choice itself is :func:`netchange.lab.instances.reserve_instance`, under a lock.
    """
    namespaces = _run("ip", "netns", "list")
    addresses = _run("ip", "-o", "-4", "addr", "show")
    return {int(k) for k in re.findall(r"\bnc(\d+)-", namespaces)} | {
        int(k) for k in re.findall(r"\b10\.250\.(\d+)\.", addresses)}


class Firewalls:
    """The lab component for nftables firewalls (``nftables`` platform)."""

    name = "firewalls"
    platforms: tuple[str, ...] = ("nftables",)

    def __init__(self, per_site: int = 2) -> None:
        self.per_site = per_site

    def available(self) -> str | None:
        missing = [tool for tool in ("nft", "ip", "unshare") if shutil.which(tool) is None]
        if not Path(SSHD).exists():
            missing.append("sshd")
        if missing:
            return (f"missing {', '.join(missing)}: apt-get install -y --no-install-recommends "
                    "nftables openssh-server iproute2")
        return None

    def up(self, ctx: LabContext) -> list[LabHost]:
        workdir = ctx.root / "firewalls"
        workdir.mkdir(parents=True, exist_ok=True)
        client_key = workdir / "netops_ed25519"
        authorized = workdir / "authorized_keys"
        authorized.write_text(keys.ed25519_keypair(client_key, "netops@lab") + "\n")
        instance = ctx.instance  # reserved machine-wide by the manager (netchange.lab.instances)
        (workdir / "instance").write_text(f"{instance}\n")
        specs = plan_firewalls(instance, self.per_site)
        for spec in specs:
            self._network(spec, ctx)
        started: list[tuple[FirewallSpec, Path]] = []
        for spec in specs:
            public = self._sshd(spec, ctx, workdir, authorized)
            ready = self._server(spec, ctx, workdir)
            with ctx.known_hosts.open("a") as fh:
                fh.write(keys.known_hosts_line(spec.mgmt_addr, 22, public) + "\n")
            started.append((spec, ready))
        # Everything starts first and is awaited after, so the start-up costs one wait, not N.
        for spec, ready in started:
            _wait(lambda s=spec: _ssh_banner(s.mgmt_addr), f"sshd of {spec.name}")
            _wait(ready.exists, f"TCP service of {spec.name}")
        return [self._host(spec, ctx, client_key) for spec in specs]

    def _network(self, spec: FirewallSpec, ctx: LabContext) -> None:
        fw, cl, sv = spec.ns("fw"), spec.ns("cl"), spec.ns("sv")
        for ns in (fw, cl, sv):
            _run("ip", "netns", "add", ns)
            ctx.namespaces.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        peer = spec.mgmt_host_if + "p"
        _run("ip", "link", "add", spec.mgmt_host_if, "type", "veth", "peer", "name", peer)
        _run("ip", "link", "set", peer, "netns", fw)
        _run("ip", "-n", fw, "link", "set", peer, "name", "mgmt0")
        _run("ip", "addr", "add", f"{spec.mgmt_host_addr}/30", "dev", spec.mgmt_host_if)
        _run("ip", "link", "set", spec.mgmt_host_if, "up")
        _run("ip", "-n", fw, "addr", "add", f"{spec.mgmt_addr}/30", "dev", "mgmt0")
        _run("ip", "-n", fw, "link", "set", "mgmt0", "up")
        links = (("inside0", cl, 201, spec.client_addr), ("dmz0", sv, 202, spec.server_addr))
        for fw_if, other, net, addr in links:
            _run("ip", "-n", fw, "link", "add", fw_if, "type", "veth", "peer", "name", "eth0", "netns", other)
            _run("ip", "-n", fw, "addr", "add", f"10.{net}.{spec.index}.1/24", "dev", fw_if)
            _run("ip", "-n", fw, "link", "set", fw_if, "up")
            _run("ip", "-n", other, "addr", "add", f"{addr}/24", "dev", "eth0")
            _run("ip", "-n", other, "link", "set", "eth0", "up")
            _run("ip", "-n", other, "route", "add", "default", "via", f"10.{net}.{spec.index}.1")
        _run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", ns=fw)
        _run("nft", "-f", "-", ns=fw, stdin=base_ruleset(spec))

    def _sshd(self, spec: FirewallSpec, ctx: LabContext, workdir: Path, authorized: Path) -> str:
        host_key = workdir / f"{spec.name}.host_key"
        public = keys.ed25519_keypair(host_key, f"{spec.name}@lab")
        conf = workdir / f"{spec.name}.sshd_config"
        conf.write_text(sshd_config(spec, host_key, authorized))
        # sshd wants /run/sshd; a private mount namespace with a tmpfs /run gives it one without
        # touching the host's /run. Each ``exec`` keeps the PID, so the recorded PID is sshd's.
        script = f"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec {SSHD} -D -e -f {conf}"
        log = (workdir / f"{spec.name}.sshd.log").open("ab")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", spec.ns("fw"), "unshare", "--mount", "--propagation", "private",
             "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        ctx.pids[f"sshd:{spec.name}"] = proc.pid
        return public

    def _server(self, spec: FirewallSpec, ctx: LabContext, workdir: Path) -> Path:
        ready = workdir / f"{spec.name}.server.ready"
        ready.unlink(missing_ok=True)
        script = Path(__file__).resolve().parent / "tcp_server.py"
        log = (workdir / f"{spec.name}.server.log").open("ab")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", spec.ns("sv"), sys.executable, str(script), spec.server_addr,
             ",".join(str(p) for p in SERVICE_PORTS), str(ready)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        ctx.pids[f"server:{spec.name}"] = proc.pid
        return ready

    def _host(self, spec: FirewallSpec, ctx: LabContext, client_key: Path) -> LabHost:
        ctx.secrets[spec.name] = {"username": "root", "password": "",
                                  "optional_args": {"key_file": str(client_key)}}
        data: dict[str, Any] = {
            "role": "firewall", "site": spec.site, "ha_peer": spec.ha_peer, "criticality": "high",
            "namespace": spec.ns("fw"),
            # What post-checks need to open a new connection through this firewall (netchange.changetype.probes).
            "probe": {
                "client_namespace": spec.ns("cl"), "client_address": spec.client_addr,
                "server_namespace": spec.ns("sv"), "server_address": spec.server_addr,
                "service_ports": list(SERVICE_PORTS), "allowed_port": ALLOWED_PORT, "group_port": GROUP_PORT,
                "group": "allowed_clients",
            },
        }
        return LabHost(
            name=spec.name, hostname=spec.mgmt_addr, port=22, platform="nftables", role="firewall",
            site=spec.site, groups=["firewall", spec.site, "nftables"], data=data,
            optional_args={"known_hosts": str(ctx.known_hosts)},
        )

    def status(self, ctx: LabContext) -> dict[str, str]:
        instance_file = ctx.root / "firewalls" / "instance"
        if not instance_file.exists():
            return {}
        specs = plan_firewalls(int(instance_file.read_text()), self.per_site)
        existing = _run("ip", "netns", "list")
        out = {}
        for spec in specs:
            if spec.ns("fw") not in existing:
                out[spec.name] = "namespace missing"
            elif _ssh_banner(spec.mgmt_addr):
                out[spec.name] = f"sshd on {spec.mgmt_addr}:22, namespace {spec.ns('fw')}"
            else:
                out[spec.name] = "sshd not answering"
        return out


def _ssh_banner(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=0.5) as sock:
            return sock.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _wait(check: Any, what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} not ready after {READY_TIMEOUT:.0f} s")
