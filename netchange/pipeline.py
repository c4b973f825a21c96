"""The one sequencing of a change: plan, apply, rollback on request, recover, close.

- **plan** (:func:`plan_change`): the policy pinned (when the plan is recorded) before any device is
  contacted; the request bound to the inventory once; logins checked (or stored configurations
  loaded, offline); the plan built; kept and put on record (:func:`netchange.plan.store.record`).
- **close** (:func:`close_change`): a person's final validation; the change closes once every
  closing role of the policy has signed.

Apply, rollback on request and recover run the same sequence:

    guard → device locks → journal locks and state → prepare → rollout or restore → state → unlock

- **apply**: the plan the journal names current (verified against its hash); the guard
  (:func:`netchange.guard._decision.check_apply`); prepare = every host's session opened, nothing
  read (:meth:`netchange.apply._applier.Applier.prepare`); rollout by batches, each host read at its
  turn (its snapshot and drift check, journaled with its ``commit_started``), with the automatic
  rollback of :mod:`netchange.rollback.runner` on any failure.
- **rollback on request**: a completed change; the rollback guard (same person rules, same
  window); prepare = refuse a host changed since the apply; restore with :mod:`netchange.rollback.runner`.
- **recover**: a change left ``in_progress`` (a crash) or ``failed`` (an alarm); restore every
  host the last apply touched and has not verified yet, with :mod:`netchange.rollback.runner`.
  A change still ``approved`` whose apply died before its rollout keeps journal locks: recover
  releases them, reading first any host whose snapshot that apply journaled (an apply before
  issue 27 read every host in its prepare phase; none is read before the rollout since)
  (:func:`_release_abandoned`).

Each returns a typed outcome (:class:`netchange.apply._outcome.ChangeOutcome`, per-host
:class:`netchange.apply._outcome.HostStatus` or restore reports); a refusal raises a
:class:`netchange.errors.NetchangeError` (exit 3 or 2) before any device is changed. Nothing here
prints: the command line (``netchange/cli/changes.py``) parses, calls, and prints; the approval
service will call the same functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from netchange.apply import ChangeOutcome, HostStatus, JournalRecorder, Observers, ProgressView
from netchange.apply import locks as devicelock
from netchange.errors import BadRequest, GuardRefused, StateConflict
from netchange.failpoints import fail_point
from netchange.journal import EventKind, Journal, State, StateError
from netchange.models import MAX_COMMENT, person_text
from netchange.plan import store as planstore
from netchange.policy import clock
from netchange.policy import pin as policypin

if TYPE_CHECKING:
    from nornir.core import Nornir

    from netchange.apply import ApplyObserver, ApplyOutcome, Progress
    from netchange.config import Settings
    from netchange.models import ChangeRequest
    from netchange.plan import BackupSource, Plan
    from netchange.policy import Actor, Policy
    from netchange.rollback import RestoreReport, SnapshotStore


class RestoreMode(StrEnum):
    """Why a change's devices are brought back to their snapshots after the apply ended."""

    ROLLBACK = "rollback"
    """On request: the change completed, someone wants it undone (guarded like a change)."""
    RECOVER = "recover"
    """After a crash (``in_progress``) or an alarm (``failed``): finish the rollback."""


# The change-level events of a restore, by mode (the hosts' own are apply's: ``restore_events``).
_STARTED = {RestoreMode.ROLLBACK: EventKind.ROLLBACK_STARTED, RestoreMode.RECOVER: EventKind.RECOVER_STARTED}
_FINISHED = {RestoreMode.ROLLBACK: EventKind.ROLLBACK_FINISHED, RestoreMode.RECOVER: EventKind.RECOVER_FINISHED}


@dataclass
class Run:
    """What every execution needs from its caller: settings, policy, who acts, how to report."""

    settings: Settings
    policy: Policy
    actor: Actor
    progress: Callable[[list[str]], Progress]
    """Makes the live progress for the hosts about to be acted on (terminal, plain lines, JSON)."""
    warn: Callable[[str], None] = lambda text: None
    """One line the user should see (e.g. other changes left in progress)."""
    observers: Sequence[ApplyObserver] = ()
    """More watchers of an apply (:mod:`netchange.apply._observers`), after the journal and the progress."""


@dataclass
class RestoreOutcome:
    """The end of a rollback on request or a recover."""

    change_id: str
    outcome: ChangeOutcome | None
    """``None``: a recover that only released the locks of an apply killed before its rollout
    (the change is still ``approved``: see :attr:`released`)."""
    reports: dict[str, RestoreReport] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    """Hosts found already as their snapshot (never committed, or a confirmed commit reverted)."""
    released: list[str] = field(default_factory=list)
    """Hosts whose journal locks a recover released (an apply killed before its rollout)."""
    differing: dict[str, str] = field(default_factory=dict)
    """Of those, host → why it is not as its snapshot (or could not be read): never this change's doing."""

    @property
    def alarms(self) -> list[str]:
        return sorted(h for h, r in self.reports.items() if not r.verified) + sorted(self.differing)

    @property
    def state(self) -> str:
        """The change's state afterwards."""
        return "approved" if self.outcome is None else self.outcome.value

    @property
    def exit_code(self) -> int:
        if self.outcome is None:
            return 1 if self.differing else 0
        return self.outcome.exit_code


# -- shared steps ----------------------------------------------------------------------------------
@contextmanager
def _device_locks(nr: Nornir, hosts: list[str], change_id: str, *, action: str, actor: str,
                  run: Run) -> Iterator[devicelock.DeviceHold]:
    """The locks on ``hosts``' devices, or exit 3: machine-wide OS locks (``netchange.apply.locks``),
    or, when a database is configured, leases shared by every machine (``netchange.apply.leases``).

    With leases, every session this command opens on ``nr`` is fenced (each driver call checks the
    leases first: :mod:`netchange.drivers.fencing`); :func:`_fenced_journal` does the same for the
    journal's writes.
    """
    devices = devicelock.identities(nr, hosts)
    if run.settings.database_url is None:
        with devicelock.locked(devices, change_id=change_id, action=action, actor=actor, home=run.settings.home,
                               directory=run.settings.lock_dir) as held:
            yield held
        return
    from netchange.apply import leases
    from netchange.drivers import fencing

    with leases.leased(devices, change_id=change_id, action=action, actor=actor, home=run.settings.home,
                       url=run.settings.database_url, ttl=run.settings.lease_seconds) as leased:
        fencing.install(nr.config, leased.check)
        try:
            yield leased
        finally:
            nr.config.user_defined.pop(fencing.FENCE_KEY, None)


def _fenced_journal(journal: Journal, held: devicelock.DeviceHold) -> Journal:
    """``journal`` whose every write first checks ``held`` (a lease holder that lost its lease
    writes nothing more; OS locks cannot be lost, their check is empty)."""
    journal.fence = held.check
    return journal


def _warn_in_progress(run: Run, journal: Journal, but: str | None = None) -> None:
    left = [c for c in journal.in_progress() if c != but]
    if left:
        run.warn(f"left in progress (run 'netchange recover ID'): {', '.join(left)}")


def _journal_intact(journal: Journal, change_id: str) -> None:
    """Refuse to act on a change whose record (events, state, plan, approvals) does not verify."""
    problems = journal.verify_change(change_id)
    if problems:
        raise GuardRefused(f"{change_id}: the journal's record of this change does not verify: {problems[0]}"
                           " (run 'netchange journal verify')")


def _nornir(run: Run, hosts: list[str]) -> Nornir:
    from netchange.config import require_logins
    from netchange.inventory import load_nornir

    nr = load_nornir(run.settings.nornir_config, secrets=run.settings.secrets, logins=run.settings.logins)
    gone = [name for name in dict.fromkeys(hosts) if name not in nr.inventory.hosts]
    if gone:  # the inventory changed since the plan: bad input, before any lock or device
        raise BadRequest(f"not in the inventory: {', '.join(gone)} (the plan names them; the inventory "
                         "changed since the plan was made: plan again)")
    require_logins(nr, hosts)  # before any lock or device: one line per host lacking them
    return nr


@contextmanager
def _request_errors(origin: str) -> Iterator[None]:
    """Bad input found in a request names the file it was read from."""
    try:
        yield
    except BadRequest as exc:
        if not origin:
            raise
        raise BadRequest(f"{origin}: {exc}") from None


# -- plan --------------------------------------------------------------------------------------------
@dataclass
class PlannedChange:
    """The end of :func:`plan_change`: the plan, how long it took, whether it is on record."""

    plan: Plan
    seconds: float
    recorded: bool


def plan_change(settings: Settings, policy: Policy, request: ChangeRequest, *, actor: str,
                source: BackupSource | None = None, record: bool = True, origin: str = "") -> PlannedChange:
    """Plan ``request`` on its targets (never changes a device); keep the plan and journal it.

    ``source``: stored configurations to plan against instead of the devices (an offline plan is
    a preview: never recorded). A plan that failed with no category (every host failed, or the
    others have nothing to change) has nothing to approve: it is returned, neither stored nor
    recorded. A plan with no change is recorded: ``apply`` closes it. Bad input names the
    request's fields; a refusal (the policy pin) comes before any device is contacted.
    ``origin``: where the request was read (its file), named in front of bad input found while
    binding and planning it.
    """
    import time

    from netchange.inventory import load_nornir
    from netchange.plan import bind, build_plan

    record = record and source is None
    if record:
        with Journal(settings.journal) as journal:
            policypin.require(policy, journal, actor=actor)
    nr = load_nornir(settings.nornir_config, secrets=settings.secrets, logins=settings.logins)
    with _request_errors(origin):
        bound = bind(request, nr)
    hosts = list(bound[1])
    # Judged by this policy, so known to it: every target's site, the requester and, for a plan
    # that is recorded (approvable), its author. An offline plan is a preview made by a CI runner's
    # account: its author is not a person of the policy and is never recorded.
    sites: dict[str, list[str]] = {}
    for target in bound[1].values():
        sites.setdefault(target.site, []).append(target.host)
    people = {"requester": request.requester} | ({"plan author (the acting account)": actor} if record else {})
    with _request_errors(origin):
        policy.require_known(sites=sites, people=people)
    if source is not None:
        from netchange.plan import use_stored_configs

        use_stored_configs(nr, hosts, source)
    elif settings.runner != "temporal":  # through Temporal, the site workers hold the logins
        from netchange.config import require_logins

        require_logins(nr, hosts)  # before any device is contacted: one line per host lacking them
    started = time.monotonic()
    with _request_errors(origin):
        if source is None and settings.runner == "temporal":  # the devices read by their sites' workers
            from netchange.plan import seal_plan
            from netchange.workflow import run_plan

            planned = run_plan(settings, request, {t.host: t.site for t in bound[1].values()})
            plan = seal_plan(request, bound[0], planned, actor=actor, policy_version=policy.version,
                             policy_digest=policy.digest, requirements=policy.requirements)
        else:
            from netchange.rollback import SnapshotStore

            # A plan that is recorded keeps each host's planned state (an apply's drift names lines
            # against it); a plan that records nothing (offline, CI) writes nothing either.
            planned_states = SnapshotStore(settings.snapshots_dir, database=settings.database_url) if record else None
            try:
                plan = build_plan(request, nr, actor=actor, policy_version=policy.version,
                                  policy_digest=policy.digest, requirements=policy.requirements, bound=bound,
                                  keep=None if planned_states is None
                                  else lambda text: planned_states.save(text, durable=False))
            finally:
                if planned_states is not None:
                    planned_states.close()
    seconds = time.monotonic() - started
    recorded = record and (plan.category is not None or plan.no_change)
    if recorded:
        with Journal(settings.journal) as journal:
            planstore.record(settings.plans_dir, journal, plan)
    return PlannedChange(plan=plan, seconds=seconds, recorded=recorded)


# -- apply -------------------------------------------------------------------------------------------
def apply_change(run: Run, change_id: str, *, emergency: str | None = None, revert_in: int = 300) -> ApplyOutcome:
    """Run an approved change: guard, drift check, commit, post-checks; roll back on any failure."""
    from netchange.apply import Applier, Interrupts
    from netchange.guard import check_apply
    from netchange.rollback import SnapshotStore

    cfg, actor = run.settings, run.actor
    if cfg.runner == "temporal":  # the same steps, as activities of the workflow apply:<change id>
        from netchange.workflow import run_apply

        return run_apply(run, change_id, emergency=emergency, revert_in=revert_in)
    with Journal(cfg.journal) as journal:
        policypin.require(run.policy, journal, actor=actor.login)
        # The plan the journal names current, verified against its hash and the journal's copy
        # (the guard checks again, under the locks, that it is still the current one).
        the_plan = planstore.current(cfg.plans_dir, journal, change_id)
    if the_plan.no_change:
        return _close_no_change(run, the_plan)
    changing = [h.host for h in the_plan.hosts if h.changes]
    nr = _nornir(run, changing)
    # The devices first, machine-wide: a second apply of this change, or any other change on
    # these devices from any state directory, is refused here (exit 3) before it reads anything.
    with (_device_locks(nr, changing, change_id, action="apply", actor=actor.login, run=run) as held,
          Journal(cfg.journal) as journal):
        _fenced_journal(journal, held)
        _warn_in_progress(run, journal, but=change_id)
        _journal_intact(journal, change_id)
        if not the_plan.ok:
            raise GuardRefused(f"{change_id}: the plan has hosts that cannot be changed; fix and plan again")
        check_apply(the_plan, policy=run.policy, journal=journal, actor=actor,
                    now=clock.now(run.policy, cfg.now), emergency=emergency)
        progress = run.progress(changing)
        # The applier reports; the journal records (first: a fact is on record before it is
        # shown), the live progress shows, and whatever the caller adds watches too.
        snapshots = SnapshotStore(cfg.snapshots_dir, database=cfg.database_url)
        applier = Applier(the_plan, nr, snapshots=snapshots, actor=actor.login,
                          observers=[JournalRecorder(journal, change_id, actor.login), ProgressView(progress),
                                     *run.observers],
                          revert_in=revert_in)
        journal.acquire_locks(change_id, changing, actor=actor.login)
        try:
            with Interrupts(applier, progress.message).installed():
                fail_point("apply.locked")  # the journal's locks taken, nothing read
                applier.prepare()
                journal.set_state(change_id, "in_progress", actor=actor.login, reason="apply")
                fail_point("apply.in_progress")  # in_progress on record, nothing committed
                outcome = applier.rollout()
                fail_point("apply.outcome")  # the rollout over, its state not yet on record
                journal.set_state(change_id, outcome.outcome.value, actor=actor.login,
                                  reason="; ".join(f"{h.host}: {h.error}" for h in outcome.hosts.values() if h.error))
                fail_point("apply.finished")  # the final state on record, the locks still held
        finally:
            progress.close()
            applier.close()
            journal.release_locks(change_id, changing, actor=actor.login)
    return outcome


def _close_no_change(run: Run, the_plan: Plan) -> ApplyOutcome:
    """Apply a plan with no change: nothing to send, so no guard (no window, no approval: nothing
    happens to any device), no lock and no session; the journal records it and closes the change
    (issue 22 item 6, as Terraform's apply says "No changes"). Its state is checked in the same
    transaction as the close: a change re-planned or closed meanwhile is refused."""
    from netchange.apply import ApplyOutcome, HostOutcome

    change_id = the_plan.change.id
    with Journal(run.settings.journal) as journal:
        _journal_intact(journal, change_id)
        journal.close_no_change(change_id, the_plan.plan_hash, actor=run.actor.login,
                                hosts=[h.host for h in the_plan.hosts])
    return ApplyOutcome(change_id, ChangeOutcome.NO_CHANGE,
                        {h.host: HostOutcome(h.host, HostStatus.NO_CHANGE) for h in the_plan.hosts})


# -- rollback on request and recover -------------------------------------------------------------------
class _RestoreJournal:
    """:class:`netchange.rollback.runner.RestoreObserver` for a rollback on request or a recover:
    each host's restore reported to the journal and the live progress as apply reports its own
    (:func:`netchange.apply.restore_events`)."""

    def __init__(self, observers: Observers, confirmed: dict[str, bool]) -> None:
        self.observers = observers
        self.confirmed = confirmed
        self.already: list[str] = []
        self.lock = threading.Lock()

    def restore_started(self, host: str) -> None:
        self.observers.host_status(host, HostStatus.ROLLING_BACK, "")

    def restore_finished(self, host: str, report: RestoreReport) -> None:
        from netchange.apply import RunEvent, restore_events

        if report.verified and report.strategies == ["none"]:
            # Never committed, or a confirmed commit that reverted by itself: nothing was sent.
            why = "reverted by itself (confirmed commit not confirmed)" if self.confirmed.get(host) else "unchanged"
            with self.lock:
                self.already.append(host)
            self.observers.record([RunEvent(EventKind.ROLLBACK_VERIFIED, host, {"strategies": ["none"], "note": why})],
                                  durable=True)
            self.observers.host_status(host, HostStatus.RESTORED, why)
            return
        self.observers.record(restore_events(host, report), durable=True)
        if report.verified:
            self.observers.host_status(host, HostStatus.RESTORED, f"verified in {report.seconds:.2f}s")
        else:
            self.observers.host_status(host, HostStatus.ALARM, "; ".join(report.errors))


def _last_applied_plan(journal: Journal, change_id: str) -> Plan | None:
    """The plan the last apply ran (the journal's copy, verified against its hash)."""
    started = [e for e in journal.events(change_id) if e.kind == EventKind.APPLY_STARTED]
    plan_hash = str(started[-1].data.get("plan_hash")) if started and started[-1].data else None
    # Verified against its hash: a diff edited in the journal would make foreign lines look ours.
    return planstore.from_journal(journal, change_id, plan_hash)


def _restored_checks(plan: Plan | None, host: str) -> Any:
    """The restored checks of ``host`` in ``plan`` (none when the plan or the host is unknown)."""
    from netchange.plan import restored_checks

    if plan is None or host not in {h.host for h in plan.hosts}:
        return None
    return restored_checks(plan, plan.host(host))


def _guard_rollback(run: Run, the_plan: Plan, *, journal: Journal, emergency: str | None) -> None:
    """A rollback on request is a change too: the guard's person, window and freeze rules."""
    from netchange.guard import check_rollback

    check_rollback(the_plan, policy=run.policy, journal=journal, actor=run.actor,
                   now=clock.now(run.policy, run.settings.now), emergency=emergency)


def restore_change(run: Run, change_id: str, *, mode: RestoreMode, emergency: str | None = None) -> RestoreOutcome:
    """Bring the devices of a change's last apply back to their snapshots, and verify each."""
    from netchange.rollback import SnapshotStore
    from netchange.rollback.recover import after_text, last_apply, refuse_if_changed_since
    from netchange.rollback.runner import RestoreTarget, run_restores

    cfg, actor = run.settings, run.actor
    if cfg.runner == "temporal":  # the same steps, as activities of the workflow restore:<change id>
        from netchange.workflow import run_restore

        return run_restore(run, change_id, mode=mode, emergency=emergency)
    # Which devices: the last apply's hosts, read once to take their machine-wide locks; every
    # decision is then made again under the locks (another recover may have finished meanwhile).
    with Journal(cfg.journal) as journal:
        journal.state(change_id)
        # With the hosts whose journal locks an apply killed before its rollout left behind.
        hosts = sorted(set(last_apply(journal.events(change_id))) | set(_held(journal, change_id)))
    nr = _nornir(run, hosts)
    with (_device_locks(nr, hosts, change_id, action=mode.value, actor=actor.login, run=run) as held,
          Journal(cfg.journal) as journal):
        _fenced_journal(journal, held)
        state = journal.state(change_id)
        touched = last_apply(journal.events(change_id))
        if mode is RestoreMode.RECOVER and state == "approved" and _held(journal, change_id):
            actor.require("recover")
            return _release_abandoned(run, nr, journal, change_id)
        if mode is RestoreMode.RECOVER:
            # in_progress: left by a crash; failed: an alarm (a device unreachable during the
            # rollback, say): once the devices answer again, recover finishes the rollback.
            if state not in ("in_progress", "failed"):
                raise StateConflict(
                    f"{change_id} is {state}: only a change left in_progress or failed can be recovered")
            actor.require("recover")
            targets = [t for t in touched.values() if t.snapshot and not t.restored and not t.commit_refused]
        else:
            if state != "completed":
                hint = "; run 'netchange recover' to bring back its devices" if state == "failed" else ""
                raise StateConflict(
                    f"{change_id} is {state}: only a completed change can be rolled back on request{hint}")
            policypin.require(run.policy, journal, actor=actor.login)
            the_plan = planstore.current(cfg.plans_dir, journal, change_id)
            _guard_rollback(run, the_plan, journal=journal, emergency=emergency)
            targets = [t for t in touched.values() if t.snapshot and t.commit_started]
        names = [t.host for t in targets]
        snapshots: SnapshotStore = SnapshotStore(cfg.snapshots_dir, database=cfg.database_url)
        # Every host the last apply had (all of them locked above): a crashed apply's rows go too.
        journal.acquire_locks(change_id, hosts, actor=actor.login)
        progress = run.progress(names)
        try:
            if mode is RestoreMode.ROLLBACK:
                refuse_if_changed_since(nr, targets, snapshots)
                fail_point("rollback.checked")  # the devices as the apply left them, nothing on record
            if state != "in_progress":
                journal.set_state(change_id, "in_progress", actor=actor.login,
                                  reason="rollback on request" if mode is RestoreMode.ROLLBACK
                                  else "recover after failure")
            journal.event(change_id, _STARTED[mode], actor=actor.login, data={"hosts": names})
            # in_progress and the start on record, nothing sent
            fail_point("recover.started") if mode is RestoreMode.RECOVER else fail_point("rollback.started")
            applied = _last_applied_plan(journal, change_id)
            diffs = {h.host: h.diff for h in applied.hosts} if applied is not None else {}
            observer = _RestoreJournal(Observers(JournalRecorder(journal, change_id, actor.login),
                                                 ProgressView(progress)),
                                       {t.host: t.confirmed_commit for t in targets})
            reports = run_restores(
                nr, [RestoreTarget(host=t.host, snapshot=t.snapshot, after=after_text(snapshots, t),
                                   diff=diffs.get(t.host, ""), checks=_restored_checks(applied, t.host))
                     for t in targets],
                snapshots=snapshots, observer=observer)
            result = RestoreOutcome(change_id, ChangeOutcome.ROLLED_BACK, reports, list(observer.already))
            outcome = ChangeOutcome.FAILED if result.alarms else ChangeOutcome.ROLLED_BACK
            result.outcome = outcome
            # every host's restore journaled, not the outcome
            fail_point("recover.restored") if mode is RestoreMode.RECOVER else fail_point("rollback.restored")
            journal.event(change_id, _FINISHED[mode], actor=actor.login,
                          data={"outcome": outcome.value, "alarms": result.alarms, "already": result.already})
            # the finish on record, the state not yet
            fail_point("recover.finished") if mode is RestoreMode.RECOVER else fail_point("rollback.finished")
            journal.set_state(change_id, outcome.value, actor=actor.login, reason=mode.value)
        finally:
            progress.close()
            nr.close_connections(on_good=True, on_failed=True)
            journal.release_locks(change_id, hosts, actor=actor.login)
    return result


def _held(journal: Journal, change_id: str) -> list[str]:
    """The hosts whose journal locks ``change_id`` holds."""
    return [lock.host for lock in journal.locks() if lock.change_id == change_id]


def _release_abandoned(run: Run, nr: Nornir, journal: Journal, change_id: str) -> RestoreOutcome:
    """Recover of an apply killed before its rollout (the change still ``approved``, its journal
    locks left behind, every other change on those hosts refused): release them.

    Nothing can have been changed: the rollout starts only once ``in_progress`` is on record.
    Still, each host whose snapshot that apply journaled is read again and compared with it
    (called under the device locks); a host not as its snapshot, or unreadable, is named (exit 1:
    someone else's hand, or a device down, to look at). The locks are released either way: they
    protect nothing of this change's. The change stays ``approved``: apply it again, or plan again.
    """
    from netchange.rollback import SnapshotStore
    from netchange.rollback.recover import differing_from_snapshot, last_apply

    events = journal.events(change_id)
    # The apply that took the locks: its snapshots, none of an earlier attempt's.
    start = max((i for i, e in enumerate(events) if e.kind == EventKind.LOCKS_ACQUIRED), default=0)
    held = _held(journal, change_id)
    touched = [t for t in last_apply(events[start:]).values() if t.host in held]
    try:
        differing = differing_from_snapshot(nr, touched, SnapshotStore(run.settings.snapshots_dir,
                                                                           database=run.settings.database_url))
    finally:
        nr.close_connections(on_good=True, on_failed=True)
    fail_point("recover.unlocking")  # the hosts read, nothing on record
    journal.event(change_id, EventKind.RECOVER_UNLOCKED, actor=run.actor.login,
                  data={"hosts": held, "checked": sorted(t.host for t in touched if t.snapshot),
                        "differing": differing, "note": "apply killed before its rollout: nothing was changed"})
    journal.release_locks(change_id, held, actor=run.actor.login)
    return RestoreOutcome(change_id, None, released=held, differing=differing)


__all__ = ["RestoreMode", "RestoreOutcome", "Run", "apply_change", "restore_change"]


# -- close ---------------------------------------------------------------------------------------------
def close_change(policy: Policy, journal: Journal, change_id: str, actor: Actor, *, comment: str = "") -> list[str]:
    """Record ``actor``'s final validation; close the change once every closing role has signed.

    The quality plan ends each procedure with "engineer and operations manager validate that it
    works, the tracking sheet is closed": each role of ``policy.close.roles`` needs a different
    person. Returns the roles still missing (empty once closed). The policy in force is pinned
    first: a validation is judged under the policy the journal names.
    """
    from netchange.guard import unfilled_roles

    comment = person_text(comment, what="comment", max_length=MAX_COMMENT)
    policypin.require(policy, journal, actor=actor.login)
    person = actor.require("close", policy.close.roles)
    change = journal.require(change_id)
    if change.state not in CLOSABLE:
        raise StateError(
            f"{change_id} is {change.state.value}: only a completed, rolled back or failed change "
            "can be closed"
        )
    journal.event(
        change_id,
        EventKind.CLOSE_VALIDATION,
        actor=person.login,
        data={"roles": list(person.roles), "comment": comment, "outcome": change.state.value},
    )
    signers = {e.actor for e in journal.events(change_id) if e.kind == EventKind.CLOSE_VALIDATION}
    people = [p for p in (policy.person(s) for s in signers) if p is not None]
    missing = unfilled_roles(policy.close.roles, [set(p.roles) for p in people])
    if not missing:
        journal.set_state(change_id, State.CLOSED, actor=person.login, reason="final validation complete")
    return missing


CLOSABLE = frozenset({State.COMPLETED, State.ROLLED_BACK, State.FAILED})
"""The states a change may be closed from: it has ended, one way or the other."""
