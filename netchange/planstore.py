"""Plans stored as JSON files, by change id and plan hash, so approve and apply can find them.

``<home>/plans/<change-id>/<plan-hash>.json``; ``latest`` is the newest by creation time. The
journal records each plan too (its hash and versions); this store keeps the full document.
"""

from __future__ import annotations

from pathlib import Path

from netchange import redact
from netchange.errors import BadRequest
from netchange.plan import Plan
from netchange.privatefile import write_private


def _dir(root: Path, change_id: str) -> Path:
    if "/" in change_id or change_id.startswith("."):
        raise BadRequest(f"{change_id!r} is not a change id")
    return root / change_id


def save(root: Path, plan: Plan) -> Path:
    path = _dir(root, plan.change.id) / f"{plan.plan_hash}.json"
    # Atomic (a crash never leaves half a plan), 0600 in 0700 directories from creation.
    return write_private(path, redact.scrub(plan.model_dump_json(indent=2)))


def load(root: Path, change_id: str, plan_hash: str | None = None) -> Plan:
    directory = _dir(root, change_id)
    if plan_hash:
        path = directory / f"{plan_hash}.json"
        if not path.exists():
            raise BadRequest(f"{change_id}: no plan with hash {plan_hash[:12]}")
        return Plan.model_validate_json(path.read_text())
    plans = [Plan.model_validate_json(p.read_text()) for p in directory.glob("*.json")] if directory.exists() else []
    if not plans:
        raise BadRequest(f"{change_id}: no plan stored (run 'netchange plan' first)")
    return max(plans, key=lambda p: p.created_at)
