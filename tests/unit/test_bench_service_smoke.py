"""B6 at a tiny scale: the benchmark fills a journal, serves it and times every page (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_service_benchmark_runs_and_prints_its_figures(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.service", "--changes", "40", "--samples", "6", "--clients", "3",
         "--keep", str(tmp_path / "b6")],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "B6 approval service — 40 changes" in proc.stdout
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(figures["pages"]) == {f"{page}_{n}" for page in ("queue", "filtered", "change", "calendar", "reports")
                                     for n in ("1_client", "3_clients")}
    for stats in figures["pages"].values():
        assert stats["n"] >= 6 and 0 < stats["median_ms"] <= stats["p95_ms"] <= stats["max_ms"]
    assert figures["fill"]["changes"] == 40 and figures["fill"]["events"] > 40 * 3
