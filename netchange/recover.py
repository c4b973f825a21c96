"""Finishing a change after the fact: ``recover`` after a crash, ``rollback`` on request.

Both read the journal to learn which hosts the last apply touched and which snapshot each had,
then restore every such host from its snapshot in a fresh session and verify it. The journal is
the only memory they need: that is why apply writes ``snapshot`` and ``commit_started`` before
it acts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nornir.core import Nornir
from nornir.core.task import Result, Task

from netchange.changetype import text_hash
from netchange.connection import CONNECTION_NAME
from netchange.drivers.base import DriverProtocol
from netchange.errors import DriftDetected
from netchange.progress import Progress
from rollback import RestoreReport, SnapshotStore, restore_host
from rollback.restore import normalize, same_state


class EventLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def host(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any]: ...


@dataclass
class Touched:
    """What the last apply did to one host, as the journal tells it."""

    host: str
    snapshot: str = ""
    commit_started: bool = False
    confirmed_commit: bool = False
    after_hash: str = ""
    restored: bool = False


def last_apply(events: Sequence[EventLike]) -> dict[str, Touched]:
    """Hosts of the most recent ``apply_started`` … (end of journal), with what happened to them."""
    start = max((i for i, e in enumerate(events) if e.kind == "apply_started"), default=None)
    if start is None:
        return {}
    hosts: dict[str, Touched] = {}
    for event in events[start:]:
        if not event.host:
            continue
        t = hosts.setdefault(event.host, Touched(host=event.host))
        data = event.data or {}
        if event.kind == "snapshot":
            t.snapshot = str(data.get("sha", ""))
        elif event.kind == "commit_started":
            t.commit_started = True
            t.confirmed_commit = bool(data.get("confirmed"))
        elif event.kind in ("committed", "confirmed") and data.get("after"):
            t.after_hash = str(data["after"])
        elif event.kind == "rollback_verified":
            t.restored = True
    return hosts


@dataclass
class RestoreRun:
    reports: dict[str, RestoreReport] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)

    @property
    def alarms(self) -> list[str]:
        return sorted(h for h, r in self.reports.items() if not r.verified)


def restore_hosts(
    nr: Nornir,
    touched: Sequence[Touched],
    *,
    snapshots: SnapshotStore,
    progress: Progress,
    journal_event: Any,
) -> RestoreRun:
    """Restore each host from its snapshot in a fresh session; verify; journal each step."""
    run = RestoreRun()
    by_name = {t.host: t for t in touched}

    def task(task: Task) -> Result:
        t = by_name[task.host.name]
        snapshot = snapshots.load(t.snapshot)
        driver: DriverProtocol = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        running = driver.get_config(retrieve="running")["running"]
        if same_state(driver, running, snapshot):
            # Never committed, or a confirmed commit that reverted by itself.
            why = "reverted by itself (confirmed commit not confirmed)" if t.confirmed_commit else "unchanged"
            run.already.append(t.host)
            run.reports[t.host] = RestoreReport(verified=True, strategies=["none"])
            journal_event("rollback_verified", t.host, strategies=["none"], note=why)
            progress.host(t.host, "restored", why)
            return Result(host=task.host)
        progress.host(t.host, "rolling back")
        journal_event("rollback_started", t.host)
        report = restore_host(driver, snapshot, inverse_first=False)
        run.reports[t.host] = report
        if report.verified:
            journal_event("rollback_verified", t.host, strategies=report.strategies, seconds=round(report.seconds, 3))
            progress.host(t.host, "restored", f"verified in {report.seconds:.2f}s")
        else:
            journal_event("rollback_failed", t.host, errors=report.errors)
            progress.host(t.host, "ALARM", "; ".join(report.errors))
        return Result(host=task.host, failed=not report.verified)

    names = {t.host for t in touched}
    try:
        results = nr.filter(filter_func=lambda h: h.name in names).run(task=task, name="restore", on_failed=True)
    finally:
        nr.close_connections(on_good=True, on_failed=True)
    for host, multi in results.items():
        exc = multi[0].exception
        if exc is not None and host not in run.reports:
            run.reports[host] = RestoreReport(verified=False, errors=[f"{type(exc).__name__}: {exc}"])
            journal_event("rollback_failed", host, errors=run.reports[host].errors)
            progress.host(host, "ALARM", str(exc))
    return run


def refuse_if_changed_since(nr: Nornir, touched: Sequence[Touched]) -> None:
    """Rollback on request: refuse (exit 3) if a host is no longer as the apply left it.

    Someone changed it since; restoring the snapshot would silently undo their work.
    """
    by_name = {t.host: t for t in touched if t.after_hash}

    def task(task: Task) -> Result:
        driver: DriverProtocol = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        running = driver.get_config(retrieve="running")["running"]
        return Result(host=task.host, result=text_hash(normalize(driver, running)))

    results = nr.filter(filter_func=lambda h: h.name in by_name).run(task=task, name="check", on_failed=True)
    changed = sorted(h for h, multi in results.items() if multi[0].result != by_name[h].after_hash)
    if changed:
        raise DriftDetected(f"changed since the apply: {', '.join(changed)}; refusing to overwrite (plan a new change)")
