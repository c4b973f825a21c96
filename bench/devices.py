"""B1 (plan) and B2 (apply) against a lab of fake-switches, each with its netmiko floor."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.lab import APPROVER, MEDIUM_TIME, REPO, SwitchLab, write_change

TARGET_PLAN = 1.3
TARGET_APPLY = 1.5
TARGET_CAREFUL_APPLY = 1.1
TARGET_CAREFUL_ROLLBACK = 1.2
"""Issue 27 item 2: against the careful floor (read, configure, read back)."""


def floor(lab: SwitchLab, hosts: list[str], mode: str, lines: list[str] | None = None,
          undo: list[str] | None = None) -> dict[str, Any]:
    """Run :mod:`bench.floor` as its own process (its wall time includes starting Python)."""
    spec = {"mode": mode, "known_hosts": str(lab.known_hosts), "workers": 20, "lines": lines or [],
            "undo": undo or [], "devices": [asdict(d) for d in lab.devices(hosts)]}
    path = lab.home / f"floor-{mode}.json"
    path.write_text(json.dumps(spec))
    path.chmod(0o600)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.floor", str(path)], capture_output=True, text=True,
                          check=False, cwd=REPO, timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"floor {mode} failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    if result["errors"]:
        raise RuntimeError(f"floor {mode}: {result['errors'][:3]}")
    return {"seconds": round(wall, 3), "ok": result["ok"]}


def _json_tail(stdout: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout)  # apply --json prints one document
    return data


def plan(lab: SwitchLab, n: int, change_id: str, vlan: int, **extra: Any) -> tuple[float, dict[str, Any]]:
    change = write_change(lab.home / f"{change_id}.yaml", change_id, lab.hosts[:n], vlan, f"bench{vlan}", **extra)
    proc, wall = lab.netchange("plan", str(change), "--json")
    if proc.returncode != 0:
        raise RuntimeError(f"plan {change_id} exited {proc.returncode}: {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout)
    bad = [h["name"] for h in data["hosts"] if h["error"]]
    if bad:
        raise RuntimeError(f"plan {change_id}: hosts failed: {bad[:5]}")
    return wall, data


def run_b1(lab: SwitchLab, sizes: list[int], repeat: int = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"workers": 20, "target_ratio": TARGET_PLAN, "sizes": {}}
    for n in sizes:
        best_plan, best_floor = float("inf"), float("inf")
        for r in range(repeat):
            best_floor = min(best_floor, floor(lab, lab.hosts[:n], "read")["seconds"])
            wall, data = plan(lab, n, f"BENCH-B1-{n}-{r}", 3000 + r)
            best_plan = min(best_plan, wall)
        out["sizes"][str(n)] = {"netchange_s": round(best_plan, 2), "floor_s": round(best_floor, 2),
                                "ratio": round(best_plan / best_floor, 2), "category": data["category"],
                                "meets_target": best_plan / best_floor <= TARGET_PLAN}
    return out


def _apply(lab: SwitchLab, change_id: str) -> tuple[float, dict[str, Any], int]:
    approved, _ = lab.netchange("approve", change_id, actor=APPROVER)
    if approved.returncode != 0:
        raise RuntimeError(f"approve {change_id}: {approved.stderr[-1000:]}")
    proc, wall = lab.netchange("apply", change_id, "--json", now=MEDIUM_TIME)
    return wall, _json_tail(proc.stdout), proc.returncode


def run_b2_best(lab: SwitchLab, n: int, repeat: int = 1) -> dict[str, Any]:
    """:func:`run_b2` ``repeat`` times; each case keeps its best ratio (the machine is noisy)."""
    runs = [run_b2(lab, n, rep=r) for r in range(repeat)]
    best = dict(runs[0])
    for key in ("apply", "apply_fail_rollback"):
        best[key] = min((r[key] for r in runs), key=lambda case: case["ratio"])
        best[key]["ratios_seen"] = [r[key]["ratio"] for r in runs]
        best[key]["careful_ratios_seen"] = [r[key]["careful_ratio"] for r in runs]
    return best


def run_b2(lab: SwitchLab, n: int, rep: int = 0) -> dict[str, Any]:
    """Apply + post-checks on ``n`` switches, then the same with a failure on the last host."""
    hosts = lab.hosts[:n]
    rollout = {"rollout": {"canary": 1, "batch_size": 50}}
    out: dict[str, Any] = {"n": n, "workers": 20, "rollout": rollout["rollout"], "target_ratio": TARGET_APPLY}

    base = 3100 + 200 * rep  # each repetition its own VLANs and change ids
    floor_ok = floor(lab, hosts, "write", [f"vlan {base}", f" name floor{base}"])
    floor(lab, hosts, "write", [f"no vlan {base}"])  # put the floor's VLAN away (not timed)
    careful_ok = floor(lab, hosts, "careful", [f"vlan {base + 50}", f" name careful{base + 50}"])
    floor(lab, hosts, "write", [f"no vlan {base + 50}"])  # not timed
    plan_s, _ = plan(lab, n, f"BENCH-B2-OK-{rep}", base + 1, **rollout)
    wall, summary, rc = _apply(lab, f"BENCH-B2-OK-{rep}")
    done = sum(1 for h in summary["hosts"] if h["status"] == "done")
    out["apply"] = {"netchange_s": round(wall, 2), "floor_s": floor_ok["seconds"],
                    "ratio": round(wall / floor_ok["seconds"], 2), "plan_s": round(plan_s, 2),
                    "outcome": summary["outcome"], "hosts_done": done, "exit_code": rc,
                    "meets_target": wall / floor_ok["seconds"] <= TARGET_APPLY,
                    "careful_floor_s": careful_ok["seconds"], "careful_ratio": round(wall / careful_ok["seconds"], 2),
                    "meets_careful_target": wall / careful_ok["seconds"] <= TARGET_CAREFUL_APPLY}

    # Forced failure: the last host's post-check fails after its commit (bench.failpoint), so the
    # rollout stops in its last batch and every host changed so far is rolled back and verified.
    floor_rb = floor(lab, hosts, "write_undo", [f"vlan {base + 100}", f" name floor{base + 100}"],
                     [f"no vlan {base + 100}"])
    careful_rb = floor(lab, hosts, "careful_undo", [f"vlan {base + 150}", f" name careful{base + 150}"],
                       [f"no vlan {base + 150}"])
    plan_s, _ = plan(lab, n, f"BENCH-B2-FAIL-{rep}", base + 101, **rollout)
    wall, summary, rc = _apply_with_failure(lab, f"BENCH-B2-FAIL-{rep}", hosts[-1])
    restored = sum(1 for h in summary["hosts"] if h["restore"] and h["restore"]["verified"])
    out["apply_fail_rollback"] = {
        "netchange_s": round(wall, 2), "floor_s": floor_rb["seconds"], "ratio": round(wall / floor_rb["seconds"], 2),
        "outcome": summary["outcome"], "restored_verified": restored, "exit_code": rc,
        "failure": next((f"{h['name']}: {h['error']}" for h in summary["hosts"] if h["error"]), ""),
        "meets_target": wall / floor_rb["seconds"] <= TARGET_APPLY,
        "careful_floor_s": careful_rb["seconds"], "careful_ratio": round(wall / careful_rb["seconds"], 2),
        "meets_careful_target": wall / careful_rb["seconds"] <= TARGET_CAREFUL_ROLLBACK}
    return out


def _apply_with_failure(lab: SwitchLab, change_id: str, victim: str) -> tuple[float, dict[str, Any], int]:
    """Apply while a post-check on ``victim`` is made to fail (see :mod:`bench.failpoint`)."""
    approved, _ = lab.netchange("approve", change_id, actor=APPROVER)
    if approved.returncode != 0:
        raise RuntimeError(f"approve {change_id}: {approved.stderr[-1000:]}")
    env = lab.env(now=MEDIUM_TIME)
    env["BENCH_FAIL_POSTCHECK_HOST"] = victim
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.failpoint", "apply", change_id, "--json"], env=env,
                          capture_output=True, text=True, check=False, cwd=REPO, timeout=900)
    wall = time.perf_counter() - t0
    if "{\n" not in proc.stdout:
        raise RuntimeError(f"apply {change_id} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, _json_tail(proc.stdout), proc.returncode


def summary_path(root: Path) -> Path:
    return root / "results" / "latest.json"
