"""B3: netchange's own CPU per host, without devices (``time.process_time``).

Per host, what the engine does besides waiting for the device: read the running config into its
canonical form and hash it, render the candidate, diff it with hier_config exactly as the ios_cli
driver does (parse, future, remediation, device-syntax diff, rollback lines), classify the diff,
and journal an apply's events for the host (snapshot, commit started, committed, post-checks,
confirmed) in a real SQLite journal.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.configs import ios_config
from netchange.changetype import Context, get_change_type, text_hash
from netchange.classifiers import classify_diff, load_ruleset
from netchange.drivers.contract import normalize
from netchange.journal import EventKind, Journal
from netchange.testing import StoredDevice
from netchange.vocabulary import Role

TARGET_MS = {1_000: 5.0, 10_000: 50.0}


def _cpu(fn: Callable[[], Any], repeat: int) -> float:
    """Mean CPU milliseconds of ``fn`` over ``repeat`` calls."""
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) * 1000 / repeat


def measure(lines: int, hosts: int, *, reuse_seconds: float = 2.0) -> dict[str, float]:
    vlan = get_change_type("vlan")
    params = vlan.validate({"vlan_id": 3001, "name": "bench"})
    configs = [ios_config(lines, seed=i) for i in range(hosts)]
    load_ruleset()
    state: dict[str, Any] = {}

    def host_iter() -> Any:
        yield from configs

    it = host_iter()

    def read() -> None:
        driver = StoredDevice("sw", next(it)).driver(reuse_seconds=reuse_seconds)
        driver.open()
        running = driver.get_config(retrieve="running")["running"]
        text_hash(normalize(driver, running))
        state.update(driver=driver, running=running)

    def render() -> None:
        ctx = Context(host="sw", platform="ios_cli", syntax="ios", role=Role.SWITCH, site="doif", data={},
                      params=params, driver=state["driver"], running=state["running"])
        state["candidate"] = vlan.render(ctx)

    def diff() -> None:
        driver = state["driver"]
        driver.load_merge_candidate(config=state["candidate"])
        state["diff"] = driver.compare_config()
        state["rollback"] = driver.rollback_preview()
        driver.discard_config()

    def classify() -> None:
        state["class"] = classify_diff(state["diff"], platform="ios_cli", role=Role.SWITCH, change_type="vlan")

    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "journal.sqlite") as journal:
        def journal_events() -> None:
            for kind, data in ((EventKind.SNAPSHOT, {"sha": "0" * 64}),
                               (EventKind.COMMIT_STARTED, {"confirmed": False}),
                               (EventKind.COMMITTED, {}),
                               (EventKind.POST_CHECKS, {"checks": [{"name": "vlan", "passed": True}]}),
                               (EventKind.CONFIRMED, {"after": "1" * 64, "confirmed_commit": False})):
                journal.event("CHG-BENCH-B3", kind, actor="bench", host="sw", data=data)

        phases = {"read": 0.0, "render": 0.0, "diff": 0.0, "classify": 0.0, "journal": 0.0}
        for _ in range(hosts):
            for name, fn in (("read", read), ("render", render), ("diff", diff), ("classify", classify),
                             ("journal", journal_events)):
                phases[name] += _cpu(fn, 1)
    result = {f"{k}_ms": round(v / hosts, 3) for k, v in phases.items()}
    result["total_ms"] = round(sum(phases.values()) / hosts, 3)
    result["diff_lines"] = len(state["diff"].splitlines())
    return result


def run(quick: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"hosts_measured": {}, "sizes": {}}
    for lines, target in TARGET_MS.items():
        hosts = (5 if lines >= 10_000 else 20) if quick else (20 if lines >= 10_000 else 200)
        measure(lines, 2)  # warm caches (templates, rules, regexes) as a long run would have them
        figures = measure(lines, hosts)
        figures["no_reuse_diff_ms"] = measure(lines, max(2, hosts // 4), reuse_seconds=0)["diff_ms"]
        figures["target_ms"] = target
        figures["meets_target"] = figures["total_ms"] < target
        out["sizes"][str(lines)] = figures
        out["hosts_measured"][str(lines)] = hosts
    return out
