"""How the journal writes values and reads rows: times, canonical JSON, digests, rows to records.

Shared by every part of the journal: what the chain hashes and what verify recomputes must be
written the same way everywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from typing import Any

from netchange import redact
from netchange.journal.records import Approval, ChangeRow, Event, State
from netchange.vocabulary import Category


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ts(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("journal times must be aware")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _scrub(value: Any) -> Any:
    """Scrub secrets from every string inside ``value`` (before it is serialised)."""
    if isinstance(value, str):
        return redact.scrub(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact.scrub(str(value))



def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _loads(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _plan_row_sha(r: sqlite3.Row) -> str:
    """Digest of a whole ``plans`` row: every column a report or the guard may read."""
    return sha256(canonical([r["hash"], r["change_id"], r["category"], r["created_at"], r["created_by"],
                             r["recorded_by"], r["policy_version"], r["rules_version"], r["json"]]))


def _approval_content(a: Approval) -> list[Any]:
    return [
        a.id,
        a.change_id,
        a.plan_hash,
        a.approver,
        a.organisation,
        list(a.roles),
        a.decision,
        a.comment,
        _ts(a.at),
    ]


def _event(r: sqlite3.Row) -> Event:
    return Event(
        seq=int(r["seq"]),
        change_id=r["change_id"],
        at=_dt(r["at"]),
        kind=r["kind"],
        actor=r["actor"],
        host=r["host"],
        data=json.loads(r["data"]),
        hash=r["hash"],
    )


def _approval(r: sqlite3.Row) -> Approval:
    return Approval(
        id=int(r["id"]),
        change_id=r["change_id"],
        plan_hash=r["plan_hash"],
        approver=r["approver"],
        organisation=r["organisation"],
        roles=tuple(x for x in str(r["roles"]).split(",") if x),
        decision=r["decision"],
        comment=r["comment"],
        at=_dt(r["at"]),
    )


def _change(r: sqlite3.Row) -> ChangeRow:
    return ChangeRow(
        id=r["id"],
        title=r["title"],
        ticket=r["ticket"],
        requester=r["requester"],
        category=Category(r["category"]) if r["category"] else None,
        sites=tuple(x for x in str(r["sites"]).split(",") if x),
        state=State(r["state"]),
        outcome=State(r["outcome"]) if r["outcome"] else None,
        plan_hash=r["plan_hash"],
        emergency=r["emergency"],
        created_at=_dt(r["created_at"]),
        updated_at=_dt(r["updated_at"]),
        hosts=tuple(x for x in str(r["hosts"]).split(",") if x),
    )
