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

from typing import Any

from netchange.lab.asa_seed import CISCOCONFPARSE_SAMPLE_01
from netchange.lab.component import LabContext, LabHost
from netchange.lab.switches import fake_switches_missing, launch, launcher_status, ssh_login

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
            entry, public[name] = ssh_login(ctx, workdir, name)
            entries.append({**entry, "seed": seed_config(name)})
        ports = launch(ctx, workdir, module="netchange.lab.asa_launcher", pid_key=PID_KEY,
                       devices="firewalls", entries=entries, public=public)
        return [LabHost(
            name=name, hostname="127.0.0.1", port=ports[name], platform="asa_cli", role="firewall", site=site,
            groups=["firewall", site, "asa_cli"],
            data={"role": "firewall", "site": site, "criticality": "high", "model": "ASAv (netchange stand-in)"},
            optional_args={"alt_key_file": str(ctx.known_hosts)},
        ) for name, site in FIREWALLS]

    def status(self, ctx: LabContext) -> dict[str, str]:
        return launcher_status(ctx.root / "asa")
