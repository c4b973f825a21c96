"""The apply workflow's own logic (issue 25), with temporalio's testing tools against the run's dev
server (``WorkflowEnvironment.from_client``: the SDK's local and time-skipping environments would
download a server). The activities are stand-ins registered under the real names, on the real
queues; the workflow is the real one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from netchange.workflow import CONTROL_QUEUE, ApplyWorkflow, DevServer, site_queue
from netchange.workflow._control import ControlActivities
from netchange.workflow._types import (
    ApplyInput,
    ApplyResult,
    DeviceInput,
    HostResult,
    Opened,
    RecordInput,
    StepInput,
    WireEvent,
)
from netchange.workflow._worker import _workflow_runner

SITE = "tsite"
OWN = "netchange-site-tsite-own"


class Stand:
    """Stand-in activities: they record their calls; ``apply_host`` hangs without a heartbeat."""

    def __init__(self, *, open_gate: asyncio.Event | None = None, reconcilers_lost: int = 0,
                 commit_started: bool = True) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.commit_started = commit_started
        """Whether the lost ``apply_host`` had its snapshot and ``commit_started`` on record."""
        self.finished: list[StepInput] = []
        self.open_gate = open_gate
        self.reconcilers_lost = reconcilers_lost
        """How many ``reconcile_host`` attempts hang without a heartbeat (their worker killed) first."""

    def control(self) -> list[Callable[..., Any]]:
        rules = ControlActivities(lambda: None)  # type: ignore[arg-type,return-value]

        @activity.defn(name="apply_open")
        async def apply_open(inp: ApplyInput) -> Opened:
            self.calls.append(("apply_open", inp.change_id))
            if self.open_gate is not None:
                await self.open_gate.wait()
            return Opened(plan_hash="h" * 64, plan_blob="b" * 64, sites={"sw1": SITE, "sw2": SITE},
                          batches=[["sw1"], ["sw2"]], tokens={"sw1:22": 7, "sw2:22": 8})

        @activity.defn(name="apply_prepared")
        async def apply_prepared(step: StepInput) -> None:
            self.calls.append(("apply_prepared", [r.host for r in step.results]))

        @activity.defn(name="journal_record")
        async def journal_record(change_id: str, actor: str, facts: RecordInput) -> None:
            self.calls.append(("journal_record", [(e.kind, e.host, e.data) for e in facts.events]))

        @activity.defn(name="apply_snapshot_of")
        async def apply_snapshot_of(change_id: str, host: str) -> str:
            self.calls.append(("apply_snapshot_of", host))
            return f"snap-{host}" if self.commit_started else ""

        @activity.defn(name="lease_bump")
        async def lease_bump(change_id: str) -> dict[str, int]:
            self.calls.append(("lease_bump", change_id))
            return {"sw1:22": 9, "sw2:22": 10}

        @activity.defn(name="apply_rollback_targets")
        async def apply_rollback_targets(step: StepInput) -> list[str]:
            back: list[str] = rules.apply_rollback_targets(step)  # the real rule
            self.calls.append(("apply_rollback_targets", back))
            return back

        @activity.defn(name="apply_finish")
        async def apply_finish(step: StepInput) -> ApplyResult:
            self.calls.append(("apply_finish", {r.host: r.status for r in step.results}))
            self.finished.append(step)
            return ApplyResult(step.change_id, "rolled_back", step.results, interrupted=step.interrupted)

        @activity.defn(name="apply_release")
        async def apply_release(change_id: str, actor: str) -> None:
            self.calls.append(("apply_release", change_id))

        return [apply_open, apply_prepared, journal_record, apply_snapshot_of, lease_bump, apply_rollback_targets,
                apply_finish, apply_release]

    def site(self) -> list[Callable[..., Any]]:
        @activity.defn(name="prepare_host")
        async def prepare_host(inp: DeviceInput) -> HostResult:
            self.calls.append(("prepare_host", inp.host))
            return HostResult(inp.host, "waiting", queue=OWN)  # the session opened, nothing read

        @activity.defn(name="reconcile_host")
        async def reconcile_host(inp: DeviceInput) -> HostResult:
            self.calls.append(("reconcile_host", (inp.host, inp.snapshot, inp.tokens)))
            if sum(name == "reconcile_host" for name, _ in self.calls) <= self.reconcilers_lost:
                await asyncio.sleep(30)  # this reconciling worker killed mid-restore
                raise AssertionError("never reached")
            return HostResult(inp.host, "restored", snapshot=inp.snapshot,
                              restore={"verified": True, "strategies": ["snapshot"]})

        return [prepare_host, reconcile_host]

    def own(self) -> list[Callable[..., Any]]:
        @activity.defn(name="apply_host")
        async def apply_host(inp: DeviceInput) -> HostResult:
            self.calls.append(("apply_host", inp.host))
            await asyncio.sleep(30)  # a worker killed mid-commit: no heartbeat, no answer
            raise AssertionError("never reached")

        @activity.defn(name="close_change")
        async def close_change(change_id: str) -> None:
            self.calls.append(("close_change", change_id))

        return [apply_host, close_change]

    def workers(self, client: Client) -> list[Worker]:
        return [Worker(client, task_queue=CONTROL_QUEUE, workflows=[ApplyWorkflow], activities=self.control(),
                       workflow_runner=_workflow_runner()),
                Worker(client, task_queue=site_queue(SITE), activities=self.site()),
                Worker(client, task_queue=OWN, activities=self.own())]


async def _run_with(server: DevServer, stand: Stand, body: Callable[[Client], Any]) -> Any:
    env = WorkflowEnvironment.from_client(await Client.connect(server.address))
    workers = stand.workers(env.client)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        return await body(env.client)
    finally:
        for w in workers:
            await w.shutdown()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_a_device_step_whose_worker_stops_heartbeating_is_reconciled_once_under_new_tokens(
        temporal_server: DevServer) -> None:
    stand = Stand()
    change = f"CHG-2026-{uuid.uuid4().hex[:6]}"

    async def body(client: Client) -> ApplyResult:
        result: ApplyResult = await client.execute_workflow(
            ApplyWorkflow.run, ApplyInput(change, "dnguyen", heartbeat_seconds=1.0, affinity_seconds=5.0),
            id=f"apply:{change}", task_queue=CONTROL_QUEUE)
        return result

    result = asyncio.run(_run_with(temporal_server, stand, body))
    names = [name for name, _ in stand.calls]
    assert names.count("apply_host") == 1  # one attempt: never a second commit blindly
    assert "sw2" not in [arg for name, arg in stand.calls if name == "apply_host"]  # the rollout stopped
    lost = next(arg for name, arg in stand.calls if name == "journal_record")
    assert lost[0][0] == "host_failed" and lost[0][1] == "sw1" and "site worker was lost" in lost[0][2]["error"]
    # fenced first, then the device read and restored from its snapshot (taken at its turn, asked
    # of the journal once the worker is fenced out) under the new tokens
    assert names.index("lease_bump") < names.index("apply_snapshot_of") < names.index("reconcile_host")
    assert dict(stand.calls)["reconcile_host"] == ("sw1", "snap-sw1", {"sw1:22": 9, "sw2:22": 10})
    assert dict(stand.calls)["apply_rollback_targets"] == ["sw1"]  # already restored: not restored twice
    assert "restore_host" not in names
    assert names[-2:] == ["apply_release", "close_change"]
    sw1 = next(h for h in result.hosts if h.host == "sw1")
    assert sw1.lost and sw1.status == "restored" and sw1.error_type == "netchange.errors.DeviceLost"
    assert result.timings["compensation_started"] >= result.timings["lost_detected"]


def _apply_with(server: DevServer, stand: Stand) -> ApplyResult:
    change = f"CHG-2026-{uuid.uuid4().hex[:6]}"

    async def body(client: Client) -> ApplyResult:
        result: ApplyResult = await client.execute_workflow(
            ApplyWorkflow.run, ApplyInput(change, "dnguyen", heartbeat_seconds=1.0, affinity_seconds=5.0),
            id=f"apply:{change}", task_queue=CONTROL_QUEUE)
        return result

    result: ApplyResult = asyncio.run(_run_with(server, stand, body))
    return result


def test_a_reconciling_worker_lost_in_its_turn_is_fenced_out_and_another_one_reads_and_restores(
        temporal_server: DevServer) -> None:
    # Found by the team lab's failure matrix (ios_during_restore): the lost reconcile_host failed
    # the workflow and left the change in_progress with its line on the switch.
    stand = Stand(reconcilers_lost=1)
    result = _apply_with(temporal_server, stand)
    names = [name for name, _ in stand.calls]
    assert names.count("apply_host") == 1 and names.count("reconcile_host") == 2
    # each lost worker is on record and fenced out before the next one reads the device
    lost = [arg[0] for name, arg in stand.calls if name == "journal_record" and arg[0][0] == "host_failed"]
    assert [(kind, host) for kind, host, _ in lost] == [("host_failed", "sw1")] * 2
    assert "reconcile_host: the site worker was lost" in lost[1][2]["error"]
    order = [n for n in names if n in ("lease_bump", "reconcile_host")]
    assert order == ["lease_bump", "reconcile_host", "lease_bump", "reconcile_host"]
    assert "restore_host" not in names
    sw1 = next(h for h in result.hosts if h.host == "sw1")
    assert sw1.status == "restored" and sw1.restore == {"verified": True, "strategies": ["snapshot"]}


def test_a_host_whose_reconcilers_are_all_lost_is_an_alarm_not_a_failed_workflow(
        temporal_server: DevServer) -> None:
    stand = Stand(reconcilers_lost=3)
    result = _apply_with(temporal_server, stand)
    names = [name for name, _ in stand.calls]
    assert names.count("reconcile_host") == 3 and names.count("lease_bump") == 3
    assert "restore_host" not in names  # the rollback does not try the host blindly once more
    assert stand.finished and {r.host: r.status for r in stand.finished[0].results}["sw1"] == "ALARM"
    sw1 = next(h for h in result.hosts if h.host == "sw1")
    assert sw1.status == "ALARM" and sw1.commit_started and sw1.restore is not None
    assert sw1.restore["verified"] is False and sw1.restore["causes"] == ["session_lost"]


def test_a_worker_lost_before_its_commit_started_is_fenced_out_and_nothing_is_restored(
        temporal_server: DevServer) -> None:
    """Each host is read at its turn (issue 27 item 1): a worker lost before its snapshot and
    ``commit_started`` were on record changed nothing, and after the bump it cannot start: the host
    failed (lost), no reconcile reads a snapshot that does not exist, nothing is rolled back."""
    stand = Stand(commit_started=False)
    result = _apply_with(temporal_server, stand)
    names = [name for name, _ in stand.calls]
    assert names.count("apply_host") == 1 and "reconcile_host" not in names and "restore_host" not in names
    assert names.index("lease_bump") < names.index("apply_snapshot_of")
    assert dict(stand.calls)["apply_rollback_targets"] == []
    sw1 = next(h for h in result.hosts if h.host == "sw1")
    assert sw1.lost and sw1.status == "failed" and not sw1.commit_started and sw1.restore is None
    assert sw1.error_type == "netchange.errors.DeviceLost"


def test_a_second_start_of_a_running_apply_is_refused(temporal_server: DevServer) -> None:
    gate = asyncio.Event()
    stand = Stand(open_gate=gate)
    change = f"CHG-2026-{uuid.uuid4().hex[:6]}"

    async def body(client: Client) -> None:
        first = await client.start_workflow(ApplyWorkflow.run, ApplyInput(change, "dnguyen"), id=f"apply:{change}",
                                            task_queue=CONTROL_QUEUE,
                                            id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        for _ in range(200):  # until the first one runs (its apply_open waits at the gate)
            if stand.calls:
                break
            await asyncio.sleep(0.05)
        with pytest.raises(WorkflowAlreadyStartedError):
            await client.start_workflow(ApplyWorkflow.run, ApplyInput(change, "efaure"), id=f"apply:{change}",
                                        task_queue=CONTROL_QUEUE, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        await first.terminate("test over")

    asyncio.run(_run_with(temporal_server, stand, body))
    assert [c for c in stand.calls if c[0] == "apply_open"] == [("apply_open", change)]


def test_a_control_worker_that_does_not_hold_the_change_writes_nothing() -> None:
    """Another control worker took the change's locks and died: a step of that change here (a
    journal append, a lease bump, the end) is refused, named as such, and never written unfenced."""
    from temporalio.exceptions import ApplicationError

    control = ControlActivities(lambda: None)  # type: ignore[arg-type,return-value]
    facts = RecordInput([WireEvent("committed", "sw1")])
    for step in (lambda: control.journal_record("CHG-2026-0042", "dnguyen", facts),
                 lambda: control.lease_bump("CHG-2026-0042"),
                 lambda: control.apply_finish(StepInput("CHG-2026-0042", "dnguyen"))):
        with pytest.raises(ApplicationError, match="the control worker that locked its devices is gone") as refused:
            step()
        assert refused.value.type == "netchange.errors.StateConflict" and refused.value.non_retryable


def test_an_interrupt_stops_the_rollout_after_the_host_in_flight_and_rolls_it_back(
        temporal_server: DevServer) -> None:
    """Ctrl-C at the caller (the ``interrupt`` signal): the canary in flight finishes its step, no
    later batch starts, the canary is restored, and the end says interrupted."""
    stand = Stand()
    gate = asyncio.Event()
    change = f"CHG-2026-{uuid.uuid4().hex[:6]}"

    @activity.defn(name="apply_host")
    async def apply_host(inp: DeviceInput) -> HostResult:
        stand.calls.append(("apply_host", inp.host))
        await gate.wait()
        return HostResult(inp.host, "done", snapshot=inp.snapshot, commit_started=True, committed=True, queue=OWN)

    @activity.defn(name="restore_host")
    async def restore_host(inp: DeviceInput) -> HostResult:
        stand.calls.append(("restore_host", inp.host))
        return HostResult(inp.host, "restored", snapshot=inp.snapshot, commit_started=True,
                          restore={"verified": True, "strategies": ["inverse"]}, queue=OWN)

    @activity.defn(name="close_change")
    async def close_change(change_id: str) -> None:
        stand.calls.append(("close_change", change_id))

    stand.own = lambda: [apply_host, restore_host, close_change]  # type: ignore[method-assign]

    async def body(client: Client) -> ApplyResult:
        handle = await client.start_workflow(ApplyWorkflow.run, ApplyInput(change, "dnguyen"), id=f"apply:{change}",
                                             task_queue=CONTROL_QUEUE)
        while ("apply_host", "sw1") not in stand.calls:
            await asyncio.sleep(0.05)
        await handle.signal("interrupt")
        await asyncio.sleep(0.5)  # the signal is in the workflow's history before the canary returns
        gate.set()
        result: ApplyResult = await handle.result()
        return result

    result = asyncio.run(_run_with(temporal_server, stand, body))
    assert [c for c in stand.calls if c[0] in ("apply_host", "restore_host")] == [("apply_host", "sw1"),
                                                                                   ("restore_host", "sw1")]
    assert dict(stand.calls)["apply_rollback_targets"] == ["sw1"]
    assert stand.finished[0].interrupted and stand.finished[0].commit_order == [["sw1"]] and result.interrupted


def test_a_worker_lost_while_preparing_leaves_the_host_not_ready_and_the_apply_refused(
        temporal_server: DevServer) -> None:
    """Nothing was changed yet: the host is not ready (``prepare_failed`` on record), the control's
    prepared step refuses the apply as for a host that cannot be read, the locks are given back."""
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import ApplicationError

    stand = Stand()
    change = f"CHG-2026-{uuid.uuid4().hex[:6]}"
    seen: list[StepInput] = []

    @activity.defn(name="prepare_host")
    async def prepare_host(inp: DeviceInput) -> HostResult:
        stand.calls.append(("prepare_host", inp.host))
        if inp.host == "sw2":
            await asyncio.sleep(30)  # its worker killed while reading: no heartbeat, no answer
        return HostResult(inp.host, "waiting", snapshot=f"snap-{inp.host}", queue=OWN)

    @activity.defn(name="reconcile_host")
    async def reconcile_host(inp: DeviceInput) -> HostResult:
        raise AssertionError("nothing to reconcile: nothing was committed")

    stand.site = lambda: [prepare_host, reconcile_host]  # type: ignore[method-assign]
    control = stand.control

    def refusing_control() -> list[Callable[..., Any]]:
        @activity.defn(name="apply_prepared")
        async def apply_prepared(step: StepInput) -> None:
            seen.append(step)
            not_ready = [r for r in step.results if r.status == "failed"]
            if not_ready:
                raise ApplicationError("cannot prepare " + ", ".join(r.host for r in not_ready),
                                       type="netchange.errors.NetchangeError", non_retryable=True)

        return [apply_prepared if a.__name__ == "apply_prepared" else a for a in control()]

    stand.control = refusing_control  # type: ignore[method-assign]

    async def body(client: Client) -> BaseException:
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(ApplyWorkflow.run, ApplyInput(change, "dnguyen", heartbeat_seconds=1.0),
                                          id=f"apply:{change}", task_queue=CONTROL_QUEUE)
        return failed.value

    failure = asyncio.run(_run_with(temporal_server, stand, body))
    sw2 = next(r for r in seen[0].results if r.host == "sw2")
    assert sw2.status == "failed" and "site worker was lost" in sw2.error
    assert [(e.kind, e.host) for e in sw2.events] == [("prepare_failed", "sw2")]
    assert "cannot prepare sw2" in str(failure.cause)
    names = [name for name, _ in stand.calls]
    assert "apply_host" not in names and "apply_release" in names


def test_bad_worker_and_runner_settings_are_one_line_exit_2(workspace: Any, cli: Callable[..., Any],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    neither = cli("worker")
    assert neither.code == 2 and "say --control, --site SITE, or both" in neither.err
    assert "Traceback" not in neither.err
    monkeypatch.setenv("NETCHANGE_RUNNER", "celery")
    wrong = cli("list")
    assert wrong.code == 2 and "NETCHANGE_RUNNER: 'celery' is not inprocess or temporal" in wrong.err
    assert len(wrong.err.strip().splitlines()) == 1
