"""Plans stored as JSON files by change id and plan hash, and the one way to load them: verified.

``<home>/plans/<change-id>/<plan-hash>.json`` holds the full document; the journal records the
same document (chained) and which hash is the change's current plan. A command that acts on a
plan (approve, apply, rollback, show, report) takes the hash the journal holds as current, never
"the newest file", and :func:`load_verified` refuses, exit 3 in one line (``PlanTampered``):

- a file that is not a regular file, is larger than :data:`MAX_PLAN_BYTES`, or is not a valid
  plan document;
- a document whose content does not hash to its name and its ``plan_hash`` (edited after it
  was made: a category lowered, a candidate changed, a requirement removed);
- a document that differs from the journal's copy of that plan.

Secrets: a stored plan is never scrubbed, because a scrubbed plan could never verify and a
scrubbed candidate must never be pushed. A plan whose text contains a registered secret is
refused by :func:`save` instead (exit 2, naming the fields, never the value).
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from pydantic import ValidationError

from netchange import redact
from netchange.errors import BadRequest
from netchange.journal import Journal
from netchange.plan._document import Plan, PlanTampered, plan_document
from netchange.privatefile import write_private

MAX_PLAN_BYTES = 64 * 1024 * 1024
"""A plan holds every host's candidate and diff: generous, but bounded."""

_HASH = re.compile(r"[0-9a-f]{64}")


class PlanHasSecret(BadRequest):
    """The plan's text would carry a registered secret into the plan store and the journal."""


def _dir(root: Path, change_id: str) -> Path:
    if "/" in change_id or change_id.startswith(".") or not change_id:
        raise BadRequest(f"{change_id!r} is not a change id")
    return root / change_id


def secret_fields(plan: Plan) -> list[str]:
    """Where in ``plan`` a registered secret appears (field paths, never the value)."""
    found = []
    data = plan_document(plan)
    for key, value in data.items():
        if key == "hosts":
            for host in value:
                found += [f"hosts.{host.get('host')}.{k}" for k, v in host.items() if _has_secret(v)]
        elif _has_secret(value):
            found.append(key)
    return found


def _has_secret(value: object) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return redact.scrub(text) != text


def save(root: Path, plan: Plan) -> Path:
    """Write ``plan`` (whose hash must verify) as ``<change-id>/<plan-hash>.json``."""
    plan.verify()
    text = plan.model_dump_json(indent=2)
    if redact.scrub(text) != text:
        raise PlanHasSecret(
            f"{plan.change.id}: the plan would store a secret (in {', '.join(secret_fields(plan)) or 'its text'}); "
            "refused: a secret must not be written into a configuration or a request"
        )
    path = _dir(root, plan.change.id) / f"{plan.plan_hash}.json"
    # Atomic (a crash never leaves half a plan), 0600 in 0700 directories from creation.
    return write_private(path, text)


def _read_bounded(path: Path, what: str) -> str:
    """The text of a regular file of at most ``MAX_PLAN_BYTES`` (no FIFO, device or symlink)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise PlanTampered(f"{what}: the stored plan file is missing ({path.name}); plan again") from None
    except OSError as exc:
        raise PlanTampered(f"{what}: cannot open the stored plan ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise PlanTampered(f"{what}: the stored plan is not a regular file")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_PLAN_BYTES:
            raise PlanTampered(f"{what}: the stored plan is larger than {MAX_PLAN_BYTES // 2**20} MiB")
        data = handle.read(MAX_PLAN_BYTES + 1)
    if len(data) > MAX_PLAN_BYTES:
        raise PlanTampered(f"{what}: the stored plan is larger than {MAX_PLAN_BYTES // 2**20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanTampered(f"{what}: the stored plan is not UTF-8 text") from None


def parse_verified(text: str, *, plan_hash: str, what: str) -> Plan:
    """The plan in ``text`` if it is valid, named ``plan_hash`` and hashes to it; else ``PlanTampered``."""
    try:
        plan = Plan.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise PlanTampered(f"{what}: not a valid plan document ({where}: {first['msg']}); refused") from None
    if plan.plan_hash != plan_hash:
        raise PlanTampered(
            f"{what}: the document says plan {plan.plan_hash[:12]}, the journal {plan_hash[:12]}; refused"
        )
    return plan.verify()


def record(root: Path, journal: Journal, plan: Plan) -> Path:
    """Keep ``plan`` and put it on record: the file first, then the journal's events.

    The one "save then journal" of a plan (``netchange plan``, the test kit, the benchmarks): the
    journal never names a plan whose file could not be written, and a file the journal does not
    name is never current (``current`` goes through the journal).
    """
    path = save(root, plan)
    journal.record_plan(plan, actor=plan.created_by)
    return path


def load_verified(root: Path, change_id: str, plan_hash: str, *, journal_copy: str | None = None) -> Plan:
    """The stored plan ``plan_hash`` of ``change_id``, verified; also against the journal's copy."""
    what = f"{change_id}: plan {plan_hash[:12]}"
    if not _HASH.fullmatch(plan_hash):
        raise BadRequest(f"{change_id}: {plan_hash!r} is not a plan hash")
    plan = parse_verified(
        _read_bounded(_dir(root, change_id) / f"{plan_hash}.json", what), plan_hash=plan_hash, what=what
    )
    if plan.change.id != change_id:
        raise PlanTampered(f"{what}: the stored plan is for {plan.change.id}; refused")
    if journal_copy is not None:
        recorded = parse_verified(journal_copy, plan_hash=plan_hash, what=f"{what} (journal copy)")
        if plan_document(recorded) != plan_document(plan):
            raise PlanTampered(f"{what}: the stored plan differs from the journal's copy; refused")
    return plan


def from_journal(journal: Journal, change_id: str, plan_hash: str | None = None) -> Plan | None:
    """The journal's copy of plan ``plan_hash`` (default: the change's current one), verified.

    ``None`` when the change has no plan (or no plan of that hash); ``PlanTampered`` when the
    recorded document does not match its hash.
    """
    row = journal.require(change_id)
    wanted = plan_hash or row.plan_hash
    if wanted is None:
        return None
    record = journal.plan_record(change_id, wanted)
    what = f"{change_id}: plan {wanted[:12]} (journal copy)"
    if record is None:
        if plan_hash is not None:
            return None
        raise PlanTampered(f"{what}: the journal names it current but holds no such plan; refused")
    plan = parse_verified(record.json, plan_hash=wanted, what=what)
    if plan.change.id != change_id:
        raise PlanTampered(f"{what}: the recorded plan is for {plan.change.id}; refused")
    return plan


def current(root: Path, journal: Journal, change_id: str) -> Plan:
    """The change's current plan as the journal names it: the stored file, verified both ways.

    A team's journal in PostgreSQL (docs/team-setup.md) is shared by machines whose state
    directories are not: a plan made on another machine has no file here, and the journal's copy,
    verified against its hash (which the chained plan event holds), is the plan.
    """
    row = journal.require(change_id)
    if row.plan_hash is None:
        raise BadRequest(f"{change_id}: no plan recorded (run 'netchange plan' first)")
    record = journal.plan_record(change_id, row.plan_hash)
    if record is None:
        raise PlanTampered(f"{change_id}: the journal names plan {row.plan_hash[:12]} but holds no such plan")
    if journal.database is not None and _HASH.fullmatch(row.plan_hash) \
            and not (_dir(root, change_id) / f"{row.plan_hash}.json").exists():
        plan = from_journal(journal, change_id, row.plan_hash)
        if plan is not None:
            return plan
    return load_verified(root, change_id, row.plan_hash, journal_copy=record.json)
