"""``apply``: commit a planned change host by host, verify it, and undo it on any failure.

Order of work, each step journaled before and after it happens:

1. **Prepare** (all hosts, in parallel): open the session (login, reachability). Nothing is
   read: a host that cannot be reached refuses the whole change ("cannot prepare X; nothing was
   changed"), before anything is changed.
2. **Roll out** in order: the canary host(s) first, then batches. Per host, under the device
   lock, at its turn: read the running state once: it is the snapshot and the drift check (a
   host no longer in the planned state is refused, not committed); load the approved candidate
   and check the diff is still the approved one; journal the snapshot with ``commit_started``
   (one durable transaction: ``recover`` has the snapshot of every host whose commit may have
   started); commit (a confirmed commit where the driver has one, so a device left alone reverts
   by itself); read back (the state left, which answers the post-checks read from the
   configuration); post-checks; confirm; save where the platform keeps a startup apart.
   The drivers that keep the engine's reading (IOS/ASA CLI, nftables, FRR:
   ``running_reuse_seconds``) compute their write from that reading and read the device again
   before it only if it is older than their reuse window (2 s): on IOS/ASA three round trips per
   host, read, configure, read back (issue 27 item 1), plus the save's two; the other drivers
   re-read before their write.
   **The trade-off of reading at the host's turn**: a host drifted from its plan is found at its
   turn, not before the canary. A drift on the canary (or on any host while nothing was changed
   anywhere) refuses the change with nothing changed: exit 3, as before. A drift on a later host
   is found after the hosts before it were changed: the rollout stops there and those hosts are
   rolled back and verified (outcome ``rolled_back``, exit 1), like any failure of the rollout.
   Reading every host up front instead costs one more round trip per host (the reading is minutes
   old by the host's turn and must be checked again anyway) and, before issue 27, was the only
   way the drift of a later host refused the whole change untouched.
   A commit the driver refuses because its re-read found another hand's lines
   (``ChangedMeanwhile``: nothing written) is drift: ``commit_refused`` is journaled, the host is
   not one whose commit started (never restored), and a rollout stopped by drift alone with
   nothing changed anywhere exits 3 like any drift.
3. **On any failure** (commit error, rejected line, post-check failure, lost session, timeout,
   Ctrl-C) stop the rollout and roll back as the request's ``on_failure`` says, newest batch
   first; verify every restored host against its snapshot. A restore that does not verify is an
   alarm: outcome ``failed``, the hosts named, never silence. A host changed by someone else
   since its commit is not restored over their lines: an alarm names the host and the lines.

The applier only reports what happens (:mod:`netchange.apply._observers`): the journal and the live
progress subscribe to it (:class:`~netchange.apply._observers.JournalRecorder`,
:class:`~netchange.apply._observers.ProgressView`); it writes nothing and prints nothing itself.

Signals: SIGINT, SIGTERM and SIGHUP stop the rollout like a first Ctrl-C (roll back, verify);
during the rollback one more is refused with a message, and the next aborts the process,
leaving the change ``in_progress`` and its journal locks for ``netchange recover``
(:class:`Interrupts`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, cast

from nornir.core import Nornir
from nornir.core.task import Result, Task

from netchange.apply._observers import (
    ApplyObserver,
    JournalLike,
    JournalRecorder,
    Observers,
    ProgressView,
    RunEvent,
    restore_events,
)
from netchange.apply._outcome import ChangeOutcome, HostFailure, HostStatus
from netchange.apply._progress import Progress
from netchange.changetype import text_hash
from netchange.drivers.contract import DriverProtocol, SaveReport, normalize, save_running
from netchange.drivers.errors import ChangedMeanwhile, SessionClosed
from netchange.errors import CommitFailed, DeviceLost, DriftDetected, NetchangeError, PostCheckFailed
from netchange.failpoints import fail_point
from netchange.inventory import CONNECTION_NAME
from netchange.journal import EventKind
from netchange.models import OnFailure
from netchange.plan import HostPlan, Plan, plan_contexts, restored_checks
from netchange.rollback import RestoreReport, SnapshotStore
from netchange.rollback.restore import brief_lines, changed_lines
from netchange.rollback.runner import RestoreTarget, run_in_order, run_restores, session

# Platforms of NAPALM whose commit_config(revert_in=) is a real confirmed commit.


@dataclass
class HostOutcome:
    host: str
    status: HostStatus = HostStatus.WAITING
    failure: HostFailure | None = None
    """Why the host failed (typed: branch with ``failure.is_a(...)``), or ``None``."""
    snapshot: str = ""
    commit_started: bool = False
    """On record (``commit_started``) and not taken back: the host may be changed, a restore is due."""
    commit_refused: bool = False
    """The driver's re-read just before the write differed from the state checked (another hand):
    refused, nothing written; ``commit_started`` is taken back (journal: ``commit_refused``)."""
    committed: bool = False
    confirmed_pending: bool = False
    post_checks: list[dict[str, Any]] = field(default_factory=list)
    failed_at: float | None = None
    after_hash: str = ""
    """Hash of the running state once committed: a later rollback on request checks it."""
    after_text: str | None = None
    """That running state itself: a restore refuses to erase what someone added since."""
    restore: RestoreReport | None = None

    @property
    def error(self) -> str:
        """The failure as one line (journal, table, JSON), ``""`` if none."""
        return self.failure.text if self.failure is not None else ""

    @property
    def drifted(self) -> bool:
        """The host's running state is not the one planned (or checked): the change was refused."""
        return self.failure is not None and self.failure.is_a(DriftDetected)


@dataclass
class ApplyOutcome:
    change_id: str
    outcome: ChangeOutcome
    hosts: dict[str, HostOutcome]
    interrupted: bool = False
    alarms: list[str] = field(default_factory=list)

    @property
    def refused_for_drift(self) -> bool:
        """Stopped by drift alone with nothing changed anywhere: every failed host drifted (refused
        before its commit, or its commit refused by the driver's re-read: nothing written) and no
        host's commit started. The README's drift: refused, exit 3, plan again (as at prepare
        time). Once a host was changed, it is a failed attempt (exit 1), rolled back or not."""
        failed = [h for h in self.hosts.values() if h.failure is not None]
        return (self.outcome is ChangeOutcome.ROLLED_BACK and not self.interrupted and bool(failed)
                and all(h.drifted for h in failed) and not any(h.commit_started for h in self.hosts.values()))

    @property
    def exit_code(self) -> int:
        return 3 if self.refused_for_drift else self.outcome.exit_code


def supports_confirmed_commit(platform: str) -> bool:
    """The platform's profile says whether ``commit_config(revert_in=)`` is a confirmed commit."""
    from netchange.platforms import profile_of

    return profile_of(platform).confirmed_commit


def rollout_batches(hosts: Sequence[str], *, canary: int, batch_size: int) -> list[list[str]]:
    """The canary hosts first (one batch), then batches of ``batch_size``."""
    hosts = list(hosts)
    batches = [hosts[:canary]] if canary else []
    rest = hosts[canary:]
    batches += [rest[i : i + batch_size] for i in range(0, len(rest), batch_size)]
    return [b for b in batches if b]


class Applier:
    """One apply of one plan. Thread-safe where workers touch it (outcomes, observers).

    What happens is reported to ``observers`` (:mod:`netchange.apply._observers`); ``journal`` and
    ``progress`` are shorthands that subscribe the journal's recorder and the live progress view.
    """

    def __init__(
        self,
        plan: Plan,
        nr: Nornir,
        *,
        snapshots: SnapshotStore,
        actor: str,
        observers: Sequence[ApplyObserver] = (),
        journal: JournalLike | None = None,
        progress: Progress | None = None,
        revert_in: int = 300,
    ) -> None:
        self.plan = plan
        self.nr = nr
        self.snapshots = snapshots
        self.actor = actor
        self.revert_in = revert_in
        self.observers = Observers(*observers)
        if journal is not None:
            self.observers.subscribe(JournalRecorder(journal, plan.change.id, actor))
        if progress is not None:
            self.observers.subscribe(ProgressView(progress))
        self.rolling_back = False
        """Set once the rollout stops: from then on a signal no longer interrupts (see Interrupts)."""
        self._prepared: list[RunEvent] = []
        self.lock = threading.Lock()
        self.changing = [h.host for h in plan.hosts if h.changes]
        self.outcomes = {h.host: HostOutcome(host=h.host) for h in plan.hosts}
        self.commit_order: list[list[str]] = []
        self.first_failure: float | None = None
        self.active: set[str] = set()
        """Hosts whose apply task is running: a rollback waits for them (they own the session)."""
        self.idle = threading.Condition(self.lock)
        """When the rollout first failed: each rollback reports its time from there to verified."""

    # -- reporting (the observers journal and show it) ---------------------------------------------
    def _report(self, kind: EventKind, host: str | None = None, **data: Any) -> None:
        """One fact, on record before the applier goes on (durable)."""
        self.observers.record([RunEvent(kind, host, data or None)], durable=True)

    def _report_all(self, events: Sequence[RunEvent], *, durable: bool = True) -> None:
        """Facts that belong together (one journal transaction: one disk sync instead of one each).

        ``durable=False`` for facts that recovery can do without: what follows a commit (a host
        with ``commit_started`` and no outcome is restored from its snapshot anyway).
        """
        self.observers.record(events, durable=durable)

    def _status(self, host: str, status: HostStatus, detail: str = "") -> None:
        self.outcomes[host].status = status
        self.observers.host_status(host, status, detail)

    def _driver(self, task: Task) -> DriverProtocol:
        return session(task)

    def _run(self, hosts: Sequence[str], task: Any, name: str) -> None:
        run_in_order(self.nr, hosts, task, name)

    # -- phase 1: the sessions ----------------------------------------------------------------------
    def _prepare(self, task: Task) -> Result:
        """Open the host's session (login, reachability): nothing is read (the snapshot is taken at
        the host's turn, :meth:`_read_snapshot`). A host that cannot be reached fails here."""
        hp = self.plan.host(task.host.name)
        self._status(hp.host, HostStatus.CHECKING, "opening the session")
        try:
            self._driver(task)
            fail_point("apply.prepare", host=hp.host)  # the session open, nothing read
            self._status(hp.host, HostStatus.WAITING, "session open")
            return Result(host=task.host)
        except Exception as exc:  # any driver failure: this host is not ready, nothing was changed
            failure = self.outcomes[hp.host].failure = HostFailure.of(exc)
            with self.lock:
                self._prepared.append(RunEvent(EventKind.PREPARE_FAILED, hp.host, {"error": failure.text}))
            self._status(hp.host, HostStatus.FAILED, failure.text)
            return Result(host=task.host, failed=True)

    def _drifted_lines(self, driver: DriverProtocol, hp: HostPlan, running: str) -> list[str]:
        """The lines that differ from the planned state, which the planning process kept in the
        snapshot store under the plan's own hash; none when it is not there (a plan made elsewhere)."""
        try:
            planned = self.snapshots.load(hp.running_hash)
        except (NetchangeError, OSError, ValueError):
            return []
        return changed_lines(planned, normalize(driver, running))

    def _read_snapshot(self, driver: DriverProtocol, hp: HostPlan, pending: list[RunEvent]) -> str:
        """At the host's turn, under its lock: read the running state once. It is the drift check
        (refused unless it is the planned state: :class:`DriftDetected`, nothing written) and the
        snapshot, stored on disk here and journaled with ``commit_started``. The load, the compare
        and the commit that follow are computed from this very reading (a CLI driver commits on
        it without reading again while it is less than its reuse window old)."""
        running = driver.get_config(retrieve="running")["running"]
        if text_hash(normalize(driver, running)) != hp.running_hash:
            pending.append(RunEvent(EventKind.DRIFT, hp.host, {"planned": hp.running_hash}))
            lines = self._drifted_lines(driver, hp, running)
            raise DriftDetected(f"{hp.host}: running state differs from the plan's, not committed"
                                + (f": {brief_lines(lines)}" if lines else ""))
        sha = self.snapshots.save(running)
        self.outcomes[hp.host].snapshot = sha
        fail_point("apply.snapshot", host=hp.host)  # the snapshot on disk, not yet journaled
        return sha

    # -- phase 2: the rollout ----------------------------------------------------------------------
    def _apply_host(self, task: Task) -> Result:
        # A worker that starts once the rollout is stopping does not begin: Ctrl-C may land
        # between a batch's submission and its worker's start, and ``_wait_idle`` would not wait
        # for a host it has not seen, nor would the rollback include a commit made after it chose.
        # The check and the registration are one step under the lock ``_wait_idle`` reads under.
        with self.lock:
            if self.rolling_back:
                return Result(host=task.host)
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
                self.observers.message("still finishing the host(s) in flight, then rolling back")

    def _apply_host_steps(self, task: Task) -> Result:
        hp = self.plan.host(task.host.name)
        out = self.outcomes[hp.host]
        pending: list[RunEvent] = []
        try:
            driver = self._driver(task)
            self._status(hp.host, HostStatus.COMMITTING)
            fail_point("apply.read", host=hp.host)  # under the lock at its turn, about to read the snapshot
            sha = self._read_snapshot(driver, hp, pending)
            by_commit = _commit_checks_state(driver)
            fail_point("apply.load", host=hp.host)  # about to load the candidate and compare
            self._load_and_compare(driver, hp)
            if by_commit:
                self._check_state_checked(driver, hp)
            confirmed = supports_confirmed_commit(hp.platform)
            fail_point("apply.commit_started", host=hp.host)  # loaded; snapshot, commit_started not journaled
            # The snapshot and commit_started in one durable transaction: recover has the snapshot
            # of every host whose commit may have started.
            self._report_all([RunEvent(EventKind.SNAPSHOT, hp.host, {"sha": sha}),
                              RunEvent(EventKind.COMMIT_STARTED, hp.host, {"confirmed": confirmed})])
            out.commit_started = True
            fail_point("apply.commit", host=hp.host)  # commit_started on record, about to commit
            try:
                if confirmed:
                    driver.commit_config(message=self.plan.change.id, revert_in=self.revert_in)
                    out.confirmed_pending = True
                else:
                    driver.commit_config(message=self.plan.change.id)
            except ChangedMeanwhile as exc:
                self._commit_refused(driver, out, exc)
                if by_commit:  # the commit's re-read was the check at the host's turn: drift
                    raise DriftDetected(f"{hp.host}: changed since it was checked, not committed: "
                                        f"{brief_lines(list(exc.lines))}") from exc
                raise
            out.committed = True
            fail_point("apply.committed", host=hp.host)  # the device committed, nothing more journaled
            # What follows the commit is journaled in one transaction once the host is done:
            # commit_started (above, on its own) is what recovery needs; a crash before this
            # batch leaves a host that recovery restores from its snapshot.
            pending.append(RunEvent(EventKind.COMMITTED, hp.host))
            self._status(hp.host, HostStatus.POST_CHECKS)
            checks = self._post_checks(task, hp, driver)
            out.post_checks = [c.model_dump() for c in checks]
            fail_point("apply.post_checks", host=hp.host)  # post-checks ran, their outcome not kept
            # The state the change left, kept for a later restore (recover, rollback on request):
            # what differs from it then is someone else's, never to be erased.
            after_sha = self.snapshots.save(out.after_text) if out.after_text is not None else None
            pending.append(RunEvent(EventKind.POST_CHECKS, hp.host, {"checks": out.post_checks, "after": out.after_hash,
                                                             "after_sha": after_sha}))
            failed = [f"{c.name}: {c.detail}" if c.detail else c.name for c in checks if not c.passed]
            if failed:
                raise PostCheckFailed(f"post-check failed: {', '.join(failed)}")
            if confirmed:
                fail_point("apply.confirm", host=hp.host)  # about to confirm the confirmed commit
                driver.confirm_commit()
                out.confirmed_pending = False
            pending.append(RunEvent(EventKind.CONFIRMED, hp.host,
                                    {"after": out.after_hash, "confirmed_commit": confirmed}))
            saved = self._save(driver, hp)
            if saved is not None:
                pending.append(RunEvent(EventKind.SAVED, hp.host, saved.event_data()))
            fail_point("apply.confirmed", host=hp.host)  # done on the device, about to journal it
            self._report_all(pending, durable=False)
            fail_point("apply.host_done", host=hp.host)  # the host's outcome journaled
            self._status(hp.host, HostStatus.DONE, f"{len(checks)} post-check(s) passed{_saved_note(saved)}")
            return Result(host=task.host, changed=True)
        except (Exception, KeyboardInterrupt) as exc:
            # Any failure of the host's steps, and a Ctrl-C that reached this worker, lead to the
            # rollback. SystemExit is not caught: an abort leaves the change for ``recover``.
            return self._host_failed(task, out, HostFailure.of(exc), pending)

    def _save(self, driver: DriverProtocol, hp: HostPlan) -> SaveReport | None:
        """Verified (and confirmed): make the running state the one the device starts from, where
        the platform keeps one apart (its profile's ``save``), and read it back (issue 21 item 4).
        A failed save is recorded and shown, never raised: the change is verified and stays."""
        fail_point("save.apply.before", host=hp.host)  # verified and confirmed, about to save
        report = save_running(driver, hp.platform)
        fail_point("save.apply.after", host=hp.host)  # saved (or not), not yet journaled
        return report

    def _commit_refused(self, driver: DriverProtocol, out: HostOutcome, exc: ChangedMeanwhile) -> None:
        """The driver read the device again just before the write and found someone else's lines:
        nothing was written. On record at once (``commit_refused``, durable): the host is no longer
        one whose commit started, so neither apply's rollback nor ``recover`` restores it (a
        restore would find the other hand's lines and alarm, or erase them); it is drift."""
        out.commit_refused = True
        _discard_quietly(driver)
        fail_point("apply.commit_refused", host=out.host)  # refused, nothing written, not yet journaled
        self._report(EventKind.COMMIT_REFUSED, out.host, error=HostFailure.of(exc).text, lines=list(exc.lines))
        out.commit_started = False

    def _host_failed(self, task: Task, out: HostOutcome, failure: HostFailure, pending: list[RunEvent]) -> Result:
        out.failed_at = time.monotonic()
        with self.lock:
            self.first_failure = self.first_failure or out.failed_at
        out.failure = failure
        fail_point("apply.host_failed", host=out.host)  # the host failed, about to journal it
        self._report_all([*pending, RunEvent(EventKind.HOST_FAILED, out.host, {"error": failure.text})], durable=False)
        self._status(out.host, HostStatus.FAILED, failure.text)
        return Result(host=task.host, failed=True)

    def _check_unchanged(self, driver: DriverProtocol, hp: HostPlan) -> None:
        """The state this host is committed on is the planned one: read it again now.

        Called when the driver's state checked is not the reading made at the host's turn (its
        load or compare read the device again, or it cannot say): a line pushed out of band since
        would otherwise be committed over unseen, and erased by any later restore. The commit
        that follows computes its lines from this very reading.
        """
        running = driver.get_config(retrieve="running")["running"]
        if text_hash(normalize(driver, running)) == hp.running_hash:
            return
        try:
            checked = self.snapshots.load(self.outcomes[hp.host].snapshot)
            lines = changed_lines(normalize(driver, checked), normalize(driver, running))
        except NetchangeError:
            lines = []
        raise DriftDetected(f"{hp.host}: changed since it was checked, not committed"
                            + (f": {brief_lines(lines)}" if lines else ""))

    def _check_state_checked(self, driver: DriverProtocol, hp: HostPlan) -> None:
        """For a driver whose commit reads the device again and refuses unless it is the state
        checked (:attr:`~netchange.drivers.contract.DriverFeatures.commit_checks_state`): that state,
        from which the candidate was just compared, must be the planned one. It is the reading
        made at the host's turn (same session, under the lock) unless the driver read the device
        again; then, or when the driver cannot say, the device is read here as for any other driver.

        The commit then checks the device against that state (the CLI drivers: with no reading of
        their own while it is less than their reuse window old): read, configure, read back.
        """
        state = _checked_state(driver)
        if state is None or text_hash(normalize(driver, state)) != hp.running_hash:
            self._check_unchanged(driver, hp)

    def _load_and_compare(self, driver: DriverProtocol, hp: HostPlan) -> None:
        """Load the approved candidate; refuse unless the device's diff is the approved one.

        A session that dies here (EOF, closed socket, sshd gone) is a lost device, whatever the
        driver made of it (a driver may answer a diff it could not compute): said so, not drift.
        The driver says so by raising :class:`~netchange.errors.DeviceLost` (NAPALM's drivers
        through the boundary's translation), or its ``is_alive()`` says so afterwards.
        """
        try:
            driver.load_merge_candidate(config=hp.candidate)
            diff = driver.compare_config()
        except DeviceLost as exc:
            raise SessionClosed(f"{hp.host}: device lost while comparing the candidate: "
                                f"{HostFailure.of(exc).text}") from exc
        except NetchangeError:
            raise
        except Exception as exc:
            text = HostFailure.of(exc).text
            if not _alive(driver):
                raise SessionClosed(f"{hp.host}: device lost while comparing the candidate: {text}") from exc
            raise CommitFailed(f"{hp.host}: the candidate could not be compared: {text}") from exc
        if diff.strip() == hp.diff.strip():
            return
        _discard_quietly(driver)
        if not _alive(driver):
            raise SessionClosed(f"{hp.host}: device lost while comparing the candidate (session closed)")
        unavailable = next((line for line in diff.splitlines() if line.startswith("# prediction unavailable")), None)
        if unavailable:
            raise CommitFailed(f"{hp.host}: the candidate could not be compared ({unavailable[2:]})")
        raise DriftDetected(f"{hp.host}: the diff is no longer the approved one")

    def _post_checks(self, task: Task, hp: HostPlan, driver: DriverProtocol) -> list[Any]:
        running = driver.get_config(retrieve="running")["running"]
        self.outcomes[hp.host].after_hash = text_hash(normalize(driver, running))
        self.outcomes[hp.host].after_text = running
        checks = []
        for change_type, ctx in plan_contexts(self.plan, hp, driver=driver, running=running,
                                              data=dict(task.host.items())):
            checks.extend(change_type.post_checks(ctx))
        return checks

    # -- phase 3: rollback -------------------------------------------------------------------------
    def _restore_target(self, host: str) -> RestoreTarget:
        out = self.outcomes[host]
        # The driver's own inverse is only trusted inside the session that made a complete commit.
        task_host = self.nr.inventory.hosts[host]
        return RestoreTarget(host=host, snapshot=out.snapshot, after=out.after_text, diff=self.plan.host(host).diff,
                             in_session=out.committed and CONNECTION_NAME in task_host.connections,
                             checks=restored_checks(self.plan, self.plan.host(host)))

    def restore_started(self, host: str) -> None:
        """:class:`netchange.rollback.runner.RestoreObserver`: the live table shows the host rolling back."""
        self._status(host, HostStatus.ROLLING_BACK)

    def restore_finished(self, host: str, report: RestoreReport) -> None:
        """:class:`netchange.rollback.runner.RestoreObserver`: report the restore, set the host's status."""
        out = self.outcomes[host]
        out.restore = report
        # Journaled with its outcome in one transaction: a crash in between is covered anyway
        # (commit_started without rollback_verified is what ``recover`` restores).
        since_failure = time.monotonic() - self.first_failure if self.first_failure else None
        since = f", {since_failure:.2f}s after the failure" if since_failure is not None else ""
        self._report_all(restore_events(host, report, since_failure=None if since_failure is None
                                        else round(since_failure, 3)), durable=False)
        fail_point("apply.restored", host=host)  # the automatic rollback of this host journaled
        # The cause stays in the host's line: "restored" alone would hide why it was undone.
        cause = f"{out.error} → " if out.error else ""
        if report.verified:
            self._status(host, HostStatus.RESTORED, f"{cause}restored, verified in {report.seconds:.2f}s{since}")
        else:
            self._status(host, HostStatus.ALARM, cause + "; ".join(report.errors))

    def _to_roll_back(self, on_failure: OnFailure) -> list[str]:
        """Hosts to restore, newest change first (the canary last)."""
        touched = [h for batch in self.commit_order for h in batch if self.outcomes[h].commit_started]
        if on_failure is OnFailure.STOP:
            return []
        if on_failure is OnFailure.ROLLBACK_FAILED:
            touched = [h for h in touched if self.outcomes[h].status is HostStatus.FAILED]
        return touched[::-1]

    # -- the whole run ----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Phase 1: open every session (in parallel); refuse the change if a host cannot be reached.
        Reads nothing, changes nothing: each host is read (snapshot and drift check) at its turn."""
        for h in self.plan.hosts:
            if not h.changes:
                self._status(h.host, HostStatus.NO_CHANGE)
        self._report(EventKind.APPLY_STARTED, plan_hash=self.plan.plan_hash, hosts=self.changing)
        self._run(self.changing, self._prepare, "prepare")
        if self._prepared:
            self._report_all(sorted(self._prepared, key=lambda e: self.changing.index(e.host or "")))
        fail_point("apply.prepared")  # every session open, nothing read, nothing committed
        not_ready = [h for h in self.changing if self.outcomes[h].status is HostStatus.FAILED]
        if not_ready:
            self._report(EventKind.APPLY_REFUSED, hosts=not_ready)
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
                if any(self.outcomes[h].status is HostStatus.FAILED for h in batch):
                    break
        except KeyboardInterrupt:
            interrupted = True
            self.rolling_back = True
            self.first_failure = self.first_failure or time.monotonic()
            self.observers.message("interrupted: rolling back")
            self._wait_idle()
            self._report(EventKind.INTERRUPTED)
        self.rolling_back = True
        failed = [h for h in self.changing if self.outcomes[h].status is HostStatus.FAILED]
        if not failed and not interrupted:
            self._report(EventKind.APPLY_FINISHED, outcome=ChangeOutcome.COMPLETED.value)
            return ApplyOutcome(change.id, ChangeOutcome.COMPLETED, self.outcomes)
        for host in self.changing:
            if self.outcomes[host].status is HostStatus.WAITING:
                self._status(host, HostStatus.SKIPPED, "rollout stopped")
        # One pass, started newest first: batches were a pace for going forward; waiting for each
        # to finish before undoing the next would only leave the network changed for longer.
        back = self._to_roll_back(change.on_failure)
        fail_point("apply.rollback")  # the rollout stopped, about to roll back
        run_restores(self.nr, [self._restore_target(h) for h in back], snapshots=self.snapshots, observer=self)
        alarms = [h for h in back if self.outcomes[h].status is HostStatus.ALARM]
        left = [h for h in self.changing if self.outcomes[h].commit_started and self.outcomes[h].restore is None]
        outcome = ChangeOutcome.FAILED if alarms or left else ChangeOutcome.ROLLED_BACK
        fail_point("apply.rolled_back")  # every restore journaled, apply_finished not yet
        refused: dict[str, Any] = {"commit_refused": [h for h in failed if self.outcomes[h].commit_refused]}
        self._report(EventKind.APPLY_FINISHED, outcome=outcome.value, failed=failed, alarms=alarms, left_changed=left,
                     **(refused if refused["commit_refused"] else {}))
        result = ApplyOutcome(change.id, outcome, self.outcomes, interrupted=interrupted, alarms=alarms)
        if result.refused_for_drift:  # refused for drift, nothing changed anywhere: exit 3
            drifted = [h for h in failed if self.outcomes[h].drifted]
            self.observers.message(f"drift from the plan on {', '.join(drifted)}: "
                                   "nothing was changed on any host; plan again")
        return result

    def close(self) -> None:
        self.nr.close_connections(on_good=True, on_failed=True)


class Interrupts:
    """What SIGINT, SIGTERM and SIGHUP do during an apply (installed by the command line).

    Before the rollback: the first signal stops the rollout like Ctrl-C always did (in-flight
    hosts finish their step, every host changed is rolled back and verified). SIGTERM and SIGHUP
    (a closed terminal, a service manager stopping the job) do the same: a terminated apply
    never leaves devices changed without trying to restore them.
    During the rollback: the next signal is refused with a message (stopping now would leave
    devices changed); the one after that aborts at once, leaving the change ``in_progress``
    and its journal locks in place, for ``netchange recover`` (the device locks die with the
    process, so recover can take them).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self, applier: Applier, say: Callable[[str], None], *,
                 abort: Callable[[int], None] = os._exit) -> None:
        self.applier = applier
        self.say = say
        self.abort = abort
        self.refused = 0

    def handle(self, signum: int, frame: object) -> None:
        if not self.applier.rolling_back:
            self.applier.rolling_back = True
            raise KeyboardInterrupt
        self.refused += 1
        if self.refused == 1:
            self.say(f"{signal.Signals(signum).name} refused: rolling back; stopping now would leave devices "
                     "changed (once more aborts, and leaves the change for 'netchange recover')")
            return
        self.say(f"aborted during the rollback: {self.applier.plan.change.id} stays in_progress; "
                 f"run 'netchange recover {self.applier.plan.change.id}'")
        self.abort(1)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Install the handlers (main thread only) for the ``with`` block; restore the old ones."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self.handle) for s in self.SIGNALS}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def _commit_checks_state(driver: DriverProtocol) -> bool:
    """The driver's commit re-reads the device and refuses unless it is the state checked (see
    :class:`~netchange.drivers.contract.DriverFeatures`); a NAPALM driver does not say so."""
    return bool(getattr(driver, "commit_checks_state", False))


def _checked_state(driver: DriverProtocol) -> str | None:
    """The driver's state checked (:meth:`~netchange.drivers.contract.DriverFeatures.checked_state`)."""
    method = getattr(driver, "checked_state", None)
    state = method() if callable(method) else None
    return state if isinstance(state, str) else None


def _alive(driver: DriverProtocol) -> bool:
    """NAPALM's ``is_alive()``; a driver that cannot tell (base class) is taken as alive."""
    try:
        answer: dict[str, bool] = cast(Any, driver).is_alive()
    except Exception:  # NotImplementedError: the driver does not know
        return True
    return bool(answer.get("is_alive", True))


def _saved_note(saved: SaveReport | None) -> str:
    """What the host's line says of its save (nothing where the platform has none)."""
    if saved is None:
        return ""
    if saved.startup_equals_running:
        return "; saved"
    return f"; NOT SAVED ({saved.error or 'the startup read back differs from running'})"


def _discard_quietly(driver: DriverProtocol) -> None:
    with suppress(Exception):  # the session may be gone; nothing was sent
        driver.discard_config()
