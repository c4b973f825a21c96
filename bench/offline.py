"""B4: an offline plan (stored configs, no device) over a generated inventory of N hosts.

Run as ``python -m bench.offline N LINES`` (one process per N, so that peak memory is this N's):
builds a Nornir inventory of N ``ios_cli`` switches in memory, gives each host the real ios_cli
driver over an in-memory device (:mod:`netchange.testing`), then does what ``netchange plan`` does
after connecting: ``build_plan`` (20 threads, as configured for the fleet), the plan store and the
journal. Prints one JSON object.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nornir.core import Nornir

from bench.configs import ios_config
from netchange.journal import Journal
from netchange.models import ChangeRequest
from netchange.plan import build_plan
from netchange.plan import store as planstore
from netchange.policy import load_policy
from netchange.testing import StoredDevice, build_inventory

REPO = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def inventory(n: int, lines: int) -> Nornir:
    devices = [StoredDevice(f"sw-{'doif' if i % 2 else 'doso'}-acc{i}", ios_config(lines, seed=i),
                            site="doif" if i % 2 else "doso") for i in range(n)]
    return build_inventory(devices, workers=20)


def run(n: int, lines: int) -> dict[str, Any]:
    policy = load_policy(REPO / "policy.yaml")
    change = ChangeRequest.model_validate({
        "id": f"BENCH-B4-{n}", "title": "bench offline VLAN", "ticket": "BENCH-B4", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 3001, "name": "bench"}}]})
    nr = inventory(n, lines)
    base_mb = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    plan = build_plan(change, nr, actor="dnguyen", policy_version=policy.version,
                      requirements=policy.requirements)  # type: ignore[arg-type]
    t_plan = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "journal.sqlite") as journal:
        planstore.record(Path(tmp) / "plans", journal, plan)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    errors = [h.error for h in plan.hosts if h.error]
    return {"n": n, "config_lines": lines, "wall_s": round(wall, 3), "build_plan_s": round(t_plan, 3),
            "cpu_s": round(cpu, 3), "per_host_ms": round(wall * 1000 / n, 3),
            "peak_rss_mb": round(_rss_mb(), 1), "rss_before_plan_mb": round(base_mb, 1),
            "hosts_with_errors": len(errors), "first_error": errors[0] if errors else None,
            "category": plan.category.value}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    print(json.dumps(run(int(args[0]), int(args[1]) if len(args) > 1 else 200)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
