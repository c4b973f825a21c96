"""Start, stop and report the lab: generic over :class:`netchange.lab.component.LabComponent`.

``up`` runs each available component, records every PID and namespace it made in
``state.json`` as soon as it exists (so a crash half-way still leaves enough to tear down), and
writes a Nornir inventory plus a 0600 secrets file for exactly what it started. ``down`` kills
exactly the recorded PIDs (with their process groups, since each was started as a session
leader, so sshd's per-connection children go too) and deletes exactly the recorded namespaces,
and the directories it recorded outside the lab root, then verifies that no process, listener,
namespace or directory is left. Nothing is found by name.

``down`` never stops half-way: each step (signal a process, delete a namespace, read ``/proc``)
stands alone, and its failure is collected in ``DownReport.errors`` while the rest is still done.
Processes exit at any moment during a ``/proc`` scan, so every read of ``/proc`` treats a vanished
process as gone instead of raising (it once crashed on ``FileNotFoundError: /proc/<pid>/stat`` and
left 12 namespaces behind).

``up`` and ``down`` of one lab directory hold a lock beside it (two shells cannot start the same
lab into one directory), and the instance number that names its namespaces is reserved
machine-wide (:mod:`netchange.lab.instances`), so two labs starting together cannot pick the same one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netchange.lab import instances, keys
from netchange.lab.asa_firewalls import AsaFirewalls
from netchange.lab.bind import BindLab
from netchange.lab.component import LabComponent, LabContext, LabHost
from netchange.lab.firewalls import Firewalls, used_instances
from netchange.lab.gslb import GslbLab
from netchange.lab.haproxy import HaproxyLab
from netchange.lab.netconf import NetconfLab
from netchange.lab.routers import Routers
from netchange.lab.switches import Switches, port_open

STATE_FILE = instances.STATE_FILE
STOP_TIMEOUT = 5.0
LEFTOVER_GRACE = 3.0
"""How long ``down`` waits for killed processes to release sockets before calling them leftovers."""


def default_components() -> list[LabComponent]:
    """Every kind of stand-in the default lab runs. Other components are added to this list."""
    components: list[LabComponent] = [Switches(), AsaFirewalls(), Firewalls(), HaproxyLab(), BindLab(), NetconfLab(),
                                      Routers(), GslbLab()]
    return components


def lab_platforms(components: Sequence[LabComponent] | None = None) -> set[str]:
    """The platforms the lab serves (each component's declared ones), without starting it."""
    return {p for c in (default_components() if components is None else components) for p in c.platforms}


@dataclass(kw_only=True)
class UpReport:
    already_running: bool
    hosts: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    """Each component started now, with how long its start took (empty when already running)."""


@dataclass(kw_only=True)
class DownReport:
    killed: list[int] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    """What is still there after teardown (empty when all went away)."""
    errors: list[str] = field(default_factory=list)
    """Steps that failed (each one alone: the others were still done)."""

    def attempt(self, what: str, action: Callable[..., object], *args: Any) -> object:
        """One step of the teardown: its failure is recorded in :attr:`errors`, never raised."""
        try:
            return action(*args)
        except Exception as exc:
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}")
            return None


class LabManager:
    """The lab under one state directory (``$NETCHANGE_HOME/lab``)."""

    def __init__(self, root: Path, components: Sequence[LabComponent] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.root = root.resolve()
        self._components = components
        self.log = log or (lambda _msg: None)
        self._lock_depth = 0

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """This lab directory's lock (re-entrant within this object: ``up`` calls ``down``)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        # Beside the root, not in it: ``up`` deletes and re-creates the root.
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with instances.file_lock(self.root.parent / f".{self.root.name}.lock"):
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0

    def reserve_instance(self, used: Callable[[], set[int]] = used_instances) -> int:
        """This lab's instance number, reserved machine-wide until ``down`` (see :mod:`netchange.lab.instances`)."""
        return instances.reserve_instance(self.root, used)

    @property
    def components(self) -> Sequence[LabComponent]:
        if self._components is None:
            self._components = default_components()
        return self._components

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    @property
    def nornir_config(self) -> Path:
        return self.root / "nornir.yaml"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.yaml"

    # -- state ---------------------------------------------------------------------------------

    def load_state(self) -> dict[str, Any] | None:
        if not self.state_file.exists():
            return None
        data: dict[str, Any] = json.loads(self.state_file.read_text())
        return data

    def _save_state(self, ctx: LabContext, **extra: Any) -> None:
        state = self.load_state() or {}
        starts = state.get("start_times", {})
        for name, pid in ctx.pids.items():
            if name not in starts:
                starts[name] = _start_time(pid)
        state.update(pids=ctx.pids, start_times=starts, namespaces=ctx.namespaces, paths=ctx.paths, **extra)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)

    def problems(self) -> list[str]:
        """Why the recorded lab is not healthy (empty list: every recorded process and namespace is there)."""
        state = self.load_state()
        if state is None:
            return ["not running"]
        issues = [f"process {name} (pid {pid}) is gone" for name, pid in state.get("pids", {}).items()
                  if not _alive(pid, state.get("start_times", {}).get(name))]
        existing = set(_namespaces())
        issues += [f"namespace {ns} is gone" for ns in state.get("namespaces", []) if ns not in existing]
        if not state.get("complete"):
            issues.append("start-up did not complete")
        return issues

    # -- commands ------------------------------------------------------------------------------

    def up(self) -> UpReport:
        with self._locked():
            return self._up()

    def _up(self) -> UpReport:
        started = time.monotonic()
        state = self.load_state()
        if state is not None:
            if not self.problems():
                return UpReport(already_running=True, hosts=state.get("hosts", []),
                                skipped=state.get("skipped", {}))
            self.log("lab state found but unhealthy; tearing it down first")
            self.down()
        if self.root.exists():
            # Fresh keys and passwords at every start: nothing generated survives a restart.
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        self.root.chmod(0o700)
        ctx = LabContext(root=self.root)
        hosts: list[LabHost] = []
        skipped: dict[str, str] = {}
        timings: dict[str, float] = {}
        self._save_state(ctx, complete=False)
        try:
            # After the state file exists: a reservation counts as live while it does.
            ctx.instance = self.reserve_instance()
            self._save_state(ctx, complete=False, instance=ctx.instance)
            for component in self.components:
                reason = component.available()
                if reason:
                    skipped[component.name] = reason
                    self.log(f"skipping {component.name}: {reason}")
                    continue
                t0 = time.monotonic()
                try:
                    served = component.up(ctx)
                finally:
                    self._save_state(ctx, complete=False)
                undeclared = sorted({h.platform for h in served} - set(component.platforms))
                if undeclared:  # its declaration is what says which drivers the lab proves
                    raise RuntimeError(f"lab component {component.name} served platform(s) {undeclared} "
                                       f"it does not declare (platforms = {component.platforms})")
                hosts += served
                timings[component.name] = time.monotonic() - t0
                self.log(f"{component.name}: up in {timings[component.name]:.1f} s")
            self._write_inventory(hosts, ctx)
        except BaseException:
            self.log("start-up failed; stopping what was started")
            self.down()
            raise
        started_components = [c.name for c in self.components if c.name not in skipped]
        self._save_state(ctx, complete=True, hosts=[h.name for h in hosts], skipped=skipped,
                         components=started_components, inventory=[asdict(h) for h in hosts])
        return UpReport(already_running=False, hosts=[h.name for h in hosts], skipped=skipped,
                        seconds=time.monotonic() - started, timings=timings)

    def down(self) -> DownReport:
        with self._locked():
            return self._down()

    def restart(self, host: str) -> None:
        """Power-cycle one lab device: its component stops its daemons and starts them again from
        what the device saved (its startup state), as at a reload (issue 21 item 4's test). Only
        components with a ``restart(ctx, host)`` can: FRR routers and NETCONF devices (the
        fake switches keep their saved copy in the process: docs/safety.md, "Saving")."""
        with self._locked():
            state = self.load_state()
            if state is None or not state.get("complete"):
                raise RuntimeError("the lab is not up")
            ctx = LabContext(root=self.root, pids=dict(state.get("pids", {})),
                             namespaces=list(state.get("namespaces", [])), paths=list(state.get("paths", [])),
                             instance=int(state.get("instance", 0)))
            before = dict(ctx.pids)
            try:
                done = any(getattr(c, "restart", None) is not None and c.restart(ctx, host)  # type: ignore[attr-defined]
                           for c in self.components)
            finally:
                # New processes are recorded (and their start times) whatever happened, so that
                # ``down`` stops exactly them.
                state["start_times"] = {name: t for name, t in state.get("start_times", {}).items()
                                        if before.get(name) == ctx.pids.get(name)}
                tmp = self.state_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(state, indent=2))
                tmp.replace(self.state_file)
                self._save_state(ctx)
            if not done:
                raise ValueError(f"{host}: no lab component can restart it")

    def _down(self) -> DownReport:
        report = DownReport()
        state = self.load_state()
        if state is None:
            return report
        victims = self._stop_processes(state, report)
        self._remove_namespaces_and_paths(state, report)
        self._wait_for_leftovers(state, victims, report)
        if not report.leftovers:
            report.attempt("release the instance number", instances.release_instance, self.root)
            self.state_file.unlink(missing_ok=True)
        return report

    @staticmethod
    def _stop_processes(state: dict[str, Any], report: DownReport) -> dict[str, int]:
        """SIGTERM to the lab's processes still alive (checked by start time), SIGKILL after
        :data:`STOP_TIMEOUT`; returns them, by name."""
        attempt = report.attempt
        starts = state.get("start_times", {})
        victims = {name: pid for name, pid in state.get("pids", {}).items()
                   if attempt(f"check {name} (pid {pid})", _alive, pid, starts.get(name))}
        for name, pid in victims.items():
            attempt(f"stop {name} (pid {pid})", _signal, pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(attempt("check", _group_alive, p) for p in victims.values()):
            time.sleep(0.05)
        for name, pid in victims.items():
            if attempt(f"check {name} (pid {pid})", _group_alive, pid):
                attempt(f"kill {name} (pid {pid})", _signal, pid, signal.SIGKILL)
        report.killed = sorted(victims.values())
        return victims

    def _remove_namespaces_and_paths(self, state: dict[str, Any], report: DownReport) -> None:
        recorded = list(state.get("namespaces", []))
        try:
            existing = set(_namespaces())
        except Exception as exc:  # then try every recorded namespace
            report.errors.append(f"list namespaces: {type(exc).__name__}: {exc}")
            existing = set(recorded)
        for ns in reversed(recorded):
            if ns in existing:
                report.attempt(f"namespace {ns}", self._delete_namespace, ns, report)
        for path in state.get("paths", []):
            if Path(path).exists():
                report.attempt(f"directory {path}", shutil.rmtree, path)

    def _wait_for_leftovers(self, state: dict[str, Any], victims: dict[str, int], report: DownReport) -> None:
        # A killed process takes a moment to release its sockets: look again for a few seconds
        # before calling anything a leftover.
        deadline = time.monotonic() + LEFTOVER_GRACE
        while True:
            time.sleep(0.1)
            try:
                report.leftovers = self._leftovers(state, victims)
            except Exception as exc:  # cannot tell: keep the state file so that down can run again
                report.leftovers = [f"unchecked ({type(exc).__name__}: {exc})"]
                break
            if not report.leftovers or time.monotonic() > deadline:
                break

    @staticmethod
    def _delete_namespace(ns: str, report: DownReport) -> None:
        # Whatever still runs inside a namespace the lab created was started by the lab
        # (an sshd session child detaches into its own session, so the group kill misses it).
        for pid in _netns_pids(ns):
            try:
                if _signal(pid, signal.SIGKILL):
                    report.killed.append(pid)
            except OSError as exc:  # still delete the namespace; the leftover check will tell
                report.errors.append(f"kill pid {pid} in {ns}: {type(exc).__name__}: {exc}")
        _delete_netns(ns)
        report.namespaces.append(ns)

    @staticmethod
    def _leftovers(state: dict[str, Any], victims: dict[str, int]) -> list[str]:
        left_ns = set(_namespaces())
        found = [f"namespace {ns}" for ns in state.get("namespaces", []) if ns in left_ns]
        found += [f"process {pid}" for pid in victims.values() if _group_alive(pid)]
        found += [f"directory {path}" for path in state.get("paths", []) if Path(path).exists()]
        for host in state.get("inventory", []):
            if host["hostname"] == "127.0.0.1" and _port_open(host["hostname"], host["port"]):
                found.append(f"listener 127.0.0.1:{host['port']} ({host['name']})")
        return found

    def status(self) -> dict[str, dict[str, str]]:
        """Component name → device name → one-line state."""
        state = self.load_state()
        if state is None:
            return {}
        ctx = LabContext(root=self.root, pids=state.get("pids", {}), namespaces=state.get("namespaces", []))
        out: dict[str, dict[str, str]] = {}
        for component in self.components:
            if component.name in state.get("skipped", {}):
                out[component.name] = {"-": f"skipped: {state['skipped'][component.name]}"}
                continue
            if component.name not in state.get("components", [component.name]):
                out[component.name] = {"-": "not part of this lab run (started before it was added)"}
                continue
            out[component.name] = component.status(ctx)
        return out

    # -- inventory -----------------------------------------------------------------------------

    def _write_inventory(self, hosts: list[LabHost], ctx: LabContext) -> None:
        write_inventory(hosts, ctx.secrets, inventory=self.root / "inventory", secrets_file=self.secrets_file,
                        nornir_config=self.nornir_config)


def write_inventory(hosts: Sequence[LabHost], secrets: dict[str, dict[str, Any]], *, inventory: Path,
                    secrets_file: Path, nornir_config: Path) -> None:
    """A Nornir inventory of ``hosts`` in ``inventory``, their credentials in ``secrets_file`` (0600),
    and the Nornir configuration that reads both (the team lab writes one per site: a site's
    worker holds only its own site's secrets)."""
    inv = inventory
    inv.mkdir(exist_ok=True)
    host_entries: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    for host in hosts:
        entry: dict[str, Any] = {
            "hostname": host.hostname,
            "port": host.port,
            "platform": host.platform,
            "groups": host.groups or [host.role, host.site, host.platform],
            "data": {"role": host.role, "site": host.site, **host.data},
        }
        if host.optional_args:
            entry["connection_options"] = {"netchange": {"extras": {"optional_args": host.optional_args}}}
        host_entries[host.name] = entry
        for group in entry["groups"]:
            groups.setdefault(group, {"data": {}})
    (inv / "hosts.yaml").write_text(yaml.safe_dump(host_entries, sort_keys=False))
    (inv / "groups.yaml").write_text(yaml.safe_dump(groups, sort_keys=True))
    (inv / "defaults.yaml").write_text(yaml.safe_dump({"data": {}}))
    document = {"defaults": {}, "groups": {}, "hosts": secrets}
    keys.write_private(secrets_file, yaml.safe_dump(document, sort_keys=True).encode())
    nornir = {
        "inventory": {
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inv / "hosts.yaml"),
                "group_file": str(inv / "groups.yaml"),
                "defaults_file": str(inv / "defaults.yaml"),
            },
            "transform_function": "netchange_credentials",
            "transform_function_options": {"secrets_file": str(secrets_file)},
        },
        "runner": {"plugin": "threaded", "options": {"num_workers": 20}},
        "logging": {"enabled": False},
    }
    nornir_config.write_text(yaml.safe_dump(nornir, sort_keys=False))


# -- processes and namespaces ------------------------------------------------------------------


def _read_stat(pid: int) -> str:
    """``/proc/<pid>/stat`` (raises if the process is gone: it may exit at any moment)."""
    return Path(f"/proc/{pid}/stat").read_text()


def _stat_fields(pid: int) -> list[str] | None:
    """The fields after the command name in ``/proc/<pid>/stat``; ``None`` once the process is gone.

    Read once per question: reading twice (start time, then state) crashed ``down`` when an
    unrelated process exited between the two reads.
    """
    try:
        text = _read_stat(pid)
    except OSError:  # FileNotFoundError, ProcessLookupError (ESRCH while it exits), PermissionError
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields if len(fields) > 19 else None  # starttime is field 22 of proc(5), the 20th after "(comm)"


def _start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (guards against killing a recycled PID)."""
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None
    except ValueError:
        return None


def _alive(pid: int, start_time: int | None) -> bool:
    fields = _stat_fields(pid)
    if fields is None:
        return False
    return fields[0] != "Z" and (start_time is None or fields[19] == str(start_time))


def _proc_pids() -> list[int]:
    """Every PID in ``/proc`` right now (any of them may be gone by the time it is read)."""
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies of our own children count as gone.
    return any(_alive(pid, None) and _pgid(pid) == pgid for pid in _proc_pids())


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _signal(pid: int, sig: signal.Signals) -> bool:
    """Signal the process and, when it leads its own group (as the lab starts it), the group.

    ``False`` when it was already gone; other errors (permission) are raised to the caller.
    """
    try:
        if _pgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def _namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], check=False, capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _netns_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], check=False, capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _delete_netns(ns: str) -> None:
    proc = subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ip netns delete {ns} failed ({proc.returncode}): {proc.stderr.strip()}")


def _port_open(host: str, port: int) -> bool:
    return port_open(host, port, timeout=0.2)
