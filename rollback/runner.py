"""The one restore runner: apply's automatic rollback, rollback on request and recover all use it.

Per host (a Nornir task, the hosts started in the order given, newest change first): take a
session (the one that made the commit when it is still open and the commit completed, else a
fresh one), restore from the snapshot (:func:`netchange.rollback.restore.restore_host`: refuse over lines
someone else changed, the driver's own inverse first inside its session, then the full
snapshot), verify; when the inverse in the old session did not verify, try once more in a fresh
session with the full snapshot (the session itself may be what failed).

What happens is told to a :class:`RestoreObserver` (the journal, the live progress, the outcome
table of the caller); the runner itself writes nothing and never raises for a host: a failure
is a report that did not verify, which the caller raises as an alarm.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nornir.core import Nornir
from nornir.core.inventory import Hosts, Inventory
from nornir.core.state import GlobalState
from nornir.core.task import Result, Task

from netchange.drivers.contract import DriverProtocol, SaveReport, save_running
from netchange.drivers.errors import FailureCause, cause_of
from netchange.drivers.fencing import fenced
from netchange.failpoints import fail_point
from netchange.inventory import CONNECTION_NAME
from netchange.models import CheckResult
from netchange.rollback.restore import RestoreReport, restore_host
from netchange.rollback.snapshots import SnapshotStore


@dataclass(frozen=True)
class RestoreTarget:
    """One host to bring back, and what is known of what the change did to it."""

    host: str
    snapshot: str
    """The snapshot's key in the :class:`SnapshotStore` (the state read before the commit)."""
    after: str | None = None
    """The state the change left (read after its commit), if recorded: foreign lines are exact."""
    diff: str = ""
    """The plan's diff for this host: tells the change's lines from foreign ones without ``after``."""
    in_session: bool = False
    """The session that made a complete commit is still open: the driver's own inverse is trusted."""
    checks: Callable[[DriverProtocol, dict[str, Any]], list[CheckResult]] | None = None
    """After a verified restore: the change types' restored checks, given the session and the
    host's inventory data (an adjacency Full again); a failed one makes the restore an alarm."""


class RestoreObserver(Protocol):
    """Hooks the runner calls from its worker threads (implementations serialise themselves)."""

    def restore_started(self, host: str) -> None: ...
    def restore_finished(self, host: str, report: RestoreReport) -> None: ...


def session(task: Task, *, fresh: bool = False) -> DriverProtocol:
    """The host's driver session; ``fresh`` closes any open one first (it may be what failed)."""
    if fresh and CONNECTION_NAME in task.host.connections:
        try:
            task.host.close_connection(CONNECTION_NAME)
        except Exception:  # the session is already gone; a new one is what we want
            task.host.connections.pop(CONNECTION_NAME, None)
    driver: DriverProtocol = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    fenced_driver: DriverProtocol = fenced(driver, task.nornir.config)
    return fenced_driver


def run_in_order(nr: Nornir, hosts: Sequence[str], task: Callable[[Task], Result], name: str) -> None:
    """Run ``task`` on ``hosts``, started in the given order, with a fresh Nornir state.

    Nornir's filter keeps inventory order, and its run puts hosts it has seen fail last; the
    outcome of each host is tracked by the caller, so each run gets a fresh state.
    """
    inv = nr.inventory
    ordered = Inventory(hosts=Hosts({h: inv.hosts[h] for h in hosts}), groups=inv.groups, defaults=inv.defaults)
    Nornir(inventory=ordered, config=nr.config, data=GlobalState(dry_run=False),
           processors=nr.processors, runner=nr.runner).run(task=task, name=name, on_failed=True)


def restore_one(task: Task, target: RestoreTarget, snapshots: SnapshotStore) -> RestoreReport:
    """Restore one host and verify it. Never raises: every failure is in the report."""
    start = time.monotonic()
    try:
        snapshot = snapshots.load(target.snapshot)
    except Exception as exc:  # missing or corrupt: nothing to restore from
        report = RestoreReport(verified=False, seconds=time.monotonic() - start)
        report.fail(FailureCause.NO_SNAPSHOT, _describe(exc))
        return report
    try:
        driver = session(task, fresh=not target.in_session)
    except Exception as exc:
        report = RestoreReport(verified=False, seconds=time.monotonic() - start)
        report.fail(cause_of(exc), f"reconnect: {_describe(exc)}")
        return report
    expected = {"after": target.after} if target.after is not None else {"diff": target.diff}
    report = restore_host(driver, snapshot, inverse_first=target.in_session, host=target.host, **expected)
    if report.verified or not target.in_session or report.foreign:
        return _network_back(task, target, _saved(task, target, report))
    first = report
    try:
        report = restore_host(session(task, fresh=True), snapshot, inverse_first=False, host=target.host,
                              **expected)
    except Exception as exc:
        report = RestoreReport(verified=False)
        report.fail(cause_of(exc), f"reconnect: {_describe(exc)}")
    report.strategies[:0] = first.strategies
    report.errors[:0] = first.errors
    report.causes[:0] = first.causes
    report.seconds += first.seconds
    return _network_back(task, target, _saved(task, target, report))


def _saved(task: Task, target: RestoreTarget, report: RestoreReport) -> RestoreReport:
    """After a verified restore that sent something: save the restored state where the platform
    keeps a startup apart (issue 21 item 4), so that a reload does not bring the change back.
    Nothing sent (``none``: never committed, or a confirmed commit that reverted by itself):
    apply saves only after its confirm, so the startup never held the change. Never raises."""
    if not report.verified or report.strategies == ["none"]:
        return report
    fail_point("save.restore.before", host=target.host)  # restored and verified, about to save
    try:
        saved = save_running(session(task), str(task.host.platform or ""))
    except Exception as exc:  # no session: the restore stands, the save is reported as not done
        saved = SaveReport(False, 0.0, _describe(exc))
    fail_point("save.restore.after", host=target.host)  # saved (or not), not yet reported
    if saved is not None:
        report.saved = saved.event_data()
        report.seconds += saved.seconds
    return report


def _network_back(task: Task, target: RestoreTarget, report: RestoreReport) -> RestoreReport:
    """Run the target's restored checks after a verified restore; a failure is an alarm."""
    if not report.verified or target.checks is None:
        return report
    start = time.monotonic()
    try:
        fail_point("restore.checks", host=target.host)  # restored, about to check the network is back
        checks = target.checks(session(task), dict(task.host.items()))
    except Exception as exc:  # a check that cannot run proves nothing: an alarm, never silence
        checks = [CheckResult(name="restored checks", passed=False, detail=_describe(exc))]
    report.checks = [c.model_dump() for c in checks]
    report.seconds += time.monotonic() - start
    failed = [c for c in checks if not c.passed]
    if failed:
        report.verified = False
        report.fail(FailureCause.NETWORK_NOT_BACK,
                    "; ".join(f"{c.name} ({c.detail})" if c.detail else c.name for c in failed))
    return report


def run_restores(nr: Nornir, targets: Sequence[RestoreTarget], *, snapshots: SnapshotStore,
                 observer: RestoreObserver) -> dict[str, RestoreReport]:
    """Restore ``targets`` (started in the order given) and verify each; host → report."""
    by_name = {t.host: t for t in targets}
    reports: dict[str, RestoreReport] = {}

    def task(task: Task) -> Result:
        target = by_name[task.host.name]
        try:
            observer.restore_started(target.host)
            report = restore_one(task, target, snapshots)
        except Exception as exc:  # an observer failing must not leave a host unreported
            report = RestoreReport(verified=False, errors=[_describe(exc)])
        reports[target.host] = report
        fail_point("restore.finished", host=target.host)  # the host's restore done, not yet reported
        observer.restore_finished(target.host, report)
        return Result(host=task.host, failed=not report.verified)

    run_in_order(nr, [t.host for t in targets], task, "rollback")
    return reports


def _describe(exc: BaseException) -> str:
    from netchange.errors import NetchangeError

    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, NetchangeError) else f"{type(exc).__name__}: {text}"


__all__ = ["RestoreObserver", "RestoreTarget", "restore_one", "run_in_order", "run_restores", "session"]
