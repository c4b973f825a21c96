"""The apply guard: each refusal, the emergency path, and the journal of every decision."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from pathlib import Path

import pytest

from netchange.errors import GuardRefused, LockHeld
from netchange.guard import APPLY_RULES, ROLLBACK_RULES, approve, check_apply, check_rollback
from netchange.journal import Journal
from netchange.journal.testing import make_plan
from netchange.policy import Freeze, actor_for, load_policy
from netchange.vocabulary import Category

BASE = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")
HBOSS = BASE.person("amoreau").model_copy(
    update={"login": "hboss", "name": "Hugo Boss", "roles": ("ops_manager", "engineer")}
)
POLICY = BASE.model_copy(update={"freezes": (), "people": (*BASE.people, HBOSS)})
TUESDAY_19H = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)  # 19:00 Paris
SATURDAY_10H = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "journal.sqlite", clock=lambda: TUESDAY_19H) as j:
        yield j


def approved_medium(journal, approver="amoreau", **kw):
    plan = make_plan(category=Category.MEDIUM, **kw)
    journal.record_plan(plan, plan.created_by)
    approve(POLICY, journal, plan.change.id, actor_for(POLICY, approver))
    return plan


def approved_major(journal, created_at, **kw):
    plan = make_plan(category=Category.MAJOR, created_at=created_at, duration=dt.timedelta(hours=2), **kw)
    journal.record_plan(plan, plan.created_by)
    approve(POLICY, journal, plan.change.id, actor_for(POLICY, "amoreau"))
    approve(POLICY, journal, plan.change.id, actor_for(POLICY, "gperrin"))
    return plan


def guard(plan, journal, *, actor="dnguyen", now=TUESDAY_19H, policy=POLICY, emergency=None):
    return check_apply(plan, policy=policy, journal=journal, actor=actor, now=now, emergency=emergency)


def guard_events(journal, change_id):
    return [e.data for e in journal.events(change_id) if e.kind == "guard"]


def test_allowed_inside_the_window_with_approvals(journal):
    plan = approved_medium(journal)
    decision = guard(plan, journal)
    assert decision.allowed
    assert decision.policy_version == POLICY.version
    assert journal.state(plan.change.id) == "approved"
    assert guard_events(journal, plan.change.id)[-1]["allowed"] is True


def test_minor_change_is_moved_to_approved_by_the_guard(journal):
    plan = make_plan(requester="crenard", created_at=TUESDAY_19H - dt.timedelta(hours=1))
    journal.record_plan(plan, "dnguyen")
    guard(plan, journal, now=TUESDAY_19H - dt.timedelta(hours=3))
    assert journal.state(plan.change.id) == "approved"


def test_refused_outside_the_window_says_when_it_opens(journal):
    plan = approved_medium(journal)
    with pytest.raises(GuardRefused, match=r"doif: .*outside the medium window.*next opens 2026-12-01T19:00"):
        guard(plan, journal, now=TUESDAY_19H - dt.timedelta(hours=2))
    assert guard_events(journal, plan.change.id)[-1]["allowed"] is False


def test_refused_when_one_site_of_several_is_closed(journal):
    hours = POLICY.closed_hours.model_copy(update={"night_start": dt.time(23, 0)})
    sites = dict(POLICY.sites)
    sites["doso"] = sites["doso"].model_copy(update={"closed_hours": hours})
    policy = POLICY.model_copy(update={"sites": sites})
    plan = make_plan(
        category=Category.MAJOR,
        created_at=TUESDAY_19H - dt.timedelta(days=2),
        hosts=(("sw-doif-1", "doif"), ("fw-doso-1", "doso")),
    )
    journal.record_plan(plan, "dnguyen")
    approve(policy, journal, plan.change.id, actor_for(policy, "amoreau"))
    approve(policy, journal, plan.change.id, actor_for(policy, "gperrin"))
    tuesday_21h30 = dt.datetime(2026, 12, 1, 20, 30, tzinfo=dt.UTC)
    with pytest.raises(GuardRefused, match="doso: ") as refused:
        guard(plan, journal, now=tuesday_21h30, policy=policy)
    assert "doif:" not in str(refused.value)


def test_refused_without_approvals(journal):
    plan = make_plan(category=Category.MEDIUM)
    journal.record_plan(plan, "dnguyen")
    with pytest.raises(GuardRefused, match="approvals missing: a client ops_manager"):
        guard(plan, journal)


def test_refused_when_approvals_are_bound_to_another_plan(journal):
    old = approved_medium(journal)
    new = make_plan(category=Category.MEDIUM, salt="re-planned")
    journal.record_plan(new, "dnguyen")
    with pytest.raises(GuardRefused, match="approvals missing"):
        guard(new, journal)
    with pytest.raises(GuardRefused, match="is not the current plan"):
        guard(old, journal)


def test_refused_during_a_freeze(journal):
    plan = approved_medium(journal)
    frozen = POLICY.model_copy(
        update={
            "freezes": (Freeze(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 2), reason="audit week"),)
        }
    )
    with pytest.raises(GuardRefused, match=re.escape("freeze 2026-12-01..2026-12-02: audit week")):
        guard(plan, journal, policy=frozen)


def test_major_lead_time(journal):
    late = approved_major(journal, created_at=SATURDAY_10H - dt.timedelta(hours=23))
    with pytest.raises(GuardRefused, match=re.escape("planned 24 h ahead: not before 2026-12-05T11:00+01")):
        guard(late, journal, now=SATURDAY_10H)


def test_major_with_lead_time_in_a_closed_period_is_allowed(journal):
    plan = approved_major(journal, created_at=SATURDAY_10H - dt.timedelta(hours=25))
    assert guard(plan, journal, now=SATURDAY_10H).allowed


def test_major_needs_post_checks_and_medium_a_rollback(journal):
    plan = approved_major(journal, created_at=SATURDAY_10H - dt.timedelta(days=2), post_checks=False)
    with pytest.raises(GuardRefused, match="needs post-checks"):
        guard(plan, journal, now=SATURDAY_10H)
    medium = approved_medium(journal, change_id="CHG-2026-0002", rollback=False)
    with pytest.raises(GuardRefused, match="needs a rollback for every host"):
        guard(medium, journal)


def test_outage_over_the_category_maximum(journal):
    plan = approved_medium(journal, outage=dt.timedelta(minutes=20))
    with pytest.raises(GuardRefused, match="expected outage"):
        guard(plan, journal)


def test_the_only_approver_may_not_apply(journal):
    plan = approved_medium(journal, approver="hboss")
    with pytest.raises(GuardRefused, match="hboss is the only approver"):
        guard(plan, journal, actor="hboss")
    assert guard(plan, journal, actor="dnguyen").allowed


def test_unknown_actor_and_actor_without_the_apply_role(journal):
    plan = approved_medium(journal)
    with pytest.raises(GuardRefused, match="mallory is not a person of the policy"):
        guard(plan, journal, actor="mallory")
    with pytest.raises(GuardRefused, match="bleroy may not apply"):
        guard(plan, journal, actor="bleroy")


def test_emergency_runs_outside_the_window_with_approvals_and_is_recorded(journal):
    plan = approved_medium(journal)
    at_noon = TUESDAY_19H - dt.timedelta(hours=7)
    decision = guard(plan, journal, now=at_noon, emergency="core link down, fix routing")
    assert decision.allowed
    assert decision.emergency == "core link down, fix routing"
    assert any("emergency at doif" in r for r in decision.reasons)
    assert journal.change(plan.change.id).emergency == "core link down, fix routing"


def test_emergency_never_skips_approvals_nor_applies_to_minor(journal):
    plan = make_plan("CHG-2026-0003", category=Category.MEDIUM)
    journal.record_plan(plan, "dnguyen")
    with pytest.raises(GuardRefused, match="approvals missing"):
        guard(plan, journal, now=TUESDAY_19H - dt.timedelta(hours=7), emergency="urgent")
    minor = make_plan("CHG-2026-0004", requester="crenard")
    journal.record_plan(minor, "dnguyen")
    with pytest.raises(GuardRefused, match="emergency path is not open to minor"):
        guard(minor, journal, now=TUESDAY_19H - dt.timedelta(hours=20), emergency="urgent")


def test_emergency_during_a_freeze_only_when_the_freeze_allows_it(journal):
    plan = approved_medium(journal)
    strict = POLICY.model_copy(
        update={"freezes": (Freeze(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1), reason="audit"),)}
    )
    with pytest.raises(GuardRefused, match="freeze"):
        guard(plan, journal, policy=strict, emergency="urgent")
    lenient = POLICY.model_copy(
        update={
            "freezes": (
                Freeze(
                    start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1), reason="audit", allow_emergency=True
                ),
            )
        }
    )
    assert guard(plan, journal, policy=lenient, emergency="urgent").allowed


def test_lock_held_by_another_running_change(journal):
    other = approved_medium(journal, change_id="CHG-2026-0010")
    journal.acquire_locks(other.change.id, ["sw-doif-1"])
    journal.set_state(other.change.id, "in_progress", actor="dnguyen")
    plan = approved_medium(journal, change_id="CHG-2026-0011")
    with pytest.raises(LockHeld, match="sw-doif-1 is locked by CHG-2026-0010"):
        guard(plan, journal)


def test_refused_when_the_change_already_ran(journal):
    plan = approved_medium(journal)
    journal.set_state(plan.change.id, "in_progress", actor="dnguyen")
    journal.set_state(plan.change.id, "completed", actor="dnguyen")
    with pytest.raises(GuardRefused, match="is completed: plan it again"):
        guard(plan, journal)


def test_every_decision_is_journaled_with_the_policy_version(journal):
    plan = approved_medium(journal)
    for now in (TUESDAY_19H - dt.timedelta(hours=1), TUESDAY_19H):
        with contextlib.suppress(GuardRefused):
            guard(plan, journal, now=now)
    events = guard_events(journal, plan.change.id)
    assert [e["allowed"] for e in events] == [False, True]
    assert {e["policy_version"] for e in events} == {POLICY.version}
    assert journal.verify() == []


# --- the rules: named, each citing the quality plan; the rollback guard reuses them -------------

REPO = Path(__file__).resolve().parents[2]
QUALITY_PLAN = REPO / "docs" / "quality-plan.md"


def _flat(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def _policy_has(key: str) -> bool:
    """``key`` (dotted, ``<c>`` for every category) is a key of the policy model as loaded."""
    data = BASE.model_dump(mode="json")
    paths = [key.replace("<c>", c.value) for c in Category] if "<c>" in key else [key]
    for path in paths:
        node = data
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
    return True


def test_every_rule_is_named_once_and_cites_a_policy_key_that_exists() -> None:
    rules = (*APPLY_RULES, *ROLLBACK_RULES)
    assert len({r.name for r in APPLY_RULES}) == len(APPLY_RULES)
    for rule in rules:
        assert rule.cite.section and rule.cite.phrase, rule.name
        if rule.cite.policy:
            assert _policy_has(rule.cite.policy), (rule.name, rule.cite.policy)
    # The ones the issue names, by what they check.
    names = {r.name for r in APPLY_RULES}
    assert {"window", "freeze", "lead-time", "approvals", "separation-of-duties", "device-locks",
            "plan-demands", "outage", "who-may-apply", "policy-pin"} <= names
    assert not _policy_has("categories.<c>.no_such_key")  # the check can fail


def test_every_rule_cites_a_heading_and_a_phrase_of_the_quality_plan() -> None:
    text = QUALITY_PLAN.read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}
    for rule in (*APPLY_RULES, *ROLLBACK_RULES):
        assert rule.cite.section in headings, (rule.name, rule.cite.section)
        assert _flat(rule.cite.phrase) in _flat(text), (rule.name, rule.cite.phrase)


def test_docs_list_every_rule_with_its_citation() -> None:
    page = (REPO / "docs" / "guard.md").read_text(encoding="utf-8")
    for rule in APPLY_RULES:
        assert f"`{rule.name}`" in page, rule.name
        assert rule.cite.phrase in page, rule.name


def test_a_refusal_names_the_rules_that_refused(journal):
    plan = approved_medium(journal)
    with pytest.raises(GuardRefused):
        guard(plan, journal, actor="amoreau", now=TUESDAY_19H - dt.timedelta(hours=2))
    assert guard_events(journal, plan.change.id)[-1]["rules"] == ["who-may-apply", "separation-of-duties", "window"]


def rollback(plan, journal, *, actor="dnguyen", now=TUESDAY_19H, policy=POLICY, emergency=None):
    return check_rollback(plan, policy=policy, journal=journal, actor=actor, now=now, emergency=emergency)


def test_rollback_guard_applies_the_person_window_and_freeze_rules(journal):
    plan = approved_medium(journal)
    journal.set_state(plan.change.id, "in_progress", actor="dnguyen")
    journal.set_state(plan.change.id, "completed", actor="dnguyen")
    # Who: only a person with a role of apply.roles.
    with pytest.raises(GuardRefused, match="mallory is not a person of the policy"):
        rollback(plan, journal, actor="mallory")
    with pytest.raises(GuardRefused, match=r"rollback refused: bleroy may not roll back \(needs role engineer\)"):
        rollback(plan, journal, actor="bleroy")
    # When: the window of the change's category, at each of its sites.
    with pytest.raises(GuardRefused, match=r"doif: .*outside the medium window.*next opens 2026-12-01T19:00"):
        rollback(plan, journal, now=TUESDAY_19H - dt.timedelta(hours=2))
    # Freezes, even inside the window; the emergency path passes only a freeze that allows it.
    frozen = POLICY.model_copy(
        update={"freezes": (Freeze(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 1), reason="audit"),)}
    )
    with pytest.raises(GuardRefused, match=re.escape("freeze 2026-12-01..2026-12-01: audit")):
        rollback(plan, journal, policy=frozen)
    with pytest.raises(GuardRefused, match="freeze"):
        rollback(plan, journal, policy=frozen, emergency="service down")
    # Outside the window the emergency path is open to a rollback (it restores the service).
    outside = rollback(plan, journal, now=TUESDAY_19H - dt.timedelta(hours=2), emergency="service down")
    assert outside.allowed and any("emergency at doif" in r for r in outside.reasons)
    assert rollback(plan, journal).allowed
    events = [e for e in guard_events(journal, plan.change.id) if e.get("action") == "rollback"]
    assert [e["allowed"] for e in events] == [False, False, False, False, False, True, True]
    assert events[1]["rules"] == ["who-may-apply"] and events[3]["rules"] == ["freeze"]
    # Approvals and the change's state were judged before it ran: not asked again of a rollback.
    assert journal.state(plan.change.id) == "completed"


def test_a_change_on_both_sites_approved_by_one_site_is_refused_by_the_across_sites_rule(journal):
    plan = make_plan(category=Category.MEDIUM, requester="crenard",
                     hosts=(("sw-doif-1", "doif"), ("sw-doso-1", "doso")))
    journal.record_plan(plan, plan.created_by)
    approve(POLICY, journal, plan.change.id, actor_for(POLICY, "amoreau"))
    with pytest.raises(GuardRefused, match=r"approvals missing for every site .*doif, doso.*ops_manager for doso"):
        guard(plan, journal)
    assert guard_events(journal, plan.change.id)[-1]["rules"] == ["approvals-across-sites"]
    approve(POLICY, journal, plan.change.id, actor_for(POLICY, "bleroy"))
    guard(plan, journal)
