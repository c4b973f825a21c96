"""The approval service on one and on two replicas over PostgreSQL (issue 24 item 5, done when).

``python -m bench.service_replicas [--changes 2000] [--requests 400] [--clients 20]``

The home of ``bench.service`` (N changes, an operations manager's password) is copied into a
PostgreSQL server started for the run (``netchange journal migrate --to``, the application's role
granted its rights; tests/pgserver.py, fsync on), then served by one ``netchange serve`` and by
two (each its own process, one home, one database: sessions and throttling shared through it). 20
clients, each signed in through the form on the replica it is given (client i on replica i mod R,
what a round-robin proxy does per connection), read *my queue* and *the change* concurrently;
prints median and 95th percentile per case, and the same on SQLite with one replica for reference,
then the JSON figures on the last line. The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.service import NETCHANGE, _change_ids, _stats, _timed, prepare, signed_in
from netchange.service.launch import serving

APP_ROLE = "netchange_app"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.service_replicas", description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400, help="requests per page and per case")
    parser.add_argument("--clients", type=int, default=20)
    return parser.parse_args(argv)


def concurrent(bases: list[str], pages: dict[str, Callable[[], str]], *, clients: int, requests: int) -> dict[str, Any]:
    """Each page read ``requests`` times by ``clients`` concurrent signed-in clients spread over ``bases``."""
    sessions = [signed_in(bases[i % len(bases)]) for i in range(clients)]
    results: dict[str, Any] = {}
    try:
        for s in sessions:  # warm-up: each replica's imports, templates, caches
            _timed(s, "/queue")
        for name, pick in pages.items():
            paths = [pick() for _ in range(requests)]
            timings: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            barrier = threading.Barrier(clients)

            def worker(client: httpx.Client, mine: list[str], out: list[float] = timings,
                       bad: list[str] = errors, guard: threading.Lock = lock,
                       start: threading.Barrier = barrier) -> None:
                start.wait()
                local, failed = [], []
                for p in mine:
                    try:
                        local.append(_timed(client, p))
                    except (RuntimeError, httpx.HTTPError) as exc:
                        failed.append(str(exc))
                with guard:
                    out.extend(local)
                    bad.extend(failed)

            threads = [threading.Thread(target=worker, args=(s, paths[i::clients])) for i, s in enumerate(sessions)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            stats = _stats(timings)
            stats["throughput_rps"] = round(len(timings) / wall, 1)
            if errors:
                stats["errors"], stats["first_error"] = len(errors), errors[0]
            results[name] = stats
    finally:
        for s in sessions:
            s.close()
    return results


def run(changes: int, *, requests: int, clients: int) -> dict[str, Any]:
    from tests import pgserver

    root = Path(tempfile.mkdtemp(prefix="netchange-bench-replicas-"))
    root.chmod(0o755)
    try:
        env, filled = prepare(root, changes)
        ids = _change_ids(root / "home" / "journal.sqlite")
        rng = random.Random(7)
        pages: dict[str, Callable[[], str]] = {"queue": lambda: "/queue",
                                               "change": lambda: f"/changes/{rng.choice(ids)}"}
        cases: dict[str, Any] = {}
        with serving(env) as base:
            cases["sqlite_1_replica"] = concurrent([base], pages, clients=clients, requests=requests)
        server = pgserver.start(root / "cluster")
        try:
            owner = server.database("bench")
            import psycopg

            with psycopg.connect(server.url(), autocommit=True) as conn:
                conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            t0 = time.perf_counter()
            done = subprocess.run([str(NETCHANGE), "journal", "migrate", "--to", owner, "--app-role", APP_ROLE],
                                  env=env, capture_output=True, text=True, timeout=1800, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"journal migrate: {done.stdout}{done.stderr}")
            migrate_s = round(time.perf_counter() - t0, 1)
            team = {**env, "NETCHANGE_DATABASE_URL": server.url(owner.rsplit("/", 1)[1], user=APP_ROLE)}
            for replicas in (1, 2):
                with ExitStack() as stack:
                    bases = [stack.enter_context(serving(team)) for _ in range(replicas)]
                    cases[f"postgresql_{replicas}_replica{'s' if replicas > 1 else ''}"] = concurrent(
                        bases, pages, clients=clients, requests=requests)
        finally:
            pgserver.stop(server)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"fill": filled, "migrate_s": migrate_s, "clients": clients, "requests": requests, "cases": cases,
            "cores": os.cpu_count(), "load_average": [round(x, 1) for x in os.getloadavg()]}


def table(r: dict[str, Any]) -> str:
    lines = [f"the service on replicas — {r['fill']['changes']} changes, {r['clients']} clients,"
             f" {r['requests']} requests per page (journal migrated to PostgreSQL in {r['migrate_s']} s)",
             f"{'case':<24} {'page':<7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'req/s':>7}"]
    for case, pages in r["cases"].items():
        for page, s in pages.items():
            lines.append(f"{case:<24} {page:<7} {s['median_ms']:>10} {s['p95_ms']:>8} {s['max_ms']:>8}"
                         f" {s['throughput_rps']:>7}" + (f"  {s['errors']} errors: {s['first_error']}"
                                                          if s.get("errors") else ""))
    lines.append(f"({r['cores']} cores, load average {'/'.join(str(x) for x in r['load_average'])} after the run:"
                 " the machine is shared)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result = run(args.changes, requests=args.requests, clients=args.clients)
    print(table(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
