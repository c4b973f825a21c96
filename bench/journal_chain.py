"""The keyed journal chain's cost: hashing, appending and verifying, on a real SQLite file.

``python -m bench.journal_chain [--events N]`` prints one JSON object:
- ``hash_us``: one event's chain hash, plain SHA-256 (the chain before keys) against HMAC-SHA256;
- ``append_*``: events per second, the way apply journals them (five per transaction, no sync)
  and one durable transaction per event (synced, the worst case);
- ``verify_s``: a whole ``verify`` (chain, plans, approvals, changes and locks recomputed) of a
  journal of N events over N/20 changes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from netchange.journal import EventKind, Journal
from netchange.journal.chain import GENESIS, event_hash
from netchange.journal.encoding import canonical
from netchange.journal.testing import make_plan


def _hash_us() -> dict[str, float]:
    data = canonical({"checks": [{"name": "vlan", "passed": True}], "after": "1" * 64})
    args: dict[str, Any] = {"change_id": "CHG-2026-0001", "at": "2026-12-01T09:00:00.000000+00:00",
                            "kind": "post_checks", "actor": "dnguyen", "host": "sw-doif-1", "data": data}
    n = 50_000
    plain = timeit.timeit(lambda: event_hash(GENESIS, 1, **args), number=n) / n * 1e6
    keyed = timeit.timeit(lambda: event_hash(GENESIS, 1, key=b"k" * 64, **args), number=n) / n * 1e6
    return {"plain_sha256": round(plain, 2), "hmac_sha256": round(keyed, 2)}


def run(events: int) -> dict[str, Any]:
    out: dict[str, Any] = {"events": events, "hash_us": _hash_us()}
    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "j.sqlite") as j:
        per_change = 20
        start = time.perf_counter()
        for c in range(events // per_change):
            plan = make_plan(f"CHG-2026-{c:05d}")
            j.record_plan(plan, "dnguyen")  # 3 events: requested, plan, state (+ the keying event once)
            j.acquire_locks(plan.change.id, ["sw-doif-1"], actor="dnguyen")
            batch = [(EventKind.COMMITTED, "sw-doif-1", {"n": i}) for i in range(5)]
            for _ in range((per_change - 6) // 5):
                j.event_batch(plan.change.id, batch, actor="dnguyen", durable=False)
            j.release_locks(plan.change.id, actor="dnguyen")
        elapsed = time.perf_counter() - start
        total = j.head()[0]
        out["append_batched_per_s"] = round(total / elapsed)
        start = time.perf_counter()
        durable = 200
        for i in range(durable):
            j.event("CHG-2026-00000", EventKind.POST_CHECKS, actor="dnguyen", data={"i": i})
        out["append_durable_per_s"] = round(durable / (time.perf_counter() - start))
        start = time.perf_counter()
        problems = j.verify()
        out["verify_s"] = round(time.perf_counter() - start, 3)
        out["verify_events"] = j.head()[0]
        out["verify_problems"] = len(problems)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    print(json.dumps(run(parser.parse_args().events), indent=2))


if __name__ == "__main__":
    main()
