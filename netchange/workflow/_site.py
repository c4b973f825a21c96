"""The device activities (one task queue per site): read, drift check, snapshot, commit, post-checks,
confirm, save, restore, verify: the applier's own steps (:class:`netchange.apply.Applier`), run by
a worker that holds the credentials of its site only, and reports through the workflow.

Sessions: a host's later steps must reach the session that checked it (the applier's in-session
restore, the driver's checked state), so each worker also listens on a queue of its own and
``prepare_host`` answers it; the workflow sends that host's ``apply_host`` and ``restore_host``
there. A worker that died takes its sessions with it: the workflow then reconciles the host on any
worker of the site with a fresh session (``reconcile_host``).

What the applier reports is journaled by the control worker through the workflow's ``record``
update, before the applier goes on (:class:`RemoteRecorder`): a site worker never holds the
journal's key. Each device activity heartbeats from a thread beside the driver's calls while they
run: a worker killed mid-commit stops heartbeating, and the workflow knows within its heartbeat
timeout.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from temporalio import activity

from netchange.apply import Observers
from netchange.workflow._control import qualified, refusals, wire
from netchange.workflow._types import (
    DeviceInput,
    HostResult,
    RecordInput,
    RestoreTargetRef,
    SitePlanned,
    WireEvent,
)

if TYPE_CHECKING:
    from temporalio.client import Client

    from netchange.apply import Applier, RunEvent
    from netchange.apply.leases import HeldLeases
    from netchange.config import Settings
    from netchange.rollback import RestoreReport

HEARTBEAT_EVERY = 1.0
"""Seconds between two heartbeats of a running device activity (the workflow's timeout is 5 s)."""


class RemoteRecorder:
    """:class:`netchange.apply.ApplyObserver` that hands each group of facts the applier needs on
    record before it goes on (``durable``: ``commit_started`` before its commit) to the workflow's
    ``record`` update, and waits until the control worker has journaled it. The others (what
    follows a commit, a restore's report: what recovery does without, as in process) are kept and
    go back with the activity's result; the workflow journals them in one step per batch."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop, workflow_id: str) -> None:
        self.client = client
        self.loop = loop
        self.workflow_id = workflow_id
        self._lock = threading.Lock()
        self._kept: list[WireEvent] = []

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        if not durable:
            with self._lock:
                self._kept.extend(wire(events))
            return
        handle = self.client.get_workflow_handle(self.workflow_id)
        future = asyncio.run_coroutine_threadsafe(
            handle.execute_update("record", RecordInput(wire(events), durable)), self.loop)
        future.result(timeout=120)

    def kept(self, host: str) -> list[WireEvent]:
        """The facts kept for ``host`` (taken: each goes back once)."""
        with self._lock:
            mine = [e for e in self._kept if e.host == host]
            self._kept = [e for e in self._kept if e.host != host]
        return mine

    def host_status(self, host: str, status: Any, detail: str) -> None:
        return None

    def message(self, text: str) -> None:
        return None


class _Unordered(Observers):
    """The applier's observers without their common lock: one observer (the recorder), whose
    durable facts of several hosts may then be journaled at once (the journal orders its appends)."""

    def record(self, events: Sequence[RunEvent], *, durable: bool) -> None:
        if events:
            for observer in self.observers:
                observer.record(events, durable=durable)


@contextmanager
def heartbeating(every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """Heartbeat the current activity from a thread of its own while the block runs."""
    stop = threading.Event()
    context = contextvars.copy_context()

    def beat() -> None:
        while not stop.wait(every):
            with suppress(Exception):
                context.run(activity.heartbeat)

    thread = threading.Thread(target=beat, name="netchange-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(every + 1)


@dataclass
class _SiteRun:
    applier: Applier
    fence: HeldLeases | None
    recorder: RemoteRecorder


class SiteActivities:
    """One worker's device activities for ``sites``; ``queue`` is its own (session affinity)."""

    def __init__(self, settings: Callable[[], Settings], *, sites: Sequence[str], queue: str,
                 client: Callable[[], Client], loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self.settings = settings
        self.sites = list(sites)
        self.queue = queue
        self.client = client
        self.loop = loop
        self._runs: dict[str, _SiteRun] = {}
        self._lock = threading.Lock()

    def all(self) -> list[Callable[..., Any]]:
        return [self.prepare_host, self.apply_host, self.restore_host, self.reconcile_host, self.close_change,
                self.restore_target, self.check_since, self.snapshot_differs, self.plan_site]

    def _make_run(self, inp: DeviceInput) -> _SiteRun:
        from netchange.apply import Applier
        from netchange.config import require_logins
        from netchange.drivers import fencing
        from netchange.errors import NetchangeError
        from netchange.inventory import load_nornir
        from netchange.plan import store as planstore
        from netchange.rollback import SnapshotStore

        cfg = self.settings()
        snapshots = SnapshotStore(cfg.snapshots_dir, database=cfg.database_url)
        plan = planstore.parse_verified(snapshots.load(inp.plan_blob), plan_hash=inp.plan_hash,
                                        what=f"{inp.change_id}: plan {inp.plan_hash[:12]}")
        mine = [h.host for h in plan.hosts if h.site in self.sites]
        if inp.host not in mine:
            raise NetchangeError(f"{inp.host} is not a host of site {', '.join(self.sites)}: not acted on here")
        nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins)
        nr = nr.filter(filter_func=lambda h: h.name in mine)
        require_logins(nr, [inp.host])
        fence: HeldLeases | None = None
        if inp.tokens and cfg.database_url is not None:
            from netchange.apply import leases

            fence = leases.fence(cfg.database_url, inp.tokens, inp.names, inp.ttl)
            fencing.install(nr.config, fence.check)
        recorder = RemoteRecorder(self.client(), self.loop(), inp.workflow_id)
        applier = Applier(plan, nr, snapshots=snapshots, actor=inp.actor, revert_in=inp.revert_in)
        applier.observers = _Unordered(recorder)
        return _SiteRun(applier, fence, recorder)

    def _run(self, inp: DeviceInput, *, fresh: bool = False) -> _SiteRun:
        if fresh:
            return self._make_run(inp)
        with self._lock:  # the hosts of one change share one applier (and its sessions) on this worker
            run = self._runs.get(inp.change_id)
            if run is not None and inp.tokens and run.fence is not None and run.fence.tokens != inp.tokens:
                run = None  # bumped: this worker's old session no longer acts
            if run is None:
                run = self._runs[inp.change_id] = self._make_run(inp)
            return run

    def _result(self, run: _SiteRun, host: str, events: list[RunEvent] | None = None) -> HostResult:
        out = run.applier.outcomes[host]
        restore = _report(out.restore) if out.restore is not None else None
        return HostResult(host=host, status=out.status.value, error=out.error,
                          error_type=qualified(out.failure.error_type) if out.failure is not None else "",
                          snapshot=out.snapshot, commit_started=out.commit_started,
                          commit_refused=out.commit_refused, committed=out.committed,
                          confirmed_pending=out.confirmed_pending, post_checks=out.post_checks,
                          after_hash=out.after_hash, restore=restore,
                          events=wire(events or []) + run.recorder.kept(host), queue=self.queue)

    # -- the activities --------------------------------------------------------------------------
    @activity.defn(name="prepare_host")
    def prepare_host(self, inp: DeviceInput) -> HostResult:
        """Open the host's session (nothing read); a failure goes back for the control to journal."""
        from netchange.rollback.runner import run_in_order

        with refusals(), heartbeating():
            run = self._run(inp)
            run_in_order(run.applier.nr, [inp.host], run.applier._prepare, "prepare")
            with run.applier.lock:
                events = [e for e in run.applier._prepared if e.host == inp.host]
            return self._result(run, inp.host, events)

    @activity.defn(name="apply_host")
    def apply_host(self, inp: DeviceInput) -> HostResult:
        """The host's turn: read (snapshot and drift check), load and compare, commit, read back,
        post-checks, confirm, save. The snapshot goes on record with ``commit_started``."""
        from netchange.rollback.runner import run_in_order

        with refusals(), heartbeating():
            run = self._run(inp)
            run_in_order(run.applier.nr, [inp.host], run.applier._apply_host, "apply")
            return self._result(run, inp.host)

    @activity.defn(name="restore_host")
    def restore_host(self, inp: DeviceInput) -> HostResult:
        """The automatic rollback of this host, in the session that made the change when it is open."""
        from netchange.rollback.runner import run_restores

        with refusals(), heartbeating():
            run = self._run(inp)
            applier = run.applier
            run_restores(applier.nr, [applier._restore_target(inp.host)], snapshots=applier.snapshots,
                         observer=applier)
            return self._result(run, inp.host)

    @activity.defn(name="reconcile_host")
    def reconcile_host(self, inp: DeviceInput) -> HostResult:
        """After the host's worker was lost: read the device with a fresh session, under the bumped
        tokens, and bring it back to its snapshot if it holds the change's own lines only (as its
        snapshot: nothing was done; any other line: an alarm naming them)."""
        from netchange.rollback.runner import run_restores

        with refusals(), heartbeating():
            run = self._run(inp, fresh=True)
            applier = run.applier
            applier.outcomes[inp.host].snapshot = inp.snapshot
            try:
                run_restores(applier.nr, [applier._restore_target(inp.host)], snapshots=applier.snapshots,
                             observer=applier)
                return self._result(run, inp.host)
            finally:
                _close(run)

    # -- rollback on request and recover (the restore workflow) -----------------------------------
    @activity.defn(name="restore_target")
    def restore_target(self, inp: DeviceInput, ref: RestoreTargetRef) -> HostResult:
        """Bring one host of a change's last apply back to its snapshot and verify it (fresh session)."""
        from netchange import pipeline
        from netchange.rollback.recover import Touched, after_text
        from netchange.rollback.runner import RestoreTarget, run_restores

        with refusals(), heartbeating():
            run = self._run(inp, fresh=True)
            applier = run.applier
            try:
                observer = pipeline._RestoreJournal(applier.observers, {ref.host: ref.confirmed_commit})
                target = RestoreTarget(host=ref.host, snapshot=ref.snapshot,
                                       after=after_text(applier.snapshots, Touched(ref.host, after_sha=ref.after_sha)),
                                       diff=applier.plan.host(ref.host).diff,
                                       checks=pipeline._restored_checks(applier.plan, ref.host))
                report = run_restores(applier.nr, [target], snapshots=applier.snapshots, observer=observer)[ref.host]
                return HostResult(ref.host, "restored" if report.verified else "ALARM",
                                  error="; ".join(report.errors), snapshot=ref.snapshot, restore=_report(report))
            finally:
                _close(run)

    @activity.defn(name="check_since")
    def check_since(self, inp: DeviceInput, ref: RestoreTargetRef) -> HostResult:
        """Rollback on request: is the host still as the apply left it? (``same``, ``changed``, ``unreadable``)"""
        from netchange.changetype import text_hash
        from netchange.drivers.contract import normalize
        from netchange.rollback.recover import Touched, after_text
        from netchange.rollback.restore import brief_lines, changed_lines
        from netchange.rollback.runner import run_in_order, session

        with refusals(), heartbeating():
            run = self._run(inp, fresh=True)
            found: dict[str, HostResult] = {}

            def task(task: Any) -> Any:
                from nornir.core.task import Result

                driver = session(task)
                running = driver.get_config(retrieve="running")["running"]
                if text_hash(normalize(driver, running)) == ref.after_hash:
                    found[ref.host] = HostResult(ref.host, "same")
                else:
                    after = after_text(run.applier.snapshots, Touched(ref.host, after_sha=ref.after_sha))
                    lines = changed_lines(normalize(driver, after), normalize(driver, running)) if after else []
                    found[ref.host] = HostResult(ref.host, "changed", error=brief_lines(lines) if lines else "")
                return Result(host=task.host)

            try:
                run_in_order(run.applier.nr, [ref.host], task, "check")
            finally:
                _close(run)
            return found.get(ref.host, HostResult(ref.host, "unreadable"))

    @activity.defn(name="snapshot_differs")
    def snapshot_differs(self, inp: DeviceInput, ref: RestoreTargetRef) -> HostResult:
        """Recover of an apply killed before its rollout: is the host still as its snapshot? (``error``: why not)"""
        from netchange.rollback.recover import Touched, differing_from_snapshot

        with refusals(), heartbeating():
            run = self._run(inp, fresh=True)
            try:
                nr = run.applier.nr.filter(filter_func=lambda h: h.name == ref.host)
                differing = differing_from_snapshot(nr, [Touched(ref.host, snapshot=ref.snapshot)],
                                                    run.applier.snapshots)
            finally:
                _close(run)
            return HostResult(ref.host, "checked", error=differing.get(ref.host, ""))

    # -- plan ---------------------------------------------------------------------------------------
    @activity.defn(name="plan_site")
    def plan_site(self, change_id: str, request_blob: str, hosts: list[str]) -> SitePlanned:
        """Plan ``hosts`` of this site (read, render, compare, classify; never commits): their
        :class:`netchange.plan.HostPlan` list back as a blob, with the rules that judged them."""
        import json

        from netchange.classifiers import load_ruleset
        from netchange.config import require_logins
        from netchange.errors import NetchangeError
        from netchange.inventory import load_nornir
        from netchange.models import ChangeRequest
        from netchange.plan import bind, plan_hosts
        from netchange.rollback import SnapshotStore

        with refusals(), heartbeating():
            cfg = self.settings()
            snapshots = SnapshotStore(cfg.snapshots_dir, database=cfg.database_url)
            request = ChangeRequest.model_validate_json(snapshots.load(request_blob))
            if request.id != change_id:
                raise NetchangeError(f"{change_id}: the request blob is {request.id}'s; refused")
            nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins)
            _steps, targets = bind(request, nr)
            strangers = [h for h in hosts if h not in targets or targets[h].site not in self.sites]
            if strangers:
                raise NetchangeError(f"{', '.join(strangers)}: not a target of {change_id} at site "
                                     f"{', '.join(self.sites)}: not planned here")
            nr = nr.filter(filter_func=lambda h: h.name in hosts)
            require_logins(nr, hosts)
            ruleset = load_ruleset()
            planned = plan_hosts(request, nr, {h: targets[h] for h in hosts}, ruleset,
                                 keep=lambda text: snapshots.save(text, durable=False))
            blob = snapshots.save(json.dumps([p.model_dump(mode="json") for p in planned]))
            return SitePlanned(self.sites[0], blob, ruleset.digest)

    @activity.defn(name="close_change")
    def close_change(self, change_id: str) -> None:
        """The change is over: close this worker's sessions of it."""
        with self._lock:
            run = self._runs.pop(change_id, None)
        if run is not None:
            _close(run)

    def close_all(self) -> None:
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            _close(run)


def _report(report: RestoreReport) -> dict[str, Any]:
    """A restore's report on the wire (its causes as their names)."""
    return {k: (list(map(str, v)) if k == "causes" else v) for k, v in dataclasses.asdict(report).items()}


def _close(run: _SiteRun) -> None:
    with suppress(Exception):
        run.applier.close()
    if run.fence is not None:
        run.fence.close()


__all__ = ["RemoteRecorder", "SiteActivities", "heartbeating"]
