"""A lab of N fake-switches only, in its own ``NETCHANGE_HOME``, and the environment to drive it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from netchange.lab.manager import LabManager
from netchange.lab.switches import Switches

REPO = Path(__file__).resolve().parent.parent
# A weekday 19:10 in Paris: inside the medium window (creating a VLAN is a medium change).
MEDIUM_TIME = "2026-12-01T19:10:00+01:00"
ENGINEER, APPROVER = "dnguyen", "bleroy"


@dataclass(frozen=True)
class Device:
    name: str
    host: str
    port: int
    username: str
    password: str
    secret: str


@dataclass
class SwitchLab:
    home: Path
    manager: LabManager
    hosts: list[str]
    """Switch names in inventory order (cores first on each site, then access switches)."""
    up_seconds: float

    @property
    def known_hosts(self) -> Path:
        return self.manager.root / "known_hosts"

    def devices(self, names: Sequence[str]) -> list[Device]:
        """Address and credentials of each switch, as the floor scripts need them."""
        inv = yaml.safe_load((self.manager.root / "inventory" / "hosts.yaml").read_text())
        secrets = yaml.safe_load(self.manager.secrets_file.read_text())["hosts"]
        return [Device(name=n, host=str(inv[n]["hostname"]), port=int(inv[n]["port"]), username=secrets[n]["username"],
                       password=secrets[n]["password"], secret=secrets[n]["optional_args"]["secret"])
                for n in names]

    def env(self, *, actor: str = ENGINEER, now: str | None = None) -> dict[str, str]:
        env = {**os.environ, "NETCHANGE_HOME": str(self.home),
               "NETCHANGE_NORNIR_CONFIG": str(self.manager.nornir_config),
               "NETCHANGE_POLICY": str(REPO / "policy.yaml"), "NETCHANGE_ACTOR": actor, "COLUMNS": "200"}
        env.pop("NETCHANGE_JOURNAL", None)
        env.pop("NETCHANGE_SECRETS", None)
        if now:
            env["NETCHANGE_NOW"] = now
        return env

    def netchange(self, *args: str, actor: str = ENGINEER, now: str | None = None,
                  timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], float]:
        """Run the ``netchange`` command line; returns the process and its wall time."""
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "netchange", *args], env=self.env(actor=actor, now=now),
                              capture_output=True, text=True, check=False, cwd=REPO, timeout=timeout)
        return proc, time.perf_counter() - t0


@contextmanager
def switch_lab(n: int, rtt_ms: float = 0.0) -> Iterator[SwitchLab]:
    """``n`` switches (an even number: half per site) in one fake-switches process; torn down after.
    ``rtt_ms``: a relay adding that round trip in front of each switch (:mod:`netchange.lab.latency`),
    where the round trips a change makes decide, not local CPU."""
    per_site = max(1, (n + 1) // 2)
    home = Path(tempfile.mkdtemp(prefix=f"netchange-bench-{n}-"))
    manager = LabManager(home / "lab", components=[Switches(per_site=per_site, rtt_ms=rtt_ms)])
    t0 = time.perf_counter()
    try:
        report = manager.up()
        up = time.perf_counter() - t0
        inv: dict[str, Any] = yaml.safe_load((manager.root / "inventory" / "hosts.yaml").read_text())
        yield SwitchLab(home=home, manager=manager, hosts=list(inv)[:n] if report.hosts else [], up_seconds=up)
    finally:
        down = manager.down()
        if down.leftovers:
            print(f"bench: left after lab down: {down.leftovers}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)


def write_change(path: Path, change_id: str, hosts: Sequence[str], vlan_id: int, name: str,
                 **extra: Any) -> Path:
    change = {"id": change_id, "title": f"bench VLAN {vlan_id}", "ticket": f"BENCH-{vlan_id}",
              "requester": "amoreau",
              "steps": [{"type": "vlan", "targets": {"hosts": list(hosts)},
                         "params": {"vlan_id": vlan_id, "name": name}}], **extra}
    path.write_text(yaml.safe_dump(change, sort_keys=False))
    return path
