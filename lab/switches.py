"""IOS-style switches: fake-switches, every switch of the lab in one process.

One Twisted reactor serves all switches (one SSH port each, on 127.0.0.1): 200 switches cost
about 60 MB that way, where one process per switch would cost gigabytes. Each switch has its own
generated host key, login password and enable secret, and starts from a small seed configuration
(VLANs, described interfaces, a management SVI and a static route on the cores). fake-switches
has no ACL support on its IOS model, so the seed has none.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netchange.lab import keys, latency
from netchange.lab.component import LabContext, LabHost


def fake_switches_missing() -> str | None:
    """Why the stand-ins built on fake-switches (the IOS switches, the ASA) cannot start, or None."""
    for module in ("fake_switches", "twisted.conch"):
        if importlib.util.find_spec(module) is None:
            return (f"python module {module!r} missing: pip install 'Twisted[conch]' "
                    "&& pip install --no-deps fake-switches==1.5.0")
    return None

SITES = ("doif", "doso")
PID_KEY = "switches"
READY_TIMEOUT = 60.0


@dataclass(frozen=True, kw_only=True)
class SwitchSpec:
    name: str
    site: str
    kind: str  # "core" or "access"
    index: int
    site_index: int

    @property
    def criticality(self) -> str:
        return "high" if self.kind == "core" else "medium"

    @property
    def ha_peer(self) -> str | None:
        if self.kind != "core":
            return None
        peer = 2 if self.index == 1 else 1
        return f"sw-{self.site}-core{peer}"


def plan_switches(per_site: int, cores_per_site: int = 2) -> list[SwitchSpec]:
    """The switches of the lab: ``cores_per_site`` cores then access switches, on each site."""
    specs: list[SwitchSpec] = []
    for site_index, site in enumerate(SITES):
        cores = min(cores_per_site, per_site)
        for i in range(1, cores + 1):
            specs.append(SwitchSpec(name=f"sw-{site}-core{i}", site=site, kind="core", index=i,
                                    site_index=site_index))
        for i in range(1, per_site - cores + 1):
            specs.append(SwitchSpec(name=f"sw-{site}-acc{i}", site=site, kind="access", index=i,
                                    site_index=site_index))
    return specs


def seed_config(spec: SwitchSpec) -> list[str]:
    """The configuration a switch starts with, typed into it as an operator would."""
    lines = [
        "vlan 10", " name users",
        "vlan 20", " name servers",
        "vlan 99", " name management",
        "interface FastEthernet0/1",
        f" description uplink {spec.site} {'core peer' if spec.kind == 'core' else 'to core'}",
        " switchport mode trunk",
        " switchport trunk allowed vlan 10,20,99",
        "interface FastEthernet0/2", " description user desk 2",
        " switchport mode access", " switchport access vlan 10",
        "interface FastEthernet0/3", " description printer 3",
        " switchport mode access", " switchport access vlan 10",
        "interface FastEthernet0/12", " description spare", " shutdown",
    ]
    if spec.kind == "core":
        net = 10 + spec.site_index
        lines += [
            "interface Vlan99", " description management",
            f" ip address 10.{net}.99.{spec.index + 1} 255.255.255.0",
            "exit",  # global lines typed in interface mode would be taken as interface lines
            f"ip route 0.0.0.0 0.0.0.0 10.{net}.99.254",
            f"ip route 10.{net}.200.0 255.255.255.0 10.{net}.99.253",
        ]
    return lines


class Switches:
    """The lab component for IOS-style switches (``ios_cli`` platform)."""

    name = "switches"
    platforms: tuple[str, ...] = ("ios_cli",)

    def __init__(self, per_site: int = 4, cores_per_site: int = 2, rtt_ms: float = 0.0) -> None:
        self.per_site = per_site
        self.cores_per_site = cores_per_site
        self.rtt_ms = rtt_ms
        """Round trip added in front of each switch (:mod:`netchange.lab.latency`); 0: none."""

    def available(self) -> str | None:
        return fake_switches_missing()

    def up(self, ctx: LabContext) -> list[LabHost]:
        workdir = ctx.root / "switches"
        workdir.mkdir(parents=True, exist_ok=True)
        specs = plan_switches(self.per_site, self.cores_per_site)
        public: dict[str, str] = {}
        entries: list[dict[str, Any]] = []
        for spec in specs:
            entry, public[spec.name] = ssh_login(ctx, workdir, spec.name)
            entries.append({**entry, "seed": seed_config(spec)})
        ports = launch(ctx, workdir, module="netchange.lab.fakeswitch_launcher", pid_key=PID_KEY,
                       devices="switches", entries=entries, public=public)
        if self.rtt_ms > 0:
            ports = latency.relay(ctx, workdir, pid_key=f"{PID_KEY}-latency", targets=ports, public=public,
                                  rtt_ms=self.rtt_ms)

        hosts = []
        for spec in specs:
            data: dict[str, Any] = {"role": "switch", "site": spec.site, "criticality": spec.criticality,
                                    "kind": spec.kind, "model": "cisco_generic (fake-switches)"}
            if spec.ha_peer:
                data["ha_peer"] = spec.ha_peer
            hosts.append(LabHost(
                name=spec.name, hostname="127.0.0.1", port=ports[spec.name], platform="ios_cli",
                role="switch", site=spec.site, groups=["switch", spec.site, "ios_cli"], data=data,
                optional_args={"alt_key_file": str(ctx.known_hosts)},
            ))
        return hosts

    def status(self, ctx: LabContext) -> dict[str, str]:
        return launcher_status(ctx.root / "switches")


def ssh_login(ctx: LabContext, workdir: Path, name: str) -> tuple[dict[str, str], str]:
    """A fake-switches-based device's own host key, login password and enable secret, generated
    at ``lab up``: its launcher entry's login part, and its public host key. The credentials go to
    ``ctx.secrets`` as the inventory's secrets file holds them (enable secret as NAPALM's)."""
    host_key = workdir / f"{name}.host_key"
    public = keys.ed25519_keypair(host_key, f"{name}@lab")
    secret = {"username": "netops", "password": keys.password(), "enable_secret": keys.password()}
    ctx.secrets[name] = {"username": secret["username"], "password": secret["password"],
                         "optional_args": {"secret": secret["enable_secret"]}}
    return {"name": name, "host_key": str(host_key), **secret}, public


def launch(ctx: LabContext, workdir: Path, *, module: str, pid_key: str, devices: str,
           entries: list[dict[str, Any]], public: dict[str, str], listen_host: str = "127.0.0.1",
           netns: str | None = None) -> dict[str, int]:
    """Start ``module``'s launcher for ``entries`` (the spec's list ``devices``), wait until it
    says which port each device listens on, and trust their host keys: the ports by name.

    ``netns``: run it inside that network namespace (the team lab's per-site device namespaces),
    listening on ``listen_host`` there."""
    ready = workdir / "ready.json"
    ready.unlink(missing_ok=True)
    spec_file = workdir / "spec.json"
    keys.write_private(spec_file, json.dumps(
        {"listen_host": listen_host, "ready_file": str(ready), devices: entries}).encode())
    log = (workdir / "launcher.log").open("ab")
    # An installed module (netchange.lab, package-dir in pyproject.toml): no PYTHONPATH to set.
    prefix = ["ip", "netns", "exec", netns] if netns else []  # ip execs the launcher: same PID
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", module, str(spec_file)],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    ctx.pids[pid_key] = proc.pid
    ports = _wait_ready(proc, ready, workdir / "launcher.log")
    with ctx.known_hosts.open("a") as fh:
        for name, key in public.items():
            fh.write(keys.known_hosts_line(listen_host, ports[name], key) + "\n")
    return ports


def launcher_status(workdir: Path) -> dict[str, str]:
    """Whether each device a launcher started in ``workdir`` still answers on its port."""
    ready = workdir / "ready.json"
    if not ready.exists():
        return {}
    ports: dict[str, int] = json.loads(ready.read_text())["ports"]
    return {name: (f"listening on 127.0.0.1:{port}" if port_open("127.0.0.1", port) else "not answering")
            for name, port in ports.items()}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_ready(proc: subprocess.Popen[bytes], ready: Path, log: Path) -> dict[str, int]:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if ready.exists():
            ports: dict[str, int] = json.loads(ready.read_text())["ports"]
            return ports
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"fake-switches launcher exited with {proc.returncode}:\n{tail}")
        time.sleep(0.05)
    raise TimeoutError(f"fake-switches launcher not ready after {READY_TIMEOUT:.0f} s (see {log})")
