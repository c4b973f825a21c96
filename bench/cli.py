"""``python -m bench [--sizes 50,100,200] [--quick] [--skip-ansible] [--only B1,B3] [--repeat K]``.

Prints a table and writes ``bench/results/latest.json``. ``--quick`` uses small N everywhere
(the smoke test); the lab benchmarks (B1, B2, B5) need root and fake-switches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ALL = ("B1", "B2", "B3", "B4", "B5", "B6")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="netchange at fleet scale (issue 8)")
    parser.add_argument("--sizes", default="50,100,200", help="N for B1 (the largest also drives B2 and B5)")
    parser.add_argument("--quick", action="store_true", help="small N everywhere (smoke test)")
    parser.add_argument("--skip-ansible", action="store_true", help="leave out B5")
    parser.add_argument("--only", default="", help="comma-separated subset, e.g. B1,B3")
    parser.add_argument("--offline-sizes", default="50,500,5000", help="N for B4")
    parser.add_argument("--ansible-n", type=int, default=0, help="N for B5 (default: the largest size)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run B1 and B2 this many times and keep each case's best (the machine is noisy)")
    parser.add_argument("--service-changes", type=int, default=10_000, help="N changes in the journal for B6")
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="B1, B2, B5: this round trip added in front of each switch (netchange.lab.latency)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args(argv)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def run_b4(sizes: list[int], lines: int) -> dict[str, Any]:
    repo = Path(__file__).resolve().parent.parent
    rows = []
    for n in sizes:
        proc = subprocess.run([sys.executable, "-m", "bench.offline", str(n), str(lines)], capture_output=True,
                              text=True, check=False, cwd=repo, timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"offline plan N={n}: {proc.stderr[-2000:]}")
        rows.append(json.loads(proc.stdout))
    growth = []
    for a, b in itertools.pairwise(rows):
        growth.append({"from": a["n"], "to": b["n"],
                       "time_exponent": round(math.log(b["wall_s"] / a["wall_s"]) / math.log(b["n"] / a["n"]), 2)})
    return {"config_lines": lines, "workers": 20, "sizes": {str(r["n"]): r for r in rows}, "growth": growth}


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    only = {x.strip().upper() for x in args.only.split(",") if x.strip()} or set(ALL)
    if args.skip_ansible:
        only.discard("B5")
    sizes = [4, 8] if args.quick else _ints(args.sizes)
    offline = [20, 100] if args.quick else _ints(args.offline_sizes)
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "quick": args.quick, "repeat": args.repeat, "sizes": sizes, "only": sorted(only),
        "added_latency_ms": args.rtt_ms,
    }
    started = time.perf_counter()
    if "B3" in only:
        from bench import b3_engine

        results["B3"] = b3_engine.run(quick=args.quick)
    if "B4" in only:
        results["B4"] = run_b4(offline, lines=200)
    if "B6" in only:
        from bench import service

        results["B6"] = (service.run(40, samples=10, clients=4) if args.quick
                         else service.run(args.service_changes))
    if only & {"B1", "B2", "B5"}:
        from bench.devices import run_b1, run_b2_best
        from bench.lab import switch_lab

        biggest = max(sizes)
        with switch_lab(biggest, rtt_ms=args.rtt_ms) as lab:
            where = (f"behind a relay adding {args.rtt_ms:g} ms of round trip (netchange.lab.latency)"
                     if args.rtt_ms else "127.0.0.1")
            results["lab"] = {"switches": len(lab.hosts), "up_s": round(lab.up_seconds, 2),
                              "implementation": f"fake-switches 1.5.0, one process, {where}"}
            if "B1" in only:
                results["B1"] = run_b1(lab, sizes, repeat=args.repeat)
            if "B2" in only:
                results["B2"] = run_b2_best(lab, biggest, repeat=args.repeat)
            if "B5" in only:
                from bench import b5_ansible

                results["B5"] = b5_ansible.run(lab, args.ansible_n or biggest)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten to {args.output}")
    return 0


def table(r: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = [("bench", "case", "netchange", "reference", "ratio / target")]

    def ok(flag: bool) -> str:
        return "ok" if flag else "MISSED"

    for n, f in r.get("B1", {}).get("sizes", {}).items():
        rows.append(("B1 plan", f"N={n}, 20 workers", f"{f['netchange_s']:.2f} s", f"floor {f['floor_s']:.2f} s",
                     f"{f['ratio']:.2f} / ≤1.3 {ok(f['meets_target'])}"))
    b2 = r.get("B2")
    if b2:
        for key, label in (("apply", "apply + post-checks"), ("apply_fail_rollback", "failure + full rollback")):
            f = b2[key]
            rows.append(("B2 apply", f"N={b2['n']}, {label}", f"{f['netchange_s']:.2f} s",
                         f"floor {f['floor_s']:.2f} s", f"{f['ratio']:.2f} / ≤1.5 {ok(f['meets_target'])}"))
            if "careful_floor_s" in f:
                target = 1.1 if key == "apply" else 1.2
                rows.append(("B2 apply", f"N={b2['n']}, {label}", f"{f['netchange_s']:.2f} s",
                             f"careful floor {f['careful_floor_s']:.2f} s",
                             f"{f['careful_ratio']:.2f} / ≤{target} {ok(f['meets_careful_target'])}"))
    for lines, f in r.get("B3", {}).get("sizes", {}).items():
        rows.append(("B3 engine CPU", f"{lines}-line config, per host", f"{f['total_ms']:.1f} ms",
                     f"diff {f['diff_ms']:.1f} ms (no reuse {f['no_reuse_diff_ms']:.1f})",
                     f"< {f['target_ms']:.0f} ms {ok(f['meets_target'])}"))
    b4 = r.get("B4")
    if b4:
        for n, f in b4["sizes"].items():
            rows.append(("B4 offline plan", f"N={n}, {b4['config_lines']}-line configs", f"{f['wall_s']:.2f} s",
                         f"peak RSS {f['peak_rss_mb']:.0f} MB", f"{f['per_host_ms']:.1f} ms/host"))
        for g in b4["growth"]:
            rows.append(("B4 growth", f"N {g['from']}→{g['to']}", "", "", f"time ∝ N^{g['time_exponent']}"))
    b5 = r.get("B5")
    if b5:
        if b5.get("error"):
            rows.append(("B5 Ansible", f"N={b5.get('n')}", "", "", f"not run: {b5['error'][:60]}"))
        for key in ("check_diff", "apply"):
            f = b5.get(key)
            if f:
                rows.append(("B5 Ansible", f"N={b5['n']}, {key}, forks 20", f"{f['netchange_s']:.2f} s",
                             f"ansible {f['ansible_s']:.2f} s", f"ansible/netchange {f['ratio']:.2f}"))
    b6 = r.get("B6")
    if b6:
        n = b6["fill"]["changes"]
        for key, f in b6["pages"].items():
            page, clients = key.split("_", 1)
            target = b6["target_p95_ms"]
            meets = (f"< {target:.0f} ms {ok(f['p95_ms'] < target)}" if clients == "1_client"
                     else f"{f.get('throughput_rps', 0)} req/s")
            rows.append(("B6 service", f"{page} page, {clients.replace('_', ' ')}, {n} changes",
                         f"p95 {f['p95_ms']:.0f} ms", f"median {f['median_ms']:.0f} ms", meets))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    cores = r["machine"]["cores"]
    rtt = r.get("added_latency_ms") or 0
    latency = f"{rtt:g} ms round trip added to the switches (a delaying relay)" if rtt else "no added latency"
    head = f"netchange benchmarks — {cores} cores, Python {r['machine']['python']}, {latency}"
    return head + "\n" + "\n".join(lines)
