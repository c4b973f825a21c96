"""The offline plan as a CI job runs it: ``netchange plan --offline DIR --fail-on medium --json``.

Run as ``python -m bench.offline_cli N [LINES]``: writes an inventory of N IOS switches (NAPALM's
``ios`` platform, as in production), one stored configuration per switch in Oxidized's layout
(``DIR/switches/<host>``, ``show running-config`` as printed, banner included, LINES lines), a
minor change request (a user port into an existing VLAN) on all of them, and times the command
in a subprocess (interpreter start-up included: what a pipeline pays). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.configs import ios_config

REPO = Path(__file__).resolve().parent.parent


def _setup(root: Path, n: int, lines: int) -> Path:
    hosts = {f"sw-acc-{i:03d}": {"hostname": f"sw-acc-{i:03d}.example.net", "platform": "ios",
                                 "data": {"role": "switch", "site": "doif" if i % 2 else "doso"}} for i in range(n)}
    (root / "inventory").mkdir()
    (root / "inventory" / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (root / "inventory" / "groups.yaml").write_text("{}\n")
    (root / "inventory" / "defaults.yaml").write_text("{}\n")
    (root / "nornir.yaml").write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(root / "inventory" / "hosts.yaml"), "group_file": str(root / "inventory" / "groups.yaml"),
            "defaults_file": str(root / "inventory" / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 20}}, "logging": {"enabled": False}}))
    backups = root / "backups" / "switches"
    backups.mkdir(parents=True)
    for i, name in enumerate(hosts):
        config = ios_config(lines, seed=i) + "interface GigabitEthernet0/48\n description spare\n shutdown\n!\n"
        (backups / name).write_text(f"Building configuration...\n\nCurrent configuration : {len(config)} bytes\n"
                                    f"{config}end\n")
    change = root / "change.yaml"
    change.write_text(yaml.safe_dump({
        "id": "CHG-2026-0999", "title": "bench offline", "ticket": "BENCH", "requester": "amoreau",
        "steps": [{"type": "access_port", "targets": {"role": "switch"},
                   "params": {"interfaces": ["GigabitEthernet0/48"], "description": "printer", "access_vlan": 10,
                              "enabled": True}}]}))
    return change


def run(n: int, lines: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        change = _setup(root, n, lines)
        env = {**os.environ, "NETCHANGE_HOME": str(root / "home"), "NETCHANGE_POLICY": str(REPO / "policy.yaml")}
        argv = [sys.executable, "-m", "netchange", "--config", str(root / "nornir.yaml"), "plan", str(change),
                "--offline", str(root / "backups"), "--fail-on", "medium", "--json"]
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - t0
        doc = json.loads(proc.stdout)
        if "error" in doc:
            raise RuntimeError(doc["error"]["message"])
        errors = [h["error"] for h in doc["hosts"] if h["error"]]
        return {"hosts": n, "config_lines": lines, "wall_s": round(wall, 2), "exit_code": proc.returncode,
                "category": doc["category"], "hosts_with_errors": len(errors), "cores": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    print(json.dumps(run(int(args[0]), int(args[1]) if len(args) > 1 else 300)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
