"""The JSON API: list, show, approve, reject; apply, rollback, recover and follow the run — for the CLI
and other tools.

Authenticated by a per-person bearer token (``netchange users token NAME``), never by the
browser's cookie: a page cannot be made to call it (no CSRF on the API because no ambient
credential reaches it). The JSON is the CLI's ``--json`` vocabulary: ``change_id`` (never
``id``), ``plan_hash``, ``hosts`` (a list). ``GET /api/changes`` is paged by an opaque cursor.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from netchange import redact
from netchange.errors import BadRequest, GuardRefused, NetchangeError, StateConflict
from netchange.guard import status_of_plan, who_may_approve
from netchange.journal import ChangeRow
from netchange.plan import store as planstore
from netchange.policy import Policy, seen_by_directory
from netchange.report.sheet import build_sheet
from netchange.service import auth, timeline
from netchange.service.decide import PlanChanged, decide

if TYPE_CHECKING:
    from netchange.config import Settings
    from netchange.policy import Actor

router = APIRouter(prefix="/api")


class ApiUnauthorized(Exception):
    """No valid bearer token."""


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_hash: str = Field(max_length=64)
    comment: str = Field(default="", max_length=2000)


def api_login(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiUnauthorized
    service = auth.service_of(request)
    login = service.accounts().token_owner(token.strip())
    if login is None:
        raise ApiUnauthorized
    if service.holds is not None:
        # A directory person's token lives while the directory and the policy still say so.
        person = service.holds.token_person(login, service.policy())
        if person is None:
            raise ApiUnauthorized
        request.state.person = person
    return login


def api_policy(request: Request, login: str) -> Policy:
    """The policy as the token's owner may act under it (see ``auth.policy_of``)."""
    service = auth.service_of(request)
    person = getattr(request.state, "person", None)
    if service.holds is None or person is None or person.login != login:
        return service.policy()
    return seen_by_directory(service.policy(), person)


@router.get("/me")
def me(request: Request) -> JSONResponse:
    """Whom the token signs in (``netchange login`` checks a token with it): login, name, roles, sites."""
    login = api_login(request)
    person = api_policy(request, login).person(login)
    return JSONResponse({"login": login, "name": person.name if person else None,
                         "roles": list(person.roles) if person else [], "sites": list(person.sites) if person else []})


def change_json(row: ChangeRow) -> dict[str, Any]:
    """One change as ``netchange list --json`` gives it: ``change_id`` (never ``id``), hosts by name."""
    return {
        "change_id": row.id,
        "title": row.title,
        "ticket": row.ticket,
        "requester": row.requester,
        "state": row.state.value,
        "category": row.category.value if row.category else None,
        "sites": list(row.sites),
        "hosts": list(row.hosts),
        "outcome": row.outcome.value if row.outcome else None,
        "emergency": row.emergency,
        "plan_hash": row.plan_hash,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


class ApiChange(BaseModel):
    """One change of ``GET /api/changes``."""

    change_id: str
    title: str
    ticket: str
    requester: str
    state: str
    category: str | None
    sites: list[str]
    hosts: list[str]
    outcome: str | None
    emergency: str | None
    plan_hash: str | None
    created_at: str
    updated_at: str


class ChangePage(BaseModel):
    """A page of changes in the order they were recorded, and the link to the next page (null: none yet)."""

    changes: list[ApiChange]
    next: str | None = Field(description="The next page's path, with its cursor; also sent as a Link header")


PAGE_LIMIT = (1, 500)
"""The fewest and the most changes a page holds (default 100)."""


def _cursor(number: int) -> str:
    """Opaque to clients: where the next page starts (the last change's number, ``changes_page``)."""
    return base64.urlsafe_b64encode(f"c1:{number}".encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        after = int(number) if kind == "c1" else -1
    except ValueError:
        after = -1
    if not 0 < after < 2**63 or _cursor(after) != cursor:
        raise BadRequest("cursor: not one this service gave (take the 'next' link of the previous page)")
    return after


@router.get("/changes", response_model=ChangePage)
def list_changes(
    request: Request,
    limit: Annotated[int, Query(ge=PAGE_LIMIT[0], le=PAGE_LIMIT[1])] = 100,
    cursor: Annotated[str, Query(max_length=40)] = "",
) -> JSONResponse:
    """The changes, ``limit`` at a time, in the order they were recorded; follow ``next`` for more.
    The cursor is stable while changes are added: none is missed or repeated."""
    api_login(request)
    after = _after(cursor) if cursor else 0
    service = auth.service_of(request)
    with service.journal() as journal:
        page = journal.changes_page(after, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    following = f"/api/changes?limit={limit}&cursor={_cursor(page[-1][0])}" if more else None
    headers = {"Link": f'<{following}>; rel="next"'} if following else {}
    return JSONResponse({"changes": [change_json(r) for _, r in page], "next": following}, headers=headers)


@router.get("/changes/{change_id}")
def show_change(request: Request, change_id: str) -> JSONResponse:
    api_login(request)
    service = auth.service_of(request)
    policy = service.policy()
    with service.journal() as journal:
        sheet = build_sheet(policy, journal, change_id, now=service.now(policy))
        data = sheet.as_json()
        del data["id"]  # one name for it: change_id
        row = sheet.change
        data.update(change_json(row))
        if row.plan_hash:
            plan = planstore.current(service.settings.plans_dir, journal, change_id)
            status = status_of_plan(policy, journal, plan, requester=row.requester)
            data["approvals"] = {
                **(data.get("approvals") or {}),
                "rejections": [{"approver": a.approver, "comment": a.comment} for a in status.rejections],
                "who_may_approve": [
                    {"needed": a.needed, "required": a.required, "people": [p.login for p in a.people]}
                    for a in who_may_approve(policy, plan, requester=row.requester)
                ],
            }
    return JSONResponse(data)


def _decide(request: Request, change_id: str, body: DecisionBody, *, reject: bool) -> JSONResponse:
    login = api_login(request)
    service = auth.service_of(request)
    try:
        done = decide(service, login, change_id, plan_hash=body.plan_hash, reject=reject, comment=body.comment,
                      policy=api_policy(request, login))
    except PlanChanged as exc:
        return api_error(409, exc)
    except (GuardRefused, StateConflict) as exc:
        return api_error(403, exc)
    except BadRequest as exc:
        return api_error(404 if "no such change" in str(exc) else 400, exc)
    return JSONResponse(
        {
            "change_id": change_id,
            "plan_hash": done.approval.plan_hash,
            "decision": done.approval.decision,
            "approver": done.approval.approver,
            "state": done.state,
            "approvals": {"complete": done.status.complete, "summary": done.status.summary()},
        }
    )


@router.post("/changes/{change_id}/approve")
def approve(request: Request, change_id: str, body: DecisionBody) -> JSONResponse:
    return _decide(request, change_id, body, reject=False)


@router.post("/changes/{change_id}/reject")
def reject(request: Request, change_id: str, body: DecisionBody) -> JSONResponse:
    return _decide(request, change_id, body, reject=True)


class ApplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    emergency: str | None = Field(default=None, max_length=2000)
    revert_in: int = Field(default=300, ge=1, le=86_400)
    """Confirmed-commit timeout in seconds, where supported (``netchange apply --revert-in``)."""


class RollbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    emergency: str | None = Field(default=None, max_length=2000)


class RecoverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _start(request: Request, change_id: str, what: str,
           start: Callable[[Settings, Policy, Actor], str]) -> JSONResponse:
    """Start a workflow of the change as the token's owner (the guard runs on the control worker,
    as for the command line) and answer 202 with its id and ``after``: the change's last journal
    event before the start, from which ``/api/changes/{id}/events`` follows the run. Only with
    ``NETCHANGE_RUNNER=temporal``: the in-process runner runs from the command line."""
    from netchange.errors import LockHeld
    from netchange.policy import actor_for

    login = api_login(request)
    service = auth.service_of(request)
    if service.settings.runner != "temporal":
        return api_error(409, StateConflict(f"the service starts {what} only with NETCHANGE_RUNNER=temporal; "
                                            f"{what} from the command line"))
    with service.journal() as journal:
        try:
            journal.require(change_id)
        except BadRequest as exc:
            return api_error(404, exc)
        events = journal.events(change_id)
    after = events[-1].seq if events else 0
    policy = api_policy(request, login)
    try:
        started = start(service.settings, policy, actor_for(policy, login))
    except LockHeld as exc:
        return api_error(409, exc)
    except NetchangeError as exc:
        return api_error(503, exc)
    return JSONResponse({"change_id": change_id, "workflow_id": started, "after": after}, status_code=202)


@router.post("/changes/{change_id}/apply")
def apply(request: Request, change_id: str, body: ApplyBody) -> JSONResponse:
    """Start the change's apply as the Temporal workflow ``apply:<change id>`` (issue 25); the run
    is followed in the journal (``/api/changes/{id}/events``, the live page)."""
    from netchange.workflow import start_apply

    return _start(request, change_id, "an apply", lambda settings, policy, actor: start_apply(
        settings, policy, actor, change_id, emergency=body.emergency, revert_in=body.revert_in))


@router.post("/changes/{change_id}/rollback")
def rollback(request: Request, change_id: str, body: RollbackBody) -> JSONResponse:
    """Start a rollback on request of a completed change: the workflow ``restore:<change id>``."""
    from netchange.pipeline import RestoreMode
    from netchange.workflow import start_restore

    return _start(request, change_id, "a rollback", lambda settings, policy, actor: start_restore(
        settings, policy, actor, change_id, mode=RestoreMode.ROLLBACK, emergency=body.emergency))


@router.post("/changes/{change_id}/recover")
def recover(request: Request, change_id: str, body: RecoverBody) -> JSONResponse:
    """Start a recover of a change left in_progress or failed: the workflow ``restore:<change id>``."""
    from netchange.pipeline import RestoreMode
    from netchange.workflow import start_restore

    del body  # no options: an empty object
    return _start(request, change_id, "a recover", lambda settings, policy, actor: start_restore(
        settings, policy, actor, change_id, mode=RestoreMode.RECOVER))


EVENTS_LIMIT = (1, 500)
"""The fewest and the most events ``/api/changes/{id}/events`` returns at once (default 200)."""


@router.get("/changes/{change_id}/events")
def events(
    request: Request,
    change_id: str,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=EVENTS_LIMIT[0], le=EVENTS_LIMIT[1])] = 200,
    run: Annotated[Literal["apply", "restore"] | None, Query()] = None,
) -> JSONResponse:
    """The change's journal events after ``after`` in the page's words (``line``s of the live page),
    its state, whether it holds device locks, how its last run ended once it left in_progress
    (``end``), and with ``run``, where the workflow ``apply:<id>`` or ``restore:<id>`` stands
    (``running``, ``completed`` with its result, ``failed`` with its error and exit code).

    The workflow is read before the journal: once it is seen closed, every event it journaled
    (its final state, the locks it released) is in this answer or the next pages (``more``)."""
    from netchange.service import live

    api_login(request)
    service = auth.service_of(request)
    with service.journal() as journal:
        try:
            journal.require(change_id)
        except BadRequest as exc:
            return api_error(404, exc)
    status: dict[str, Any] | None = None
    if run is not None and service.settings.runner == "temporal":
        from netchange.workflow import run_status, workflow_id

        wid = workflow_id(change_id) if run == "apply" else f"restore:{change_id}"
        try:
            status = run_status(service.settings, wid)
        except NetchangeError as exc:
            # Not a refusal (the run may be well under way): exit 1, and a follower reads again.
            return api_error(503, NetchangeError(str(exc)))
        if status is not None:
            status = {"workflow_id": wid, **status}
    found, state, end, holding = live.read_run(service, change_id, after, limit)
    lines = timeline.timeline(found, service.policy().tz)
    return JSONResponse({
        "change_id": change_id,
        "state": state,
        "events": [live.line_json(line, event) for line, event in zip(lines, found, strict=True)],
        "after": found[-1].seq if found else after,
        "more": len(found) == limit,
        "locks_held": holding,
        "end": live.end_json(state, end) if end is not None else None,
        "run": _scrubbed(status) if status is not None else None,
    })


def _scrubbed(data: dict[str, Any]) -> Any:
    """``data`` with every secret the service knows masked (a device's error may quote a line)."""
    import json

    text = json.dumps(data)
    scrubbed = redact.scrub(text)
    return data if scrubbed == text else json.loads(scrubbed)


def api_error(status: int, exc: NetchangeError | str) -> JSONResponse:
    """Errors in the CLI's JSON error shape: one line, and the exit code the CLI would give."""
    code = exc.exit_code if isinstance(exc, NetchangeError) else 2
    return JSONResponse({"error": redact.scrub(str(exc)), "exit_code": code}, status_code=status)
