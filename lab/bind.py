"""DNS: one BIND 9 primary per site on 127.0.0.1, changed only by TSIG-signed dynamic updates.

Each site gets ``$root/bind-<site>/`` with ``named.conf``, a forward zone ``<site>.lab.example.``
and a reverse zone for the site's documentation prefix, both granting updates
(``update-policy``) and transfers (``allow-transfer``) to one TSIG key generated at ``lab up``
with ``tsig-keygen``. The key goes to the secrets file only (``tsig_name``, ``tsig_secret``,
``tsig_algorithm``), never to the inventory. Zone journals (``.jnl``) are deleted before start so
that a restart begins from the zone files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode

from netchange import redact
from netchange.lab.component import LabContext, LabHost
from netchange.lab.keys import write_private
from netchange.lab.spawn import alive, free_udp_tcp_port, start, wait_until

SITES = {"doif": "192.0.2", "doso": "198.51.100"}
TSIG_ALGORITHM = "hmac-sha256"
GSLB_PARENT = "doif"
"""The site whose zone delegates ``gslb.<zone>`` to the global load balancer (lab/gslb.py): an NS
and its glue, as a parent zone hands a subzone to another authoritative server."""


def host_name(site: str) -> str:
    return f"dns-{site}"


def zone_name(site: str) -> str:
    return f"{site}.lab.example."


def reverse_zone(prefix: str) -> str:
    return ".".join(reversed(prefix.split("."))) + ".in-addr.arpa."


def forward_zone_text(site: str, prefix: str) -> str:
    zone = zone_name(site)
    return (
        "$TTL 300\n"
        f"@ IN SOA ns1.{zone} hostmaster.{zone} 1 3600 600 86400 300\n"
        "@ IN NS ns1\n"
        "ns1 IN A 127.0.0.1\n"
        f"www IN A {prefix}.10\n"
        f"mail IN A {prefix}.25\n"
        "portal IN CNAME www\n"
        + ("gslb IN NS ns1.gslb\nns1.gslb IN A 127.0.0.1\n" if site == GSLB_PARENT else "")
    )


def reverse_zone_text(site: str) -> str:
    zone = zone_name(site)
    return (
        "$TTL 300\n"
        f"@ IN SOA ns1.{zone} hostmaster.{zone} 1 3600 600 86400 300\n"
        f"@ IN NS ns1.{zone}\n"
        f"10 IN PTR www.{zone}\n"
    )


def named_conf(base: Path, port: int, key_name: str, zones: list[str]) -> str:
    zone_blocks = "".join(
        f'zone "{zone}" {{\n'
        "    type primary;\n"
        f'    file "{base / (zone + "zone")}";\n'
        f"    update-policy {{ grant {key_name} zonesub ANY; }};\n"
        f"    allow-transfer {{ key {key_name}; }};\n"
        "};\n"
        for zone in zones
    )
    return (
        "options {\n"
        f'    directory "{base}";\n'
        f'    pid-file "{base / "named.pid"}";\n'
        f'    session-keyfile "{base / "session.key"}";\n'
        f'    managed-keys-directory "{base}";\n'
        f"    listen-on port {port} {{ 127.0.0.1; }};\n"
        "    listen-on-v6 { none; };\n"
        "    recursion no;\n"
        "    allow-query { 127.0.0.1; };\n"
        "    dnssec-validation no;\n"
        "};\n"
        "controls { };\n"
        f'include "{base / "tsig.key"}";\n' + zone_blocks
    )


def generate_key(name: str) -> tuple[str, str]:
    """(named.conf key clause, secret) from ``tsig-keygen``; the secret is registered for redaction."""
    out = subprocess.run(
        ["tsig-keygen", "-a", TSIG_ALGORITHM, name], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r'secret "([^"]+)"', out)
    if match is None:
        raise RuntimeError("tsig-keygen printed no secret")
    redact.register(match.group(1))
    return out, match.group(1)


def soa_serial(port: int, zone: str) -> int | None:
    """The zone's SOA serial as the server answers it (None: no answer)."""
    query = dns.message.make_query(zone, "SOA")
    try:
        answer = dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
    except (dns.exception.DNSException, OSError):
        return None
    if answer.rcode() != dns.rcode.NOERROR or not answer.answer:
        return None
    return int(answer.answer[0][0].serial)


class BindLab:
    """One BIND 9 primary per site (a :class:`netchange.lab.component.LabComponent`)."""

    name = "bind"
    platforms: tuple[str, ...] = ("bind",)

    def available(self) -> str | None:
        missing = [tool for tool in ("named", "tsig-keygen", "named-checkzone") if shutil.which(tool) is None]
        if missing:
            return f"{', '.join(missing)} not installed (apt-get install bind9 bind9-utils)"
        return None

    def up(self, ctx: LabContext) -> list[LabHost]:
        return [self._site(ctx, site, prefix) for site, prefix in SITES.items()]

    def _site(self, ctx: LabContext, site: str, prefix: str) -> LabHost:
        base = ctx.root / f"bind-{site}"
        base.mkdir(parents=True, exist_ok=True)
        forward, reverse = zone_name(site), reverse_zone(prefix)
        for stale in base.glob("*.jnl"):
            stale.unlink()
        (base / (forward + "zone")).write_text(forward_zone_text(site, prefix))
        (base / (reverse + "zone")).write_text(reverse_zone_text(site))
        key_name = f"netchange-{site}."
        clause, secret = generate_key(key_name)
        write_private(base / "tsig.key", clause.encode())
        port = free_udp_tcp_port(ctx)
        conf = base / "named.conf"
        conf.write_text(named_conf(base, port, key_name, [forward, reverse]))
        log = base / "named.log"
        start(ctx, f"bind-{site}", ["named", "-g", "-4", "-n", "1", "-c", str(conf)], log=log)
        wait_until(lambda: soa_serial(port, forward) is not None, timeout=15, what=f"named {site}", log=log)
        ctx.secrets[host_name(site)] = {
            "optional_args": {"tsig_name": key_name, "tsig_secret": secret, "tsig_algorithm": TSIG_ALGORITHM}
        }
        return LabHost(
            name=host_name(site),
            hostname="127.0.0.1",
            port=port,
            platform="bind",
            role="dns",
            site=site,
            data={
                "zone": forward,
                "reverse_zone": reverse,
                "dns_server": "127.0.0.1",
                "dns_port": port,
                "prefix": f"{prefix}.0/24",
            },
            optional_args={"zones": [forward, reverse]},
        )

    def status(self, ctx: LabContext) -> dict[str, str]:
        result = {}
        for site in SITES:
            pid = ctx.pids.get(f"bind-{site}")
            if not alive(pid):
                result[host_name(site)] = "stopped"
                continue
            conf = (ctx.root / f"bind-{site}" / "named.conf").read_text()
            port = int(conf.split("listen-on port ", 1)[1].split()[0])
            serial = soa_serial(port, zone_name(site))
            state = f"serial {serial}" if serial is not None else "not answering"
            result[host_name(site)] = f"running (pid {pid}), 127.0.0.1:{port}, {zone_name(site)} {state}"
        return result
