"""The global load balancer: gdnsd answers ``www.gslb.doif.lab.example.`` with the healthy centres.

Why gdnsd (Debian 12's 3.8.1) and not PowerDNS with LUA records: its ``weighted`` plugin is the
whole policy as configuration data (one ``NAME = [ ADDRESS, WEIGHT ]`` line per centre), its own
``http_status`` monitor checks each centre's HAProxy frontend, and a drain is gdnsd's documented
administrative override (``admin_state``: ``ADDRESS/SERVICE => DOWN``), which the daemon watches
and applies within about two seconds with no restart. A PowerDNS LUA record is a Lua program in a
zone: a weight change would be an edit of code, which a driver can only diff as text.
(docs/load-sharing.md says more.)

``$root/gslb/`` is gdnsd's configuration directory: ``config`` (listener, the monitor, the
``weighted`` resource), ``zones/gslb.doif.lab.example``, ``state/admin_state`` (the drains) and
``run/`` (its control socket). BIND's doif zone delegates the subzone to it (lab/bind.py).

Each centre's address is its HAProxy frontend's service address (lab/haproxy.py,
``SERVICE_ADDRESSES``: one loopback address per centre, one port), so the address gdnsd answers is
the one it monitors, as with real VIPs.

gdnsd changes its configuration by ``gdnsdctl replace``: a new daemon takes the sockets over and
the old one exits. The lab has no service manager to follow the new PID (systemd's MAINPID), so the
recorded process is a small shell that starts gdnsd and then lives as long as a gdnsd answers on
the control socket (three failed polls a second apart end it); gdnsd's replacement stays in its
process group, which ``lab down`` kills.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from netchange.lab import bind, haproxy
from netchange.lab.component import LabContext, LabHost
from netchange.lab.spawn import alive, free_udp_tcp_port, start, wait_until

ZONE = f"gslb.{bind.zone_name(bind.GSLB_PARENT)}"
NAME = f"www.{ZONE}"
RESOURCE = "www"
FAILOVER = "www_failover"
"""The same centres by priority (gdnsd's metafo plugin): DOIF first, DOSO when DOIF is down or drained."""
FAILOVER_NAME = f"failover.{ZONE}"
SERVICE_TYPE = "centre_http"
HOST = "gslb-global"
TTL = 10
"""The service name's TTL: how long a resolver may keep sending clients to a drained centre."""


def config_text(*, port: int, base: Path, health_port: int, centres: dict[str, str]) -> str:
    """gdnsd's ``config``: the listener, the centres' HTTP monitor and the weighted resource."""
    members = "".join(f"      {site} = [ {address}, 1 ]\n" for site, address in centres.items())
    dcmap = "".join(f"          {site} => {address}\n" for site, address in centres.items())
    return (
        "options => {\n"
        f"  listen => [ 127.0.0.1:{port} ]\n"
        f"  run_dir => {base / 'run'}\n"
        f"  state_dir => {base / 'state'}\n"
        "  udp_threads => 1\n"
        "  tcp_threads => 1\n"
        "}\n"
        "service_types => {\n"
        # The fastest gdnsd allows (interval >= 2 s), one result to change state.
        f"  {SERVICE_TYPE} => {{ plugin => http_status, port => {health_port}, url_path => /,"
        " interval => 2, timeout => 1, up_thresh => 1, ok_thresh => 1, down_thresh => 1 }\n"
        "}\n"
        "plugins => {\n"
        "  weighted => {\n"
        # A centre is left out only while another is up: below 1 % of the weight up, gdnsd
        # answers every centre (failing open), as no answer at all would be worse.
        "    up_thresh => 0.01\n"
        f"    {RESOURCE} => {{\n"
        f"      service_types => {SERVICE_TYPE}\n"
        f"{members}"
        "    }\n"
        "  }\n"
        "  metafo => {\n"
        f"    service_types => {SERVICE_TYPE}\n"
        "    resources => {\n"
        f"      {FAILOVER} => {{\n"
        f"        datacenters => [ {', '.join(centres)} ]\n"
        "        dcmap => {\n"
        f"{dcmap}"
        "        }\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )


def zone_text() -> str:
    return (
        f"$TTL {TTL}\n"
        f"@ SOA ns1 hostmaster 1 3600 600 86400 {TTL}\n"
        "@ NS ns1\n"
        "ns1 A 127.0.0.1\n"
        f"{RESOURCE} {TTL} DYNA weighted!{RESOURCE}\n"
        f"failover {TTL} DYNA metafo!{FAILOVER}\n"
    )


def answers(port: int, name: str = NAME, *, source: str | None = None) -> list[str] | None:
    """The A records the server gives ``name`` (None: no answer)."""
    try:
        reply = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=port, timeout=0.5,
                              source=source)
    except (dns.exception.DNSException, OSError):
        return None
    if reply.rcode() != dns.rcode.NOERROR:
        return None
    return [rr.address for rrset in reply.answer for rr in rrset if rrset.rdtype == 1]


class GslbLab:
    """gdnsd as the global load balancer of the two centres (a LabComponent)."""

    name = "gslb"
    platforms: tuple[str, ...] = ("gdnsd",)

    def available(self) -> str | None:
        missing = [tool for tool in ("gdnsd", "gdnsdctl", "haproxy") if shutil.which(tool) is None]
        if missing:
            return f"{', '.join(missing)} not installed (apt-get install gdnsd haproxy)"
        return None

    def up(self, ctx: LabContext) -> list[LabHost]:
        base = ctx.root / "gslb"
        for sub in ("zones", "state", "run"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        centres: dict[str, str] = {}
        frontends: dict[str, dict[str, object]] = {}
        service_port = health_port = 0
        for site in haproxy.SITES:
            cfg = (ctx.root / f"haproxy-{site}" / "haproxy.cfg").read_text()
            endpoint, health = haproxy.service_endpoint(cfg), haproxy.service_endpoint(cfg, "health")
            if endpoint is None or health is None:
                raise RuntimeError(f"haproxy-{site}: no service or health address in its haproxy.cfg")
            centres[site], service_port = endpoint
            health_port = health[1]
            frontends[site] = {"address": endpoint[0], "port": endpoint[1], "health_port": health_port,
                               "stats": f"127.0.0.1:{haproxy.admin_port(cfg)}", "frontend": haproxy.FRONTEND,
                               "listener": "service"}
        port = free_udp_tcp_port(ctx)
        (base / "config").write_text(config_text(port=port, base=base, health_port=health_port, centres=centres))
        (base / "zones" / ZONE.rstrip(".")).write_text(zone_text())
        (base / "state" / "admin_state").write_text("")
        log = base / "gdnsd.log"
        # Gone only after three failed polls in a row: gdnsdctl retries through a replace by itself.
        keeper = ('gdnsd -c "$0" start; n=0; while [ $n -lt 3 ]; do '
                  'if gdnsdctl -c "$0" -t 5 status >/dev/null 2>&1; then n=0; else n=$((n+1)); fi; sleep 1; done')
        start(ctx, "gslb", ["sh", "-c", keeper, str(base)], log=log)
        wait_until(lambda: bool(answers(port)), timeout=15, what="gdnsd", log=log)
        return [LabHost(
            name=HOST,
            hostname="127.0.0.1",
            port=port,
            platform="gdnsd",
            role="load_balancer",
            site="doif",  # where it runs: its zone is delegated from DOIF's (lab/bind.py)
            data={"zone": ZONE, "service_name": NAME, "resource": RESOURCE, "service_type": SERVICE_TYPE,
                  "names": {RESOURCE: NAME, FAILOVER: FAILOVER_NAME},
                  "dns_server": "127.0.0.1", "dns_port": port, "service_port": service_port,
                  "centres": frontends},
            optional_args={"config_dir": str(base)},
        )]

    def status(self, ctx: LabContext) -> dict[str, str]:
        pid = ctx.pids.get("gslb")
        if not alive(pid):
            return {HOST: "stopped"}
        base = ctx.root / "gslb"
        states = subprocess.run(["gdnsdctl", "-c", str(base), "-o", "states"], capture_output=True, text=True,
                                check=False, timeout=10).stdout
        port = int((base / "config").read_text().split("listen => [ 127.0.0.1:", 1)[1].split(maxsplit=1)[0]
                   .rstrip("]"))
        return {HOST: f"running (pid {pid}), 127.0.0.1:{port}, {NAME} -> {answers(port)}, monitors: "
                      + " ".join(states.split())}
