"""The apply workflow: thin and deterministic; every step is an activity (:mod:`._control`, :mod:`._site`).

Sequence (the one of :func:`netchange.pipeline.apply_change`, each step on the queue that may run it):

    apply_open (control: pin, plan, leases, guard, journal locks)
    → prepare_host per host (its site: the session opened)       → apply_prepared (control: on record, in_progress)
    → per batch: apply_host per host (its site, on the worker holding the host's session: the
      snapshot read at its turn is the drift check; snapshot and commit_started on record together)
    → on failure: apply_rollback_targets (control) → restore_host per host, newest first
    → apply_finish (control: apply_finished, the state) → apply_release (control, always)

A device activity reports its facts through the ``record`` update, which the control worker
journals before the device activity goes on (``commit_started`` is on record before the commit).

**No device step runs twice blindly**: ``apply_host`` (commit, post-checks, confirm, save) and
``restore_host`` have one attempt and a heartbeat. When one times out (the worker died, or its
host is cut off), the workflow bumps the change's lease tokens (the old worker is fenced out from
its next call on) and reconciles the host on any worker of its site (``reconcile_host``): the
device is read; as its snapshot → nothing was done (no snapshot on record with ``commit_started``:
its commit never started, nothing to read: ``apply_snapshot_of``); with only the change's own lines → restored
and verified; with any other line → an alarm naming the lines (the restore runner's rules).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from netchange.workflow._types import (
    CONTROL_QUEUE,
    ApplyInput,
    ApplyResult,
    DeviceInput,
    HostResult,
    Opened,
    PlanInput,
    RecordInput,
    RestoreInput,
    RestoreOpened,
    RestoreResult,
    RestoreStep,
    RestoreTargetRef,
    SitePlanned,
    StepInput,
    WireEvent,
    site_queue,
)

ONCE = RetryPolicy(maximum_attempts=1)
"""No automatic retry: a journal append or a device step is never run a second time blindly."""
CONTROL_TIMEOUT = timedelta(minutes=2)
DEVICE_TIMEOUT = timedelta(minutes=15)
HEARTBEAT = timedelta(seconds=ApplyInput.heartbeat_seconds)
"""A device activity that has not heartbeaten for this long is presumed dead (its worker killed,
partitioned): the time from a worker's death to the start of its host's reconciliation
(``ApplyInput.heartbeat_seconds``)."""
RECONCILE_WORKERS = 3
"""How many workers of a site a host's reconciliation may lose, one after the other, before the host
is an alarm (each new one reads the device first)."""
AFFINITY = timedelta(seconds=ApplyInput.affinity_seconds)
"""How long a host's next step waits for the worker holding its session to pick it up."""


async def _control(name: str, *args: Any, result_type: type | None = None) -> Any:
    try:
        return await workflow.execute_activity(name, args=list(args), task_queue=CONTROL_QUEUE,
                                               start_to_close_timeout=CONTROL_TIMEOUT, retry_policy=ONCE,
                                               result_type=result_type)
    except ActivityError as exc:
        raise _as_failure(exc) from None


def _as_failure(exc: ActivityError) -> BaseException:
    """A refusal of an activity (netchange's error, by its class name) fails the workflow with it."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type, non_retryable=True)
    return ApplicationError(f"{exc.message}: {cause}" if cause else str(exc), type="NetchangeError",
                            non_retryable=True)


def _timed_out(exc: ActivityError) -> bool:
    """The activity's worker stopped answering (heartbeat, start or close timeout), not a refusal."""
    from temporalio.exceptions import TimeoutError as ActivityTimeout

    return isinstance(exc.cause, ActivityTimeout)


@workflow.defn(name="apply")
class ApplyWorkflow:
    def __init__(self) -> None:
        self._change = ""
        self._actor = ""
        self._interrupted = False
        self._timings: dict[str, float] = {}
        self._queues: set[str] = set()
        self._heartbeat, self._affinity = HEARTBEAT, AFFINITY

    @workflow.update
    async def record(self, facts: RecordInput) -> None:
        """Journal facts a device activity reports, before it goes on (see the module)."""
        await _control("journal_record", self._change, self._actor, facts)

    @workflow.signal
    def interrupt(self) -> None:
        """Ctrl-C at the caller: stop the rollout after the hosts in flight, and roll back."""
        self._interrupted = True

    @workflow.run
    async def run(self, inp: ApplyInput) -> ApplyResult:
        self._change, self._actor = inp.change_id, inp.actor
        self._heartbeat = timedelta(seconds=inp.heartbeat_seconds)
        self._affinity = timedelta(seconds=inp.affinity_seconds)
        opened: Opened = await _control("apply_open", inp, result_type=Opened)
        if opened.closed is not None:
            return opened.closed
        try:
            result = await self._apply(inp, opened)
        finally:
            await _control("apply_release", inp.change_id, inp.actor)
            await self._close_sessions(inp.change_id)
        await workflow.wait_condition(workflow.all_handlers_finished)
        result.warnings = opened.warnings
        result.timings = dict(self._timings)
        return result

    def _device_input(self, inp: ApplyInput, opened: Opened, host: str, snapshot: str = "") -> DeviceInput:
        return DeviceInput(change_id=inp.change_id, host=host, actor=inp.actor, plan_hash=opened.plan_hash,
                           plan_blob=opened.plan_blob, workflow_id=workflow.info().workflow_id,
                           revert_in=inp.revert_in, snapshot=snapshot, tokens=opened.tokens,
                           names=opened.names, ttl=opened.ttl)

    async def _apply(self, inp: ApplyInput, opened: Opened) -> ApplyResult:
        prepared: list[HostResult] = await asyncio.gather(*(self._prepare(inp, opened, h) for h in opened.sites))
        results = {r.host: r for r in prepared}
        self._queues.update(r.queue for r in prepared if r.queue)
        await _control("apply_prepared", StepInput(inp.change_id, inp.actor, prepared))
        commit_order: list[list[str]] = []
        for batch in opened.batches:
            if self._interrupted:
                break
            commit_order.append(batch)
            done = await asyncio.gather(*(self._step("apply_host", inp, opened, results[h]) for h in batch))
            await self._journal_kept(inp, done)
            results.update({r.host: r for r in done})
            if any(r.status == "failed" or r.lost for r in done):
                break
        step = StepInput(inp.change_id, inp.actor, list(results.values()), commit_order, self._interrupted,
                         opened.on_failure)
        back: list[str] = await _control("apply_rollback_targets", step, result_type=list[str])
        if back:
            restored = await asyncio.gather(*(self._step("restore_host", inp, opened, results[h])
                                              for h in back if results[h].restore is None))
            await self._journal_kept(inp, restored)
            results.update({r.host: r for r in restored})
        step.results = list(results.values())
        finished: ApplyResult = await _control("apply_finish", step, result_type=ApplyResult)
        return finished

    async def _prepare(self, inp: ApplyInput, opened: Opened, host: str) -> HostResult:
        """The host's session opened on a worker of its site (nothing read: the snapshot and the
        drift check are taken at its turn, in ``apply_host``); a worker lost here leaves the host
        not ready (nothing was changed: the apply is refused, as for a host that cannot be reached)."""
        try:
            result: HostResult = await workflow.execute_activity(
                "prepare_host", self._device_input(inp, opened, host), task_queue=site_queue(opened.sites[host]),
                start_to_close_timeout=DEVICE_TIMEOUT, heartbeat_timeout=self._heartbeat, retry_policy=ONCE,
                result_type=HostResult)
            return result
        except ActivityError as exc:
            if not _timed_out(exc):
                raise _as_failure(exc) from None
            why = f"prepare_host: the site worker was lost ({exc.cause})"
            return HostResult(host, "failed", error=why, error_type="netchange.errors.DeviceLost",
                              events=[WireEvent("prepare_failed", host, {"error": why})])

    async def _journal_kept(self, inp: ApplyInput, done: list[HostResult]) -> None:
        """What the hosts' steps kept (facts recovery does without), journaled in one step, each
        host's in its order, after its durable facts (already on record through ``record``)."""
        kept = [e for r in done for e in r.events]
        for r in done:
            r.events = []
        if kept:
            await _control("journal_record", inp.change_id, inp.actor, RecordInput(kept, durable=False))

    async def _close_sessions(self, change_id: str) -> None:
        """Each worker that held a session of the change closes it (one that is gone: nothing to do)."""
        for queue in sorted(self._queues):
            with contextlib.suppress(ActivityError):
                await workflow.execute_activity("close_change", change_id, task_queue=queue,
                                                schedule_to_start_timeout=timedelta(seconds=5),
                                                start_to_close_timeout=timedelta(seconds=30), retry_policy=ONCE)

    async def _step(self, name: str, inp: ApplyInput, opened: Opened, before: HostResult) -> HostResult:
        """A device step on the worker that holds the host's session; reconciled if it is lost."""
        host = before.host
        try:
            result: HostResult = await workflow.execute_activity(
                name, self._device_input(inp, opened, host, before.snapshot), task_queue=before.queue,
                schedule_to_start_timeout=self._affinity, start_to_close_timeout=DEVICE_TIMEOUT,
                heartbeat_timeout=self._heartbeat, retry_policy=ONCE, result_type=HostResult)
            return result
        except ActivityError as exc:
            if not _timed_out(exc):
                raise _as_failure(exc) from None
            return await self._reconcile(inp, opened, before, f"{name}: the site worker was lost ({exc.cause})")

    async def _reconcile(self, inp: ApplyInput, opened: Opened, before: HostResult, why: str) -> HostResult:
        """The host's worker is presumed dead: fence it out, read the device, restore what is ours.

        A worker lost in its turn while reconciling is fenced out the same way (tokens bumped again)
        and the reconciliation runs once more on another worker of the site, which reads the device
        first: never blind. After :data:`RECONCILE_WORKERS` lost workers the host is an alarm (the
        change ends ``failed``: ``recover`` finishes it) rather than the workflow failing with the
        change left ``in_progress``."""
        self._timings.setdefault("lost_detected", workflow.now().timestamp())
        result: HostResult | None = None
        for _ in range(RECONCILE_WORKERS):
            await _control("journal_record", inp.change_id, inp.actor, RecordInput(
                [WireEvent("host_failed", before.host, {"error": why})], durable=True))
            opened.tokens = await _control("lease_bump", inp.change_id, result_type=dict[str, int])
            self._timings.setdefault("compensation_started", workflow.now().timestamp())
            if not before.snapshot:  # read at its turn: the snapshot is on record with commit_started
                before.snapshot = await _control("apply_snapshot_of", inp.change_id, before.host, result_type=str)
                if not before.snapshot:  # its commit never started, and the lost worker is fenced out now
                    return HostResult(before.host, "failed", error=why, error_type="netchange.errors.DeviceLost",
                                      lost=why)
            try:
                result = await workflow.execute_activity(
                    "reconcile_host", self._device_input(inp, opened, before.host, before.snapshot),
                    task_queue=site_queue(opened.sites[before.host]), start_to_close_timeout=DEVICE_TIMEOUT,
                    heartbeat_timeout=self._heartbeat, retry_policy=ONCE, result_type=HostResult)
                break
            except ActivityError as exc:
                if not _timed_out(exc):
                    raise _as_failure(exc) from None
                why = f"{why}; reconcile_host: the site worker was lost ({exc.cause})"
        if result is None:  # a restore report that did not verify: the rollback does not try it blindly again
            result = HostResult(before.host, "ALARM", snapshot=before.snapshot, restore={
                "verified": False, "causes": ["session_lost"],
                "errors": [f"the session to the device was lost: {RECONCILE_WORKERS} site workers lost in turn"]})
        if result.restore and result.restore.get("verified"):
            self._timings.setdefault("verified", workflow.now().timestamp())
        result.lost = why
        result.commit_started = True
        result.error, result.error_type = why, "netchange.errors.DeviceLost"
        return result


@workflow.defn(name="restore")
class RestoreWorkflow:
    """Rollback on request or recover (``restore:<change id>``): :func:`netchange.pipeline.restore_change`'s
    steps; each host restored on a worker of its site with a fresh session (reading first: a restore
    is never blind); a worker lost during it is fenced out (tokens bumped) and the host's restore
    run once more on another worker of the site, which reads the device again before anything."""

    def __init__(self) -> None:
        self._change = ""
        self._actor = ""

    @workflow.update
    async def record(self, facts: RecordInput) -> None:
        await _control("journal_record", self._change, self._actor, facts)

    @workflow.run
    async def run(self, inp: RestoreInput) -> RestoreResult:
        self._change, self._actor = inp.change_id, inp.actor
        opened: RestoreOpened = await _control("restore_open", inp, result_type=RestoreOpened)
        step = RestoreStep(inp.change_id, inp.actor, inp.mode, [], opened.targets)
        try:
            if opened.abandoned:
                step.results = await asyncio.gather(*(self._site("snapshot_differs", inp, opened, t)
                                                      for t in opened.targets if t.snapshot))
                result: RestoreResult = await _control("restore_unlock_abandoned", step, opened.abandoned,
                                                       result_type=RestoreResult)
            else:
                if inp.mode == "rollback":
                    step.results = await asyncio.gather(*(self._site("check_since", inp, opened, t)
                                                          for t in opened.targets if t.after_hash))
                    await _control("restore_refuse", step)
                await _control("restore_start", step, opened.state)
                step.results = await asyncio.gather(*(self._restore(inp, opened, t) for t in opened.targets))
                result = await _control("restore_finish", step, result_type=RestoreResult)
        finally:
            await _control("apply_release", inp.change_id, inp.actor)
        await workflow.wait_condition(workflow.all_handlers_finished)
        result.warnings = opened.warnings
        return result

    async def _site(self, name: str, inp: RestoreInput, opened: RestoreOpened, ref: RestoreTargetRef) -> HostResult:
        device = DeviceInput(change_id=inp.change_id, host=ref.host, actor=inp.actor, plan_hash=opened.plan_hash,
                             plan_blob=opened.plan_blob, workflow_id=workflow.info().workflow_id,
                             snapshot=ref.snapshot, tokens=opened.tokens, names=opened.names, ttl=opened.ttl)
        try:
            result: HostResult = await workflow.execute_activity(
                name, args=[device, ref], task_queue=site_queue(ref.site), start_to_close_timeout=DEVICE_TIMEOUT,
                heartbeat_timeout=timedelta(seconds=inp.heartbeat_seconds), retry_policy=ONCE,
                result_type=HostResult)
            return result
        except ActivityError as exc:
            if not _timed_out(exc) or name != "restore_target":
                raise _as_failure(exc) from None
            raise

    async def _restore(self, inp: RestoreInput, opened: RestoreOpened, ref: RestoreTargetRef) -> HostResult:
        try:
            return await self._site("restore_target", inp, opened, ref)
        except ActivityError as exc:
            why = f"restore_target: the site worker was lost ({exc.cause})"
        await _control("journal_record", inp.change_id, inp.actor, RecordInput(
            [WireEvent("host_failed", ref.host, {"error": why})], durable=True))
        opened.tokens = await _control("lease_bump", inp.change_id, result_type=dict[str, int])
        try:
            return await self._site("restore_target", inp, opened, ref)  # it reads the device first
        except ActivityError as exc:
            return HostResult(ref.host, "ALARM", error=f"{why}; again: {exc.cause}", snapshot=ref.snapshot)


@workflow.defn(name="plan")
class PlanWorkflow:
    """A plan's device reads on each site's workers (read-only: a lost one is simply asked again,
    up to three times); the caller seals and records the plan (:func:`netchange.pipeline.plan_change`)."""

    @workflow.run
    async def run(self, inp: PlanInput) -> list[SitePlanned]:
        try:
            done: list[SitePlanned] = await asyncio.gather(*(
                workflow.execute_activity("plan_site", args=[inp.change_id, inp.request_blob, hosts],
                                          task_queue=site_queue(site), start_to_close_timeout=DEVICE_TIMEOUT,
                                          heartbeat_timeout=timedelta(seconds=inp.heartbeat_seconds),
                                          retry_policy=RetryPolicy(maximum_attempts=3),
                                          result_type=SitePlanned)
                for site, hosts in sorted(inp.sites.items())))
        except ActivityError as exc:
            raise _as_failure(exc) from None
        return done


__all__ = ["AFFINITY", "HEARTBEAT", "ApplyWorkflow", "PlanWorkflow", "RestoreWorkflow"]
