"""``netchange`` commands forked from a process that imported netchange once (the crash matrix).

Why: on the 2-core test machine a new interpreter spends about 2.4 s of a 4 s ``apply`` importing
(napalm alone 1.3 s); a crash-matrix case runs two to four commands. A multiprocessing
*forkserver* imports this module once (``PRELOAD``: netchange's command line, the pipeline, every
lab driver and their libraries) in a fresh process that has no threads, then forks one child per
command: the child runs ``netchange.cli.main.main(ARGS)`` with its own environment and output
files, exactly as ``python -m netchange ARGS`` would, and dies where its fail point says
(SIGKILL: the exit code is ``-9``, as for a subprocess). The pytest process itself never forks
(it may have threads: a browser test's, a session's).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

# The warm-up, done once in the forkserver: what a command would import on its way.
import napalm  # noqa: F401
import ncclient.manager  # noqa: F401
import netmiko  # noqa: F401
import nornir  # noqa: F401

import netchange.apply
import netchange.pipeline
import netchange.rollback.recover
import netchange.rollback.runner
from netchange import failpoints
from netchange.cli import main as cli_main

for _name in ("changes", "approvals", "journal", "common"):
    importlib.import_module(f"netchange.cli.{_name}")
for _name in ("ios_cli", "nftables", "haproxy", "bind", "netconf", "frr", "keepalived"):
    importlib.import_module(f"netchange.drivers.{_name}")
# The installed names: the repository's own "tasks" package would be a second copy of each module,
# and pydantic then finds no source for the installed classes' attribute docstrings.
for _name in ("vlan", "fw_rule", "lb_member", "dns_record", "prefix_list", "vrrp"):
    importlib.import_module(f"netchange.tasks.{_name}")
_ = (netchange.apply.Applier, netchange.apply.Interrupts)  # the face's lazy names, loaded

_reaping = threading.Lock()
"""Held to start a child and to read one's end. ``Process.start()`` polls every unfinished child
of the process (``multiprocessing.process._cleanup``), which reads the exit code the forkserver
writes to that child's sentinel: with the crash matrix's lanes in threads, a lane starting its
next command read another lane's exit code while that lane's ``join()`` read the same pipe, and
the loser saw EOF, which multiprocessing reports as exit code 255 (CI failed on it once)."""

PRELOAD = [__name__]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


@dataclass(frozen=True)
class Ran:
    """A command's end, as ``subprocess.run`` gives it (``returncode`` -9: killed by SIGKILL)."""

    returncode: int
    stdout: str
    stderr: str


def _child(args: list[str], env: dict[str, str], out: str, err: str, armed: str | None) -> None:
    """In the forked child: ``netchange ARGS``, output to files, exit with its code."""
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)
    failpoints.arm(armed)
    cli_main._overrides.clear()
    code = 0
    try:
        cli_main.main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(args: list[str], *, env: dict[str, str], workdir: Path, armed: str | None = None,
        timeout: float = 180) -> Ran:
    """``netchange ARGS`` in a child forked from the warm forkserver; its exit code and output."""
    out, err = workdir / "stdout.txt", workdir / "stderr.txt"
    proc = _context.Process(target=_child, args=(args, env, str(out), str(err), armed))
    with _reaping:
        proc.start()
    wait([proc.sentinel], timeout)  # readable once its end is written: nothing read yet
    with _reaping:
        proc.join(0)
        alive = proc.is_alive()
    if alive:
        proc.kill()
        wait([proc.sentinel])
        with _reaping:
            proc.join(0)
        raise TimeoutError(f"netchange {' '.join(args)}: no end after {timeout:.0f} s")
    assert proc.exitcode is not None
    return Ran(proc.exitcode, out.read_text(errors="replace"), err.read_text(errors="replace"))
