"""bench.service_replicas at a tiny scale: a journal filled, served on SQLite, migrated to a
PostgreSQL server it starts, served by one and two replicas, every case timed without an error
(no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_replicas_benchmark_runs_and_prints_its_figures() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.service_replicas", "--changes", "30", "--requests", "12", "--clients", "4"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(figures["cases"]) == {"sqlite_1_replica", "postgresql_1_replica", "postgresql_2_replicas"}
    for pages in figures["cases"].values():
        assert set(pages) == {"queue", "change"}
        for stats in pages.values():
            assert "errors" not in stats, stats
            assert stats["n"] == 12 and 0 < stats["median_ms"] <= stats["p95_ms"] <= stats["max_ms"]
