"""The cost of reading each host again just before its commit (issue 11, item 3).

An apply used to reuse its prepare-phase reading for up to 120 s as the basis of a host's diff
and commit; it now reads the running state again, under the lock, immediately before each
commit, and refuses the host if it changed. This bench measures what that re-read costs per
host, on every kind of lab device: ``get_config`` + normalize + SHA-256, in an open session
(the session is already open at that point of an apply), best and median of ``--repeat`` runs.

    flock /tmp/netchange-lab.lock .venv/bin/python -m bench.reread [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from nornir import InitNornir

from netchange.changetype import text_hash
from netchange.drivers.contract import normalize
from netchange.inventory import CONNECTION_NAME
from netchange.lab.manager import LabManager


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="netchange-reread-"))
    os.environ["NETCHANGE_HOME"] = str(home)
    manager = LabManager(home / "lab")
    try:
        manager.up()
        nr = InitNornir(config_file=str(manager.nornir_config))
        print(f"{'host':<16} {'platform':<9} {'lines':>5} {'best ms':>8} {'median ms':>9}")
        for name, host in nr.inventory.hosts.items():
            driver = host.get_connection(CONNECTION_NAME, nr.config)
            times, lines = [], 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                running = driver.get_config(retrieve="running")["running"]
                text_hash(normalize(driver, running))
                times.append((time.perf_counter() - t0) * 1000)
                lines = running.count("\n")
            print(f"{name:<16} {host.platform or '':<9} {lines:>5} {min(times):>8.1f} {statistics.median(times):>9.1f}")
        nr.close_connections()
    finally:
        manager.down()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
