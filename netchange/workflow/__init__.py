"""Changes run as durable workflows on Temporal: a control worker and one worker per site (issue 25).

Selected by ``NETCHANGE_RUNNER=temporal`` (``NETCHANGE_TEMPORAL_ADDRESS``); the in-process runner
stays the default. The pipeline (:mod:`netchange.pipeline`) remains the one sequencing of a change:
its steps run as activities (:mod:`._control` on the control queue, :mod:`._site` on each site's),
ordered by thin workflows (:mod:`._workflows`). docs/team-setup.md, "Temporal", says how to run it.

The package's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.workflow._client import apply_result as apply_result
    from netchange.workflow._client import outcome_of as outcome_of
    from netchange.workflow._client import restore_outcome_of as restore_outcome_of
    from netchange.workflow._client import restore_result as restore_result
    from netchange.workflow._client import run_apply as run_apply
    from netchange.workflow._client import run_plan as run_plan
    from netchange.workflow._client import run_restore as run_restore
    from netchange.workflow._client import run_status as run_status
    from netchange.workflow._client import start_apply as start_apply
    from netchange.workflow._client import start_restore as start_restore
    from netchange.workflow._client import workflow_id as workflow_id
    from netchange.workflow._server import DevServer as DevServer
    from netchange.workflow._server import temporal_binary as temporal_binary
    from netchange.workflow._types import CONTROL_QUEUE as CONTROL_QUEUE
    from netchange.workflow._types import site_queue as site_queue
    from netchange.workflow._worker import WorkerThread as WorkerThread
    from netchange.workflow._workflows import HEARTBEAT as HEARTBEAT
    from netchange.workflow._workflows import ApplyWorkflow as ApplyWorkflow
    from netchange.workflow._workflows import RestoreWorkflow as RestoreWorkflow

_WHERE = {
    "CONTROL_QUEUE": "_types",
    "ApplyWorkflow": "_workflows",
    "DevServer": "_server",
    "HEARTBEAT": "_workflows",
    "RestoreWorkflow": "_workflows",
    "WorkerThread": "_worker",
    "apply_result": "_client",
    "outcome_of": "_client",
    "restore_outcome_of": "_client",
    "restore_result": "_client",
    "run_status": "_client",
    "start_restore": "_client",
    "run_apply": "_client",
    "run_plan": "_client",
    "run_restore": "_client",
    "site_queue": "_types",
    "start_apply": "_client",
    "temporal_binary": "_server",
    "workflow_id": "_client",
}

__all__ = ["CONTROL_QUEUE", "HEARTBEAT", "ApplyWorkflow", "DevServer", "RestoreWorkflow", "WorkerThread",
           "apply_result", "outcome_of", "restore_outcome_of", "restore_result", "run_apply", "run_plan", "run_restore",
           "run_status",
           "site_queue", "start_apply", "start_restore", "temporal_binary", "workflow_id"]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
