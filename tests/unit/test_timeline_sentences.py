"""Every journal event kind reads as a sentence in the service's timelines (tracking sheet, live view).

The table below holds one event per ``EventKind`` with the data its writer journals (the writers
are listed in tests/unit/test_event_kinds.py): a new kind without a row here fails, and so does a
kind whose sentence is its raw name ("locks_acquired: hosts=[...]"), a Python list or dict, a
``None`` or any snake_case word. The same again with no data at all (a journal of an older
release, or a writer that left a field out). Then the live view's host line: after a rollback,
the host's step is the restore, the save only beneath it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from netchange.journal import Event, EventKind
from netchange.service import live, timeline

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
AT = dt.datetime(2026, 12, 7, 17, 1, 52, tzinfo=UTC)
HASH = "3f2a9c1be0d4" + "0" * 52

# One event per kind: (host, data) as its writer journals it.
SAMPLES: dict[EventKind, tuple[str | None, dict[str, Any]]] = {
    EventKind.JOURNAL_KEYED: (None, {"key_check": "9a1f", "sealed_seq": 0, "sealed_hash": "0" * 64}),
    EventKind.POLICY_PINNED: (None, {"digest": HASH, "version": "2026.7-lab", "path": "/srv/policy.yaml",
                                     "policy": {"approvals_by_site": True}}),
    EventKind.POLICY_ADOPTED: (None, {"digest": HASH, "version": "2026.8-lab", "path": "/srv/policy.yaml",
                                      "reason": "new freeze", "previous_digest": "1" * 64,
                                      "previous_version": "2026.7-lab", "roles": ["quality"],
                                      "policy": {"approvals_by_site": True}}),
    EventKind.REQUESTED: (None, {"title": "Users VLAN", "ticket": "INC-1", "requester": "crenard",
                                 "request": {"planned_start": None}}),
    EventKind.PLAN_RECORDED: (None, {"plan_hash": HASH, "category": "medium", "policy_version": "2026.7-lab",
                                     "rules_version": "2026.12-5", "hosts": ["sw-doif-1"], "sites": ["doif"],
                                     "title": "Users VLAN", "created_by": "dnguyen", "row_sha": "ab"}),
    EventKind.APPROVALS_VOIDED: (None, {"voided": 1, "previous_plan": HASH}),
    EventKind.STATE: (None, {"from": "approved", "to": "in_progress", "reason": "apply"}),
    EventKind.APPROVAL: (None, {"plan_hash": HASH, "comment": "go", "roles": ["ops_manager"]}),
    EventKind.REJECTION: (None, {"plan_hash": HASH, "comment": "not this week", "roles": ["ops_manager"]}),
    EventKind.GUARD: (None, {"allowed": True, "action": "apply", "reasons": ["all checks passed"]}),
    EventKind.EMERGENCY: (None, {"reason": "core link down"}),
    EventKind.LOCKS_ACQUIRED: (None, {"hosts": ["fw-doif-a", "sw-doif-core1"]}),
    EventKind.LOCKS_RELEASED: (None, {"hosts": ["fw-doif-a", "sw-doif-core1"]}),
    EventKind.LOCK_RECLAIMED: ("sw-doif-core1", {"stale_holder": "CHG-2026-0001", "holder_state": "rolled_back"}),
    EventKind.APPLY_STARTED: (None, {"plan_hash": HASH, "hosts": ["sw-doif-core1", "fw-doif-a"]}),
    EventKind.APPLY_REFUSED: (None, {"hosts": ["fw-doif-a"]}),
    EventKind.SNAPSHOT: ("sw-doif-core1", {"sha": "c" * 64}),
    EventKind.DRIFT: ("sw-doif-core1", {"planned": "d" * 64}),
    EventKind.PREPARE_FAILED: ("fw-doif-a", {"error": "SSH timeout after 30 s"}),
    EventKind.COMMIT_STARTED: ("sw-doif-core1", {"confirmed": True}),
    EventKind.COMMIT_REFUSED: ("sw-doif-core1", {"error": "changed by another hand", "lines": ["+ vlan 77"]}),
    EventKind.COMMITTED: ("sw-doif-core1", {}),
    EventKind.POST_CHECKS: ("fw-doif-a", {"checks": [{"name": "port 9999 opens", "passed": False,
                                                      "detail": "connection failed"}]}),
    EventKind.CONFIRMED: ("sw-doif-core1", {}),
    EventKind.SAVED: ("sw-doif-core1", {"startup_equals_running": True}),
    EventKind.HOST_FAILED: ("fw-doif-a", {"error": "post-check failed: port 9999 opens"}),
    EventKind.INTERRUPTED: (None, {"signal": 15}),
    EventKind.APPLY_FINISHED: (None, {"outcome": "rolled_back", "failed": ["fw-doif-a"], "alarms": [],
                                      "left_changed": []}),
    EventKind.NO_CHANGE: (None, {"plan_hash": HASH, "hosts": ["sw-doif-1", "sw-doif-2"]}),
    EventKind.ROLLBACK_STARTED: ("sw-doif-core1", {}),
    EventKind.ROLLBACK_VERIFIED: ("sw-doif-core1", {"strategies": ["inverse"], "seconds": 0.77,
                                                    "since_failure": 0.9}),
    EventKind.ROLLBACK_FAILED: ("fw-doif-a", {"cause": "foreign", "errors": ["vlan 77 is someone else's"],
                                              "foreign": ["+ vlan 77"]}),
    EventKind.ROLLBACK_FINISHED: (None, {"outcome": "rolled_back", "alarms": [], "already": ["sw-doif-core2"]}),
    EventKind.RECOVER_STARTED: (None, {"hosts": ["sw-doif-core1"]}),
    EventKind.RECOVER_FINISHED: (None, {"outcome": "failed", "alarms": ["fw-doif-a"], "already": []}),
    EventKind.RECOVER_UNLOCKED: (None, {"hosts": ["sw-doif-core1"], "checked": ["sw-doif-core1"],
                                        "differing": {"sw-doif-core1": "unreachable"},
                                        "note": "apply killed before its rollout: nothing was changed"}),
    EventKind.CLOSE_VALIDATION: (None, {"roles": ["ops_manager"], "comment": "all good"}),
    EventKind.NOTIFICATION_SENT: (None, {"mail_id": 3, "notice": "approval requested", "to": ["amoreau"],
                                         "event_seq": 12, "subject": "CHG-2026-0301 approval requested"}),
    EventKind.NOTIFICATION_FAILED: (None, {"mail_id": 3, "notice": "approved", "to": ["crenard"], "event_seq": 12,
                                           "error": "connection refused", "attempt": 1,
                                           "retry_at": "2026-12-07T17:05:00+00:00"}),
    EventKind.NOTIFICATION_ABANDONED: (None, {"mail_id": 3, "notice": "approved", "to": ["crenard"],
                                              "event_seq": 12, "error": "connection refused", "attempts": 8}),
    EventKind.SIGNIN: (None, {"client": "10.0.0.5"}),
    EventKind.SIGNIN_FAILED: (None, {"client": "10.0.0.5", "why": "wrong login or password (3 in a row)"}),
    EventKind.SIGNIN_GUESSING: (None, {"login": "amoreau", "failures": 5, "addresses": ["10.0.0.5", "10.0.0.6"],
                                       "unlisted_failures": 0, "window_s": 900}),
    EventKind.PASSWORD_CHANGED: (None, {"client": "10.0.0.5", "sessions_ended": 2}),
    EventKind.PASSWORD_RESET: (None, {"login": "amoreau", "by": "netchange users set-password"}),
    EventKind.PASSWORD_SET: (None, {"login": "amoreau", "by": "netchange users set-password"}),
}

SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
RAW = re.compile(r"[\[\]{}]|\bNone\b|\w=")
"""A Python list, dict or None, a key=value pair: an event shown as its fields."""
POLICY_NAMES = {"ops_manager"}
"""The policy's role names, said as the policy writes them (as every page's header does)."""


def event(kind: str, host: str | None, data: dict[str, Any], seq: int = 1) -> Event:
    return Event(seq=seq, change_id="CHG-2026-2305", at=AT, kind=kind, actor="dnguyen", host=host, data=data,
                 hash="h")


def test_the_table_has_one_event_of_every_kind() -> None:
    assert set(SAMPLES) == set(EventKind), sorted(set(EventKind) ^ set(SAMPLES))


def person_text(text: str) -> list[str]:
    """What a person would find wrong in ``text``: the kind's own name, fields, snake_case."""
    snake = [m.group() for m in SNAKE.finditer(text) if m.group() not in POLICY_NAMES]
    return [*snake, *(m.group() for m in RAW.finditer(text))]


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_every_kind_reads_as_a_sentence(kind: EventKind) -> None:
    host, data = SAMPLES[kind]
    [line] = timeline.timeline([event(kind, host, data)], PARIS)
    assert line.text and line.kind == kind
    assert "_" not in kind.value or kind.value not in line.text
    assert person_text(line.text) == [], line.text
    assert line.at == "2026-12-07 18:01:52 CET"


@pytest.mark.parametrize("kind", list(EventKind), ids=str)
def test_every_kind_reads_as_a_sentence_without_its_data(kind: EventKind) -> None:
    text, _tone = timeline.sentence(event(kind, SAMPLES[kind][0], {}))
    assert text and ("_" not in kind.value or kind.value not in text)
    assert person_text(text) == [], text


def test_the_sentences_say_what_happened() -> None:
    def say(kind: EventKind) -> str:
        host, data = SAMPLES[kind]
        return timeline.sentence(event(kind, host, data))[0]

    assert say(EventKind.LOCKS_ACQUIRED) == "device locks taken: fw-doif-a, sw-doif-core1"
    assert say(EventKind.LOCKS_RELEASED) == "device locks released: fw-doif-a, sw-doif-core1"
    assert say(EventKind.STATE) == "state approved → in progress — apply"
    assert say(EventKind.APPLY_FINISHED) == "apply finished: rolled back"
    instant = event(EventKind.ROLLBACK_VERIFIED, "sw1", {"strategies": ["inverse"], "seconds": 0.0})
    assert timeline.sentence(instant)[0] == "restored (inverse) and verified in 0.0 s"
    assert say(EventKind.NO_CHANGE).startswith("no change: every host already matched its plan")
    assert say(EventKind.RECOVER_FINISHED) == "recover finished: failed; NOT VERIFIED: fw-doif-a"
    assert say(EventKind.SIGNIN_GUESSING).startswith("repeated failed sign-ins for amoreau: 5 from 10.0.0.5, 10.0.0.6")
    no_change_plan = event(EventKind.PLAN_RECORDED, None, {**SAMPLES[EventKind.PLAN_RECORDED][1], "category": None})
    assert timeline.sentence(no_change_plan)[0] == "planned: plan 3f2a9c1be0d4 (no change)"


def test_a_kind_no_release_writes_any_more_is_still_words() -> None:
    text, _ = timeline.sentence(event("old_kind", None, {"hosts": "sw1"}))
    assert text == "old kind (hosts: sw1)"


# -- the live view: a host's step after a rollback ---------------------------------------------------

Row = tuple[EventKind, str | None, dict[str, Any]]

ROLLED_BACK_RUN: list[Row] = [
    (EventKind.STATE, None, {"from": "planned", "to": "approved", "reason": "approvals complete"}),
    (EventKind.GUARD, None, {"allowed": True, "action": "apply", "reasons": ["all checks passed"]}),
    (EventKind.LOCKS_ACQUIRED, None, {"hosts": ["fw-doif-a", "sw-doif-core1"]}),
    (EventKind.APPLY_STARTED, None, {"plan_hash": HASH, "hosts": ["sw-doif-core1", "fw-doif-a"]}),
    (EventKind.SNAPSHOT, "sw-doif-core1", {"sha": "c" * 64}),
    (EventKind.SNAPSHOT, "fw-doif-a", {"sha": "e" * 64}),
    (EventKind.STATE, None, {"from": "approved", "to": "in_progress", "reason": "apply"}),
    (EventKind.COMMIT_STARTED, "sw-doif-core1", {"confirmed": False}),
    (EventKind.COMMITTED, "sw-doif-core1", {}),
    (EventKind.POST_CHECKS, "sw-doif-core1", {"checks": [{"name": "vlan up", "passed": True, "detail": ""}]}),
    (EventKind.CONFIRMED, "sw-doif-core1", {}),
    (EventKind.SAVED, "sw-doif-core1", {"startup_equals_running": True}),
    (EventKind.COMMIT_STARTED, "fw-doif-a", {"confirmed": False}),
    (EventKind.COMMITTED, "fw-doif-a", {}),
    (EventKind.POST_CHECKS, "fw-doif-a", {"checks": [{"name": "port 9999 opens", "passed": False,
                                                      "detail": "connection failed"}]}),
    (EventKind.HOST_FAILED, "fw-doif-a", {"error": "post-check failed: port 9999 opens: connection failed"}),
    (EventKind.ROLLBACK_STARTED, "sw-doif-core1", {}),
    (EventKind.ROLLBACK_VERIFIED, "sw-doif-core1", {"strategies": ["inverse"], "seconds": 0.77}),
    (EventKind.SAVED, "sw-doif-core1", {"startup_equals_running": True}),
    (EventKind.ROLLBACK_STARTED, "fw-doif-a", {}),
    (EventKind.ROLLBACK_VERIFIED, "fw-doif-a", {"strategies": ["inverse"], "seconds": 1.288}),
    (EventKind.APPLY_FINISHED, None, {"outcome": "rolled_back", "failed": ["fw-doif-a"], "alarms": [],
                                      "left_changed": []}),
    (EventKind.STATE, None, {"from": "in_progress", "to": "rolled_back", "reason": "post-check failed"}),
    (EventKind.LOCKS_RELEASED, None, {"hosts": ["fw-doif-a", "sw-doif-core1"]}),
]


def journal_of(rows: list[Row]) -> list[Event]:
    return [event(kind, host, data, seq=n) for n, (kind, host, data) in enumerate(rows, 1)]


def test_after_a_rollback_a_host_shows_its_restore_and_the_save_beneath_it() -> None:
    hosts = ["sw-doif-core1", "fw-doif-a", "sw-doif-core2"]
    rows = [*ROLLED_BACK_RUN[:6], (EventKind.SNAPSHOT, "sw-doif-core2", {"sha": "f" * 64}), *ROLLED_BACK_RUN[6:]]
    shown = live.build(journal_of(rows), hosts, PARIS, "rolled_back")
    assert shown is not None and shown.finished
    core, fw, untouched = shown.hosts
    assert untouched.text == "not changed: the run ended before its commit"
    running = live.build(journal_of(rows[:8]), hosts, PARIS, "in_progress")
    assert running is not None and running.hosts[2].text == "running state saved (snapshot)"
    assert core.text == "restored (inverse) and verified in 0.77 s" and core.tone == "good"
    assert core.saved == "saved: startup = running" and core.saved_tone == ""
    assert fw.text == "restored (inverse) and verified in 1.288 s" and fw.saved == ""
    assert shown.heading == "Apply finished:"
    assert shown.outcome.startswith("rolled back: post-check failed on fw-doif-a: port 9999 opens")
    assert shown.tone == "bad"
    # The run from the approval to the locks it released, in words.
    texts = [line.text for line in shown.lines]
    assert texts[0] == "guard allowed apply: all checks passed"
    assert texts[-1] == "device locks released: fw-doif-a, sw-doif-core1"


def test_a_save_that_failed_is_said_beneath_the_step_as_bad() -> None:
    rows: list[Row] = [*ROLLED_BACK_RUN[:18], (EventKind.SAVED, "sw-doif-core1", {"startup_equals_running": False,
                                                                        "error": "write memory refused"})]
    shown = live.build(journal_of(rows), ["sw-doif-core1", "fw-doif-a"], PARIS, "in_progress")
    assert shown is not None and not shown.finished and shown.heading == "Applying now"
    core, fw = shown.hosts
    assert core.text.startswith("restored") and core.saved == "NOT SAVED: write memory refused"
    assert core.saved_tone == "bad"
    assert fw.text.startswith("failed: post-check failed")


def test_the_live_section_is_the_latest_run_until_the_change_moves_on() -> None:
    events = journal_of(ROLLED_BACK_RUN)
    assert live.build(events[:6], ["sw-doif-core1"], PARIS, "approved") is None  # never ran
    moved_on: list[Row] = [*ROLLED_BACK_RUN, (EventKind.STATE, None, {"from": "rolled_back", "to": "planned",
                                                           "reason": "planned again"})]
    assert live.build(journal_of(moved_on), ["sw-doif-core1"], PARIS, "planned") is None
    rollback: list[Row] = [
        *ROLLED_BACK_RUN[:12],
        (EventKind.APPLY_FINISHED, None, {"outcome": "completed", "failed": [], "alarms": [], "left_changed": []}),
        (EventKind.STATE, None, {"from": "in_progress", "to": "completed", "reason": "apply"}),
        (EventKind.STATE, None, {"from": "completed", "to": "in_progress", "reason": "rollback on request"}),
        (EventKind.ROLLBACK_STARTED, None, {"hosts": ["sw-doif-core1"]}),
        (EventKind.ROLLBACK_STARTED, "sw-doif-core1", {}),
        (EventKind.ROLLBACK_VERIFIED, "sw-doif-core1", {"strategies": ["inverse"], "seconds": 0.5}),
    ]
    running = live.build(journal_of(rollback), ["sw-doif-core1"], PARIS, "in_progress")
    assert running is not None and running.heading == "Rolling back now"
    assert running.lines[0].text == "state completed → in progress — rollback on request"
    ended: list[Row] = [
        *rollback,
        (EventKind.ROLLBACK_FINISHED, None, {"outcome": "rolled_back", "alarms": [], "already": []}),
        (EventKind.STATE, None, {"from": "in_progress", "to": "rolled_back", "reason": "rollback"}),
    ]
    shown = live.build(journal_of(ended), ["sw-doif-core1"], PARIS, "rolled_back")
    assert shown is not None and shown.heading == "Rollback finished:"
    assert shown.outcome == "rolled back: rollback on request; 1 device(s) restored and verified in 0.50 s"
