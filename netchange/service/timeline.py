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


def _words(value: object) -> str:
    """A state or an outcome as people write it: ``rolled_back`` → "rolled back"."""
    return str(value or "?").replace("_", " ")


def _given(value: object) -> str:
    """A field's value, or "?" where the writer left it out (0 is a value)."""
    return "?" if value is None else str(value)


def _names(values: object) -> str:
    """Hosts, logins or addresses as a list in words (never a Python list's repr)."""
    names = [str(v) for v in values] if isinstance(values, list | tuple) else []
    return ", ".join(names) if names else "none"


def _state(d: dict[str, Any]) -> tuple[str, str]:
    reason = f" — {d['reason']}" if d.get("reason") else ""
    return f"state {_words(d.get('from'))} → {_words(d.get('to'))}{reason}", ""


def _policy(verb: str) -> Say:
    def say(d: dict[str, Any]) -> tuple[str, str]:
        before = f", replacing {d['previous_version']}" if d.get("previous_version") else ""
        reason = f": “{d['reason']}”" if d.get("reason") else ""
        return f"policy {d.get('version') or '?'} ({str(d.get('digest') or '')[:12]}) {verb}{before}{reason}", ""

    return say


def _restore_finished(what: str) -> Say:
    """The end of a rollback on request or a recover: the hosts restored, or the alarms."""

    def say(d: dict[str, Any]) -> tuple[str, str]:
        alarms = d.get("alarms") or []
        text = f"{what} finished: {_words(d.get('outcome'))}"
        if d.get("already"):
            text += f"; already as their snapshot: {_names(d.get('already'))}"
        if alarms:
            return f"{text}; NOT VERIFIED: {_names(alarms)}", "bad"
        return text, "bad" if d.get("outcome") == "failed" else "good"

    return say


def _recover_unlocked(d: dict[str, Any]) -> tuple[str, str]:
    differing = d.get("differing") or {}
    text = (f"recover released the locks of an apply killed before its rollout ({_names(d.get('hosts'))}): "
            "nothing was changed")
    if isinstance(differing, dict) and differing:
        return text + "; not as their snapshot: " + "; ".join(f"{h}: {why}" for h, why in differing.items()), "warn"
    return text, ""


def _mail(d: dict[str, Any]) -> str:
    return f"mail to {_names(d.get('to'))}" + (f" ({d['notice']})" if d.get("notice") else "")


def _signin_guessing(d: dict[str, Any]) -> tuple[str, str]:
    return (f"repeated failed sign-ins for {d.get('login') or '?'}: {d.get('failures') or '?'} from "
            f"{_names(d.get('addresses'))}; its owner is mailed", "warn")


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
        f"planned: plan {str(d.get('plan_hash') or '')[:12]} ({d.get('category') or 'no change'})", ""
    ),
    EventKind.APPROVALS_VOIDED: lambda d: ("planned again: earlier approvals no longer count", "warn"),
    EventKind.APPROVAL: _decision("approved", "good"),
    EventKind.REJECTION: _decision("rejected", "bad"),
    EventKind.STATE: _state,
    EventKind.GUARD: _guard,
    EventKind.POST_CHECKS: _post_checks,
    EventKind.HOST_FAILED: lambda d: (f"failed: {d.get('error') or '?'}", "bad"),
    EventKind.ROLLBACK_VERIFIED: lambda d: (
        f"restored ({_names(d.get('strategies'))}) and verified in {_given(d.get('seconds'))} s", "good"
    ),
    EventKind.ROLLBACK_FAILED: lambda d: (
        "ROLLBACK NOT VERIFIED: " + "; ".join(str(e) for e in d.get("errors") or []), "bad"
    ),
    EventKind.APPLY_FINISHED: lambda d: (
        f"apply finished: {_words(d.get('outcome'))}", "good" if d.get("outcome") == "completed" else "bad"
    ),
    EventKind.EMERGENCY: lambda d: (f"EMERGENCY path: {d.get('reason') or '?'}", "warn"),
    EventKind.CLOSE_VALIDATION: lambda d: (
        f"final validation ({'/'.join(d.get('roles') or [])}) {d.get('comment') or ''}".rstrip(), "good"
    ),
    EventKind.APPLY_STARTED: lambda d: (f"apply started on {_names(d.get('hosts'))}", ""),
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
    EventKind.JOURNAL_KEYED: lambda d: ("journal keyed: its chain is signed from here on", ""),
    EventKind.POLICY_PINNED: _policy("pinned as the policy in force"),
    EventKind.POLICY_ADOPTED: _policy("adopted as the policy in force"),
    EventKind.LOCKS_ACQUIRED: lambda d: (f"device locks taken: {_names(d.get('hosts'))}", ""),
    EventKind.LOCKS_RELEASED: lambda d: (f"device locks released: {_names(d.get('hosts'))}", ""),
    EventKind.LOCK_RECLAIMED: lambda d: (
        f"lock taken over from {d.get('stale_holder') or '?'}, {_words(d.get('holder_state'))}: "
        "no longer approved nor in progress", "warn"),
    EventKind.APPLY_REFUSED: lambda d: (
        f"apply refused, nothing committed: {_names(d.get('hosts'))} drifted or could not be read", "bad"),
    EventKind.PREPARE_FAILED: lambda d: (f"could not be read before the rollout: {d.get('error') or '?'}", "bad"),
    EventKind.NO_CHANGE: lambda d: (
        "no change: every host already matched its plan; nothing sent, no device contacted", "good"),
    EventKind.ROLLBACK_FINISHED: _restore_finished("rollback on request"),
    EventKind.RECOVER_STARTED: lambda d: (f"recover started on {_names(d.get('hosts'))}", ""),
    EventKind.RECOVER_FINISHED: _restore_finished("recover"),
    EventKind.RECOVER_UNLOCKED: _recover_unlocked,
    EventKind.NOTIFICATION_SENT: lambda d: (f"{_mail(d)} sent: {d.get('subject') or ''}".rstrip(": "), ""),
    EventKind.NOTIFICATION_FAILED: lambda d: (
        f"{_mail(d)} not delivered (attempt {d.get('attempt') or '?'}), tried again later: {d.get('error') or '?'}",
        "warn"),
    EventKind.NOTIFICATION_ABANDONED: lambda d: (
        f"{_mail(d)} given up after {d.get('attempts') or '?'} attempts: {d.get('error') or '?'}", "bad"),
    EventKind.SIGNIN: lambda d: (f"signed in from {d.get('client') or '?'}", ""),
    EventKind.SIGNIN_FAILED: lambda d: (
        f"sign-in refused from {d.get('client') or '?'}: {d.get('why') or '?'}", "warn"),
    EventKind.SIGNIN_GUESSING: _signin_guessing,
    EventKind.PASSWORD_CHANGED: lambda d: (
        f"changed their password from {d.get('client') or '?'}; "
        f"{d.get('sessions_ended') or 0} other session(s) ended", ""),
    EventKind.PASSWORD_RESET: lambda d: (
        f"password of {d.get('login') or '?'} reset by an administrator ({d.get('by') or '?'})", ""),
    EventKind.PASSWORD_SET: lambda d: (
        f"first password of {d.get('login') or '?'} set by an administrator ({d.get('by') or '?'})", ""),
}


def sentence(event: Event) -> tuple[str, str]:
    """One event in words, and its tone. Every ``EventKind`` has its sentence
    (tests/unit/test_timeline_sentences.py); only a kind no release writes any more, read from an
    old journal, is shown as its name in words and its fields."""
    say = _SAY.get(event.kind)
    if say is not None:
        return say(event.data)
    shown = ", ".join(f"{key}: {value}" for key, value in event.data.items() if key not in {"request", "row_sha"})
    name = _words(event.kind)
    return (f"{name} ({shown})" if shown else name)[:300], ""


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


_FINISHES = {EventKind.APPLY_FINISHED: "", EventKind.ROLLBACK_FINISHED: "rollback on request",
             EventKind.RECOVER_FINISHED: "recover after an interrupted or failed run"}
"""The events that end a run, and the cause said when nothing in the run failed (a restore's own)."""


def outcome(events: tuple[Event, ...] | list[Event], state: str) -> str:
    """The outcome of the last run (an apply, a rollback on request, a recover) with its cause in
    the first words."""
    finished = [e for e in events if e.kind in _FINISHES]
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
    if result == "completed" and last.kind == EventKind.APPLY_FINISHED:
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
    cause = causes[0] if causes else (_FINISHES[EventKind(last.kind)] or "see the timeline")
    text = f"{result.replace('_', ' ')}: {cause}"
    if restored:
        text += f"; {len(restored)} device(s) restored and verified in {secs:.2f} s"
    if unverified:
        text += f"; {len(unverified)} device(s) NOT verified: " + ", ".join(e.host or "?" for e in unverified)
    return redact.scrub(text)


def _attempt_start(events: tuple[Event, ...] | list[Event], finished_seq: int) -> int:
    starts = [e.seq for e in events if e.seq <= finished_seq and (
        e.kind in {EventKind.APPLY_STARTED, EventKind.RECOVER_STARTED}
        or (e.kind == EventKind.ROLLBACK_STARTED and not e.host))]
    return max(starts, default=0)


def local(value: dt.datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z") if value else "—"
