"""The central steps of a rollback on request or a recover run as a workflow (``restore:<change id>``):
the control worker's side of :func:`netchange.pipeline.restore_change`, with the same functions.

``restore_open`` (locks or leases, the state and the guard, the journal's locks, the targets) →
the site workers read (``check_since``: rollback on request refuses a host changed since the
apply; ``snapshot_differs``: recover of an apply killed before its rollout) → ``restore_start``
(``in_progress``, the start on record) → ``restore_target`` per host on its site → ``restore_finish``
(the end and the state on record) → ``apply_release`` (always).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from temporalio import activity

from netchange.workflow._types import RestoreInput, RestoreOpened, RestoreResult, RestoreStep, RestoreTargetRef

if TYPE_CHECKING:
    from netchange.config import Settings
    from netchange.journal import Journal


class RestoreSteps:
    """Mixed into :class:`netchange.workflow._control.ControlActivities` (its holds and journal)."""

    settings: Callable[[], Settings]
    _held: dict[str, Any]

    _journal: Callable[[str], Journal]
    _release: Callable[[str, str], None]
    """Both provided by ControlActivities."""

    def restore_steps(self) -> list[Callable[..., Any]]:
        return [self.restore_open, self.restore_refuse, self.restore_start, self.restore_finish,
                self.restore_unlock_abandoned]

    @activity.defn(name="restore_open")
    def restore_open(self, inp: RestoreInput) -> RestoreOpened:
        from netchange.workflow._control import refusals

        with refusals():
            return self._restore_open(inp)

    def _restore_open(self, inp: RestoreInput) -> RestoreOpened:
        from netchange import pipeline
        from netchange.apply import locks as devicelock
        from netchange.errors import NetchangeError, StateConflict
        from netchange.inventory import load_nornir
        from netchange.journal import EventKind, Journal
        from netchange.plan import store as planstore
        from netchange.policy import pin as policypin
        from netchange.rollback import SnapshotStore
        from netchange.rollback.recover import last_apply
        from netchange.workflow._control import _Held, _no_progress, caller_policy, known, take

        cfg = self.settings()
        policy, actor = caller_policy(cfg, inp.change_id, inp.policy_digest, inp.actor, inp.actor_source)
        mode = pipeline.RestoreMode(inp.mode)
        change_id = inp.change_id
        with Journal(cfg.journal) as journal:
            journal.state(change_id)
            hosts = sorted(set(last_apply(journal.events(change_id))) | set(pipeline._held(journal, change_id)))
        nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins)
        hold, tokens, names = take(cfg, devicelock.identities(nr, known(nr, hosts)), change_id, mode.value,
                                   actor.login)
        held = self._held[change_id] = _Held(hold, None, hosts)
        try:
            with self._journal(change_id) as journal:
                state = journal.state(change_id)
                events = journal.events(change_id)
                touched = last_apply(events)
                if mode is pipeline.RestoreMode.RECOVER and state == "approved" and pipeline._held(journal, change_id):
                    actor.require("recover")
                    start = max((i for i, e in enumerate(events) if e.kind == EventKind.LOCKS_ACQUIRED), default=0)
                    left = pipeline._held(journal, change_id)
                    touched = {h: t for h, t in last_apply(events[start:]).items() if h in left}
                    targets = list(touched.values())
                    abandoned = left
                elif mode is pipeline.RestoreMode.RECOVER:
                    if state not in ("in_progress", "failed"):
                        raise StateConflict(f"{change_id} is {state}: only a change left in_progress or failed "
                                            "can be recovered")
                    actor.require("recover")
                    targets = [t for t in touched.values() if t.snapshot and not t.restored and not t.commit_refused]
                    abandoned = []
                else:
                    if state != "completed":
                        hint = "; run 'netchange recover' to bring back its devices" if state == "failed" else ""
                        raise StateConflict(f"{change_id} is {state}: only a completed change can be rolled back "
                                            f"on request{hint}")
                    policypin.require(policy, journal, actor=actor.login)
                    the_plan = planstore.current(cfg.plans_dir, journal, change_id)
                    # The caller's clock (its NETCHANGE_NOW, honoured as the policy allows), as the apply's guard.
                    run = pipeline.Run(settings=dataclasses.replace(cfg, now=inp.now) if inp.now else cfg,
                                       policy=policy, actor=actor, progress=_no_progress)
                    pipeline._guard_rollback(run, the_plan, journal=journal, emergency=inp.emergency)
                    targets = [t for t in touched.values() if t.snapshot and t.commit_started]
                    abandoned = []
                applied = (planstore.from_journal(journal, change_id) if abandoned
                           else pipeline._last_applied_plan(journal, change_id))
                if not abandoned:
                    journal.acquire_locks(change_id, hosts, actor=actor.login)
                    held.journal_locked = True
            sites = {h.host: h.site for h in applied.hosts} if applied is not None else {}
            missing = [t.host for t in targets if t.host not in sites]
            if missing:
                raise NetchangeError(f"{change_id}: no site known for {', '.join(missing)} (no plan on record): "
                                     "run it with NETCHANGE_RUNNER=inprocess")
            blob = (SnapshotStore(cfg.snapshots_dir, database=cfg.database_url).save(applied.model_dump_json())
                    if applied is not None else "")
        except BaseException:
            self._release(change_id, actor.login)
            raise
        return RestoreOpened(state=state, abandoned=abandoned, plan_hash=applied.plan_hash if applied else "",
                             plan_blob=blob, tokens=tokens, names=names, ttl=cfg.lease_seconds,
                             targets=[RestoreTargetRef(t.host, sites[t.host], t.snapshot, t.after_sha, t.after_hash,
                                                       t.confirmed_commit) for t in targets])

    @activity.defn(name="restore_refuse")
    def restore_refuse(self, step: RestoreStep) -> None:
        """Rollback on request: a host changed since the apply (or unreadable) refuses it, as in process."""
        from netchange.errors import DriftDetected
        from netchange.workflow._control import refusals

        with refusals():
            unreadable = sorted(r.host for r in step.results if r.status == "unreadable")
            if unreadable:
                raise DriftDetected(f"cannot read {', '.join(unreadable)} to check it before the rollback; "
                                    "nothing was changed")
            changed = sorted((r.host, r.error) for r in step.results if r.status == "changed")
            if changed:
                named = "; ".join(h + (f" ({lines})" if lines else "") for h, lines in changed)
                raise DriftDetected(f"changed since the apply: {named}; refusing to overwrite (plan a new change)")

    @activity.defn(name="restore_start")
    def restore_start(self, step: RestoreStep, state: str) -> None:
        from netchange.journal import EventKind
        from netchange.pipeline import _STARTED, RestoreMode
        from netchange.workflow._control import refusals

        mode = RestoreMode(step.mode)
        with refusals(), self._journal(step.change_id) as journal:
            if state != "in_progress":
                journal.set_state(step.change_id, "in_progress", actor=step.actor,
                                  reason="rollback on request" if mode is RestoreMode.ROLLBACK
                                  else "recover after failure")
            journal.event(step.change_id, EventKind(_STARTED[mode]), actor=step.actor,
                          data={"hosts": [t.host for t in step.targets]})

    @activity.defn(name="restore_finish")
    def restore_finish(self, step: RestoreStep) -> RestoreResult:
        from netchange.apply import ChangeOutcome
        from netchange.pipeline import _FINISHED, RestoreMode
        from netchange.workflow._control import refusals

        mode = RestoreMode(step.mode)
        reports = {r.host: r.restore or {"verified": False, "errors": [r.error or "not restored"]}
                   for r in step.results}
        already = sorted(r.host for r in step.results if r.restore and r.restore.get("strategies") == ["none"])
        alarms = sorted(h for h, r in reports.items() if not r.get("verified"))
        outcome = ChangeOutcome.FAILED if alarms else ChangeOutcome.ROLLED_BACK
        with refusals(), self._journal(step.change_id) as journal:
            journal.event(step.change_id, _FINISHED[mode], actor=step.actor,
                          data={"outcome": outcome.value, "alarms": alarms, "already": already})
            journal.set_state(step.change_id, outcome.value, actor=step.actor, reason=mode.value)
        return RestoreResult(step.change_id, outcome.value, reports, already,
                             statuses={r.host: r.status for r in step.results})

    @activity.defn(name="restore_unlock_abandoned")
    def restore_unlock_abandoned(self, step: RestoreStep, left: list[str]) -> RestoreResult:
        """Recover of an apply killed before its rollout: the hosts read, the journal's locks released."""
        from netchange.journal import EventKind
        from netchange.workflow._control import refusals

        differing = {r.host: r.error for r in step.results if r.error}
        with refusals(), self._journal(step.change_id) as journal:
            journal.event(step.change_id, EventKind.RECOVER_UNLOCKED, actor=step.actor,
                          data={"hosts": left, "checked": sorted(t.host for t in step.targets if t.snapshot),
                                "differing": differing,
                                "note": "apply killed before its rollout: nothing was changed"})
            journal.release_locks(step.change_id, left, actor=step.actor)
        return RestoreResult(step.change_id, None, released=left, differing=differing)




__all__ = ["RestoreSteps"]
