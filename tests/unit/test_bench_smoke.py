"""``python -m bench`` runs its offline parts and writes its JSON (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_quick_offline_parts_write_their_json(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--skip-ansible", "--only", "B3,B4", "--output", str(out)],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert {"when", "machine", "B3", "B4"} <= set(data)
    assert "B1" not in data and "B5" not in data
    assert set(data["B3"]["sizes"]) == {"1000", "10000"}
    for figures in data["B3"]["sizes"].values():
        assert {"render_ms", "diff_ms", "classify_ms", "journal_ms", "total_ms", "target_ms"} <= set(figures)
    for figures in data["B4"]["sizes"].values():
        assert figures["hosts_with_errors"] == 0
        assert {"wall_s", "peak_rss_mb", "per_host_ms"} <= set(figures)
    assert "B3 engine CPU" in proc.stdout
