"""Approvals: roles and organisations per category, self-approval, stale plan hashes, closing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netchange.errors import BadRequest, GuardRefused, StateConflict
from netchange.guard import approve, check_apply, status_of_current
from netchange.journal import Journal, State
from netchange.journal.testing import make_plan
from netchange.pipeline import close_change as close
from netchange.policy import ApprovalRule, RequestRules, actor_for, load_policy
from netchange.vocabulary import Category
from tests.pgserver import journal_database

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def journal(request, tmp_path):
    """The approval rules on each storage of the journal (issue 24 item 1)."""
    database = journal_database(request.getfixturevalue("postgres")) if request.param == "postgresql" else None
    with Journal(tmp_path / "journal.sqlite", clock=lambda: T0, database=database) as j:
        yield j


def who(login: str):
    return actor_for(POLICY, login)


def planned(journal, category=Category.MEDIUM, **kw):
    plan = make_plan(category=category, **kw)
    journal.record_plan(plan, "dnguyen")
    return plan


def test_medium_needs_a_client_ops_manager(journal):
    plan = planned(journal, requester="bleroy")
    with pytest.raises(GuardRefused, match="cannot approve a medium change"):
        approve(POLICY, journal, plan.change.id, who("gperrin"))  # provider project manager
    with pytest.raises(GuardRefused, match="cannot approve"):
        approve(POLICY, journal, plan.change.id, who("crenard"))  # client requester only
    _, status = approve(POLICY, journal, plan.change.id, who("amoreau"), comment="ok")
    assert status.complete
    assert journal.state(plan.change.id) == "approved"


def test_major_needs_both_organisations(journal):
    plan = planned(journal, Category.MAJOR)
    _, status = approve(POLICY, journal, plan.change.id, who("amoreau"))
    assert not status.complete
    assert [r.role for r in status.missing] == ["project_manager"]
    assert journal.state(plan.change.id) == "planned"
    _, status = approve(POLICY, journal, plan.change.id, who("gperrin"))
    assert status.complete
    assert journal.state(plan.change.id) == "approved"


def test_two_client_ops_managers_do_not_make_a_joint_approval(journal):
    plan = planned(journal, Category.MAJOR, requester="crenard", hosts=(("sw-doif-1", "doif"), ("sw-doso-1", "doso")))
    approve(POLICY, journal, plan.change.id, who("amoreau"))
    _, status = approve(POLICY, journal, plan.change.id, who("bleroy"))
    assert not status.complete


def test_nobody_approves_their_own_request_or_plan(journal):
    plan = planned(journal, requester="amoreau")
    with pytest.raises(GuardRefused, match="own request"):
        approve(POLICY, journal, plan.change.id, who("amoreau"))
    mixed = POLICY.model_copy(
        update={
            "people": (
                *POLICY.people,
                POLICY.person("bleroy").model_copy(
                    update={"login": "hboss", "roles": ("ops_manager", "engineer")}
                ),
            )
        }
    )
    other = make_plan("CHG-2026-0002", category=Category.MEDIUM, created_by="hboss")
    journal.record_plan(other, "hboss")
    with pytest.raises(GuardRefused, match="own plan"):
        approve(mixed, journal, other.change.id, actor_for(mixed, "hboss"))


def test_unknown_person_cannot_approve(journal):
    plan = planned(journal)
    with pytest.raises(GuardRefused, match="not a person of the policy"):
        approve(POLICY, journal, plan.change.id, who("mallory"))


def test_a_new_plan_voids_approvals(journal):
    plan = planned(journal)
    approve(POLICY, journal, plan.change.id, who("amoreau"))
    assert journal.state(plan.change.id) == "approved"
    replanned = make_plan(category=Category.MEDIUM, salt="new diff")
    journal.record_plan(replanned, "dnguyen")
    status = status_of_current(POLICY, journal, plan.change.id)
    assert not status.complete
    assert len(status.voided) == 1
    assert journal.state(plan.change.id) == "planned"


def test_approving_a_stale_hash_is_refused(journal):
    plan = planned(journal)
    journal.record_plan(make_plan(category=Category.MEDIUM, salt="new"), "dnguyen")
    with pytest.raises(GuardRefused, match="not the current plan"):
        approve(POLICY, journal, plan.change.id, who("amoreau"), plan_hash=plan.plan_hash[:12])


def test_a_rejection_stands_until_the_change_is_planned_again(journal):
    plan = planned(journal, Category.MAJOR)
    approve(POLICY, journal, plan.change.id, who("gperrin"))
    _, status = approve(POLICY, journal, plan.change.id, who("amoreau"), reject=True, comment="not this week")
    assert not status.complete
    assert "rejected by amoreau" in status.summary()
    with pytest.raises(GuardRefused, match="rejection stands"):
        approve(POLICY, journal, plan.change.id, who("amoreau"), comment="ok after review")
    # An approval slipped into the journal behind the check does not lift it either.
    journal.add_approval(plan.change.id, plan.plan_hash, approver="amoreau", organisation="client",
                         roles=("requester", "ops_manager"), decision="approved")
    status = status_of_current(POLICY, journal, plan.change.id)
    assert not status.complete
    assert "rejected by amoreau" in status.summary()
    # An approval can still become a rejection; and a new plan starts afresh.
    _, status = approve(POLICY, journal, plan.change.id, who("gperrin"), reject=True, comment="me neither")
    assert {a.approver for a in status.rejections} == {"amoreau", "gperrin"}
    again = planned(journal, Category.MAJOR, salt="v2")
    approve(POLICY, journal, again.change.id, who("gperrin"))
    _, status = approve(POLICY, journal, again.change.id, who("amoreau"))
    assert status.complete


def test_minor_needs_no_approval_beyond_the_request(journal):
    plan = planned(journal, Category.MINOR, requester="crenard")
    status = status_of_current(POLICY, journal, plan.change.id)
    assert status.complete
    assert "requester's validation" in status.summary()
    stranger = planned(journal, Category.MINOR, requester="dnguyen", change_id="CHG-2026-0009")
    assert not status_of_current(POLICY, journal, stranger.change.id).complete  # not a requester


def test_cannot_approve_a_running_change(journal):
    plan = planned(journal)
    approve(POLICY, journal, plan.change.id, who("amoreau"))
    journal.set_state(plan.change.id, State.IN_PROGRESS, actor="dnguyen")
    # A state conflict is a refusal (exit 3), not bad input (exit 2).
    with pytest.raises(StateConflict, match="in_progress") as refused:
        approve(POLICY, journal, plan.change.id, who("amoreau"))
    assert refused.value.exit_code == 3


def test_close_needs_the_engineer_and_the_ops_manager(journal):
    plan = planned(journal)
    cid = plan.change.id
    with pytest.raises(StateConflict, match="planned"):
        close(POLICY, journal, cid, who("dnguyen"))
    approve(POLICY, journal, cid, who("amoreau"))
    journal.set_state(cid, "in_progress", actor="dnguyen")
    journal.set_state(cid, "completed", actor="dnguyen")
    with pytest.raises(GuardRefused, match="may not close"):
        close(POLICY, journal, cid, who("gperrin"))
    assert close(POLICY, journal, cid, who("dnguyen")) == ["ops_manager"]
    assert journal.state(cid) == "completed"
    assert close(POLICY, journal, cid, who("efaure")) == ["ops_manager"]  # a second engineer is not enough
    assert close(POLICY, journal, cid, who("amoreau")) == []
    assert journal.state(cid) == "closed"


# --- who may approve is the policy's data ------------------------------------------------------


def test_a_policy_granting_medium_approval_to_another_role_is_obeyed(journal):
    """The next quarter's plan lets the provider's project manager validate medium changes."""
    medium = POLICY.category(Category.MEDIUM).model_copy(
        update={"approvals": (ApprovalRule(role="project_manager", organisation="provider"),)}
    )
    policy = POLICY.model_copy(update={"categories": {**POLICY.categories, Category.MEDIUM: medium}})
    plan = planned(journal)
    with pytest.raises(GuardRefused, match=r"cannot approve a medium change \(needs a provider project_manager\)"):
        approve(policy, journal, plan.change.id, actor_for(policy, "amoreau"))  # the client ops manager
    _, status = approve(policy, journal, plan.change.id, actor_for(policy, "gperrin"))
    assert status.complete and status.approvers == {"gperrin"}
    assert journal.state(plan.change.id) == "approved"
    # The guard judges by the same policy: the approval counts for the apply.
    decision = check_apply(plan, policy=policy, journal=journal, actor="dnguyen",
                           now=dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC))
    assert decision.allowed and decision.approvals is not None and decision.approvals.complete
    # Under the file's own policy the same approval is no approval of a medium change.
    assert not status_of_current(POLICY, journal, plan.change.id).complete


def test_extra_approvers_of_a_minor_change_and_requesters_come_from_the_policy(journal):
    plan = planned(journal, Category.MINOR, requester="crenard")
    with pytest.raises(GuardRefused, match="an extra approval needs the role ops_manager or project_manager"):
        approve(POLICY, journal, plan.change.id, who("efaure"))  # an engineer
    minor = POLICY.category(Category.MINOR).model_copy(update={"extra_approval_roles": ("engineer",)})
    policy = POLICY.model_copy(update={"categories": {**POLICY.categories, Category.MINOR: minor}})
    approve(policy, journal, plan.change.id, actor_for(policy, "efaure"))
    with pytest.raises(GuardRefused, match="cannot approve"):
        approve(policy, journal, plan.change.id, actor_for(policy, "amoreau"))
    # Whose request is a validation: `requests.roles`.
    assert status_of_current(POLICY, journal, plan.change.id).complete
    nobody = POLICY.model_copy(update={"requests": RequestRules(roles=("project_manager",))})
    assert not status_of_current(nobody, journal, plan.change.id).requester_ok


def test_a_role_not_declared_by_the_policy_does_not_load(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "policy.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "policy.yaml"
    bad.write_text(text.replace("roles: [engineer]               #", "roles: [engineer, janitor]  #"), encoding="utf-8")
    with pytest.raises(BadRequest, match="janitor"):
        load_policy(bad)


def _per_site_policy():
    """The repo's policy: amoreau approves for doif, bleroy for doso, under approvals_by_site."""
    assert POLICY.approvals_by_site
    return POLICY


def _lax_policy():
    """The same people without approvals_by_site: sites then only route notifications."""
    return POLICY.model_copy(update={"approvals_by_site": False})


def test_an_ops_manager_approves_only_for_the_sites_the_policy_gives_them(journal):
    from netchange.guard import who_may_approve

    policy = _per_site_policy()
    plan = planned(journal, requester="crenard", hosts=(("sw-doso-1", "doso"),))
    with pytest.raises(GuardRefused, match="approves for doif only"):
        approve(policy, journal, plan.change.id, actor_for(policy, "amoreau"))
    assert [[p.login for p in a.people] for a in who_may_approve(policy, plan, requester="crenard")] == [["bleroy"]]
    _, status = approve(policy, journal, plan.change.id, actor_for(policy, "bleroy"))
    assert status.complete
    both = planned(journal, change_id="CHG-2026-0002", requester="crenard",
                   hosts=(("sw-doso-1", "doso"), ("sw-doif-1", "doif")))
    # A change on both sites needs both site managers under the shipped policy (all_sites) ...
    assert policy.approvals_across_sites == "all_sites"
    assert [(a.needed, [p.login for p in a.people]) for a in who_may_approve(policy, both, requester="crenard")] == [
        ("a client ops_manager for doif", ["amoreau"]), ("a client ops_manager for doso", ["bleroy"])
    ]
    # ... and either one under `any_site`: one approval per rule.
    one = policy.model_copy(update={"approvals_across_sites": "any_site"})
    assert [[p.login for p in a.people] for a in who_may_approve(one, both, requester="crenard")] == [
        ["amoreau", "bleroy"]
    ]
    # Without approvals_by_site, sites only route notifications: another site's manager approves.
    lax = _lax_policy()
    other = planned(journal, change_id="CHG-2026-0003", requester="crenard", hosts=(("sw-doso-1", "doso"),))
    assert approve(lax, journal, other.change.id, actor_for(lax, "amoreau"))[1].complete


def test_an_approval_recorded_before_a_site_restriction_no_longer_counts(journal):
    plan = planned(journal, requester="crenard", hosts=(("sw-doso-1", "doso"),))
    lax = _lax_policy()
    approve(lax, journal, plan.change.id, actor_for(lax, "amoreau"))
    status = status_of_current(_per_site_policy(), journal, plan.change.id)
    assert not status.complete
    assert any("approves for doif only" in why for _, why in status.ignored)


def test_a_person_naming_an_unknown_site_is_refused_when_the_policy_loads():
    from pydantic import ValidationError

    raw = POLICY.model_dump()
    raw["people"][0]["sites"] = ["nowhere"]
    with pytest.raises(ValidationError, match="unknown sites: nowhere"):
        type(POLICY).model_validate(raw)


def test_a_change_on_both_sites_needs_each_sites_manager_under_all_sites(journal):
    """Policy 2026.10-lab: `approvals_across_sites: all_sites` (PAQ "Roles": an operations manager per site)."""
    both = planned(journal, requester="crenard", hosts=(("sw-doif-1", "doif"), ("sw-doso-1", "doso")))
    _, status = approve(POLICY, journal, both.change.id, who("amoreau"))
    assert not status.complete and status.complete_for_one_site
    assert status.needs() == ["a client ops_manager for doso"]
    assert "missing: a client ops_manager for doso" in status.summary()
    assert journal.state(both.change.id) == "planned"
    _, status = approve(POLICY, journal, both.change.id, who("bleroy"))
    assert status.complete
    assert [a.approver for a in status.given(status.rules[0], "doif")] == ["amoreau"]
    assert [a.approver for a in status.given(status.rules[0], "doso")] == ["bleroy"]
    assert journal.state(both.change.id) == "approved"
    # Under any_site the first site manager's approval completes it, as before 2026.10-lab.
    any_site = POLICY.model_copy(update={"approvals_across_sites": "any_site"})
    other = planned(journal, change_id="CHG-2026-0009", requester="crenard",
                    hosts=(("sw-doif-1", "doif"), ("sw-doso-1", "doso")))
    assert approve(any_site, journal, other.change.id, actor_for(any_site, "amoreau"))[1].complete


def test_a_person_for_every_site_covers_them_all_but_counts_for_one_rule(journal):
    """gperrin lists no site: his approval stands for both sites; a major change still needs a client
    ops_manager for each site besides him."""
    both = planned(journal, Category.MAJOR, requester="crenard", hosts=(("sw-doif-1", "doif"), ("sw-doso-1", "doso")))
    approve(POLICY, journal, both.change.id, who("gperrin"))
    _, status = approve(POLICY, journal, both.change.id, who("amoreau"))
    assert status.needs() == ["a client ops_manager for doso"]
    _, status = approve(POLICY, journal, both.change.id, who("bleroy"))
    assert status.complete


def test_a_site_manager_requesting_a_change_on_both_sites_needs_the_other_site_only(journal):
    """amoreau (doif) requests a change on doif and doso: her request is doif's share, nobody
    approves their own request, so bleroy's approval (doso) completes it."""
    from netchange.guard import who_may_approve

    both = planned(journal, requester="amoreau", hosts=(("sw-doif-1", "doif"), ("sw-doso-1", "doso")))
    assert [(a.needed, [p.login for p in a.people]) for a in who_may_approve(POLICY, both, requester="amoreau")] == [
        ("a client ops_manager for doso", ["bleroy"])
    ]
    assert status_of_current(POLICY, journal, both.change.id).needs() == ["a client ops_manager for doso"]
    _, status = approve(POLICY, journal, both.change.id, who("bleroy"))
    assert status.complete
