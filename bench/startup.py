"""Start-up of the commands that contact no device (issue 20, item 5: 0.2 s each).

``python -m bench.startup [--runs 15] [--baseline PROGRAM] [--imports]`` prepares a state
directory (one NAPALM ``mock`` switch, one change planned against it and recorded: ``show`` and
``list`` have something to read), then runs each command as a whole process, as an operator's
shell does (the ``netchange`` console script of this venv, from the repository root), ``--runs``
times. It prints, per command, the median and the 90th percentile of the wall time, the median
CPU time (user + system: the machine is shared, and the others' load lengthens the wall time
more), the interpreter's own start (``python -c pass``, median) beside it, whether the median is
within the 0.2 s budget, and the exit code (a failing command's time means nothing).
``--baseline`` times another program too (a wrapper running another checkout), its runs taking
turns with ours. ``--imports`` adds the heaviest imports of ``netchange version`` from
``python -X importtime``.

When valgrind is installed (``--no-instructions`` skips it), each command's instructions are
counted once (``valgrind --tool=cachegrind --cache-sim=no``, millions, ``python -c pass``'s
beside them): unlike the wall time, the count does not depend on the others' load, so two
checkouts compare on a busy machine. ``--floors`` adds, per command, the floor its libraries set:
a process importing only the third-party modules the command imported (read from
``python -X importtime``; with pydantic, one model class made, as any netchange model makes
pydantic build its machinery), timed and counted like the command. The command minus that floor
is what netchange's own code costs.

It asserts nothing: figures only (``tests/unit/test_startup_imports.py`` checks what is
imported, without timing anything).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROGRAM = str(Path(sys.executable).parent / "netchange")
BUDGET_S = 0.2
DIFF = "interface GigabitEthernet0/1\n+ description uplink to core\n"
CHANGE_ID = "CHG-2026-0998"
HOST = "sw-bench-1"


RUNNING = """hostname sw-bench-1
!
vlan 1
 name default
!
vlan 10
 name users
!
interface GigabitEthernet1/0/1
 description uplink
 switchport mode trunk
!
end
"""
SHOW_VLAN_BRIEF = """
VLAN Name                             Status    Ports
---- -------------------------------- --------- -------------------------------
1    default                          active    Gi1/0/3
10   users                            active    Gi1/0/2
"""


def _mock_switch(root: Path) -> Path:
    """NAPALM's ``mock`` driver answers each call ``<method>.<n>`` from a file (as ``tests/mockdev.py``)."""
    root.mkdir(parents=True)
    for n in range(1, 5):
        (root / f"get_config.{n}").write_text(json.dumps({"running": RUNNING, "startup": "", "candidate": ""}))
        (root / f"compare_config.{n}").write_text(json.dumps({"diff": "+vlan 20\n+ name servers\n"}))
        for method in ("load_merge_candidate", "load_replace_candidate", "discard_config"):
            (root / f"{method}.{n}").write_text("{}")
        (root / f"cli.{n}.show_vlan_brief.0").write_text(SHOW_VLAN_BRIEF)
    return root


def _prepare(work: Path, netchange: str) -> dict[str, str]:
    """A state directory where one change is planned (against a mock switch: the plan is recorded,
    which ``plan --offline`` never does); returns the environment of the commands."""
    device = _mock_switch(work / "devices" / HOST)
    inventory = work / "inventory"
    inventory.mkdir()
    host = {"hostname": "127.0.0.1", "platform": "mock", "groups": ["doif", "switch"],
            "data": {"role": "switch", "site": "doif", "syntax": "ios"},
            "connection_options": {"netchange": {"extras": {"optional_args": {"path": str(device)}}}}}
    (inventory / "hosts.yaml").write_text(yaml.safe_dump({HOST: host}), encoding="utf-8")
    (inventory / "groups.yaml").write_text("doif: {}\nswitch: {}\n", encoding="utf-8")
    (inventory / "defaults.yaml").write_text("data: {}\n", encoding="utf-8")
    (work / "nornir.yaml").write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(inventory / "hosts.yaml"), "group_file": str(inventory / "groups.yaml"),
            "defaults_file": str(inventory / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}}, "logging": {"enabled": False}}),
        encoding="utf-8")
    change = work / "change.yaml"
    change.write_text(yaml.safe_dump({
        "id": CHANGE_ID, "title": "bench start-up", "ticket": "BENCH", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
    }), encoding="utf-8")
    (work / "two-lines.diff").write_text(DIFF, encoding="utf-8")
    env = dict(os.environ, NETCHANGE_HOME=str(work / "home"), NETCHANGE_POLICY=str(ROOT / "policy.yaml"),
               NETCHANGE_NORNIR_CONFIG=str(work / "nornir.yaml"), NETCHANGE_LOCK_DIR=str(work / "locks"),
               NETCHANGE_ACTOR="dnguyen", COLUMNS="100")
    for name in ("NETCHANGE_SMTP_HOST", "NETCHANGE_SERVER_URL", "NETCHANGE_SETTINGS", "NETCHANGE_NOW"):
        env.pop(name, None)  # the local journal, no mail: what is timed is this machine's work
    planned = subprocess.run([netchange, "plan", str(change), "--json"],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if planned.returncode != 0:
        raise SystemExit(f"could not plan the bench change (exit {planned.returncode}):\n"
                         f"{planned.stdout[-2000:]}{planned.stderr[-2000:]}")
    return env


def _commands(work: Path, netchange: str) -> dict[str, list[str]]:
    return {
        "netchange version": [netchange, "version"],
        "netchange --help": [netchange, "--help"],
        f"netchange show {CHANGE_ID}": [netchange, "show", CHANGE_ID],
        "netchange list": [netchange, "list"],
        "netchange window …": [netchange, "window", "--category", "minor", "--site", "doif",
                               "--at", "2026-12-08T20:00:00+01:00"],
        "netchange classify --platform ios_cli": [netchange, "classify", "--platform", "ios_cli",
                                                  "--diff", str(work / "two-lines.diff")],
        "netchange journal head": [netchange, "journal", "head"],
    }


@dataclass
class Timed:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """User + system time of the process: less disturbed than the wall time by the others' load."""
    code: int = 0
    """The first non-zero exit code (a failing command's time means nothing)."""


def _run(argv: list[str], env: dict[str, str], into: Timed) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    into.wall.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    into.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    into.code = into.code or done.returncode


def _times(commands: list[list[str]], runs: int, env: dict[str, str]) -> list[Timed]:
    """``runs`` runs of each command, the commands taking turns (the machine is shared: a burst of
    load falls on all of them alike)."""
    timed = [Timed() for _ in commands]
    for _ in range(runs):
        for argv, into in zip(commands, timed, strict=True):
            _run(argv, env, into)
    return timed


def _p90(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=10, method="inclusive")[-1] if len(seconds) > 1 else seconds[0]


def _heaviest(env: dict[str, str], top: int) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "netchange", "version"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and "." not in parts[2].strip():
            rows.append((int(parts[1]), parts[2].strip()))  # top-level packages: who pays for what
    return sorted(rows, reverse=True)[:top]


def _instructions(argv: list[str], env: dict[str, str]) -> float | None:
    """Millions of instructions the process executes (valgrind's cachegrind, no cache simulation);
    ``None`` when valgrind cannot count them. A console script is run by this interpreter: valgrind
    then counts Python, not the shell's reading of the ``#!`` line."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    if argv[0] != sys.executable and Path(argv[0]).is_file() and Path(argv[0]).read_bytes()[:2] == b"#!":
        argv = [sys.executable, *argv]
    done = subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    return int(found.group(1).replace(",", "")) / 1e6 if found else None


def _third_party(name: str) -> bool:
    """Whether top-level module ``name`` is an installed library (not the standard library's, not
    netchange's own: the editable install maps ``netchange`` to the checkout)."""
    if name == "netchange" or name in sys.stdlib_module_names:
        return False
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    origin = (spec.origin or "") if spec else ""
    return origin.startswith((sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]))


_FLOOR = """\
import importlib, importlib.abc, importlib.machinery, sys, types

class Absent(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    # A module of these libraries that the command did not import (the help formatter's Markdown,
    # which netchange/cli/_lazy.py stands in for) is an empty stand-in here too.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in LIBRARIES and name not in WANTED:
            return importlib.machinery.ModuleSpec(name, self)
        return None
    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__getattr__ = lambda attr: type(attr, (), {})
        return module
    def exec_module(self, module):
        pass

sys.meta_path.insert(0, Absent())
for name in WANTED:
    try:
        importlib.import_module(name)
    except ImportError:  # as for the command, which tried it and went on (six.moves.winreg)
        pass
"""
_MODEL = "from pydantic import BaseModel\nclass Model(BaseModel):\n    x: int\n"


def _floor(argv: list[str], env: dict[str, str]) -> tuple[list[str], list[str]]:
    """A ``python -c`` command importing the installed libraries' modules that ``argv`` (a
    ``netchange`` command line) imports, in its order, and those libraries' names; with pydantic,
    one model class is made (any netchange model makes pydantic build its machinery).

    A module whose package the command did not import through the import system is left out (the
    window's ``holidays.countries.france``, imported with the package's ``__init__`` set aside:
    imported alone, it would load every country); a module the command did not import is an
    empty stand-in if a wanted one imports it."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "netchange", *argv[1:]],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    imported = [line.split("|")[2].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and line.count("|") == 2 and "cumulative" not in line]
    seen = set(imported)
    libraries = sorted({top for top in {name.split(".")[0] for name in imported}
                        if not top.startswith("_") and _third_party(top)})  # not site's .pth helpers
    wanted = [name for name in imported if name.split(".")[0] in libraries
              and ("." not in name or name.rsplit(".", 1)[0] in seen)]
    code = f"LIBRARIES = {set(libraries)!r}\nWANTED = {wanted!r}\n{_FLOOR}"
    if "pydantic" in libraries:
        code += _MODEL
    return [sys.executable, "-c", code], libraries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="whole-process runs of each command")
    parser.add_argument("--netchange", default=DEFAULT_PROGRAM,
                        help="the program to time (default: this venv's console script)")
    parser.add_argument("--baseline", metavar="PROGRAM",
                        help="also time this program (e.g. a wrapper running another checkout), its runs "
                             "taking turns with --netchange's, and show its figures beside")
    parser.add_argument("--imports", action="store_true", help="also list the heaviest imports of 'version'")
    parser.add_argument("--instructions", action=argparse.BooleanOptionalAction, default=True,
                        help="count each command's instructions with valgrind, when it is installed "
                             "(default; --no-instructions skips it)")
    parser.add_argument("--floors", action="store_true",
                        help="also time and count, per command, a process importing only the libraries it imports")
    args = parser.parse_args(argv)
    count = args.instructions and shutil.which("valgrind") is not None
    with tempfile.TemporaryDirectory(prefix="netchange-startup-") as tmp:
        work = Path(tmp)
        env = _prepare(work, args.netchange)
        python = [sys.executable, "-c", "pass"]
        [floor] = _times([python], args.runs, env)
        floor_s = statistics.median(floor.wall)
        python_mi = _instructions(python, env) if count else None
        print(f"{args.runs} runs each, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
              f"Python {sys.version.split()[0]}; budget {BUDGET_S} s (median wall time); "
              f"python -c pass: {floor_s:.3f} s, cpu {statistics.median(floor.cpu):.3f} s"
              + (f", {python_mi:.0f} M instructions" if python_mi is not None else ""))
        baseline = f" {'baseline median':>15} {'p90':>6} {'cpu':>6}" if args.baseline else ""
        counted = f" {'M instr':>7}" + (f" {'baseline':>8}" if args.baseline else "") if count else ""
        floors = f" {'libs s':>6}" + (f" {'libs M':>6}" if count else "") if args.floors else ""
        print(f"{'command':38} {'median s':>8} {'p90 s':>6} {'cpu s':>6}{baseline}{counted}{floors} "
              f"{'python -c pass':>14} {'<= 0.2 s':>8} {'exit':>4}")
        ours = _commands(work, args.netchange)
        theirs = _commands(work, args.baseline) if args.baseline else {}
        notes: list[str] = []
        for name, command in ours.items():
            library_floor, libraries = _floor(command, env) if args.floors else (None, [])
            timed = _times([command, *([theirs[name]] if theirs else []),
                            *([library_floor] if library_floor else [])], args.runs, env)
            median = statistics.median(timed[0].wall)
            figures = f"{median:8.3f} {_p90(timed[0].wall):6.3f} {statistics.median(timed[0].cpu):6.3f}"
            code = timed[0].code
            if theirs:
                before = timed[1]
                figures += (f" {statistics.median(before.wall):15.3f} {_p90(before.wall):6.3f}"
                            f" {statistics.median(before.cpu):6.3f}")
                code = code or before.code
            if count:
                figures += f" {_instructions(command, env) or float('nan'):7.0f}"
                if theirs:
                    figures += f" {_instructions(theirs[name], env) or float('nan'):8.0f}"
            if library_floor:
                figures += f" {statistics.median(timed[-1].wall):6.3f}"
                if count:
                    figures += f" {_instructions(library_floor, env) or float('nan'):6.0f}"
                fails = f" (the libraries' process exited {timed[-1].code})" if timed[-1].code else ""
                notes.append(f"  {name}: {', '.join(libraries) or 'none'}{fails}")
            within = "yes" if median <= BUDGET_S else "NO"
            print(f"{name:38} {figures} {floor_s:14.3f} {within:>8} {code:4d}")
        if notes:
            print("\nlibs: a process importing only the installed libraries' modules the command imports "
                  "(with pydantic, one model class made):")
            print("\n".join(notes))
        if args.imports:
            print("\nheaviest top-level imports of 'netchange version' (cumulative ms, -X importtime):")
            for micros, name in _heaviest(env, 15):
                print(f"  {micros / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
