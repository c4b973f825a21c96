"""The journal on each storage (issue 24): append rate and ``verify`` time, SQLite against PostgreSQL.

``python -m bench.journal_storage [--events N] [--url postgresql://...]`` prints one JSON object per
storage, the same workload as ``bench/journal_chain.py``:

- ``append_batched_per_s``: events per second written the way apply journals them (a change's
  plan, locks, then batches of five non-durable events; PostgreSQL: ``synchronous_commit = off``
  for those, as SQLite's ``synchronous=NORMAL``);
- ``append_durable_per_s``: one durable transaction per event (synced to disk before it returns);
- ``verify_s``: a whole ``verify`` of the journal then written.

PostgreSQL is the server at ``--url`` (an owner's URL on an empty database), or one started for the
run in a temporary directory (tests/pgserver.py: local, over TCP on 127.0.0.1, fsync on), the
journal's tables created by their owner and written as the application's role. Figures on a loaded
2-core machine are noisy: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netchange.journal import EventKind, Journal
from netchange.journal.testing import make_plan

KEY = "6b" * 32


def workload(journal: Journal, events: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    per_change = 20
    start = time.perf_counter()
    for c in range(events // per_change):
        plan = make_plan(f"CHG-2026-{c:05d}")
        journal.record_plan(plan, "dnguyen")
        journal.acquire_locks(plan.change.id, ["sw-doif-1"], actor="dnguyen")
        batch = [(EventKind.COMMITTED, "sw-doif-1", {"n": i}) for i in range(5)]
        for _ in range((per_change - 6) // 5):
            journal.event_batch(plan.change.id, batch, actor="dnguyen", durable=False)
        journal.release_locks(plan.change.id, actor="dnguyen")
    elapsed = time.perf_counter() - start
    out["append_batched_per_s"] = round(journal.head()[0] / elapsed)
    durable = 200
    start = time.perf_counter()
    for i in range(durable):
        journal.event("CHG-2026-00000", EventKind.POST_CHECKS, actor="dnguyen", data={"i": i})
    out["append_durable_per_s"] = round(durable / (time.perf_counter() - start))
    start = time.perf_counter()
    problems = journal.verify()
    out["verify_s"] = round(time.perf_counter() - start, 3)
    out["verify_events"] = journal.head()[0]
    out["verify_problems"] = len(problems)
    return out


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    """An empty database with the journal's schema, as the application's role's URL."""
    if url:
        from netchange.journal.pgstore import create_schema

        create_schema(url)
        yield url
        return
    from tests import pgserver

    with tempfile.TemporaryDirectory(prefix="netchange-bench-pg-") as tmp:
        Path(tmp).chmod(0o755)
        server = pgserver.start(Path(tmp) / "cluster")
        try:
            yield pgserver.journal_database(server)
        finally:
            pgserver.stop(server)


def run(events: int, url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"events": events}
    with tempfile.TemporaryDirectory() as tmp:
        with Journal(Path(tmp) / "j.sqlite", database="", key=KEY, anchors=None) as journal:
            out["sqlite"] = workload(journal, events)
        with _database(url) as db, Journal(Path(tmp) / "j.sqlite", database=db, key=KEY) as journal:
            out["postgresql"] = workload(journal, events)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--url", help="an owner's postgresql:// URL on an empty database"
                        " (default: a server started for the run)")
    ns = parser.parse_args()
    print(json.dumps(run(ns.events, ns.url), indent=2))


if __name__ == "__main__":
    main()
