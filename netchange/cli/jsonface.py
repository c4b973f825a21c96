"""The machine-readable face of the command line: one JSON document per invocation, one vocabulary.

Every command's ``--json`` prints exactly one JSON document on stdout (``apply``'s live progress,
when wanted, is ``--json-lines``: one JSON object per line, the summary last). Errors under
``--json`` are documents too (:class:`ErrorDocument`), with the command's exit code.

The same things have the same keys everywhere: ``change_id`` (never ``id`` or ``change``),
``plan_hash`` (never ``hash``), ``hosts`` a list of objects each with its ``name``, ``category``
one of minor/medium/major or ``null``. Each document is a pydantic model below: the command builds
its output through the model (so the output always matches its schema), and the JSON Schemas are
published from the same models (``netchange schema NAME``; ``docs/schemas/NAME.json``, kept
current by ``tests/unit/test_json_face.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from netchange.models import ChangeRequest
from netchange.plan import HostPlan, Plan, Verdict
from netchange.vocabulary import Category

SCHEMA_BASE = "https://netchange.example.net/schemas/"


class Document(BaseModel):
    """Base of the output documents: closed (no key that the schema does not list)."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The error's class: BadRequest, GuardRefused, PlanTampered, UsageError, …")
    exit_code: int = Field(description="The process's exit code: 1 failed, 2 bad input, 3 refused")
    message: str


class ErrorDocument(Document):
    """What any command prints under ``--json`` when it fails before producing its own document."""

    error: ErrorDetail


def error_document(kind: str, exit_code: int, message: str) -> str:
    return ErrorDocument(error=ErrorDetail(type=kind, exit_code=exit_code, message=message)).to_json()


# -- plan -------------------------------------------------------------------------------------


def _fields(model: type[BaseModel], *, without: tuple[str, ...]) -> dict[str, Any]:
    """``model``'s fields as ``create_model`` takes them: the document follows the plan's own model."""
    return {name: (info.annotation, info) for name, info in model.model_fields.items() if name not in without}


HostPlanOut: type[BaseModel] = create_model(
    "HostPlanOut", __config__=ConfigDict(extra="forbid"), __doc__="One host's part of the plan, with its name.",
    name=(str, Field(description="The host's inventory name")),
    **_fields(HostPlan, without=("host",)),
)


class PlanFields(Document):
    """What ``plan --json`` adds to the plan document (``PlanDocument`` holds both)."""

    change_id: str
    request: ChangeRequest
    hosts: list[HostPlanOut]
    verdict: Verdict = Field(description="The exit code and why (a CI job's gate)")
    recorded: bool = Field(description="Stored in the plan store and the journal (approvable)")
    offline: str | None = Field(description="The stored configurations planned against, or null (live)")


PlanDocument: type[Document] = create_model(
    "PlanDocument", __base__=PlanFields,
    __doc__="``netchange plan --json``: the plan document, in the common vocabulary.",
    **_fields(Plan, without=("change", "hosts")),
)


def plan_document(plan: Plan, verdict: Verdict, *, recorded: bool, offline: str | None) -> Document:
    data: dict[str, Any] = json.loads(plan.model_dump_json())
    change = data.pop("change")
    hosts = [{"name": h.pop("host"), **h} for h in data.pop("hosts")]
    return PlanDocument.model_validate({
        **data, "change_id": change["id"], "request": change, "hosts": hosts,
        "verdict": verdict.model_dump(mode="json"), "recorded": recorded, "offline": offline,
    })


# -- apply, rollback, recover ------------------------------------------------------------------


class RestoreOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verified: bool
    strategies: list[str]
    seconds: float
    errors: list[str]
    causes: list[str] = []
    """The cause of each of :attr:`errors`, in the same order (``FailureCause`` values: what a
    script branches on rather than parsing the sentences)."""
    cause: str | None = None
    """Why the restore did not verify (the last failure's cause); ``None`` when it verified."""
    checks: list[dict[str, Any]] = []
    """The change types' restored checks: the network back, not only the configuration."""


class HostRunOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    status: str
    error: str = ""
    post_checks: list[dict[str, Any]] = []
    restore: RestoreOut | None = None


class RunDocument(Document):
    """``netchange apply|rollback|recover --json``: how the run ended, host by host."""

    change_id: str
    command: Literal["apply", "rollback", "recover"]
    outcome: str = Field(description="completed | rolled_back | failed (the change's state afterwards); "
                               "approved: a recover that released the locks of an apply killed before its rollout; "
                               "no_change: an apply of a plan with no change (nothing sent; the change is closed)")
    exit_code: int
    interrupted: bool = False
    alarms: list[str] = Field(description="Hosts whose restore could not be verified: act now")
    hosts: list[HostRunOut]


def restore_out(report: Any) -> RestoreOut:
    cause = report.cause
    return RestoreOut(verified=report.verified, strategies=list(report.strategies),
                      seconds=round(report.seconds, 3), errors=list(report.errors),
                      causes=[str(c) for c in report.causes],
                      cause=None if report.verified or cause is None else str(cause),
                      checks=list(report.checks))


# -- approvals and closing ---------------------------------------------------------------------


class ApprovalDocument(Document):
    """``netchange approve --json``."""

    change_id: str
    plan_hash: str
    decision: Literal["approved", "rejected"]
    approver: str
    comment: str
    approvals: str = Field(description="What the approvals now cover, in words")
    approvals_complete: bool
    state: str


class CloseDocument(Document):
    """``netchange close --json``."""

    change_id: str
    closed: bool
    still_to_close: list[str]
    state: str


# -- the record --------------------------------------------------------------------------------


class ChangeRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change_id: str
    title: str
    state: str
    category: Category | None
    outcome: str | None
    emergency: str | None
    sites: list[str]
    hosts: list[dict[str, str]] = Field(description="Each with its name")
    plan_hash: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ChangeListDocument(Document):
    """``netchange list --json``."""

    changes: list[ChangeRow]


class ShowDocument(Document):
    """``netchange show --json``: the tracking sheet's data."""

    model_config = ConfigDict(extra="allow")

    change_id: str
    plan_hash: str | None
    title: str
    state: str
    category: Category | None
    hosts: list[dict[str, Any]] = Field(description="The current plan's hosts, each with its name")


def show_document(sheet: dict[str, Any]) -> ShowDocument:
    """The tracking sheet's data in the common vocabulary: ``change_id``, ``plan_hash``, hosts with a name."""
    data = dict(sheet)
    change_id = data.pop("id")
    plan = data.get("plan")
    hosts: list[dict[str, Any]] = []
    if isinstance(plan, dict):
        plan = dict(plan)
        plan["plan_hash"] = plan.pop("hash")
        hosts = [{"name": h.get("host"), **{k: v for k, v in h.items() if k != "host"}} for h in plan.pop("hosts", [])]
        data["plan"] = plan
    return ShowDocument.model_validate({**data, "change_id": change_id,
                                        "plan_hash": plan["plan_hash"] if isinstance(plan, dict) else None,
                                        "hosts": hosts})


class JournalVerifyDocument(Document):
    """``netchange journal verify --json``."""

    intact: bool
    events: int
    head: str
    heads_checked: int
    problems: list[str]
    key: str = Field("", description="Where the journal key was found (a file, or $NETCHANGE_JOURNAL_KEY)")
    key_in_state_dir: bool = Field(False, description="The key is in the state directory: its owner can read it")
    anchors: str | None = Field(None, description="The file where this journal's heads are kept outside the state"
                                                  " directory (null: none kept)")
    anchored_heads: int = Field(0, description="How many heads kept there were compared")
    proves: str = Field("", description="What this verify proves in the layout in use")
    cannot_prove: str = Field("", description="What it cannot prove in that layout, and why")


class LabStatusDocument(Document):
    """``netchange lab status --json``."""

    running: bool
    healthy: bool
    problems: list[str]
    hosts: list[dict[str, str]] = Field(description="Each lab device: name, component, state")


class LabComponentOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    started: bool
    seconds: float | None = Field(description="How long its start took; null when skipped or already running")
    skipped: str | None = Field(description="Why it was not started (a missing program), or null")


class LabUpDocument(Document):
    """``netchange lab up --json``: what started, how long it took, and the inventory it wrote."""

    already_running: bool
    components: list[LabComponentOut]
    hosts: list[dict[str, str]] = Field(description="The lab's devices, each with its name")
    seconds: float = Field(description="The whole start-up (0 when the lab was already running)")
    inventory: str = Field(description="The Nornir configuration file written (NETCHANGE_NORNIR_CONFIG)")


class LabDownDocument(Document):
    """``netchange lab down --json`` (exit 1 when something is left)."""

    killed: list[int] = Field(description="The process ids stopped")
    namespaces: list[str] = Field(description="The network namespaces deleted")
    leftovers: list[str] = Field(description="What is still there after teardown (empty when all went away)")
    errors: list[str] = Field(description="Steps that failed (each alone: the others were still done)")
    seconds: float
    exit_code: int


class ReportDocument(Document):
    """``netchange report --json``: where the report went (its text is the file's)."""

    target: str
    format: str
    output: str | None
    text: str | None = Field(description="The report itself when no --output file was given")


# -- notifications, policy, journal, version ---------------------------------------------------


class MailRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(description="The mail's number in the outbox")
    change_id: str
    notice: str
    to: list[str] = Field(description="The recipients' logins")
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    subject: str


class NotifyStatusDocument(Document):
    """``netchange notify status --json``: the outbox."""

    mails: list[MailRow]


class NotifyFlushDocument(Document):
    """``netchange notify flush --json``: what was queued and sent now (exit 1 when a mail failed)."""

    queued: int
    sent: int
    failed: list[str] = Field(description="Why each failed mail was not delivered")
    abandoned: int
    exit_code: int


class PolicyRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    digest: str
    path: str


class PinnedPolicy(PolicyRef):
    by: str = Field(description="Who pinned or adopted it")
    how: str = Field(description="How it came in force (the journal event's kind)")


class PolicyStatusDocument(Document):
    """``netchange policy status --json``."""

    pinned: PinnedPolicy | None = Field(description="The policy in force in the journal; null before first use")
    given: PolicyRef = Field(description="The policy file this invocation was given")
    in_force: bool


class PolicyAdoptDocument(Document):
    """``netchange policy adopt --json``."""

    pinned: PinnedPolicy
    previous: PinnedPolicy | None
    changed: bool = Field(description="False when the policy given was already in force")


class JournalHeadDocument(Document):
    """``netchange journal head --json``: the chain's head, to anchor it elsewhere."""

    seq: int
    head: str


class JournalMigrateDocument(Document):
    """``netchange journal migrate --json``."""

    keyed_from: int = Field(description="The event from which the chain is keyed")


class UserPasswordDocument(Document):
    """``netchange users set-password --json``."""

    login: str
    accounts_file: str


class UserTokenDocument(Document):
    """``netchange users token --json``: the new token (shown once, only its hash is kept), or how many were revoked."""

    login: str
    token: str | None = Field(description="The new API token; null when revoking")
    revoked: int | None = Field(description="How many tokens were revoked; null when creating one")


class TypeRow(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    summary: str
    distribution: str = Field(description="The installed distribution that provides it, or 'registered'")
    class_: str = Field(alias="class", description="module:qualname of the change type")
    perimeter: str
    roles: list[str]
    syntaxes: list[str]
    params_schema: dict[str, Any] = Field(description="The JSON Schema of the type's params (from pydantic)")


class TypesDocument(Document):
    """``netchange types --json``: the installed change types."""

    types: list[TypeRow]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True)


class WindowDocument(Document):
    """``netchange window --json``: may a change of this category run there and then, and when next."""

    allowed: bool
    reason: str
    category: Category
    site: str
    start: dt.datetime
    end: dt.datetime
    next_open: dt.datetime | None = Field(description="When it next opens; null if allowed or not within 60 days")
    policy_version: str


class ClassifyReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    category: Category
    paq_item: str = Field(description="The quality plan's item the rule implements")
    description: str
    lines: list[str] = Field(description="Every diff line the rule matched")


class ClassifyDocument(Document):
    """``netchange classify --json``: one diff's category and why."""

    category: Category
    platform: str
    role: str
    unclassified: list[str] = Field(description="Changed lines no rule recognised (they count as major)")
    reasons: list[ClassifyReason]
    rules_version: str


class InventoryHost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    site: str | None
    role: str | None
    platform: str | None
    hostname: str | None
    port: int | None
    ha_peer: str | None
    criticality: str | None


class InventoryDocument(Document):
    """``netchange inventory --json``: the inventory's hosts (never their credentials)."""

    hosts: list[InventoryHost]


class VersionDocument(Document):
    """``netchange version --json``."""

    version: str


DOCUMENTS: dict[str, type[Document]] = {
    "plan": PlanDocument,
    "run": RunDocument,
    "approval": ApprovalDocument,
    "close": CloseDocument,
    "list": ChangeListDocument,
    "show": ShowDocument,
    "journal-verify": JournalVerifyDocument,
    "lab-status": LabStatusDocument,
    "lab-up": LabUpDocument,
    "lab-down": LabDownDocument,
    "report": ReportDocument,
    "notify-status": NotifyStatusDocument,
    "notify-flush": NotifyFlushDocument,
    "policy-status": PolicyStatusDocument,
    "policy-adopt": PolicyAdoptDocument,
    "journal-head": JournalHeadDocument,
    "journal-migrate": JournalMigrateDocument,
    "users-password": UserPasswordDocument,
    "users-token": UserTokenDocument,
    "types": TypesDocument,
    "window": WindowDocument,
    "classify": ClassifyDocument,
    "inventory": InventoryDocument,
    "version": VersionDocument,
    "error": ErrorDocument,
}
"""Each published document by its schema name (``netchange schema NAME``)."""


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the document ``name``."""
    model = DOCUMENTS[name]
    data = model.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{SCHEMA_BASE}{name}.json", **data}


__all__ = ["DOCUMENTS", "ErrorDocument", "PlanDocument", "RunDocument", "error_document", "plan_document", "schema",
           "show_document"]
