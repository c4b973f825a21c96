"""The Temporal runner seen from the caller (``NETCHANGE_RUNNER=temporal``): start the change's
workflow, wait for it, and hand back the same typed outcome as the in-process runner.

The workflow's id is ``apply:<change id>``: a second start while one runs is refused by Temporal
(``WorkflowIDConflictPolicy.FAIL``), whichever machine or replica asks; a finished one's id may be
used again (a change applied again after a refusal).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from netchange.workflow._types import (
    CONTROL_QUEUE,
    ApplyInput,
    ApplyResult,
    PlanInput,
    RestoreInput,
    RestoreResult,
    SitePlanned,
)

if TYPE_CHECKING:
    from netchange.apply import ApplyOutcome
    from netchange.config import Settings
    from netchange.models import ChangeRequest
    from netchange.pipeline import RestoreMode, RestoreOutcome, Run
    from netchange.plan import HostPlan
    from netchange.policy import Actor, Policy
    from netchange.rollback import RestoreReport

T = TypeVar("T")


def workflow_id(change_id: str) -> str:
    return f"apply:{change_id}"


def run_sync(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to its end from synchronous code (in a thread of its own under a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_wrap(make))
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["value"] = asyncio.run(_wrap(make))
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=main, name="netchange-temporal-client")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


async def _wrap(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


def failure(exc: BaseException) -> BaseException:
    """A failed workflow as netchange's error of the same class (its exit code), one line."""
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import ApplicationError

    from netchange import errors
    from netchange.workflow._control import error_class

    cause = exc.cause if isinstance(exc, WorkflowFailureError) else exc
    if isinstance(cause, ApplicationError):
        found = error_class(cause.type or "")
        kind = found if found is not None and issubclass(found, errors.NetchangeError) else errors.NetchangeError
        return kind(cause.message)
    return errors.NetchangeError(f"the apply workflow failed: {cause}")


def run_plan(settings: Settings, request: ChangeRequest, sites: dict[str, str]) -> tuple[HostPlan, ...]:
    """The device side of a plan on each site's workers (``plan:<change id>``): host → site in the
    plan's order in, the hosts' plans out in that order (the caller seals and records the plan)."""
    import json

    from netchange.classifiers import load_ruleset
    from netchange.errors import NetchangeError
    from netchange.plan import HostPlan
    from netchange.rollback import SnapshotStore

    snapshots = SnapshotStore(settings.snapshots_dir, database=settings.database_url)
    by_site: dict[str, list[str]] = {}
    for host, site in sites.items():
        by_site.setdefault(site, []).append(host)
    inp = PlanInput(change_id=request.id, request_blob=snapshots.save(request.model_dump_json()), sites=by_site)

    async def go() -> list[SitePlanned]:
        from temporalio.client import WorkflowFailureError
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        from netchange.errors import LockHeld
        from netchange.workflow._worker import connect

        client = await connect(settings.temporal_address, settings.temporal_namespace)
        try:
            done: list[SitePlanned] = await client.execute_workflow(
                "plan", inp, id=f"plan:{request.id}", task_queue=CONTROL_QUEUE, result_type=list[SitePlanned],
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
            return done
        except WorkflowAlreadyStartedError:
            raise LockHeld(f"{request.id}: a plan of this change is already running (workflow plan:{request.id})"
                           ) from None
        except WorkflowFailureError as exc:
            raise failure(exc) from None

    digest = load_ruleset().digest
    planned: dict[str, HostPlan] = {}
    for done in run_sync(go):
        if done.rules_digest != digest:
            raise NetchangeError(f"{request.id}: the {done.site} worker judged with other classifier rules "
                                 "than this machine's: deploy the same rules to both")
        for data in json.loads(snapshots.load(done.blob)):
            one = HostPlan.model_validate(data)
            planned[one.host] = one
    missing = [h for h in sites if h not in planned]
    if missing:
        raise NetchangeError(f"{request.id}: no plan came back for {', '.join(missing)}")
    return tuple(planned[h] for h in sites)


def start_apply(settings: Settings, policy: Policy, actor: Actor, change_id: str, *,
                emergency: str | None = None, revert_in: int = 300) -> str:
    """Start ``apply:<change id>`` and return its id without waiting (the approval service's way:
    the run is followed in the journal). A second start while one runs: ``LockHeld`` (exit 3)."""
    inp = ApplyInput(change_id=change_id, actor=actor.login, actor_source=actor.source, now=settings.now,
                     policy_digest=policy.digest, emergency=emergency, revert_in=revert_in)
    return _start(settings, "apply", inp, workflow_id(change_id),
                  f"{change_id}: an apply of this change is already running (workflow {workflow_id(change_id)})")


def start_restore(settings: Settings, policy: Policy, actor: Actor, change_id: str, *, mode: RestoreMode,
                  emergency: str | None = None) -> str:
    """Start ``restore:<change id>`` (a rollback on request or a recover, as :func:`run_restore`)
    and return its id without waiting, as :func:`start_apply` does for the approval service."""
    inp = RestoreInput(change_id=change_id, actor=actor.login, mode=mode.value, actor_source=actor.source,
                       now=settings.now, policy_digest=policy.digest, emergency=emergency)
    return _start(settings, "restore", inp, restore_id(change_id),
                  f"{change_id}: a rollback or recover of this change is already running "
                  f"(workflow {restore_id(change_id)})")


def restore_id(change_id: str) -> str:
    return f"restore:{change_id}"


def _start(settings: Settings, workflow: str, inp: ApplyInput | RestoreInput, wid: str, running: str) -> str:
    async def go() -> str:
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        from netchange.errors import LockHeld
        from netchange.workflow._worker import connect

        client = await connect(settings.temporal_address, settings.temporal_namespace)
        try:
            handle = await client.start_workflow(
                workflow, inp, id=wid, task_queue=CONTROL_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        except WorkflowAlreadyStartedError:
            raise LockHeld(running) from None
        return handle.id

    return run_sync(go)


def run_status(settings: Settings, wid: str) -> dict[str, Any] | None:
    """Where the workflow ``wid`` (its latest run) stands, for a caller that follows it through the
    approval service: ``{"status": "running"}``; ``{"status": "completed", "result": {...}}`` (the
    :class:`ApplyResult` or :class:`RestoreResult` as JSON, without the per-host journal facts);
    ``{"status": "failed", "error": ..., "exit_code": ..., "type": ...}`` (the workflow's error as
    netchange's, :func:`failure`). ``None``: no such workflow. Temporal unreachable:
    ``EngineUnavailable``."""
    import dataclasses

    result_type: type[ApplyResult] | type[RestoreResult] = ApplyResult if wid.startswith("apply:") else RestoreResult

    async def go() -> dict[str, Any] | None:
        from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
        from temporalio.service import RPCError, RPCStatusCode

        from netchange.workflow._worker import connect

        client = await connect(settings.temporal_address, settings.temporal_namespace)
        handle = client.get_workflow_handle(wid, result_type=result_type)
        try:
            described = await handle.describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if described.status == WorkflowExecutionStatus.RUNNING:
            return {"status": "running"}
        try:
            result = await handle.result()
        except WorkflowFailureError as exc:
            error = failure(exc)
            code = getattr(error, "exit_code", 1)
            return {"status": "failed", "error": str(error), "exit_code": code, "type": type(error).__name__}
        data = dataclasses.asdict(result)
        for host in data.get("hosts") or []:
            host.pop("events", None)
        return {"status": "completed", "result": data}

    return run_sync(go)


def apply_result(data: dict[str, Any]) -> ApplyResult:
    """An :class:`ApplyResult` back from :func:`run_status`'s JSON (``TypeError``/``KeyError`` if malformed)."""
    from netchange.workflow._types import HostResult

    return ApplyResult(**{**data, "hosts": [HostResult(**h) for h in data.get("hosts") or []]})


def restore_result(data: dict[str, Any]) -> RestoreResult:
    """A :class:`RestoreResult` back from :func:`run_status`'s JSON."""
    return RestoreResult(**data)


def run_apply(run: Run, change_id: str, *, emergency: str | None = None, revert_in: int = 300) -> ApplyOutcome:
    """Apply ``change_id`` through the workflow (see the module); the caller's progress shows the end."""
    cfg = run.settings
    inp = ApplyInput(change_id=change_id, actor=run.actor.login, actor_source=run.actor.source, now=cfg.now,
                     policy_digest=run.policy.digest, emergency=emergency, revert_in=revert_in)

    async def go() -> ApplyResult:
        from temporalio.client import WorkflowFailureError
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        from netchange.errors import LockHeld
        from netchange.workflow._worker import connect

        client = await connect(cfg.temporal_address, cfg.temporal_namespace)
        try:
            handle = await client.start_workflow(
                "apply", inp, id=workflow_id(change_id), task_queue=CONTROL_QUEUE, result_type=ApplyResult,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        except WorkflowAlreadyStartedError:
            raise LockHeld(f"{change_id}: an apply of this change is already running "
                           f"(workflow {workflow_id(change_id)})") from None
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        main = threading.current_thread() is threading.main_thread()
        if main:
            for s in signals:
                loop.add_signal_handler(s, lambda: asyncio.ensure_future(handle.signal("interrupt")))
        try:
            result: ApplyResult = await handle.result()
            return result
        except WorkflowFailureError as exc:
            raise failure(exc) from None
        finally:
            if main:
                for s in signals:
                    loop.remove_signal_handler(s)

    result = run_sync(go)
    for text in result.warnings:
        run.warn(text)
    return to_outcome(run, result)


def run_restore(run: Run, change_id: str, *, mode: RestoreMode, emergency: str | None = None) -> RestoreOutcome:
    """Rollback on request or recover through the workflow ``restore:<change id>``."""
    cfg = run.settings
    inp = RestoreInput(change_id=change_id, actor=run.actor.login, mode=mode.value, actor_source=run.actor.source,
                       now=cfg.now, policy_digest=run.policy.digest, emergency=emergency)

    async def go() -> RestoreResult:
        from temporalio.client import WorkflowFailureError
        from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        from netchange.errors import LockHeld
        from netchange.workflow._worker import connect

        client = await connect(cfg.temporal_address, cfg.temporal_namespace)
        try:
            handle = await client.start_workflow(
                "restore", inp, id=f"restore:{change_id}", task_queue=CONTROL_QUEUE, result_type=RestoreResult,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        except WorkflowAlreadyStartedError:
            raise LockHeld(f"{change_id}: a rollback or recover of this change is already running "
                           f"(workflow restore:{change_id})") from None
        try:
            result: RestoreResult = await handle.result()
            return result
        except WorkflowFailureError as exc:
            raise failure(exc) from None

    result = run_sync(go)
    for text in result.warnings:
        run.warn(text)
    return to_restore_outcome(run, result)


def restore_outcome_of(result: RestoreResult) -> RestoreOutcome:
    """The restore workflow's end as the in-process runner's typed outcome (no progress shown)."""
    from netchange.apply import ChangeOutcome
    from netchange.pipeline import RestoreOutcome

    reports = {h: _restore_report(r) for h, r in result.reports.items()}
    return RestoreOutcome(result.change_id, ChangeOutcome(result.outcome) if result.outcome else None, reports,
                          list(result.already), list(result.released), dict(result.differing))


def to_restore_outcome(run: Run, result: RestoreResult) -> RestoreOutcome:
    from netchange.apply import HostStatus

    outcome = restore_outcome_of(result)
    reports = outcome.reports
    progress = run.progress(sorted(result.statuses))
    try:
        for host, status in sorted(result.statuses.items()):
            report = reports.get(host)
            progress.host(host, HostStatus(status) if status in {s.value for s in HostStatus} else HostStatus.ALARM,
                          "; ".join(report.errors) if report is not None and not report.verified else "")
    finally:
        progress.close()
    return outcome


def _restore_report(data: dict[str, Any]) -> RestoreReport:
    from netchange.drivers.errors import FailureCause
    from netchange.rollback import RestoreReport

    fields = dict(data)
    fields["causes"] = [FailureCause(c) for c in fields.get("causes", [])]
    return RestoreReport(**fields)


def outcome_of(result: ApplyResult) -> ApplyOutcome:
    """The apply workflow's end as the in-process runner's typed outcome (no progress shown)."""
    from netchange.apply import ApplyOutcome, ChangeOutcome, HostFailure, HostOutcome, HostStatus
    from netchange.workflow._control import error_class

    hosts: dict[str, HostOutcome] = {}
    for r in result.hosts:
        kind = error_class(r.error_type) if r.error_type else None
        failure = HostFailure(kind or Exception, r.error) if r.error else None
        restore = _restore_report(r.restore) if r.restore is not None else None
        hosts[r.host] = HostOutcome(host=r.host, status=HostStatus(r.status), failure=failure, snapshot=r.snapshot,
                                    commit_started=r.commit_started, commit_refused=r.commit_refused,
                                    committed=r.committed, confirmed_pending=r.confirmed_pending,
                                    post_checks=r.post_checks, after_hash=r.after_hash, restore=restore)
    return ApplyOutcome(result.change_id, ChangeOutcome(result.outcome), hosts, interrupted=result.interrupted,
                        alarms=list(result.alarms))


def to_outcome(run: Run, result: ApplyResult) -> ApplyOutcome:
    from netchange.apply import HostStatus

    outcome = outcome_of(result)
    hosts = outcome.hosts
    changing = [h for h, o in hosts.items() if o.status is not HostStatus.NO_CHANGE]
    progress = run.progress(changing)
    try:
        for h in changing:
            o = hosts[h]
            progress.host(h, o.status, o.error)
        if outcome.refused_for_drift:  # as the applier says it in process
            progress.message("drift: nothing was changed on any host; plan again")
    finally:
        progress.close()
    return outcome


__all__ = ["apply_result", "failure", "outcome_of", "restore_id", "restore_outcome_of", "restore_result", "run_apply",
           "run_plan", "run_restore", "run_status", "run_sync", "start_apply", "start_restore", "to_outcome",
           "to_restore_outcome", "workflow_id"]
