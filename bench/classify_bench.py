"""Benchmark (not a test): classify a generated 10,000-line diff and print the wall time.

Run: .venv/bin/python bench/classify_bench.py [LINES]
The rule set is loaded (and its regexes compiled) once, before timing, as the pipeline does.
"""

from __future__ import annotations

import sys
import time

from classifiers import classify_change, classify_diff, load_ruleset
from netchange.models import Role


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


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t0 = time.perf_counter()
    ruleset = load_ruleset()
    t_load = time.perf_counter() - t0
    diff = generate(lines)
    t1 = time.perf_counter()
    verdict = classify_diff(diff, platform="ios", role=Role.SWITCH, ruleset=ruleset)
    t_diff = time.perf_counter() - t1
    t2 = time.perf_counter()
    classify_change([("sw1", "ios", Role.SWITCH, diff, verdict)], ruleset=ruleset)
    t_change = time.perf_counter() - t2
    print(f"rules {ruleset.version}: {len(ruleset.rules)} rules loaded and compiled in {t_load * 1000:.1f} ms")
    print(f"classify_diff: {lines} lines in {t_diff * 1000:.1f} ms -> {verdict.category}, "
          f"{len(verdict.reasons)} reasons, {len(verdict.unclassified)} unclassified")
    print(f"classify_change (re-counts the escalation): {t_change * 1000:.1f} ms")


if __name__ == "__main__":
    main()
