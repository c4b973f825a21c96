"""What travels through Temporal between the workflows and the activities: small, JSON-shaped.

Only names, states, hashes and short texts: a plan, a snapshot or a configuration travels as a
blob of the journal's store (:class:`netchange.rollback.SnapshotStore`, the database's ``blobs``
table with a team database) and only its SHA-256 goes through Temporal, whose payloads are
limited to 2 MB. This module imports nothing of netchange: the workflows' sandbox loads it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONTROL_QUEUE = "netchange-control"
"""The control task queue: the workflows and the central activities (the journal's appends, which
only processes holding the HMAC key make; guard, leases, classification, notifications)."""


def site_queue(site: str) -> str:
    """The task queue of one site's device activities (its workers hold that site's credentials only)."""
    return f"netchange-site-{site}"


@dataclass
class ApplyInput:
    change_id: str
    actor: str
    actor_source: str = "os"
    """How the caller named the actor (``os`` or ``override``), as :class:`netchange.policy.Actor` says."""
    now: str | None = None
    """The caller's ``NETCHANGE_NOW`` (honoured only by a policy that allows it)."""
    policy_digest: str = ""
    """The caller's policy: the control worker refuses to judge by another one."""
    emergency: str | None = None
    revert_in: int = 300
    heartbeat_seconds: float = 5.0
    """A device step that has not heartbeaten for this long is presumed dead (its worker killed or
    cut off): the bound on the time from a worker's death to its host's reconciliation."""
    affinity_seconds: float = 20.0
    """How long a host's next step waits for the worker holding its session to pick it up."""


@dataclass
class WireEvent:
    """A :class:`netchange.apply.RunEvent` on the wire (the journal's words)."""

    kind: str
    host: str | None = None
    data: dict[str, Any] | None = None


@dataclass
class RecordInput:
    """Facts a device activity reports, journaled by the control worker before it goes on."""

    events: list[WireEvent]
    durable: bool = True


@dataclass
class HostResult:
    """One host's outcome as a device activity left it (:class:`netchange.apply.HostOutcome`)."""

    host: str
    status: str = "waiting"
    error: str = ""
    error_type: str = ""
    snapshot: str = ""
    commit_started: bool = False
    commit_refused: bool = False
    committed: bool = False
    confirmed_pending: bool = False
    post_checks: list[dict[str, Any]] = field(default_factory=list)
    after_hash: str = ""
    restore: dict[str, Any] | None = None
    """The restore's report (:class:`netchange.rollback.RestoreReport`'s fields), if restored."""
    events: list[WireEvent] = field(default_factory=list)
    """Facts the control worker journals with the step's end (the prepare phase's, in host order)."""
    queue: str = ""
    """The task queue of the worker that holds this host's session (its later steps go there)."""
    lost: str = ""
    """Why the worker acting on this host was presumed dead (a heartbeat or start timeout)."""


@dataclass
class DeviceInput:
    """What a device activity needs: the change, its plan (by blob), the host, the fence."""

    change_id: str
    host: str
    actor: str
    plan_hash: str
    plan_blob: str
    workflow_id: str
    revert_in: int = 300
    snapshot: str = ""
    tokens: dict[str, int] = field(default_factory=dict)
    """Device identity → fencing token (empty with OS locks: nothing to check)."""
    names: dict[str, str] = field(default_factory=dict)
    ttl: float = 60.0


@dataclass
class Opened:
    """The end of ``apply_open``: the change locked and guarded, or closed as it had nothing to do."""

    closed: ApplyResult | None = None
    plan_hash: str = ""
    plan_blob: str = ""
    sites: dict[str, str] = field(default_factory=dict)
    """Changing host → its site."""
    batches: list[list[str]] = field(default_factory=list)
    on_failure: str = "rollback_all"
    tokens: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    ttl: float = 60.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class StepInput:
    """A control step over the hosts' results (prepared, what to roll back, finish)."""

    change_id: str
    actor: str
    results: list[HostResult] = field(default_factory=list)
    commit_order: list[list[str]] = field(default_factory=list)
    interrupted: bool = False
    on_failure: str = "rollback_all"


@dataclass
class ApplyResult:
    """The end of an apply workflow (:class:`netchange.apply.ApplyOutcome`)."""

    change_id: str
    outcome: str
    hosts: list[HostResult] = field(default_factory=list)
    interrupted: bool = False
    alarms: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Measured by the workflow's clock: ``lost_to_compensation`` (a worker presumed dead → its
    host's reconciliation started), ``lost_to_verified`` (→ that host verified as its snapshot)."""


@dataclass
class RestoreInput:
    """A rollback on request or a recover (:class:`netchange.pipeline.RestoreMode`) as a workflow."""

    change_id: str
    actor: str
    mode: str
    actor_source: str = "os"
    now: str | None = None
    policy_digest: str = ""
    emergency: str | None = None
    heartbeat_seconds: float = 5.0


@dataclass
class RestoreTargetRef:
    """One host to bring back: what the journal says the last apply did to it (hashes only)."""

    host: str
    site: str
    snapshot: str = ""
    after_sha: str = ""
    after_hash: str = ""
    confirmed_commit: bool = False


@dataclass
class RestoreOpened:
    """The end of ``restore_open``: the change locked and checked; its targets."""

    state: str = ""
    targets: list[RestoreTargetRef] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    """Recover of an apply killed before its rollout: the hosts whose journal locks it left."""
    plan_hash: str = ""
    plan_blob: str = ""
    """The plan the last apply ran (its diffs tell the change's lines; its restored checks)."""
    tokens: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    ttl: float = 60.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestoreStep:
    change_id: str
    actor: str
    mode: str
    results: list[HostResult] = field(default_factory=list)
    targets: list[RestoreTargetRef] = field(default_factory=list)


@dataclass
class RestoreResult:
    """The end of a restore workflow (:class:`netchange.pipeline.RestoreOutcome`)."""

    change_id: str
    outcome: str | None
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    already: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    differing: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class PlanInput:
    """A plan's device reads, fanned out to the sites (``plan:<change id>``)."""

    change_id: str
    request_blob: str
    """The change request (its JSON), a blob of the journal's store."""
    sites: dict[str, list[str]] = field(default_factory=dict)
    """Site → its hosts, in the plan's order."""
    heartbeat_seconds: float = 5.0


@dataclass
class SitePlanned:
    """One site's hosts planned: their :class:`netchange.plan.HostPlan` list as a blob."""

    site: str
    blob: str
    rules_digest: str
