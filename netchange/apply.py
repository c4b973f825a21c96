"""``apply``: commit a planned change host by host, verify it, and undo it on any failure.

Order of work, each step journaled before and after it happens:

1. **Prepare** (all hosts, in parallel): open the session, read the running state, refuse the
   whole change if any host drifted from its plan (nothing is changed: exit 3), store the
   snapshot durably.
2. **Roll out** in order: the canary host(s) first, then batches. Per host: load the approved
   candidate and check the diff is still the approved one; commit (a confirmed commit where the
   driver has one, so a device left alone reverts by itself); post-checks; confirm.
3. **On any failure** (commit error, rejected line, post-check failure, lost session, timeout,
   Ctrl-C) stop the rollout and roll back as the request's ``on_failure`` says, newest batch
   first; verify every restored host against its snapshot. A restore that does not verify is an
   alarm: outcome ``failed``, the hosts named, never silence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nornir.core import Nornir
from nornir.core.inventory import Hosts, Inventory
from nornir.core.state import GlobalState
from nornir.core.task import Result, Task

from netchange.changetype import text_hash
from netchange.connection import CONNECTION_NAME
from netchange.drivers.base import DriverProtocol
from netchange.errors import DriftDetected, NetchangeError, PostCheckFailed
from netchange.models import OnFailure
from netchange.plan import BoundStep, HostPlan, Plan, bind_steps, contexts_for
from netchange.progress import Progress
from rollback import RestoreReport, SnapshotStore, restore_host
from rollback.restore import normalize

# Platforms of NAPALM whose commit_config(revert_in=) is a real confirmed commit.
_NAPALM_CONFIRMED_COMMIT = frozenset({"junos", "eos", "mock"})


class JournalLike(Protocol):
    def event(self, change_id: str, kind: str, *, actor: str, host: str | None = None,
              data: dict[str, Any] | None = None) -> None: ...

    def event_batch(self, change_id: str | None, items: Sequence[tuple[str, str | None, dict[str, Any] | None]],
                    *, actor: str, durable: bool = True) -> None: ...


@dataclass
class HostOutcome:
    host: str
    status: str = "waiting"
    """waiting | no change | done | failed | skipped | restored | ALARM"""
    error: str = ""
    snapshot: str = ""
    commit_started: bool = False
    committed: bool = False
    confirmed_pending: bool = False
    post_checks: list[dict[str, Any]] = field(default_factory=list)
    failed_at: float | None = None
    after_hash: str = ""
    """Hash of the running state once committed: a later rollback on request checks it."""
    restore: RestoreReport | None = None


@dataclass
class ApplyOutcome:
    change_id: str
    outcome: str
    """completed | rolled_back | failed"""
    hosts: dict[str, HostOutcome]
    interrupted: bool = False
    alarms: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.outcome == "completed" else 1


def supports_confirmed_commit(platform: str, driver: object) -> bool:
    return bool(getattr(driver, "supports_commit_confirm", platform in _NAPALM_CONFIRMED_COMMIT))


def rollout_batches(hosts: Sequence[str], *, canary: int, batch_size: int) -> list[list[str]]:
    """The canary hosts first (one batch), then batches of ``batch_size``."""
    hosts = list(hosts)
    batches = [hosts[:canary]] if canary else []
    rest = hosts[canary:]
    batches += [rest[i : i + batch_size] for i in range(0, len(rest), batch_size)]
    return [b for b in batches if b]


class Applier:
    """One apply of one plan. Thread-safe where workers touch it (outcomes, journal, progress)."""

    def __init__(
        self,
        plan: Plan,
        nr: Nornir,
        *,
        journal: JournalLike,
        snapshots: SnapshotStore,
        progress: Progress,
        actor: str,
        revert_in: int = 300,
        snapshot_max_age: float = 120.0,
    ) -> None:
        self.plan = plan
        self.nr = nr
        self.journal = journal
        self.snapshots = snapshots
        self.progress = progress
        self.actor = actor
        self.revert_in = revert_in
        self.snapshot_max_age = snapshot_max_age
        """How long the prepare phase's reading serves as the host's state (drift check, diff
        basis) before its turn comes; older, the host is read again just before its commit."""
        self._prepared: list[tuple[str, str | None, dict[str, Any] | None]] = []
        self.lock = threading.Lock()
        self.changing = [h.host for h in plan.hosts if h.changes]
        self.outcomes = {h.host: HostOutcome(host=h.host) for h in plan.hosts}
        self.steps: list[BoundStep] = bind_steps(plan.change, nr)
        self.commit_order: list[list[str]] = []
        self.first_failure: float | None = None
        self.active: set[str] = set()
        """Hosts whose apply task is running: a rollback waits for them (they own the session)."""
        self.idle = threading.Condition(self.lock)
        """When the rollout first failed: each rollback reports its time from there to verified."""

    # -- journaling ------------------------------------------------------------------------------
    def _event(self, kind: str, host: str | None = None, **data: Any) -> None:
        with self.lock:
            self.journal.event(self.plan.change.id, kind, actor=self.actor, host=host, data=data or None)

    def _events(self, items: list[tuple[str, str | None, dict[str, Any] | None]], *, durable: bool = True) -> None:
        """Several events in one journal transaction: one disk sync instead of one each.

        ``durable=False`` for events that recovery can do without: what follows a commit (a
        host with ``commit_started`` and no outcome is restored from its snapshot anyway).
        """
        with self.lock:
            self.journal.event_batch(self.plan.change.id, items, actor=self.actor, durable=durable)

    def _status(self, host: str, status: str, detail: str = "") -> None:
        self.outcomes[host].status = status
        self.progress.host(host, status, detail)

    def _driver(self, task: Task, *, fresh: bool = False) -> DriverProtocol:
        if fresh and CONNECTION_NAME in task.host.connections:
            try:
                task.host.close_connection(CONNECTION_NAME)
            except Exception:  # the session is already gone; a new one is what we want
                task.host.connections.pop(CONNECTION_NAME, None)
        driver: DriverProtocol = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        return driver

    def _run(self, hosts: Sequence[str], task: Any, name: str) -> None:
        """Run ``task`` on ``hosts``, started in the given order.

        Nornir's filter keeps inventory order, and its run puts hosts it has seen fail last; the
        outcome of each host is tracked here, so each run gets a fresh state.
        """
        inv = self.nr.inventory
        ordered = Inventory(hosts=Hosts({h: inv.hosts[h] for h in hosts}), groups=inv.groups, defaults=inv.defaults)
        Nornir(inventory=ordered, config=self.nr.config, data=GlobalState(dry_run=False),
               processors=self.nr.processors, runner=self.nr.runner).run(task=task, name=name, on_failed=True)

    # -- phase 1: drift and snapshots -------------------------------------------------------------
    def _prepare(self, task: Task) -> Result:
        hp = self.plan.host(task.host.name)
        self._status(hp.host, "checking", "drift and snapshot")
        try:
            driver = self._driver(task)
            running = driver.get_config(retrieve="running")["running"]
            if text_hash(normalize(driver, running)) != hp.running_hash:
                with self.lock:
                    self._prepared.append(("drift", hp.host, {"planned": hp.running_hash}))
                self.outcomes[hp.host].error = "running state differs from the plan's"
                self._status(hp.host, "failed", "drifted from the plan")
                return Result(host=task.host, failed=True)
            sha = self.snapshots.save(running)
            self.outcomes[hp.host].snapshot = sha
            with self.lock:
                self._prepared.append(("snapshot", hp.host, {"sha": sha}))
            if hasattr(driver, "running_reuse_seconds"):
                # This reading is the snapshot and the drift check: it also serves as the basis
                # of the host's diff at commit time, if the host's turn comes soon enough.
                driver.running_reuse_seconds = self.snapshot_max_age
            self._status(hp.host, "waiting", "snapshot taken")
            return Result(host=task.host)
        except Exception as exc:
            self.outcomes[hp.host].error = _describe(exc)
            with self.lock:
                self._prepared.append(("prepare_failed", hp.host, {"error": _describe(exc)}))
            self._status(hp.host, "failed", _describe(exc))
            return Result(host=task.host, failed=True)

    # -- phase 2: the rollout ----------------------------------------------------------------------
    def _apply_host(self, task: Task) -> Result:
        with self.lock:
            self.active.add(task.host.name)
        try:
            return self._apply_host_steps(task)
        finally:
            with self.idle:
                self.active.discard(task.host.name)
                self.idle.notify_all()

    def _wait_idle(self) -> None:
        """After Ctrl-C: let in-flight hosts finish their step before rolling back.

        Ctrl-C reaches only the main thread; a worker may still be committing or post-checking on
        its session. Rolling back on that same session at the same time would corrupt both.
        """
        while True:
            try:
                with self.idle:
                    while self.active:
                        self.idle.wait(0.2)
                return
            except KeyboardInterrupt:
                self.progress.message("still finishing the host(s) in flight, then rolling back")

    def _apply_host_steps(self, task: Task) -> Result:
        hp = self.plan.host(task.host.name)
        out = self.outcomes[hp.host]
        pending: list[tuple[str, str | None, dict[str, Any] | None]] = []
        try:
            driver = self._driver(task)
            self._status(hp.host, "committing")
            driver.load_merge_candidate(config=hp.candidate)
            diff = driver.compare_config()
            if diff.strip() != hp.diff.strip():
                driver.discard_config()
                raise DriftDetected(f"{hp.host}: the diff is no longer the approved one")
            confirmed = supports_confirmed_commit(hp.platform, driver)
            self._event("commit_started", hp.host, confirmed=confirmed)
            out.commit_started = True
            if confirmed:
                driver.commit_config(message=self.plan.change.id, revert_in=self.revert_in)
                out.confirmed_pending = True
            else:
                driver.commit_config(message=self.plan.change.id)
            out.committed = True
            # What follows the commit is journaled in one transaction once the host is done:
            # commit_started (above, on its own) is what recovery needs; a crash before this
            # batch leaves a host that recovery restores from its snapshot.
            pending.append(("committed", hp.host, None))
            self._status(hp.host, "post-checks")
            checks = self._post_checks(task, hp, driver)
            out.post_checks = [c.model_dump() for c in checks]
            pending.append(("post_checks", hp.host, {"checks": out.post_checks}))
            failed = [f"{c.name}: {c.detail}" if c.detail else c.name for c in checks if not c.passed]
            if failed:
                raise PostCheckFailed(f"post-check failed: {', '.join(failed)}")
            if confirmed:
                driver.confirm_commit()
                out.confirmed_pending = False
            pending.append(("confirmed", hp.host, {"after": out.after_hash, "confirmed_commit": confirmed}))
            self._events(pending, durable=False)
            self._status(hp.host, "done", f"{len(checks)} post-check(s) passed")
            return Result(host=task.host, changed=True)
        except BaseException as exc:  # Ctrl-C in a worker must also lead to the rollback
            out.failed_at = time.monotonic()
            with self.lock:
                self.first_failure = self.first_failure or out.failed_at
            out.error = _describe(exc)
            self._events([*pending, ("host_failed", hp.host, {"error": out.error})], durable=False)
            self._status(hp.host, "failed", out.error)
            return Result(host=task.host, failed=True)

    def _post_checks(self, task: Task, hp: HostPlan, driver: DriverProtocol) -> list[Any]:
        running = driver.get_config(retrieve="running")["running"]
        self.outcomes[hp.host].after_hash = text_hash(normalize(driver, running))
        checks = []
        for step, ctx in contexts_for(task, self.steps, driver, running, self.plan.change.id):
            checks.extend(step.change_type.post_checks(ctx))
        return checks

    # -- phase 3: rollback -------------------------------------------------------------------------
    def _rollback_host(self, task: Task) -> Result:
        out = self.outcomes[task.host.name]
        self._status(out.host, "rolling back")
        # Journaled with its outcome in one transaction: a crash in between is covered anyway
        # (commit_started without rollback_verified is what ``recover`` restores).
        started: tuple[str, str | None, dict[str, Any] | None] = ("rollback_started", out.host, None)
        snapshot = self.snapshots.load(out.snapshot)
        # The driver's own inverse is only trusted inside the session that made a complete commit.
        inverse = out.committed and CONNECTION_NAME in task.host.connections
        try:
            driver = self._driver(task, fresh=not inverse)
        except Exception as exc:
            out.restore = RestoreReport(verified=False, errors=[f"reconnect: {_describe(exc)}"])
        else:
            out.restore = restore_host(driver, snapshot, inverse_first=inverse)
            if not out.restore.verified and inverse:
                # The session itself may be what failed: a fresh one, and the full snapshot.
                first = out.restore
                try:
                    out.restore = restore_host(self._driver(task, fresh=True), snapshot, inverse_first=False)
                except Exception as exc:
                    out.restore = RestoreReport(verified=False, errors=[f"reconnect: {_describe(exc)}"])
                out.restore.strategies[:0] = first.strategies
                out.restore.errors[:0] = first.errors
                out.restore.seconds += first.seconds
        since_failure = time.monotonic() - self.first_failure if self.first_failure else None
        since = f", {since_failure:.2f}s after the failure" if since_failure is not None else ""
        if out.restore.verified:
            self._events(durable=False, items=[started, ("rollback_verified", out.host, {
                "strategies": out.restore.strategies, "seconds": round(out.restore.seconds, 3),
                "since_failure": None if since_failure is None else round(since_failure, 3)})])
            self._status(out.host, "restored", f"verified in {out.restore.seconds:.2f}s{since}")
            return Result(host=task.host)
        self._events([started, ("rollback_failed", out.host, {"errors": out.restore.errors})], durable=False)
        self._status(out.host, "ALARM", "; ".join(out.restore.errors))
        return Result(host=task.host, failed=True)

    def _to_roll_back(self, on_failure: OnFailure) -> list[str]:
        """Hosts to restore, newest change first (the canary last)."""
        touched = [h for batch in self.commit_order for h in batch if self.outcomes[h].commit_started]
        if on_failure is OnFailure.STOP:
            return []
        if on_failure is OnFailure.ROLLBACK_FAILED:
            touched = [h for h in touched if self.outcomes[h].status == "failed"]
        return touched[::-1]

    # -- the whole run ----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Phase 1, read-only: refuse on drift, store every snapshot. Raises; changes nothing."""
        for h in self.plan.hosts:
            if not h.changes:
                self._status(h.host, "no change")
        self._event("apply_started", plan_hash=self.plan.plan_hash, hosts=self.changing)
        self._run(self.changing, self._prepare, "prepare")
        # Every snapshot is on disk and journaled before the first commit (recover needs them).
        self._events(sorted(self._prepared, key=lambda e: self.changing.index(e[1] or "")))
        not_ready = [h for h in self.changing if self.outcomes[h].status == "failed"]
        if not_ready:
            self._event("apply_refused", hosts=not_ready)
            drifted = [h for h in not_ready if "drift" in self.outcomes[h].error or "differs" in self.outcomes[h].error]
            if drifted:
                raise DriftDetected(f"drift from the plan on {', '.join(drifted)}: plan again; nothing was changed")
            raise NetchangeError(
                "cannot prepare " + ", ".join(f"{h} ({self.outcomes[h].error})" for h in not_ready)
                + "; nothing was changed"
            )

    def rollout(self) -> ApplyOutcome:
        """Phases 2 and 3: commit in rollout order; on any failure, roll back and verify."""
        change = self.plan.change
        interrupted = False
        try:
            for batch in rollout_batches(self.changing, canary=change.rollout.canary,
                                         batch_size=change.rollout.batch_size):
                self.commit_order.append(batch)
                self._run(batch, self._apply_host, "apply")
                if any(self.outcomes[h].status == "failed" for h in batch):
                    break
        except KeyboardInterrupt:
            interrupted = True
            self.first_failure = self.first_failure or time.monotonic()
            self.progress.message("interrupted: rolling back")
            self._wait_idle()
            self._event("interrupted")
        failed = [h for h in self.changing if self.outcomes[h].status == "failed"]
        if not failed and not interrupted:
            self._event("apply_finished", outcome="completed")
            return ApplyOutcome(change.id, "completed", self.outcomes)
        for host in self.changing:
            if self.outcomes[host].status == "waiting":
                self._status(host, "skipped", "rollout stopped")
        # One pass, started newest first: batches were a pace for going forward; waiting for each
        # to finish before undoing the next would only leave the network changed for longer.
        back = self._to_roll_back(change.on_failure)
        self._run(back, self._rollback_host, "rollback")
        alarms = [h for h in back if self.outcomes[h].status == "ALARM"]
        left = [h for h in self.changing if self.outcomes[h].commit_started and self.outcomes[h].restore is None]
        outcome = "failed" if alarms or left else "rolled_back"
        self._event("apply_finished", outcome=outcome, failed=failed, alarms=alarms, left_changed=left)
        return ApplyOutcome(change.id, outcome, self.outcomes, interrupted=interrupted, alarms=alarms)

    def close(self) -> None:
        self.nr.close_connections(on_good=True, on_failed=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, NetchangeError) else f"{type(exc).__name__}: {text}"
