"""ASA firewalls: the lab's ASA stand-in (``asa_cli`` platform), one process for all of them.

Each firewall is an SSH service on 127.0.0.1 (a port the kernel picks) run by
:mod:`netchange.lab.asa_launcher`: fake-switches' SSH framework with an ASA's CLI and a
configuration model of its own (:mod:`netchange.lab.asa_config`), so that netchange's ``asa_cli``
driver (netmiko ``cisco_asa``) plans, applies, rolls back and recovers over a real SSH session
(issue 22 item 12). Like the switches, each has its own host key, login password and enable
secret, generated at ``lab up``.

The seed is a real ASA's configuration (:mod:`netchange.lab.asa_seed`: the corpus's
ciscoconfparse ASA 9.0(3) sample) with its ``hostname`` set to the lab's name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from netchange.lab import keys
from netchange.lab.asa_seed import CISCOCONFPARSE_SAMPLE_01
from netchange.lab.component import LabContext, LabHost
from netchange.lab.switches import _wait_ready, fake_switches_missing, port_open

PID_KEY = "asa"
FIREWALLS = (("asa-doif", "doif"),)
"""One ASA: each lab test that drives one costs a lab lock's worth of time, one is enough."""


def seed_config(name: str) -> str:
    """The seed with the firewall's own hostname (the prompt and the backups carry it)."""
    return "\n".join(f"hostname {name}" if line.startswith("hostname ") else line
                     for line in CISCOCONFPARSE_SAMPLE_01.splitlines()) + "\n"


class AsaFirewalls:
    """The lab component for ASA-style firewalls (``asa_cli`` platform)."""

    name = "asa"
    platforms: tuple[str, ...] = ("asa_cli",)

    def available(self) -> str | None:
        return fake_switches_missing()

    def up(self, ctx: LabContext) -> list[LabHost]:
        workdir = ctx.root / "asa"
        workdir.mkdir(parents=True, exist_ok=True)
        public: dict[str, str] = {}
        entries: list[dict[str, Any]] = []
        for name, _site in FIREWALLS:
            host_key = workdir / f"{name}.host_key"
            public[name] = keys.ed25519_keypair(host_key, f"{name}@lab")
            secret = {"username": "netops", "password": keys.password(), "enable_secret": keys.password()}
            ctx.secrets[name] = {"username": secret["username"], "password": secret["password"],
                                 "optional_args": {"secret": secret["enable_secret"]}}
            entries.append({"name": name, "host_key": str(host_key), "seed": seed_config(name), **secret})

        ready = workdir / "ready.json"
        ready.unlink(missing_ok=True)
        spec_file = workdir / "spec.json"
        keys.write_private(spec_file, json.dumps(
            {"listen_host": "127.0.0.1", "ready_file": str(ready), "firewalls": entries}).encode())
        log = (workdir / "launcher.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "netchange.lab.asa_launcher", str(spec_file)],
            cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        ctx.pids[PID_KEY] = proc.pid
        ports = _wait_ready(proc, ready, workdir / "launcher.log")

        with ctx.known_hosts.open("a") as fh:
            for name, _site in FIREWALLS:
                fh.write(keys.known_hosts_line("127.0.0.1", ports[name], public[name]) + "\n")
        return [LabHost(
            name=name, hostname="127.0.0.1", port=ports[name], platform="asa_cli", role="firewall", site=site,
            groups=["firewall", site, "asa_cli"],
            data={"role": "firewall", "site": site, "criticality": "high", "model": "ASAv (netchange stand-in)"},
            optional_args={"alt_key_file": str(ctx.known_hosts)},
        ) for name, site in FIREWALLS]

    def status(self, ctx: LabContext) -> dict[str, str]:
        ready = ctx.root / "asa" / "ready.json"
        if not ready.exists():
            return {}
        ports: dict[str, int] = json.loads(ready.read_text())["ports"]
        return {name: (f"listening on 127.0.0.1:{port}" if port_open("127.0.0.1", port) else "not answering")
                for name, port in ports.items()}
