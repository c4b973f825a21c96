"""The window another hand still has, per platform (issue 21 item 3).

Every ``commit_config`` and ``rollback`` reads the device again and compares it with the state
checked (``NetchangeDriver._reread_and_compare``) just before it writes. What remains is the time
from the end of that re-read to the start of the write (``write_window_ms``, set by
``NetchangeDriver._writing``); the IOS and ASA CLI drivers commit without reading again on the
engine's ``get_config`` while it is less than ``running_reuse_seconds`` old (issue 27 item 1), so
their commit window runs from that reading (no re-read of their own is listed). keepalived checks
on the device instead, in the command that renames: its ``write_window_ms`` is the device's own
time from the file's hash to the rename.
Also given: the re-read itself (its cost per write), and the upper bound of the window: from the
re-read to the write call's return (the device took the write somewhere in between) — for FRR,
to the return of the one exec that sends netchange's commands (``FrrDriver._send``: every line
has landed then; what follows is the read-back). A line typed in that bound is in none of the
commands: FRR keeps it and names it, it is not erased.

On a lab of its own (every platform), ``--repeat`` commits and rollbacks per host of each
platform, best / median / worst in milliseconds::

    .venv/bin/python -m bench.write_window [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nornir import InitNornir

from netchange.inventory import CONNECTION_NAME
from netchange.lab.manager import LabManager
from tests.integration.lab2_support import context
from tests.integration.test_every_platform_circular import CASES


def _timed_reread(driver: Any) -> None:
    """Wrap the driver's re-read so its own duration is kept too, and its write's start."""
    original = driver._reread_and_compare
    driver.reread_ms = []
    writing = driver._writing

    def mark() -> None:
        driver.write_started = time.perf_counter()
        driver.sent = None
        writing()

    driver._writing = mark
    if hasattr(driver, "_send"):  # FRR: the commands netchange sends itself; the first send's end
        send = driver._send

        def timed_send(*args: Any) -> Any:
            try:
                return send(*args)
            finally:
                if getattr(driver, "sent", None) is None:
                    driver.sent = time.perf_counter()

        driver._send = timed_send

    def timed(*args: Any, **kwargs: Any) -> str:
        t0 = time.perf_counter()
        try:
            return str(original(*args, **kwargs))
        finally:
            driver.reread_ms.append((time.perf_counter() - t0) * 1000)

    driver._reread_and_compare = timed


def _row(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<28} {'-':>8} {'-':>8} {'-':>8}"
    return f"{label:<28} {min(values):>8.2f} {statistics.median(values):>8.2f} {max(values):>8.2f}"


def measure(nr: Any, repeat: int) -> None:
    seen: set[str] = set()
    print(f"{'platform / write':<28} {'best ms':>8} {'median':>8} {'worst':>8}")
    for name, host in nr.inventory.hosts.items():
        if host.platform in seen or host.platform not in CASES:
            continue
        seen.add(host.platform)
        driver = host.get_connection(CONNECTION_NAME, nr.config)
        _timed_reread(driver)
        change_type, params = CASES[host.platform]
        ct, ctx = context(nr, name, driver, change_type, params(dict(host.data)))
        candidate = ct.render(ctx)
        windows: dict[str, list[float]] = {"commit": [], "rollback": []}
        bounds: dict[str, list[float]] = {"commit": [], "rollback": []}
        for _ in range(repeat):
            for step in ("commit", "rollback"):
                driver.get_config(retrieve="running")  # the engine's check
                if step == "commit":
                    driver.load_merge_candidate(config=candidate)
                    driver.compare_config()
                    driver.commit_config()
                else:
                    driver.rollback()
                done = time.perf_counter()
                if driver.write_window_ms is not None:
                    windows[step].append(driver.write_window_ms)
                    end = getattr(driver, "sent", None) or done  # FRR: the lines have landed when the send returns
                    bounds[step].append(driver.write_window_ms + (end - driver.write_started) * 1000)
                driver.write_window_ms = None
        for step in ("commit", "rollback"):
            print(_row(f"{host.platform} {step}: to the write", windows[step]))
            print(_row(f"{host.platform} {step}: write returned", bounds[step]))
        print(_row(f"{host.platform} (the re-read itself)", driver.reread_ms))
    nr.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="netchange-window-"))
    os.environ["NETCHANGE_HOME"] = str(home)
    manager = LabManager(home / "lab")
    try:
        manager.up()
        measure(InitNornir(config_file=str(manager.nornir_config)), args.repeat)
    finally:
        manager.down()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
