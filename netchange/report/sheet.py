"""The tracking sheet of one change, built from the journal alone.

The quality plan's tracking sheet follows a change from the request to its closing; the journal
holds every step, so the sheet is a view of it: request, plan, approvals, guard decisions,
execution, outcome and final validation. Its document version is the number of journal events
it shows: a later event makes a later version of the same sheet.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from netchange import redact
from netchange.guard import ApprovalStatus, status_of_current
from netchange.journal import ChangeRow, Event, EventKind, Journal
from netchange.plan import store as planstore
from netchange.policy import Policy

ADMIN_KINDS = frozenset({EventKind.REQUESTED, EventKind.PLAN_RECORDED, EventKind.APPROVAL, EventKind.REJECTION,
                         EventKind.APPROVALS_VOIDED, EventKind.GUARD})


@dataclass(frozen=True)
class Sheet:
    change: ChangeRow
    plan: dict[str, Any] | None
    requirements: tuple[str, ...]
    approvals: ApprovalStatus | None
    events: tuple[Event, ...]
    issued: dt.datetime
    policy_version: str
    chain_head: str
    chain_seq: int = 0
    """The journal head (seq, hash) the sheet was made from: anchor it elsewhere, check it with
    ``netchange journal verify --heads``."""

    @property
    def request(self) -> dict[str, Any]:
        for e in self.events:
            if e.kind == EventKind.REQUESTED:
                req = e.data.get("request")
                return req if isinstance(req, dict) else {}
        return {}

    @property
    def guard_decisions(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind == EventKind.GUARD)

    @property
    def approval_events(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind in {EventKind.APPROVAL, EventKind.REJECTION,
                                                                   EventKind.APPROVALS_VOIDED})

    @property
    def execution(self) -> tuple[Event, ...]:
        """What happened on the devices and to the change's state, after the plan."""
        return tuple(e for e in self.events if e.kind not in ADMIN_KINDS)

    @property
    def doc_version(self) -> str:
        return f"1.{len(self.events)}"

    def as_json(self) -> dict[str, Any]:
        c = self.change
        return {
            "id": c.id,
            "title": c.title,
            "state": c.state.value,
            "category": c.category.value if c.category else None,
            "outcome": c.outcome.value if c.outcome else None,
            "emergency": c.emergency,
            "sites": list(c.sites),
            "plan": self.plan,
            "requirements": list(self.requirements),
            "approvals": None
            if self.approvals is None
            else {
                "plan_hash": self.approvals.plan_hash,
                "complete": self.approvals.complete,
                "summary": self.approvals.summary(),
                "valid": [
                    {"rule": r.describe(), "approver": a.approver} for r, a in self.approvals.satisfied
                ],
                "missing": [r.describe() for r in self.approvals.missing],
            },
            "journal_head": {"seq": self.chain_seq, "hash": self.chain_head},
            "events": [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "kind": e.kind,
                    "actor": e.actor,
                    "host": e.host,
                    "data": e.data,
                }
                for e in self.events
            ],
        }


def build_sheet(policy: Policy, journal: Journal, change_id: str, *, now: dt.datetime) -> Sheet:
    change = journal.require(change_id)
    # The journal's copy of the current plan, verified against its hash: a sheet never shows
    # a plan (category, diff, requirements) other than the one approvals were given to.
    doc = planstore.from_journal(journal, change_id)
    plan: dict[str, Any] | None = None
    requirements: tuple[str, ...] = ()
    approvals = None
    # Read first: everything shown below is at least as recent as this head.
    head_seq, head_hash = journal.head()
    if doc is not None:
        raw = json.loads(doc.model_dump_json())
        plan = {
            "hash": doc.plan_hash,
            "created_at": doc.created_at.isoformat(timespec="minutes"),
            "created_by": doc.created_by,
            "category": doc.category.value if doc.category else None,
            "policy_version": doc.policy_version,
            "policy_digest": doc.policy_digest,
            "rules_version": doc.rules_version,
            "reasons": raw.get("reasons", []),
            "hosts": [
                {
                    "host": h.get("host", "?"),
                    "site": h.get("site", "?"),
                    "category": h.get("category") or "",
                    "diff": h.get("diff", ""),
                    "rollback": bool(h.get("rollback")),
                    "post_checks": bool(h.get("has_post_checks")),
                    "error": h.get("error"),
                }
                for h in raw.get("hosts", [])
            ],
        }
        requirements = doc.requirements or (tuple(policy.requirements(doc.category)) if doc.category else ())
        approvals = status_of_current(policy, journal, change_id)
    return Sheet(
        change=change,
        plan=plan,
        requirements=requirements,
        approvals=approvals,
        events=tuple(journal.events(change_id)),
        issued=now,
        policy_version=policy.version,
        chain_head=head_hash,
        chain_seq=head_seq,
    )


def render_sheet(policy: Policy, journal: Journal, change_id: str, *, fmt: str, now: dt.datetime,
                 stylesheets: tuple[str, ...] = ()) -> str:
    """The tracking sheet as Markdown or HTML; ``stylesheets``: the HTML links them instead of
    carrying its style inline (a page served under ``style-src 'self'``, :func:`render_sheet_page_css`)."""
    from netchange.report.render import render  # Jinja2: for the documents, not for 'netchange show'

    sheet = build_sheet(policy, journal, change_id, now=now)
    return render(
        "sheet",
        fmt,
        {
            "sheet": sheet,
            "c": sheet.change,
            "project": policy.project,
            "client": policy.client,
            "doc_title": f"Tracking sheet {sheet.change.id}",
            "doc_version": sheet.doc_version,
            "issued": now.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M %Z"),
            "tz": policy.tz,
            "brief": _brief,
            "stylesheets": stylesheets,
        },
    )


def render_sheet_page_css(policy: Policy, journal: Journal, change_id: str, *, now: dt.datetime) -> str:
    """The printed sheet's page boxes as a stylesheet (``_page.css.j2``): the project, client,
    version and date on every page, for a page that may not carry inline style."""
    from netchange.report.render import environment

    sheet = build_sheet(policy, journal, change_id, now=now)
    return redact.scrub(environment().get_template("_page.css.j2").render(
        project=policy.project, client=policy.client, doc_title=f"Tracking sheet {sheet.change.id}",
        doc_version=sheet.doc_version, issued=now.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M %Z"),
    ))


def _brief(event: Event) -> str:
    data = event.data
    if event.kind == EventKind.STATE:
        return f"{data.get('from')} → {data.get('to')}" + (
            f": {data['reason']}" if data.get("reason") else ""
        )
    if event.kind == EventKind.GUARD:
        verdict = "allowed" if data.get("allowed") else "refused"
        emergency = f" (EMERGENCY: {data['emergency']})" if data.get("emergency") else ""
        return f"{verdict}{emergency}: " + "; ".join(str(r) for r in data.get("reasons", []))
    if event.kind == EventKind.ROLLBACK_FAILED:
        # An alarm says what happened in its own words (a daemon down is not someone's change),
        # whole: it is what the reader must act on.
        from netchange.rollback import alarm_text

        return "ALARM — " + alarm_text(data)
    shown = {k: v for k, v in data.items() if k not in {"request", "row_sha"}}
    text = json.dumps(shown, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
