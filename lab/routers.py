"""Routers: FRR in network namespaces, a keepalived VRRP pair per site, an upstream speaking BGP.

Per site ``s`` (1-based) a core pair ``rtr-<site>-a``/``-b``, each in its own namespace with
zebra, staticd, ospfd and bgpd, sshd (key login as root, like the firewalls) and keepalived::

                      [upstream ns] FRR, AS 64500, announces UPSTREAM_PREFIXES
                   10.211.s.1/30 │            │ 10.211.s.5/30
                    up0 10.211.s.2            up0 10.211.s.6
    [client ns] ── lan0 [rtr-a] ══ peer0 10.210.s.1/30 ═ 10.210.s.2/30 ══ [rtr-b]
    10.212.s.10     10.212.s.1   srv0 10.213.s.2           srv0 10.213.s.3
                                      └──── br0 [server ns] 10.213.s.10 ───┘
                                            VRRP virtual address 10.213.s.1

- OSPF area 0 on ``peer0`` (point-to-point, 1 s hello, 4 s dead); the client and server
  networks and the loopbacks are announced as passive ``network`` statements, so ``rtr-b`` reaches
  the client network through ``rtr-a``.
- eBGP from both routers (AS 65000+s) to the upstream: the routers accept only what their
  prefix-list ``FROM-UPSTREAM`` permits (two of the upstream's three prefixes) and announce the
  server network.
- keepalived runs VRRP on ``srv0`` (priority 150 on ``a``, 100 on ``b``): the server's default
  gateway is the virtual address, so the server's answers go through the VRRP master.
- The client reaches the server through ``rtr-a``; the answer goes back through the master.

Two operators (issue 26): operator A is the upstream above (AS 64500), operator B a second FRR
namespace (AS 64510, ``10.214.s.0/29``, the same links to both routers of each site). Both
announce the same prefixes; the routers' policy prefers A for outbound traffic (B's routes come
in through ``FROM-OPERATOR-B`` with local preference 50, below A's default 100) and announce the
server network to both. The operators peer with each other (``10.216.0.0/30``), so a prefix
announced with a longer AS path to one is reached by it through the other: inbound preference by
AS-path prepending has an effect to watch. An internet-side client namespace (``inet``) holds
198.51.100.10 (its traffic goes through A) and 198.51.100.11 (through B, by a source rule): both
operators route 198.51.100.0/24 to it, so the site's server answers it through whichever
operator the site's routers prefer. The operators answer ICMP errors from the interface the packet
came in on (``icmp_errors_use_inbound_ifaddr``), as routers do: a traced flow's second hop names
the operator and the link it left through.

The routers are managed over SSH on ``mgmt0`` (a /30 from the root namespace, as the firewalls).
Two inventory hosts share each router's SSH: ``rtr-<site>-<m>`` (platform ``frr``) and
``vrrp-<site>-<m>`` (platform ``keepalived``). Every daemon runs in the foreground, started by
the lab and recorded, so ``lab down`` stops exactly them; each router keeps its sockets, pid
files and configuration under ``$root/routers/<name>/`` (the FRR run directory belongs to user
``frr``, as its daemons drop privileges to it).
"""

from __future__ import annotations

import functools
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netchange.lab import keys
from netchange.lab.component import LabContext, LabHost
from netchange.lab.firewalls import SERVICE_PORTS, SSHD, _ssh_banner, sshd_config
from netchange.lab.spawn import alive, start, stop, wait_until

SITES = ("doif", "doso")
FRR_DIR = Path("/usr/lib/frr")
DAEMONS = ("zebra", "staticd", "ospfd", "bgpd")
KEEPALIVED = "/usr/sbin/keepalived"
UPSTREAM_AS = 64500
OPERATOR_B_AS = 64510
OPERATOR_B_LOCAL_PREFERENCE = 50
"""What the routers give operator B's routes (below the default 100 of A's): outbound through A."""
INTERNET_ADDRESS = "198.51.100.10"
"""The internet-side client: reached through operator A, and it sends through A."""
INTERNET_ADDRESS_VIA_B = "198.51.100.11"
"""The same client's second address: what it sends from this address goes through operator B."""
INTERNET_PREFIX = "198.51.100.0/24"
UPSTREAM_PREFIXES = ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24")
ACCEPTED_PREFIXES = UPSTREAM_PREFIXES[:2]
"""What the routers' ``FROM-UPSTREAM`` prefix-list lets in (the third is filtered out)."""
VRRP_PRIORITY = {"a": 150, "b": 100}
MGMT_INDEX_BASE = 16
"""Management /30s of routers start after the firewalls' (10.250.k.(4i+1), i from this)."""
READY_TIMEOUT = 30.0
ADJACENCY_TIMEOUT = 30.0


@dataclass(frozen=True, kw_only=True)
class RouterSpec:
    name: str
    site: str
    site_index: int  # 1-based
    member: str  # "a" or "b"
    index: int  # management index, unique in the lab
    instance: int

    @property
    def ns(self) -> str:
        return f"nc{self.instance}-rt-{self.site}-{self.member}"

    @property
    def vrrp_name(self) -> str:
        return f"vrrp-{self.site}-{self.member}"

    @property
    def peer_name(self) -> str:
        return f"rtr-{self.site}-{'b' if self.member == 'a' else 'a'}"

    @property
    def mgmt_host_if(self) -> str:
        return f"nc{self.instance}r{self.index}"

    @property
    def mgmt_host_addr(self) -> str:
        return f"10.250.{self.instance}.{4 * self.index + 1}"

    @property
    def mgmt_addr(self) -> str:
        return f"10.250.{self.instance}.{4 * self.index + 2}"

    @property
    def router_id(self) -> str:
        return f"10.255.{self.site_index}.{1 if self.member == 'a' else 2}"

    @property
    def peer_addr(self) -> str:
        return f"10.210.{self.site_index}.{1 if self.member == 'a' else 2}"

    @property
    def upstream_addr(self) -> str:
        """The upstream's end of this router's link (the BGP neighbour)."""
        return f"10.211.{self.site_index}.{1 if self.member == 'a' else 5}"

    @property
    def uplink_addr(self) -> str:
        return f"10.211.{self.site_index}.{2 if self.member == 'a' else 6}"

    @property
    def operator_b_addr(self) -> str:
        """Operator B's end of this router's second uplink (the second BGP neighbour)."""
        return f"10.214.{self.site_index}.{1 if self.member == 'a' else 5}"

    @property
    def operator_b_uplink_addr(self) -> str:
        return f"10.214.{self.site_index}.{2 if self.member == 'a' else 6}"

    @property
    def server_side_addr(self) -> str:
        return f"10.213.{self.site_index}.{2 if self.member == 'a' else 3}"

    @property
    def asn(self) -> int:
        return 65000 + self.site_index


@dataclass(frozen=True, kw_only=True)
class SiteNets:
    site: str
    index: int
    instance: int

    @property
    def client_ns(self) -> str:
        return f"nc{self.instance}-rc-{self.site}"

    @property
    def server_ns(self) -> str:
        return f"nc{self.instance}-rs-{self.site}"

    @property
    def client_net(self) -> str:
        return f"10.212.{self.index}.0/24"

    @property
    def client_addr(self) -> str:
        return f"10.212.{self.index}.10"

    @property
    def server_net(self) -> str:
        return f"10.213.{self.index}.0/24"

    @property
    def server_addr(self) -> str:
        return f"10.213.{self.index}.10"

    @property
    def virtual_addr(self) -> str:
        return f"10.213.{self.index}.1"

    @property
    def vrid(self) -> int:
        return 50 + self.index


def upstream_ns(instance: int) -> str:
    return f"nc{instance}-up"


def operator_b_ns(instance: int) -> str:
    return f"nc{instance}-upb"


def internet_ns(instance: int) -> str:
    return f"nc{instance}-inet"


def plan_routers(instance: int) -> list[RouterSpec]:
    specs = []
    for s, site in enumerate(SITES, start=1):
        for m, member in enumerate("ab"):
            specs.append(RouterSpec(name=f"rtr-{site}-{member}", site=site, site_index=s, member=member,
                                    index=MGMT_INDEX_BASE + 2 * (s - 1) + m, instance=instance))
    return specs


def plan_sites(instance: int) -> list[SiteNets]:
    return [SiteNets(site=site, index=s, instance=instance) for s, site in enumerate(SITES, start=1)]


# -- configurations ------------------------------------------------------------------------------


def router_config(spec: RouterSpec, site: SiteNets) -> str:
    """The router's FRR configuration at ``lab up`` (loaded with ``vtysh -f``)."""
    nets = [f"{spec.router_id}/32", f"10.210.{spec.site_index}.0/30",
            *([site.client_net] if spec.member == "a" else []), site.server_net]
    ospf_networks = "".join(f" network {n} area 0\n" for n in nets)
    passive_lan = "interface lan0\n ip ospf passive\nexit\n!\n" if spec.member == "a" else ""
    accepted = "".join(f"ip prefix-list FROM-UPSTREAM seq {5 * (i + 1)} permit {p}\n"
                       for i, p in enumerate(ACCEPTED_PREFIXES))
    return f"""{accepted}ip prefix-list SITE-OUT seq 5 permit {site.server_net}
!
route-map FROM-UPSTREAM permit 10
 match ip address prefix-list FROM-UPSTREAM
exit
!
route-map TO-UPSTREAM permit 10
 match ip address prefix-list SITE-OUT
exit
!
route-map FROM-OPERATOR-B permit 10
 match ip address prefix-list FROM-UPSTREAM
 set local-preference {OPERATOR_B_LOCAL_PREFERENCE}
exit
!
route-map TO-OPERATOR-B permit 10
 match ip address prefix-list SITE-OUT
exit
!
interface peer0
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
 ip ospf retransmit-interval 1
exit
!
{passive_lan}interface srv0
 ip ospf passive
exit
!
router ospf
 ospf router-id {spec.router_id}
{ospf_networks}exit
!
router bgp {spec.asn}
 bgp router-id {spec.router_id}
 neighbor {spec.upstream_addr} remote-as {UPSTREAM_AS}
 neighbor {spec.upstream_addr} timers 1 3
 neighbor {spec.upstream_addr} timers connect 1
 neighbor {spec.operator_b_addr} remote-as {OPERATOR_B_AS}
 neighbor {spec.operator_b_addr} timers 1 3
 neighbor {spec.operator_b_addr} timers connect 1
 !
 address-family ipv4 unicast
  network {site.server_net}
  neighbor {spec.upstream_addr} route-map FROM-UPSTREAM in
  neighbor {spec.upstream_addr} route-map TO-UPSTREAM out
  neighbor {spec.operator_b_addr} route-map FROM-OPERATOR-B in
  neighbor {spec.operator_b_addr} route-map TO-OPERATOR-B out
 exit-address-family
exit
!
bgp route-map delay-timer 1
!
"""


def upstream_config(specs: list[RouterSpec], *, operator: str = "a") -> str:
    """An operator's FRR: eBGP to every site router, to the other operator, and the test prefixes.

    198.51.100.0/24 is routed to the internet-side client (``inet``), the other prefixes are
    blackholed; all are announced. ``operator`` is ``a`` (AS 64500) or ``b`` (AS 64510).
    """
    asn, other_as = (UPSTREAM_AS, OPERATOR_B_AS) if operator == "a" else (OPERATOR_B_AS, UPSTREAM_AS)
    inet_gw, other = ("10.215.0.2", "10.216.0.2") if operator == "a" else ("10.215.0.6", "10.216.0.1")
    statics = "".join(f"ip route {p} {inet_gw if p == INTERNET_PREFIX else 'blackhole'}\n" for p in UPSTREAM_PREFIXES)
    peers = [(s.uplink_addr if operator == "a" else s.operator_b_uplink_addr, s.asn) for s in specs]
    neighbors = "".join(f" neighbor {addr} remote-as {peer_as}\n"
                        f" neighbor {addr} timers 1 3\n"
                        f" neighbor {addr} timers connect 1\n" for addr, peer_as in [*peers, (other, other_as)])
    networks = "".join(f"  network {p}\n" for p in UPSTREAM_PREFIXES)
    name = "upstream" if operator == "a" else "operator-b"
    return f"""hostname {name}
!
{statics}!
router bgp {asn}
 bgp router-id 10.255.0.{1 if operator == "a" else 2}
 no bgp ebgp-requires-policy
{neighbors} !
 address-family ipv4 unicast
{networks} exit-address-family
exit
!
"""


def keepalived_config(spec: RouterSpec, site: SiteNets) -> str:
    """keepalived's configuration: one VRRP instance on ``srv0``, the server network's gateway."""
    return f"""global_defs {{
    router_id {spec.name}
}}

vrrp_instance SRV_{spec.site.upper()} {{
    state BACKUP
    interface srv0
    virtual_router_id {site.vrid}
    priority {VRRP_PRIORITY[spec.member]}
    advert_int 1
    virtual_ipaddress {{
        {site.virtual_addr}/24
    }}
}}
"""


# -- plumbing ------------------------------------------------------------------------------------


def _run(*cmd: str, ns: str | None = None, stdin: str | None = None) -> str:
    full = ["ip", "netns", "exec", ns, *cmd] if ns else list(cmd)
    proc = subprocess.run(full, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _ns_add(ctx: LabContext, ns: str) -> None:
    _run("ip", "netns", "add", ns)
    ctx.namespaces.append(ns)
    _run("ip", "-n", ns, "link", "set", "lo", "up")


def _veth(a: tuple[str, str, str | None], b: tuple[str, str, str | None]) -> None:
    """A veth pair between two namespaces: each end as (namespace, interface, address or None)."""
    _run("ip", "-n", a[0], "link", "add", a[1], "type", "veth", "peer", "name", b[1], "netns", b[0])
    for ns, ifname, addr in (a, b):
        if addr:
            _run("ip", "-n", ns, "addr", "add", addr, "dev", ifname)
        _run("ip", "-n", ns, "link", "set", ifname, "up")


def vtysh(run_dir: Path, *commands: str, ns: str) -> str:
    args = ["vtysh", "--vty_socket", str(run_dir)]
    for command in commands:
        args += ["-c", command]
    return _run(*args, ns=ns)


class Routers:
    """The lab component for FRR routers and keepalived VRRP pairs (platforms ``frr``, ``keepalived``)."""

    name = "routers"
    platforms: tuple[str, ...] = ("frr", "keepalived")

    def available(self) -> str | None:
        missing = [d for d in DAEMONS if not (FRR_DIR / d).exists()]
        missing += [t for t in ("vtysh", "ip", "unshare") if shutil.which(t) is None]
        if not (FRR_DIR / "frr-reload.py").exists():
            missing.append("frr-reload.py")
        if not Path(KEEPALIVED).exists():
            missing.append("keepalived")
        if not Path(SSHD).exists():
            missing.append("sshd")
        if missing:
            return (f"missing {', '.join(missing)}: apt-get install -y --no-install-recommends "
                    "frr frr-pythontools keepalived openssh-server iproute2")
        return None

    def up(self, ctx: LabContext) -> list[LabHost]:
        t0 = time.monotonic()
        workdir = ctx.root / "routers"
        workdir.mkdir(parents=True, exist_ok=True)
        client_key = workdir / "netops_ed25519"
        authorized = workdir / "authorized_keys"
        authorized.write_text(keys.ed25519_keypair(client_key, "netops@lab") + "\n")
        (workdir / "instance").write_text(f"{ctx.instance}\n")
        specs = plan_routers(ctx.instance)
        sites = {s.site: s for s in plan_sites(ctx.instance)}
        self._network(ctx, specs, sites)
        # FRR's daemons drop privileges to user frr, who cannot enter the 0700 lab root: their run
        # directories live in a directory of their own, recorded so that ``lab down`` deletes it.
        frr_base = Path(tempfile.mkdtemp(prefix=f"netchange-frr-nc{ctx.instance}-"))
        ctx.paths.append(str(frr_base))
        frr_base.chmod(0o755)
        (workdir / "frr_base").write_text(f"{frr_base}\n")
        # Everything starts first and is awaited after, so the start-up costs one wait, not N.
        configs = {upstream_ns(ctx.instance): (frr_base / "upstream", upstream_config(specs)),
                   operator_b_ns(ctx.instance): (frr_base / "operator-b", upstream_config(specs, operator="b"))}
        configs.update({spec.ns: (frr_base / spec.name, router_config(spec, sites[spec.site])) for spec in specs})
        # zebra first: a daemon that finds no zebra socket retries only 10 s later (FRR's zclient),
        # which delayed OSPF Full by those 10 s.
        for ns, (run_dir, config) in configs.items():
            self._frr(ctx, run_dir, ns, config, DAEMONS[:1])
        for run_dir, _ in configs.values():
            wait_until((run_dir / "zserv.api").exists, timeout=READY_TIMEOUT, what=f"zebra in {run_dir}",
                       log=run_dir / "zebra.log")
        for ns, (run_dir, config) in configs.items():
            self._frr(ctx, run_dir, ns, config, DAEMONS[1:])
        up_dir = configs[upstream_ns(ctx.instance)][0]
        run_dirs = {spec.name: configs[spec.ns][0] for spec in specs}
        for spec in specs:
            public = self._sshd(ctx, spec, workdir, authorized)
            with ctx.known_hosts.open("a") as fh:
                fh.write(keys.known_hosts_line(spec.mgmt_addr, 22, public) + "\n")
            self._keepalived(ctx, spec, sites[spec.site], workdir / spec.name)
        readies = [self._server(ctx, site, workdir) for site in sites.values()]
        self._configure(up_dir, upstream_ns(ctx.instance))
        self._configure(configs[operator_b_ns(ctx.instance)][0], operator_b_ns(ctx.instance))
        for spec in specs:
            self._configure(run_dirs[spec.name], spec.ns)
        for spec in specs:
            wait_until(functools.partial(_ssh_banner, spec.mgmt_addr), timeout=READY_TIMEOUT,
                       what=f"sshd of {spec.name}", log=workdir / f"{spec.name}.sshd.log")
        for ready in readies:
            wait_until(ready.exists, timeout=READY_TIMEOUT, what=f"TCP service {ready.name}")
        started = time.monotonic() - t0
        timings = wait_converged(specs, run_dirs, sites)
        timings["daemons_started_s"] = round(started, 2)
        (workdir / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
        hosts = []
        for spec in specs:
            hosts += self._hosts(ctx, spec, sites[spec.site], workdir=workdir, run_dir=run_dirs[spec.name],
                                client_key=client_key)
        return hosts

    def restart(self, ctx: LabContext, host: str) -> bool:
        """Power-cycle router ``host``'s FRR (issue 21 item 4's test): stop its daemons, start them
        again and load the ``frr.conf`` of its run directory (what ``write memory`` wrote), as
        ``lab up`` does; wait for its OSPF adjacency, BGP session and BGP routes in the kernel.
        False: not a router."""
        spec = next((s for s in plan_routers(ctx.instance) if s.name == host), None)
        if spec is None:
            return False
        run_dir = Path((ctx.root / "routers" / "frr_base").read_text().strip()) / spec.name
        stop(ctx, [f"{daemon}:{spec.ns}" for daemon in reversed(DAEMONS)], timeout=10)
        for stale in (run_dir / "zserv.api", *(run_dir / f"{d}.vty" for d in DAEMONS)):
            stale.unlink(missing_ok=True)  # else the waits below would see the dead daemons' sockets
        self._frr(ctx, run_dir, spec.ns, "", DAEMONS[:1])
        wait_until((run_dir / "zserv.api").exists, timeout=READY_TIMEOUT, what=f"zebra in {run_dir}",
                   log=run_dir / "zebra.log")
        self._frr(ctx, run_dir, spec.ns, "", DAEMONS[1:])
        self._configure(run_dir, spec.ns)
        # Established is not enough (as in wait_converged): the prefixes arrive in an UPDATE after,
        # then reach the kernel; the next reader expects the router as 'lab up' left it.
        wait_until(lambda: ospf_full(run_dir, spec.ns) and bgp_established(run_dir, spec.ns)
                   and set(ACCEPTED_PREFIXES) <= kernel_routes(spec.ns),
                   timeout=ADJACENCY_TIMEOUT, what=f"OSPF Full, BGP Established and its routes on {host}")
        return True

    # -- start-up pieces -----------------------------------------------------------------------

    def _network(self, ctx: LabContext, specs: list[RouterSpec], sites: dict[str, SiteNets]) -> None:
        up = upstream_ns(ctx.instance)
        _ns_add(ctx, up)
        upb = operator_b_ns(ctx.instance)
        _ns_add(ctx, upb)
        self._internet(ctx, up, upb)
        for site in sites.values():
            _ns_add(ctx, site.client_ns)
            _ns_add(ctx, site.server_ns)
            _run("ip", "-n", site.server_ns, "link", "add", "br0", "type", "bridge")
            _run("ip", "-n", site.server_ns, "addr", "add", f"{site.server_addr}/24", "dev", "br0")
            _run("ip", "-n", site.server_ns, "link", "set", "br0", "up")
        for spec in specs:
            site = sites[spec.site]
            _ns_add(ctx, spec.ns)
            peer = spec.mgmt_host_if + "p"
            _run("ip", "link", "add", spec.mgmt_host_if, "type", "veth", "peer", "name", peer)
            _run("ip", "link", "set", peer, "netns", spec.ns)
            _run("ip", "-n", spec.ns, "link", "set", peer, "name", "mgmt0")
            _run("ip", "addr", "add", f"{spec.mgmt_host_addr}/30", "dev", spec.mgmt_host_if)
            _run("ip", "link", "set", spec.mgmt_host_if, "up")
            _run("ip", "-n", spec.ns, "addr", "add", f"{spec.mgmt_addr}/30", "dev", "mgmt0")
            _run("ip", "-n", spec.ns, "link", "set", "mgmt0", "up")
            _run("ip", "-n", spec.ns, "addr", "add", f"{spec.router_id}/32", "dev", "lo")
            _run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", ns=spec.ns)
            # Traffic may come in through one operator and leave through the other: no reverse-path
            # filter (a new namespace's default is off, stated here since the paths rely on it).
            _run("sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0", ns=spec.ns)
            # Every probe of a traced flow gets its ICMP answer (Linux sends one a second per
            # destination by default: a post-check retrying would see '*' for a hop).
            _run("sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0", ns=spec.ns)
            _veth((spec.ns, "up0", f"{spec.uplink_addr}/30"),
                  (up, f"s{spec.site_index}{spec.member}", f"{spec.upstream_addr}/30"))
            _veth((spec.ns, "upb0", f"{spec.operator_b_uplink_addr}/30"),
                  (upb, f"s{spec.site_index}{spec.member}", f"{spec.operator_b_addr}/30"))
            # The server-side port joins the site's bridge in the server namespace.
            port = f"{spec.member}{spec.site_index}"
            _veth((spec.ns, "srv0", f"{spec.server_side_addr}/24"), (site.server_ns, port, None))
            _run("ip", "-n", site.server_ns, "link", "set", port, "master", "br0")
            if spec.member == "a":
                _veth((spec.ns, "lan0", f"10.212.{spec.site_index}.1/24"),
                      (site.client_ns, "eth0", f"{site.client_addr}/24"))
                _run("ip", "-n", site.client_ns, "route", "add", "default", "via", f"10.212.{spec.site_index}.1")
        for site in sites.values():
            a, b = (s for s in specs if s.site == site.site)
            _veth((a.ns, "peer0", f"{a.peer_addr}/30"), (b.ns, "peer0", f"{b.peer_addr}/30"))
            _run("ip", "-n", site.server_ns, "route", "add", "default", "via", site.virtual_addr, "dev", "br0")

    def _internet(self, ctx: LabContext, up: str, upb: str) -> None:
        """The internet-side client, linked to both operators, and the operators' link to each other."""
        inet = internet_ns(ctx.instance)
        _ns_add(ctx, inet)
        for ns in (up, upb):
            for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.icmp_errors_use_inbound_ifaddr=1", "net.ipv4.icmp_ratelimit=0"):
                _run("sysctl", "-q", "-w", key, ns=ns)
        _run("sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0", ns=inet)
        _veth((inet, "opa", "10.215.0.2/30"), (up, "inet", "10.215.0.1/30"))
        _veth((inet, "opb", "10.215.0.6/30"), (upb, "inet", "10.215.0.5/30"))
        _veth((up, "opb", "10.216.0.1/30"), (upb, "opa", "10.216.0.2/30"))
        for address in (INTERNET_ADDRESS, INTERNET_ADDRESS_VIA_B):
            _run("ip", "-n", inet, "addr", "add", f"{address}/32", "dev", "lo")
        _run("ip", "-n", inet, "route", "add", "default", "via", "10.215.0.1", "src", INTERNET_ADDRESS)
        _run("ip", "-n", inet, "route", "add", "default", "via", "10.215.0.5", "table", "200")
        _run("ip", "-n", inet, "rule", "add", "from", INTERNET_ADDRESS_VIA_B, "lookup", "200")

    def _frr(self, ctx: LabContext, run_dir: Path, ns: str, config: str, daemons: tuple[str, ...]) -> Path:
        hostname = run_dir.name
        """Start FRR ``daemons`` for one router in ``ns``; the configuration is loaded once all listen."""
        if not run_dir.exists():
            run_dir.mkdir(parents=True)
            shutil.chown(run_dir, "frr", "frr")
            run_dir.chmod(0o755)
            (run_dir / "frr.conf").write_text(config)
            # FRR's own list of the daemons a router runs (/etc/frr/daemons, what frrinit.sh
            # starts): the driver expects each enabled one to answer, even in a session opened
            # after it stopped and lost its pid file.
            (run_dir / "daemons").write_text("".join(
                f"{name}={'yes' if name in DAEMONS else 'no'}\n"
                for name in ("bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "ldpd", "staticd")))
        zserv = run_dir / "zserv.api"
        for daemon in daemons:
            command = [str(FRR_DIR / daemon), "-u", "frr", "-g", "frr", "--vty_socket", str(run_dir),
                       "-i", str(run_dir / f"{daemon}.pid"), "-z", str(zserv), "-P", "0",
                       "--log", "stdout", "--log-level", "warnings", "-f", "/dev/null"]
            # FRR writes outside its run directory: a crash-log directory /var/tmp/frr/<daemon>.<pid>
            # that only a clean exit removes, and ospfd's /run/frr/ospfd-gr.json. Private tmpfs
            # mounts over /var/tmp and /run (after ``ip netns exec`` has found the namespace under
            # /run/netns) leave nothing on the host, even after a SIGKILL. The host name too is
            # the router's own (a UTS namespace): vtysh prints its own and each daemon's.
            # Every ``exec`` keeps the PID, so the recorded PID is the daemon's.
            inner = f"mount -t tmpfs tmpfs /var/tmp && mount -t tmpfs tmpfs /run && exec {' '.join(command)}"
            script = f"hostname {hostname} && exec ip netns exec {ns} sh -c {shlex.quote(inner)}"
            argv = ["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", script]
            start(ctx, f"{daemon}:{ns}", argv, log=run_dir / f"{daemon}.log")
        return run_dir

    def _configure(self, run_dir: Path, ns: str) -> None:
        for daemon in DAEMONS:
            sock = run_dir / f"{daemon}.vty"
            wait_until(sock.exists, timeout=READY_TIMEOUT, what=f"{daemon} of {ns}",
                       log=run_dir / f"{daemon}.log")
        _run("vtysh", "--vty_socket", str(run_dir), "--config_dir", str(run_dir), "-b", ns=ns)

    def _sshd(self, ctx: LabContext, spec: RouterSpec, workdir: Path, authorized: Path) -> str:
        host_key = workdir / f"{spec.name}.host_key"
        public = keys.ed25519_keypair(host_key, f"{spec.name}@lab")
        conf = workdir / f"{spec.name}.sshd_config"
        conf.write_text(sshd_config(spec, host_key, authorized))  # type: ignore[arg-type]  # same fields
        # vtysh prints the host name of its UTS namespace as ``hostname``: each router gets its own.
        # vtysh and frr-reload.py run in its sessions: /var/tmp private too (vtysh makes /var/tmp/frr).
        script = (f"mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && mount -t tmpfs tmpfs /var/tmp "
                  f"&& hostname {spec.name} && exec {SSHD} -D -e -f {conf}")
        argv = ["ip", "netns", "exec", spec.ns, "unshare", "--mount", "--uts", "--propagation", "private",
                "sh", "-c", script]
        start(ctx, f"sshd:{spec.name}", argv, log=workdir / f"{spec.name}.sshd.log")
        return public

    def _keepalived(self, ctx: LabContext, spec: RouterSpec, site: SiteNets, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        conf = run_dir / "keepalived.conf"
        conf.write_text(keepalived_config(spec, site))
        argv = ["ip", "netns", "exec", spec.ns, KEEPALIVED, "--dont-fork", "--log-console", "--no-syslog",
                "--vrrp", "-f", str(conf), "-p", str(run_dir / "keepalived.pid"),
                "-r", str(run_dir / "keepalived_vrrp.pid")]
        start(ctx, f"keepalived:{spec.name}", argv, log=run_dir / "keepalived.log")

    def _server(self, ctx: LabContext, site: SiteNets, workdir: Path) -> Path:
        ready = workdir / f"server-{site.site}.ready"
        ready.unlink(missing_ok=True)
        script = Path(__file__).resolve().parent / "tcp_server.py"
        start(ctx, f"server:{site.site}", ["ip", "netns", "exec", site.server_ns, sys.executable, str(script),
                                           site.server_addr, ",".join(str(p) for p in SERVICE_PORTS), str(ready)],
              log=workdir / f"server-{site.site}.log")
        return ready

    def _hosts(self, ctx: LabContext, spec: RouterSpec, site: SiteNets, *, workdir: Path, run_dir: Path,
               client_key: Path) -> list[LabHost]:
        probe: dict[str, Any] = {
            "client_namespace": site.client_ns, "client_address": site.client_addr,
            "server_namespace": site.server_ns, "server_address": site.server_addr,
            "service_ports": list(SERVICE_PORTS), "virtual_address": site.virtual_addr,
            "internet_namespace": internet_ns(ctx.instance), "internet_address": INTERNET_ADDRESS,
            "internet_address_via_b": INTERNET_ADDRESS_VIA_B,
        }
        common: dict[str, Any] = {
            "site": spec.site, "criticality": "high", "namespace": spec.ns, "probe": probe,
        }
        rtr_data = {
            **common, "role": "router", "ha_peer": spec.peer_name, "asn": spec.asn, "router_id": spec.router_id,
            "ospf": {"interface": "peer0", "area": "0", "neighbor": plan_peer_router_id(spec),
                     "neighbor_address": f"10.210.{spec.site_index}.{2 if spec.member == 'a' else 1}"},
            "bgp": {"neighbor": spec.upstream_addr, "remote_as": UPSTREAM_AS,
                    "accepted_prefixes": list(ACCEPTED_PREFIXES), "announced_prefixes": list(UPSTREAM_PREFIXES)},
            # The two operators and the outbound policy 'lab up' sets: what a restore returns to.
            "operators": [
                {"name": "operator-a", "neighbor": spec.upstream_addr, "remote_as": UPSTREAM_AS,
                 "addresses": [f"10.211.{spec.site_index}.{i}" for i in (1, 5)]},
                {"name": "operator-b", "neighbor": spec.operator_b_addr, "remote_as": OPERATOR_B_AS,
                 "addresses": [f"10.214.{spec.site_index}.{i}" for i in (1, 5)]},
            ],
            "outbound": {"preferred": spec.upstream_addr, "watch_prefix": INTERNET_PREFIX},
            "vty_socket": str(run_dir),
        }
        vrrp_data = {
            **common, "role": "router", "ha_peer": f"vrrp-{spec.site}-{'b' if spec.member == 'a' else 'a'}",
            "vrrp": {"instance": f"SRV_{spec.site.upper()}", "interface": "srv0", "vrid": site.vrid,
                     "virtual_address": site.virtual_addr, "priority": VRRP_PRIORITY[spec.member],
                     "expected_master": f"vrrp-{spec.site}-a"},
        }
        for name in (spec.name, spec.vrrp_name):
            ctx.secrets[name] = {"username": "root", "password": "", "optional_args": {"key_file": str(client_key)}}
        return [
            LabHost(name=spec.name, hostname=spec.mgmt_addr, port=22, platform="frr", role="router",
                    site=spec.site, groups=["router", spec.site, "frr"], data=rtr_data,
                    optional_args={"known_hosts": str(ctx.known_hosts), "vty_socket": str(run_dir),
                                   # frr.conf, what the daemons start from, is in the run directory
                                   "config_dir": str(run_dir)}),
            LabHost(name=spec.vrrp_name, hostname=spec.mgmt_addr, port=22, platform="keepalived", role="router",
                    site=spec.site, groups=["router", spec.site, "keepalived"], data=vrrp_data,
                    optional_args={"known_hosts": str(ctx.known_hosts),
                                   "config_path": str(workdir / spec.name / "keepalived.conf"),
                                   "pid_file": str(workdir / spec.name / "keepalived.pid")}),
        ]

    def status(self, ctx: LabContext) -> dict[str, str]:
        instance_file = ctx.root / "routers" / "instance"
        if not instance_file.exists():
            return {}
        specs = plan_routers(int(instance_file.read_text()))
        existing = _run("ip", "netns", "list")
        frr_base = Path((ctx.root / "routers" / "frr_base").read_text().strip())
        timings_file = ctx.root / "routers" / "timings.json"
        out: dict[str, str] = {}
        if timings_file.exists():
            t = json.loads(timings_file.read_text())
            out["start-up"] = (f"daemons and sshd {t.get('daemons_started_s')} s, "
                               f"then OSPF Full {t.get('ospf_full_s')} s, "
                               f"BGP Established {t.get('bgp_established_s')} s (its routes in the kernel "
                               f"{t.get('bgp_routes_in_kernel_s')} s), VRRP master {t.get('vrrp_master_s')} s")
        for spec in specs:
            run_dir = frr_base / spec.name
            if spec.ns not in existing:
                out[spec.name] = "namespace missing"
                continue
            try:
                ospf = ospf_full(run_dir, spec.ns)
                bgp = bgp_established(run_dir, spec.ns)
            except RuntimeError as exc:
                out[spec.name] = f"vtysh failed: {str(exc).splitlines()[0]}"
                continue
            ssh = "sshd up" if _ssh_banner(spec.mgmt_addr) else "sshd NOT answering"
            out[spec.name] = (f"{ssh} on {spec.mgmt_addr}:22, OSPF {'Full' if ospf else 'NOT Full'}, "
                              f"BGP {'Established' if bgp else 'NOT Established'}")
            pid_file = ctx.root / "routers" / spec.name / "keepalived.pid"
            running = pid_file.exists() and alive(int(pid_file.read_text().split()[0] or 0))
            out[spec.vrrp_name] = f"VRRP {vrrp_state(spec.ns)} on srv0" if running else "keepalived NOT running"
        instance = int(instance_file.read_text())
        for name, ns in (("upstream", upstream_ns(instance)), ("operator-b", operator_b_ns(instance))):
            out[name] = operator_status(frr_base / name, ns) if ns in existing else "namespace missing"
        return out


def operator_status(run_dir: Path, ns: str) -> str:
    """What an operator sees for ``lab status``: its BGP sessions (the four site routers and the
    other operator), how many are Established."""
    try:
        data = json.loads(vtysh(run_dir, "show bgp summary json", ns=ns) or "{}")
    except RuntimeError as exc:
        return f"vtysh failed: {str(exc).splitlines()[0]}"
    peers = data.get("ipv4Unicast", {}).get("peers", {})
    up = sum(1 for p in peers.values() if p.get("state") == "Established")
    return f"AS {data.get('ipv4Unicast', {}).get('as', '?')}: BGP Established with {up} of {len(peers)} neighbours"


def plan_peer_router_id(spec: RouterSpec) -> str:
    return f"10.255.{spec.site_index}.{2 if spec.member == 'a' else 1}"


# -- convergence ---------------------------------------------------------------------------------


def ospf_full(run_dir: Path, ns: str) -> bool:
    """The router has an OSPF neighbour in state Full."""
    data = json.loads(vtysh(run_dir, "show ip ospf neighbor json", ns=ns) or "{}")
    return any(str(n.get("state", n.get("nbrState", ""))).startswith("Full")
               for entries in data.get("neighbors", {}).values() for n in entries)


def bgp_established(run_dir: Path, ns: str) -> bool:
    """Every BGP neighbour of the router is Established."""
    data = json.loads(vtysh(run_dir, "show bgp neighbors json", ns=ns) or "{}")
    return bool(data) and all(n.get("bgpState") == "Established" for n in data.values())


def vrrp_state(ns: str) -> str:
    """``MASTER`` when the router holds a VRRP virtual address on ``srv0`` (keepalived adds it)."""
    out = _run("ip", "-o", "-4", "addr", "show", "dev", "srv0", ns=ns)
    return "MASTER" if len(out.splitlines()) > 1 else "BACKUP"


def kernel_routes(ns: str) -> set[str]:
    """The destinations of the namespace's kernel routing table (where forwarding happens)."""
    return {str(route.get("dst")) for route in json.loads(_run("ip", "-j", "route", ns=ns) or "[]")}


def wait_converged(specs: list[RouterSpec], run_dirs: dict[str, Path], sites: dict[str, SiteNets]) -> dict[str, Any]:
    """Wait for OSPF Full, BGP Established and one VRRP master per site; seconds each took."""
    t0 = time.monotonic()
    timings: dict[str, Any] = {}
    pending = {"ospf_full_s": {s.name for s in specs}, "bgp_established_s": {s.name for s in specs},
               "bgp_routes_in_kernel_s": {s.name for s in specs}, "vrrp_master_s": set(sites)}
    deadline = t0 + ADJACENCY_TIMEOUT
    while any(pending.values()) and time.monotonic() < deadline:
        for spec in specs:
            if spec.name in pending["ospf_full_s"] and ospf_full(run_dirs[spec.name], spec.ns):
                pending["ospf_full_s"].discard(spec.name)
            if spec.name in pending["bgp_established_s"] and bgp_established(run_dirs[spec.name], spec.ns):
                pending["bgp_established_s"].discard(spec.name)
            # Established is not enough: the prefixes arrive in an UPDATE after, then reach the kernel.
            if spec.name in pending["bgp_routes_in_kernel_s"] and set(ACCEPTED_PREFIXES) <= kernel_routes(spec.ns):
                pending["bgp_routes_in_kernel_s"].discard(spec.name)
            if spec.site in pending["vrrp_master_s"] and vrrp_state(spec.ns) == "MASTER":
                pending["vrrp_master_s"].discard(spec.site)
        for key, left in pending.items():
            if not left and key not in timings:
                timings[key] = round(time.monotonic() - t0, 2)
        if any(pending.values()):
            time.sleep(0.2)
    late = {k: sorted(v) for k, v in pending.items() if v}
    if late:
        raise RuntimeError(f"routers did not converge within {ADJACENCY_TIMEOUT:.0f} s: {late}")
    return timings
