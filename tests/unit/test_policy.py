"""The policy file: validation, lookups, requirements and identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from netchange.errors import BadRequest, GuardRefused
from netchange.policy import current_actor, load_policy
from netchange.vocabulary import Category

POLICY = Path(__file__).resolve().parents[2] / "policy.yaml"


def test_repo_policy_loads_with_version_and_defaults():
    policy = load_policy(POLICY)
    assert policy.version
    assert policy.timezone == "Europe/Paris"
    assert set(policy.sites) == {"doif", "doso"}
    assert set(policy.categories) == set(Category)
    major = policy.category("major")
    assert major.closed_periods
    assert major.max_duration.total_seconds() == 4 * 3600
    assert [(r.role, r.organisation) for r in major.approvals] == [
        ("ops_manager", "client"),
        ("project_manager", "provider"),
    ]
    assert policy.holiday(__import__("datetime").date(2026, 11, 11))


def test_unknown_key_is_an_error_naming_the_file(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text(POLICY.read_text().replace("timezone: Europe/Paris", "timezone: Europe/Paris\ntimezon: x"))
    with pytest.raises(BadRequest, match=r"policy\.yaml.*timezon"):
        load_policy(bad)


def test_nested_unknown_key_is_an_error(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text(POLICY.read_text().replace("    lead_time: P1D", "    lead_time: P1D\n    leadtime: P2D"))
    with pytest.raises(BadRequest, match=r"categories\.major\.leadtime"):
        load_policy(bad)


def test_unknown_site_and_category_are_bad_requests():
    policy = load_policy(POLICY)
    with pytest.raises(BadRequest, match="unknown site"):
        policy.site("lyon")
    with pytest.raises(BadRequest, match="unknown category"):
        policy.category("huge")


def test_requirements_are_human_lines():
    policy = load_policy(POLICY)
    lines = policy.requirements(Category.MEDIUM)
    text = "\n".join(lines)
    assert "19:00–20:00" in text
    assert "15 min" in text
    assert "client ops_manager" in text
    assert "rollback" in text
    assert any("requester's validation" in line for line in policy.requirements(Category.MINOR))
    assert any("24 h" in line for line in policy.requirements(Category.MAJOR))


def test_actor_override_only_when_the_policy_allows_it():
    policy = load_policy(POLICY)
    actor = current_actor(policy, "amoreau")
    assert actor.login == "amoreau"
    assert actor.person is not None
    assert actor.source == "override"
    production = policy.model_copy(
        update={"identity": policy.identity.model_copy(update={"allow_override": False})}
    )
    with pytest.raises(BadRequest, match="NETCHANGE_ACTOR"):
        current_actor(production, "amoreau")


def test_unknown_account_may_read_but_not_act():
    policy = load_policy(POLICY)
    actor = current_actor(policy, "mallory")
    assert not actor.known
    with pytest.raises(GuardRefused, match="not a person of the policy"):
        actor.require("approve")
