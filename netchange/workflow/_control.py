"""The central activities (the control task queue): what only a process holding the journal's
HMAC key, the policy and the leases does. Each is a step of :func:`netchange.pipeline.apply_change`,
using the same functions; the devices are never contacted from here.

The control worker keeps, per running change, what a step leaves for the next one: the device
hold (leases with their renewal thread, or the machine's OS locks) and the plan. A control worker
that dies loses them: its leases expire (``NETCHANGE_LEASE_SECONDS``), and the workflow's next
control step fails (the change is then left for ``netchange recover``, as a crashed apply is).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from netchange.errors import NetchangeError
from netchange.journal import EventKind
from netchange.workflow._restoring import RestoreSteps
from netchange.workflow._types import ApplyInput, ApplyResult, HostResult, Opened, RecordInput, StepInput, WireEvent

if TYPE_CHECKING:
    from netchange.apply import ApplyObserver
    from netchange.apply.locks import DeviceHold
    from netchange.config import Settings
    from netchange.journal import Journal
    from netchange.plan import Plan


@dataclass
class _Held:
    hold: DeviceHold
    plan: Plan | None
    changing: list[str]
    """The hosts whose journal locks the change takes (and gives back)."""
    journal_locked: bool = False


def known(nr: Any, hosts: list[str]) -> list[str]:
    """``hosts``, each in the control worker's inventory (it keys the locks by address and port);
    else bad input naming them. The credentials are the site workers' only: not looked at here."""
    from netchange.errors import BadRequest

    missing = [h for h in hosts if h not in nr.inventory.hosts]
    if missing:
        raise BadRequest(f"not in the control worker's inventory: {', '.join(missing)}")
    return hosts


def take(cfg: Settings, devices: dict[str, str], change_id: str, action: str, actor: str
         ) -> tuple[DeviceHold, dict[str, int], dict[str, str]]:
    """The devices' OS locks, or their leases with a database: the hold, its tokens and names."""
    from netchange.apply import locks as devicelock

    if cfg.database_url is None:
        return devicelock.acquire(devices, change_id=change_id, action=action, actor=actor, home=cfg.home,
                                  directory=cfg.lock_dir), {}, {}
    from netchange.apply import leases

    leased = leases.acquire(devices, change_id=change_id, action=action, actor=actor, home=cfg.home,
                            url=cfg.database_url, ttl=cfg.lease_seconds)
    return leased, dict(leased.tokens), dict(leased.names)


def caller_policy(cfg: Settings, change_id: str, digest: str | None, login: str, source: str) -> tuple[Any, Any]:
    """The policy this control worker decides by, refused unless it is the caller's (by digest), and
    the caller as that policy names them (an override login, or the caller's OS account)."""
    from netchange.policy import actor_for, load_policy

    policy = load_policy(cfg.policy_file())
    if digest and policy.digest != digest:
        raise NetchangeError(f"{change_id}: the control worker's policy ({policy.version}) is not the "
                             "caller's: deploy the same policy file to both")
    return policy, actor_for(policy, login, "override" if source == "override" else "os")


@contextmanager
def refusals() -> Iterator[None]:
    """netchange's refusals fail the activity with their class's name and line (never retried):
    the workflow fails with them and the caller raises the same error (exit code included)."""
    try:
        yield
    except NetchangeError as exc:
        raise ApplicationError(str(exc), type=qualified(type(exc)), non_retryable=True) from None


def qualified(kind: type[BaseException]) -> str:
    """An error class's full name, which :func:`error_class` turns back into the class."""
    return f"{kind.__module__}.{kind.__qualname__}"


def error_class(name: str) -> type[BaseException] | None:
    """The exception class ``name`` (:func:`qualified`) names, if it is one of netchange's; else ``None``."""
    import importlib

    module, _, attr = name.rpartition(".")
    if not module.startswith("netchange.") or "." in attr:
        return None
    try:
        found = getattr(importlib.import_module(module), attr, None)
    except ImportError:
        return None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def wire(events: Any) -> list[WireEvent]:
    return [WireEvent(str(e.kind), e.host, e.data) for e in events]


def unwire(events: list[WireEvent]) -> list[Any]:
    from netchange.apply import RunEvent
    from netchange.journal import EventKind

    return [RunEvent(EventKind(e.kind), e.host, e.data) for e in events]


class ControlActivities(RestoreSteps):
    """The control worker's activities; ``settings`` is called at each step (the worker's own)."""

    def __init__(self, settings: Callable[[], Settings], observers: Callable[[], list[ApplyObserver]] | None = None
                 ) -> None:
        self.settings = settings
        self.observers = observers
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def all(self) -> list[Callable[..., Any]]:
        return [self.apply_open, self.journal_record, self.apply_prepared, self.apply_snapshot_of,
                self.apply_rollback_targets, self.apply_finish, self.apply_release, self.lease_bump,
                *self.restore_steps()]

    def _hold_of(self, change_id: str) -> _Held:
        """The change's hold, taken by ``apply_open`` on this worker; gone if another control worker
        took it and died (its leases expire): the workflow stops, the change is left for ``recover``."""
        from netchange.errors import StateConflict

        with self._lock:
            held = self._held.get(change_id)
        if held is None:
            raise StateConflict(f"{change_id}: the control worker that locked its devices is gone; nothing more "
                                f"is done (run 'netchange recover {change_id}' once its leases expired)")
        return held

    def _journal(self, change_id: str) -> Journal:
        from netchange.journal import Journal

        held = self._hold_of(change_id)  # every write is fenced by the change's hold: none here, no write
        journal = Journal(self.settings().journal)
        journal.fence = held.hold.check
        return journal

    # -- open: pin, plan, leases, guard, journal locks --------------------------------------------
    @activity.defn(name="apply_open")
    def apply_open(self, inp: ApplyInput) -> Opened:
        with refusals():
            return self._open(inp)

    def _open(self, inp: ApplyInput) -> Opened:
        from netchange import pipeline
        from netchange.apply import HostStatus, rollout_batches
        from netchange.apply import locks as devicelock
        from netchange.guard import check_apply
        from netchange.inventory import load_nornir
        from netchange.journal import Journal
        from netchange.plan import store as planstore
        from netchange.policy import clock
        from netchange.policy import pin as policypin
        from netchange.rollback import SnapshotStore

        cfg = self.settings()
        policy, actor = caller_policy(cfg, inp.change_id, inp.policy_digest, inp.actor, inp.actor_source)
        with Journal(cfg.journal) as journal:
            policypin.require(policy, journal, actor=actor.login)
            the_plan = planstore.current(cfg.plans_dir, journal, inp.change_id)
        if the_plan.no_change:
            run = pipeline.Run(settings=cfg, policy=policy, actor=actor, progress=_no_progress)
            outcome = pipeline._close_no_change(run, the_plan)
            return Opened(closed=ApplyResult(inp.change_id, outcome.outcome.value,
                                             [HostResult(h, HostStatus.NO_CHANGE.value) for h in outcome.hosts]))
        changing = [h.host for h in the_plan.hosts if h.changes]
        nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins)
        devices = devicelock.identities(nr, known(nr, changing))
        hold, tokens, names = take(cfg, devices, inp.change_id, "apply", actor.login)
        held = _Held(hold, the_plan, changing)
        with self._lock:
            self._held[inp.change_id] = held
        warnings: list[str] = []
        try:
            with self._journal(inp.change_id) as journal:
                left = [c for c in journal.in_progress() if c != inp.change_id]
                if left:
                    warnings.append(f"left in progress (run 'netchange recover ID'): {', '.join(left)}")
                pipeline._journal_intact(journal, inp.change_id)
                if not the_plan.ok:
                    raise NetchangeError(f"{inp.change_id}: the plan has hosts that cannot be changed; fix and plan "
                                         "again")
                check_apply(the_plan, policy=policy, journal=journal, actor=actor,
                            now=clock.now(policy, inp.now), emergency=inp.emergency)
                journal.acquire_locks(inp.change_id, changing, actor=actor.login)
                held.journal_locked = True
                journal.event_batch(inp.change_id, [(EventKind.APPLY_STARTED, None, {"plan_hash": the_plan.plan_hash,
                                                                                    "hosts": changing})],
                                    actor=actor.login, durable=True)
            blob = SnapshotStore(cfg.snapshots_dir, database=cfg.database_url).save(the_plan.model_dump_json())
        except BaseException:
            self._release(inp.change_id, actor.login)
            raise
        change = the_plan.change
        return Opened(plan_hash=the_plan.plan_hash, plan_blob=blob,
                      sites={h.host: h.site for h in the_plan.hosts if h.changes},
                      batches=rollout_batches(changing, canary=change.rollout.canary,
                                              batch_size=change.rollout.batch_size),
                      on_failure=change.on_failure.value, tokens=tokens, names=names, ttl=cfg.lease_seconds,
                      warnings=warnings)

    # -- the record --------------------------------------------------------------------------------
    @activity.defn(name="journal_record")
    def journal_record(self, change_id: str, actor: str, facts: RecordInput) -> None:
        from netchange.apply import JournalRecorder

        with refusals(), self._journal(change_id) as journal:
            JournalRecorder(journal, change_id, actor).record(unwire(facts.events), durable=facts.durable)

    @activity.defn(name="apply_prepared")
    def apply_prepared(self, step: StepInput) -> None:
        """Every session open (nothing read: each host is read at its turn); refused, nothing
        changed, if a host is not ready; else ``in_progress`` on record before the first commit."""
        with refusals(), self._journal(step.change_id) as journal:
            held = self._hold_of(step.change_id)
            order = {h: i for i, h in enumerate(held.changing)}
            events = sorted((e for r in step.results for e in r.events), key=lambda e: order.get(e.host or "", 0))
            if events:
                journal.event_batch(step.change_id, [(k.kind, k.host, k.data) for k in unwire(events)],
                                    actor=step.actor, durable=True)
            not_ready = [r for r in step.results if r.status == "failed"]
            if not_ready:
                journal.event_batch(step.change_id, [(EventKind.APPLY_REFUSED, None,
                                                      {"hosts": [r.host for r in not_ready]})],
                                    actor=step.actor, durable=True)
                raise NetchangeError("cannot prepare " + ", ".join(f"{r.host} ({r.error})" for r in not_ready)
                                     + "; nothing was changed")
            journal.set_state(step.change_id, "in_progress", actor=step.actor, reason="apply")

    @activity.defn(name="apply_snapshot_of")
    def apply_snapshot_of(self, change_id: str, host: str) -> str:
        """The snapshot this apply journaled for ``host`` with its ``commit_started`` (one durable
        transaction), ``""`` if its commit never started: asked once the host's worker is lost
        and fenced out, so nothing of that worker's can start a commit any more."""
        from netchange.rollback.recover import last_apply

        with refusals(), self._journal(change_id) as journal:
            touched = last_apply(journal.events(change_id)).get(host)
            return touched.snapshot if touched is not None and touched.commit_started else ""

    @activity.defn(name="apply_rollback_targets")
    def apply_rollback_targets(self, step: StepInput) -> list[str]:
        """Hosts to restore, newest change first (the applier's rule: ``on_failure``)."""
        from netchange.models import OnFailure

        results = {r.host: r for r in step.results}
        failed = [r for r in step.results if r.error or r.lost]
        if not failed and not step.interrupted:
            return []
        touched = [h for batch in step.commit_order for h in batch if results[h].commit_started]
        on_failure = OnFailure(step.on_failure)
        if on_failure is OnFailure.STOP:
            return []
        if on_failure is OnFailure.ROLLBACK_FAILED:
            touched = [h for h in touched if results[h].error or results[h].lost]
        return touched[::-1]

    @activity.defn(name="apply_finish")
    def apply_finish(self, step: StepInput) -> ApplyResult:
        """``apply_finished`` and the change's state on record (the end of the applier's rollout)."""
        from netchange.apply import ChangeOutcome, HostStatus

        with refusals(), self._journal(step.change_id) as journal:
            held = self._hold_of(step.change_id)
            results = {r.host: r for r in step.results}
            failed = [h for h in held.changing if results[h].error or results[h].lost]
            plan = held.plan
            assert plan is not None  # an apply's hold keeps its plan
            if not failed and not step.interrupted:
                journal.event_batch(step.change_id, [(EventKind.APPLY_FINISHED, None,
                                                      {"outcome": ChangeOutcome.COMPLETED.value})],
                                    actor=step.actor, durable=True)
                outcome, alarms = ChangeOutcome.COMPLETED, []
            else:
                for r in results.values():
                    if r.status == HostStatus.WAITING.value:
                        r.status = HostStatus.SKIPPED.value
                if step.interrupted:
                    journal.event_batch(step.change_id, [(EventKind.INTERRUPTED, None, None)],
                                        actor=step.actor, durable=True)
                alarms = [h for h in held.changing if results[h].status == HostStatus.ALARM.value]
                left = [h for h in held.changing if results[h].commit_started and results[h].restore is None]
                outcome = ChangeOutcome.FAILED if alarms or left else ChangeOutcome.ROLLED_BACK
                refused = [h for h in failed if results[h].commit_refused]
                data: dict[str, Any] = {"outcome": outcome.value, "failed": failed, "alarms": alarms,
                                        "left_changed": left}
                if refused:
                    data["commit_refused"] = refused
                journal.event_batch(step.change_id, [(EventKind.APPLY_FINISHED, None, data)],
                                    actor=step.actor, durable=True)
            journal.set_state(step.change_id, outcome.value, actor=step.actor,
                              reason="; ".join(f"{r.host}: {r.error}" for r in results.values() if r.error))
        return ApplyResult(step.change_id, outcome.value, [results[h.host] for h in plan.hosts if h.host in results]
                           + [HostResult(h.host, HostStatus.NO_CHANGE.value) for h in plan.hosts if not h.changes],
                           interrupted=step.interrupted, alarms=alarms)

    # -- leases --------------------------------------------------------------------------------------
    @activity.defn(name="lease_bump")
    def lease_bump(self, change_id: str) -> dict[str, int]:
        """New tokens for the change's leases: a worker presumed dead is fenced out (none with OS locks)."""
        from netchange.apply import leases

        with refusals():
            hold = self._hold_of(change_id).hold
            if isinstance(hold, leases.HeldLeases):
                return leases.bump(hold)
            return {}

    @activity.defn(name="apply_release")
    def apply_release(self, change_id: str, actor: str) -> None:
        with refusals():
            self._release(change_id, actor)

    def _release(self, change_id: str, actor: str) -> None:
        with self._lock:
            held = self._held.pop(change_id, None)
        if held is None:
            return
        try:
            if held.journal_locked:
                from netchange.journal import Journal

                with Journal(self.settings().journal) as journal:
                    journal.fence = held.hold.check
                    journal.release_locks(change_id, held.changing, actor=actor)
        finally:
            held.hold.release()


def _no_progress(hosts: list[str]) -> Any:
    from netchange.apply import PlainProgress

    return PlainProgress()


__all__ = ["ControlActivities", "error_class", "known", "qualified", "refusals", "unwire", "wire"]
