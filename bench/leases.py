"""Device leases' cost (issue 24 item 3): acquire, check (the fence before each write) and release.

``python -m bench.leases [--url postgresql://...] [--rounds N]`` prints one JSON object of
milliseconds (median, p95) per operation, against a database at ``--url``, or without one against a
PostgreSQL 15 server it starts itself in a temporary directory (tests/pgserver.py), as the tests do:

- ``acquire_ms``: one device leased (connection, schema check, the row, its token), as a command
  takes it; ``acquire_5_ms``: five devices in one transaction;
- ``check_ms``: one fencing check (renewing the lease), what each journal write and device call adds;
- ``release_ms``: the rows deleted and the connection closed;
- ``os_lock_ms``: the same acquire and release with the machine's OS locks, for comparison.

Figures on a loaded 2-core machine are noisy: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netchange.apply import leases
from netchange.apply import locks as devicelock


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median": round(statistics.median(ordered) * 1000, 3),
            "p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3)}


def _timed(rounds: int, step: Callable[[int], None]) -> list[float]:
    out = []
    for i in range(rounds):
        started = time.perf_counter()
        step(i)
        out.append(time.perf_counter() - started)
    return out


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from tests import pgserver

    with tempfile.TemporaryDirectory(prefix="netchange-bench-pg-") as tmp:
        Path(tmp).chmod(0o755)
        server = pgserver.start(Path(tmp) / "cluster")
        try:
            yield server.database("bench")
        finally:
            pgserver.stop(server)


def run(url: str | None, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {"rounds": rounds}
    with _server(url) as db, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        args: dict[str, Any] = {"change_id": "CHG-2026-0001", "action": "apply", "actor": "dnguyen", "home": home,
                                "url": db}
        leases.acquire({"warm": "warm:22"}, **args).release()
        acquire, check, release = [], [], []
        for i in range(rounds):  # one at a time, as commands do (each holds one connection)
            t0 = time.perf_counter()
            held = leases.acquire({"sw": f"sw{i}:22"}, **args)
            t1 = time.perf_counter()
            held.check()
            t2 = time.perf_counter()
            held.release()
            t3 = time.perf_counter()
            acquire.append(t1 - t0)
            check.append(t2 - t1)
            release.append(t3 - t2)
        out["acquire_ms"], out["check_ms"], out["release_ms"] = _stats(acquire), _stats(check), _stats(release)
        five = [{f"h{k}": f"sw{i}-{k}:22" for k in range(5)} for i in range(rounds)]
        out["acquire_5_ms"] = _stats(_timed(rounds, lambda i: leases.acquire(five[i], **args).release()))
        where = home / "locks"
        out["os_lock_ms"] = _stats(_timed(rounds, lambda i: devicelock.acquire(
            {"sw": f"sw{i}:22"}, change_id="CHG-2026-0001", action="apply", actor="dnguyen", home=home,
            directory=where).release()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a postgresql:// URL (default: a server started for the run)")
    parser.add_argument("--rounds", type=int, default=200)
    ns = parser.parse_args()
    print(json.dumps(run(ns.url, ns.rounds), indent=2))


if __name__ == "__main__":
    main()
