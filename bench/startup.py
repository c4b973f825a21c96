"""Start-up cost of the commands that contact no device (issue 12, item 7).

``python bench/startup.py [--runs 9]`` runs each command as a fresh process, several times, and
prints the median and the minimum wall time (the machine is shared: the minimum is the figure
least disturbed by other load), then the heaviest imports of ``netchange.cli.main`` and of
``netchange.cli.changes`` from ``python -X importtime``. It asserts nothing: figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
NETCHANGE = str(VENV_BIN / "netchange")
DIFF = "interface GigabitEthernet0/1\n+ description uplink to core\n"


def _cases(work: Path) -> dict[str, list[str]]:
    diff = work / "two-lines.diff"
    diff.write_text(DIFF, encoding="utf-8")
    # A valid request whose target is not in the inventory: plan loads everything it needs (request,
    # policy, journal, Nornir and its plugins) and exits 2 before any device is contacted.
    bad = work / "unknown-host.yaml"
    example = (ROOT / "changes" / "examples" / "01-access-port.yaml").read_text(encoding="utf-8")
    bad.write_text(example.replace("hosts: [sw-doif-acc1, sw-doif-acc2]", "hosts: [no-such-host]"), encoding="utf-8")
    return {
        "version": [NETCHANGE, "version"],
        "--help": [NETCHANGE, "--help"],
        "classify (2-line diff)": [NETCHANGE, "classify", "--platform", "ios", "--role", "switch", "--diff", str(diff)],
        "window": [NETCHANGE, "window", "--category", "minor", "--site", "doif", "--at", "2026-12-02T10:00+01:00"],
        "inventory": [NETCHANGE, "inventory"],
        "plan, unknown host (exit 2)": [NETCHANGE, "plan", str(bad)],
        "import netchange.cli.changes": [sys.executable, "-c", "import netchange.cli.changes"],
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
    }


def _time(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, int]:
    seconds: list[float] = []
    code = 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
        seconds.append(time.perf_counter() - start)
        code = done.returncode
    return statistics.median(seconds), min(seconds), code


def _heaviest(module: str, env: dict[str, str], top: int) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        rows.append((int(parts[1]), parts[2].strip()))
    # Top-level packages only (no dot) give the picture of who pays for what.
    top_level = [(us, name) for us, name in rows if "." not in name]
    return sorted(top_level, reverse=True)[:top]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python bench/startup.py", description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--top", type=int, default=12, help="heaviest top-level imports to list")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="netchange-startup-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, NETCHANGE_HOME=str(work / "home"), COLUMNS="120")
        print(f"{'command':34} {'median s':>9} {'min s':>7} {'exit':>5}   ({args.runs} runs each)")
        for name, command in _cases(work).items():
            median, best, code = _time(command, args.runs, env)
            print(f"{name:34} {median:9.3f} {best:7.3f} {code:5d}")
        for module in ("netchange.cli.main", "netchange.cli.changes"):
            print(f"\nheaviest top-level imports of {module} (cumulative ms, -X importtime):")
            for micros, name in _heaviest(module, env, args.top):
                print(f"  {micros / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
