"""The plan: building it (never changing a device), the sealed document, its store, views and gates.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.plan._backups import BackupDirectory as BackupDirectory
    from netchange.plan._backups import BackupSource as BackupSource
    from netchange.plan._backups import GitRevision as GitRevision
    from netchange.plan._backups import host_names as host_names
    from netchange.plan._backups import open_source as open_source
    from netchange.plan._backups import strip_rancid_header as strip_rancid_header
    from netchange.plan._build import bind as bind
    from netchange.plan._build import build_plan as build_plan
    from netchange.plan._build import plan_contexts as plan_contexts
    from netchange.plan._build import plan_hosts as plan_hosts
    from netchange.plan._build import restored_checks as restored_checks
    from netchange.plan._build import seal_plan as seal_plan
    from netchange.plan._document import HostPlan as HostPlan
    from netchange.plan._document import Plan as Plan
    from netchange.plan._document import PlanTampered as PlanTampered
    from netchange.plan._document import Rollback as Rollback
    from netchange.plan._document import compute_plan_hash as compute_plan_hash
    from netchange.plan._document import seal as seal
    from netchange.plan._gates import EXIT_CHANGES as EXIT_CHANGES
    from netchange.plan._gates import Verdict as Verdict
    from netchange.plan._gates import precheck_failed as precheck_failed
    from netchange.plan._gates import verdict as verdict
    from netchange.plan._notapplicable import not_applicable_lines as not_applicable_lines
    from netchange.plan._offline import use_stored_configs as use_stored_configs
    from netchange.plan._view import print_plan as print_plan
    from netchange.plan._view import render_document as render_document

_WHERE = {
    "BackupSource": "_backups",
    "BackupDirectory": "_backups",
    "GitRevision": "_backups",
    "HostPlan": "_document",
    "Plan": "_document",
    "PlanTampered": "_document",
    "Rollback": "_document",
    "EXIT_CHANGES": "_gates",
    "Verdict": "_gates",
    "bind": "_build",
    "build_plan": "_build",
    "plan_hosts": "_build",
    "seal_plan": "_build",
    "compute_plan_hash": "_document",
    "host_names": "_backups",
    "not_applicable_lines": "_notapplicable",
    "open_source": "_backups",
    "plan_contexts": "_build",
    "precheck_failed": "_gates",
    "print_plan": "_view",
    "render_document": "_view",
    "restored_checks": "_build",
    "seal": "_document",
    "strip_rancid_header": "_backups",
    "use_stored_configs": "_offline",
    "verdict": "_gates",
}

__all__ = [
    "EXIT_CHANGES",
    "BackupDirectory",
    "BackupSource",
    "GitRevision",
    "HostPlan",
    "Plan",
    "PlanTampered",
    "Rollback",
    "Verdict",
    "bind",
    "build_plan",
    "compute_plan_hash",
    "host_names",
    "not_applicable_lines",
    "open_source",
    "plan_contexts",
    "plan_hosts",
    "precheck_failed",
    "print_plan",
    "render_document",
    "restored_checks",
    "seal",
    "seal_plan",
    "strip_rancid_header",
    "use_stored_configs",
    "verdict",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
