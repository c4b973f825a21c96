"""Benchmark (not a test): classify a generated 10,000-line diff and print the wall time.

Run: .venv/bin/python bench/classify_bench.py [LINES] [REPEAT]
The rule set is loaded (and its regexes compiled) once, before timing, as the pipeline does.
Each figure is the best of REPEAT runs (default 5; the machine is shared and noisy), with the
median beside it. A second figure classifies the same diff with a running configuration (the
plan passes one per host since issue 13), so that the context rules' cost shows.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from netchange.classifiers import classify_change, classify_diff, load_ruleset
from netchange.vocabulary import Role


def generate(lines: int) -> str:
    """An IOS diff mixing the common shapes: ports, VLANs, ACL entries, routes, one unknown line."""
    out: list[str] = []
    i = 0
    while len(out) < lines:
        kind = i % 5
        if kind == 0:
            out += [f" interface GigabitEthernet{i // 48 % 9 + 1}/0/{i % 48 + 1}",
                    f"- switchport access vlan {10 + i % 50}", f"+ switchport access vlan {11 + i % 50}",
                    f"+ description port-{i}"]
        elif kind == 1:
            out += [f"+vlan {100 + i % 3000}", f"+ name V{i}"]
        elif kind == 2:
            out += [" ip access-list extended USERS-IN",
                    f"+ {i % 9000 + 10} permit tcp 10.{i % 250}.0.0 0.0.255.255 any eq 443"]
        elif kind == 3:
            out += [f"+ip route 10.{i % 250}.{i % 200}.0 255.255.255.0 10.0.0.254"]
        else:
            out += [f" interface Vlan{i % 4000 + 1}", f"+ ip address 10.{i % 250}.{i % 200}.1 255.255.255.0"]
        i += 1
    out[len(out) // 2] = "+ip sla 10"
    return "\n".join(out[:lines]) + "\n"


def running_config(lines: int) -> str:
    """A running configuration holding the interfaces, ACL and routes the generated diff touches."""
    out = ["hostname bench-sw", "ip routing"]
    for i in range(lines // 5):
        out += [f"interface GigabitEthernet{i // 48 % 9 + 1}/0/{i % 48 + 1}", " switchport mode access",
                f" switchport access vlan {10 + i % 50}", "!"]
        out += [f"interface Vlan{i % 4000 + 1}", f" ip address 10.{i % 250}.{i % 200}.1 255.255.255.0", "!"]
    out += ["ip access-list extended USERS-IN", " 10 permit tcp any any eq 22",
            "ip route 0.0.0.0 0.0.0.0 10.0.0.1", "router ospf 1", " network 10.0.0.0 0.255.255.255 area 0"]
    return "\n".join(out) + "\n"


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, statistics.median(times) * 1000


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    t0 = time.perf_counter()
    ruleset = load_ruleset()
    t_load = time.perf_counter() - t0
    diff = generate(lines)
    running = running_config(lines)
    verdict = classify_diff(diff, platform="ios", role=Role.SWITCH, ruleset=ruleset)
    best, median = timed(lambda: classify_diff(diff, platform="ios", role=Role.SWITCH, ruleset=ruleset), repeat)
    with_ctx = classify_diff(diff, platform="ios", role=Role.SWITCH, ruleset=ruleset, running=running)
    best_ctx, median_ctx = timed(
        lambda: classify_diff(diff, platform="ios", role=Role.SWITCH, ruleset=ruleset, running=running), repeat
    )
    best_change, _ = timed(
        lambda: classify_change([("sw1", "ios", Role.SWITCH, diff, verdict)], ruleset=ruleset), repeat
    )
    print(f"rules {ruleset.version}: {len(ruleset.rules)} rules loaded and compiled in {t_load * 1000:.1f} ms")
    print(f"classify_diff: {lines} lines in {best:.1f} ms (median {median:.1f}) -> {verdict.category}, "
          f"{len(verdict.reasons)} reasons, {len(verdict.unclassified)} unclassified")
    print(f"classify_diff with a {len(running.splitlines())}-line running config: {best_ctx:.1f} ms "
          f"(median {median_ctx:.1f}) -> {with_ctx.category}")
    print(f"classify_change (re-counts the escalation): {best_change:.1f} ms")


if __name__ == "__main__":
    main()
