"""The tracking sheet as people read it: a timeline in the site's time zone, the outcome first.

Built from the journal's events (``netchange.report.sheet.build_sheet``); each event becomes one
sentence instead of its JSON. The outcome's cause comes first: "rolled back: post-check failed
on fw-doif-a: …; 3 devices restored and verified in 0.23 s".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from netchange import redact
from netchange.journal import Event, EventKind


@dataclass(frozen=True)
class Line:
    at: str
    actor: str
    host: str
    kind: str
    text: str
    tone: str  # "", "good", "bad", "warn"


def _checks(data: dict[str, Any]) -> str:
    checks = data.get("checks") or []
    failed = [c for c in checks if isinstance(c, dict) and not c.get("passed")]
    if failed:
        return "post-checks failed: " + "; ".join(f"{c.get('name')}: {c.get('detail', '')}" for c in failed)
    return f"post-checks passed ({len(checks)})"


Say = Callable[[dict[str, Any]], tuple[str, str]]


def _decision(verb: str, tone: str) -> Say:
    def say(d: dict[str, Any]) -> tuple[str, str]:
        comment = f": “{d.get('comment')}”" if d.get("comment") else ""
        return f"{verb} plan {str(d.get('plan_hash', ''))[:12]}{comment}", tone

    return say


def _state(d: dict[str, Any]) -> tuple[str, str]:
    reason = f" — {d['reason']}" if d.get("reason") else ""
    return f"state {d.get('from')} → {d.get('to')}{reason}", ""


def _guard(d: dict[str, Any]) -> tuple[str, str]:
    verdict = "guard allowed" if d.get("allowed") else "guard refused"
    action = d.get("action") or "apply"
    return f"{verdict} {action}: " + "; ".join(str(r) for r in d.get("reasons", [])), (
        "good" if d.get("allowed") else "bad"
    )


def _post_checks(d: dict[str, Any]) -> tuple[str, str]:
    text = _checks(d)
    return text, "bad" if "failed" in text else "good"


# One sentence per kind of event, and its tone ("", "good", "bad", "warn").
_SAY: dict[str, Say] = {
    EventKind.REQUESTED: lambda d: ("change requested", ""),
    EventKind.PLAN_RECORDED: lambda d: (
        f"planned: plan {str(d.get('plan_hash', ''))[:12]} ({d.get('category', '?')})", ""
    ),
    EventKind.APPROVALS_VOIDED: lambda d: ("planned again: earlier approvals no longer count", "warn"),
    EventKind.APPROVAL: _decision("approved", "good"),
    EventKind.REJECTION: _decision("rejected", "bad"),
    EventKind.STATE: _state,
    EventKind.GUARD: _guard,
    EventKind.POST_CHECKS: _post_checks,
    EventKind.HOST_FAILED: lambda d: (f"failed: {d.get('error')}", "bad"),
    EventKind.ROLLBACK_VERIFIED: lambda d: (
        f"restored ({', '.join(d.get('strategies') or [])}) and verified in {d.get('seconds')} s", "good"
    ),
    EventKind.ROLLBACK_FAILED: lambda d: (
        "ROLLBACK NOT VERIFIED: " + "; ".join(str(e) for e in d.get("errors") or []), "bad"
    ),
    EventKind.APPLY_FINISHED: lambda d: (
        f"apply finished: {d.get('outcome')}", "good" if d.get("outcome") == "completed" else "bad"
    ),
    EventKind.EMERGENCY: lambda d: (f"EMERGENCY path: {d.get('reason')}", "warn"),
    EventKind.CLOSE_VALIDATION: lambda d: (
        f"final validation ({'/'.join(d.get('roles') or [])}) {d.get('comment') or ''}".rstrip(), "good"
    ),
    EventKind.APPLY_STARTED: lambda d: ("apply started on " + ", ".join(d.get("hosts") or []), ""),
    EventKind.SNAPSHOT: lambda d: ("running state saved (snapshot)", ""),
    EventKind.DRIFT: lambda d: ("the device drifted from the plan", ""),
    EventKind.COMMIT_STARTED: lambda d: ("commit started" + (" (confirmed commit)" if d.get("confirmed") else ""), ""),
    EventKind.COMMIT_REFUSED: lambda d: (
        "commit refused, nothing written: changed by another hand since it was read: "
        + "; ".join(str(line) for line in d.get("lines") or []), "warn"),
    EventKind.COMMITTED: lambda d: ("committed", ""),
    EventKind.CONFIRMED: lambda d: ("confirmed", ""),
    EventKind.SAVED: lambda d: (
        ("saved: startup = running" if d.get("startup_equals_running")
         else f"NOT SAVED: {d.get('error') or 'the startup read back differs from running'}"),
        "good" if d.get("startup_equals_running") else "bad",
    ),
    EventKind.ROLLBACK_STARTED: lambda d: ("rollback started", ""),
    EventKind.INTERRUPTED: lambda d: ("interrupted", ""),
}


def sentence(event: Event) -> tuple[str, str]:
    """One event in words, and its tone; an event of another kind as its fields."""
    say = _SAY.get(event.kind)
    if say is not None:
        return say(event.data)
    shown = ", ".join(f"{key}={value}" for key, value in event.data.items() if key not in {"request", "row_sha"})
    return (f"{event.kind}: {shown}" if shown else event.kind)[:300], ""


def timeline(events: tuple[Event, ...] | list[Event], tz: ZoneInfo) -> list[Line]:
    lines = []
    for e in events:
        text, tone = sentence(e)
        lines.append(
            Line(
                at=e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z"),
                actor=e.actor,
                host=e.host or "",
                kind=e.kind,
                text=redact.scrub(text),
                tone=tone,
            )
        )
    return lines


def outcome(events: tuple[Event, ...] | list[Event], state: str) -> str:
    """The outcome with its cause in the first words."""
    finished = [e for e in events if e.kind == EventKind.APPLY_FINISHED]
    if not finished:
        return {
            "requested": "requested, not planned yet",
            "planned": "planned, waiting for approvals or its window",
            "approved": "approved, not applied yet",
            "in_progress": "in progress (or interrupted: see recover)",
        }.get(state, state)
    last = finished[-1]
    seq = last.seq
    attempt = [e for e in events if e.seq <= seq and e.seq >= _attempt_start(events, seq)]
    result = str(last.data.get("outcome"))
    if result == "completed":
        hosts = [e.host for e in attempt if e.kind == EventKind.CONFIRMED]
        return f"completed: {len(hosts)} device(s) changed and checked" + (
            f" ({', '.join(h for h in hosts if h)})" if hosts else ""
        )
    causes = []
    for e in attempt:
        if e.kind == EventKind.HOST_FAILED:
            causes.append(f"on {e.host}: {e.data.get('error')}")
        elif e.kind == EventKind.POST_CHECKS and "failed" in _checks(e.data):
            failed = [c for c in e.data.get("checks") or [] if isinstance(c, dict) and not c.get("passed")]
            causes.insert(0, f"post-check failed on {e.host}: " + "; ".join(
                f"{c.get('name')}: {c.get('detail', '')}" for c in failed))
        elif e.kind == EventKind.DRIFT:
            causes.append(f"{e.host} drifted from the plan")
        elif e.kind == EventKind.INTERRUPTED:
            causes.append("interrupted")
    restored = [e for e in attempt if e.kind == EventKind.ROLLBACK_VERIFIED]
    unverified = [e for e in attempt if e.kind == EventKind.ROLLBACK_FAILED]
    secs = max((float(e.data.get("since_failure") or e.data.get("seconds") or 0) for e in restored), default=0.0)
    cause = causes[0] if causes else "see the timeline"
    text = f"{result.replace('_', ' ')}: {cause}"
    if restored:
        text += f"; {len(restored)} device(s) restored and verified in {secs:.2f} s"
    if unverified:
        text += f"; {len(unverified)} device(s) NOT verified: " + ", ".join(e.host or "?" for e in unverified)
    return redact.scrub(text)


def _attempt_start(events: tuple[Event, ...] | list[Event], finished_seq: int) -> int:
    starts = [e.seq for e in events if e.kind == EventKind.APPLY_STARTED and e.seq <= finished_seq]
    return max(starts, default=0)


def local(value: dt.datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z") if value else "—"
