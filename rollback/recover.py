"""Finishing a change after the fact: ``recover`` after a crash, ``rollback`` on request.

Both read the journal to learn which hosts the last apply touched and which snapshot each had;
the pipeline (``netchange.pipeline.restore_change``) then restores every such host from its
snapshot in a fresh session with the one restore runner (``netchange.rollback.runner``) and verifies it. The journal is
the only memory they need: that is why apply writes ``snapshot`` and ``commit_started`` before
it acts.

A host someone else changed since the change (lines the change did not add or remove: compared
with the state the apply read after its commit, else with the plan's diff) is not restored: an
alarm names it and the lines, because restoring its snapshot would erase their work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nornir.core import Nornir
from nornir.core.task import Result, Task

from netchange.changetype import text_hash
from netchange.drivers.contract import DriverProtocol, normalize
from netchange.errors import DriftDetected
from netchange.failpoints import fail_point
from netchange.inventory import CONNECTION_NAME
from netchange.journal import EventKind
from netchange.rollback import SnapshotStore
from netchange.rollback.restore import brief_lines, changed_lines


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
    after_sha: str = ""
    """The snapshot store's copy of the state the change left (read after the commit)."""
    restored: bool = False
    commit_refused: bool = False
    """Its commit was refused by the driver's re-read (another hand, nothing written): not changed
    by the apply, nothing to restore (a restore would find the other hand's lines)."""


def last_apply(events: Sequence[EventLike]) -> dict[str, Touched]:
    """Hosts of the most recent ``apply_started`` … (end of journal), with what happened to them."""
    start = max((i for i, e in enumerate(events) if e.kind == EventKind.APPLY_STARTED), default=None)
    if start is None:
        return {}
    hosts: dict[str, Touched] = {}
    for event in events[start:]:
        if not event.host:
            continue
        t = hosts.setdefault(event.host, Touched(host=event.host))
        data = event.data or {}
        if event.kind == EventKind.SNAPSHOT:
            t.snapshot = str(data.get("sha", ""))
        elif event.kind == EventKind.COMMIT_STARTED:
            t.commit_started = True
            t.confirmed_commit = bool(data.get("confirmed"))
        elif event.kind == EventKind.COMMIT_REFUSED:  # nothing written: the commit_started before it is void
            t.commit_started, t.commit_refused = False, True
        elif event.kind in (EventKind.COMMITTED, EventKind.POST_CHECKS, EventKind.CONFIRMED) and data.get("after"):
            t.after_hash = str(data["after"])
            t.after_sha = str(data.get("after_sha") or t.after_sha)
        elif event.kind == EventKind.ROLLBACK_VERIFIED:
            t.restored = True
    return hosts


def after_text(snapshots: SnapshotStore, t: Touched) -> str | None:
    """The state the change left, if the apply recorded it (and its copy is intact)."""
    if not t.after_sha:
        return None
    try:
        return snapshots.load(t.after_sha)
    except Exception:  # a missing or corrupt copy: fall back to the plan's diff
        return None


def refuse_if_changed_since(nr: Nornir, touched: Sequence[Touched], snapshots: SnapshotStore | None = None) -> None:
    """Rollback on request: refuse (exit 3) if a host is no longer as the apply left it.

    Someone changed it since; restoring the snapshot would silently undo their work. The
    refusal names each such host and, where the apply kept the state it left, the lines.
    """
    by_name = {t.host: t for t in touched if t.after_hash}

    def task(task: Task) -> Result:
        driver: DriverProtocol = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        fail_point("rollback.check", host=task.host.name)  # about to read the device before the rollback
        running = driver.get_config(retrieve="running")["running"]
        lines: list[str] = []
        after = after_text(snapshots, by_name[task.host.name]) if snapshots is not None else None
        if after is not None:
            lines = changed_lines(normalize(driver, after), normalize(driver, running))
        return Result(host=task.host, result=(text_hash(normalize(driver, running)), lines))

    results = nr.filter(filter_func=lambda h: h.name in by_name).run(task=task, name="check", on_failed=True)
    failed = sorted(h for h, multi in results.items() if multi.failed)
    if failed:
        raise DriftDetected(f"cannot read {', '.join(failed)} to check it before the rollback; nothing was changed")
    changed = {h: multi[0].result[1] for h, multi in results.items() if multi[0].result[0] != by_name[h].after_hash}
    if changed:
        named = "; ".join(h + (f" ({brief_lines(lines)})" if lines else "") for h, lines in sorted(changed.items()))
        raise DriftDetected(f"changed since the apply: {named}; refusing to overwrite (plan a new change)")


def differing_from_snapshot(nr: Nornir, touched: Sequence[Touched], snapshots: SnapshotStore) -> dict[str, str]:
    """Recover of an apply killed before its rollout: is each host still as its snapshot?

    Read each host that has a journaled snapshot, fresh, and compare it with that snapshot.
    Returns host → why it is not (the lines, or why it could not be read); empty when every
    host is as its snapshot. Nothing is written.
    """
    by_name = {t.host: t for t in touched if t.snapshot}
    if not by_name:
        return {}

    def task(task: Task) -> Result:
        driver: DriverProtocol = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        fail_point("recover.unlock_check", host=task.host.name)  # about to read a host an apply left approved
        running = normalize(driver, driver.get_config(retrieve="running")["running"])
        snapshot = normalize(driver, snapshots.load(by_name[task.host.name].snapshot))
        same = text_hash(running) == text_hash(snapshot)
        return Result(host=task.host, result=[] if same else changed_lines(snapshot, running) or ["(whitespace)"])

    results = nr.filter(filter_func=lambda h: h.name in by_name).run(task=task, name="check", on_failed=True)
    found: dict[str, str] = {}
    for host, multi in sorted(results.items()):
        if multi.failed:
            exc = multi[0].exception
            found[host] = f"could not be read: {type(exc).__name__}: {exc}" if exc else "could not be read"
        elif multi[0].result:
            found[host] = f"not as its snapshot: {brief_lines(multi[0].result)}"
    return found
