"""Issue 11 item 1: the plan is verified on every load, the policy is pinned, approvals are used up.

Each test plays the attacker of the issue: edit the stored plan, point ``NETCHANGE_POLICY`` at a
laxer file, re-run a change that rolled back on the approvals of its first attempt.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netchange import redact
from netchange.errors import GuardRefused
from netchange.guard import approve, check_apply, status_of_current
from netchange.journal import Journal
from netchange.journal.testing import make_plan
from netchange.plan import PlanTampered, compute_plan_hash
from netchange.plan import store as planstore
from netchange.policy import actor_for, load_policy
from netchange.policy.pin import PolicyNotPinned, adopt, require
from netchange.vocabulary import Category
from tests.conftest import CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

Cli = Callable[..., CliResult]
TUESDAY_1930 = "2026-12-01T19:30:00+01:00"
TUESDAY_1000 = "2026-12-01T10:00:00+01:00"
CHG = "CHG-2026-0042"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def lab(two_switches: Path) -> Path:
    return two_switches  # tests/conftest.py


def write_change(root: Path) -> Path:
    path = root / "chg.yaml"
    path.write_text(yaml.safe_dump({
        "id": CHG, "title": "New VLAN for servers", "ticket": "INC0042", "requester": "crenard",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
    }))
    return path


def plan_file(lab: Path) -> Path:
    files = list((lab / "home" / "plans" / CHG).glob("*.json"))
    assert len(files) == 1
    return files[0]


def no_devices(monkeypatch: pytest.MonkeyPatch, lab: Path) -> None:
    """From here on, any attempt to reach a device fails loudly (exit 2, 'nornir'), not with exit 3."""
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(lab / "no-such-inventory.yaml"))


def edit(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def states(lab: Path) -> list[str]:
    with Journal(lab / "home" / "journal.sqlite") as j:
        return [e.data["to"] for e in j.events(CHG) if e.kind == "state"]


def lower_everything(data: dict) -> None:
    data["category"] = "minor"
    for host in data["hosts"]:
        host["category"] = "minor"


def lower_one_host(data: dict) -> None:
    data["hosts"][1]["category"] = "minor"


def swap_candidate(data: dict) -> None:
    data["hosts"][0]["candidate"] = "vlan 20\n name servers\nno ip access-list extended EDGE-IN\n"


def drop_requirements(data: dict) -> None:
    data["requirements"] = ["approvals: none"]


@pytest.mark.parametrize("tamper", [lower_everything, lower_one_host, swap_candidate, drop_requirements])
def test_an_edited_stored_plan_is_refused_by_apply_without_touching_a_device(
    lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, tamper: Callable[[dict], None]
) -> None:
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    edit(plan_file(lab), tamper)
    no_devices(monkeypatch, lab)
    refused = cli("apply", CHG, actor="dnguyen", now=TUESDAY_1000)
    assert refused.code == 3, refused.err
    assert len(refused.err.strip().splitlines()) == 1
    assert "does not match its content" in refused.err
    assert "Traceback" not in refused.err
    assert states(lab) == ["planned"]  # never approved, never in progress


def test_an_edited_plan_cannot_be_approved(lab: Path, cli: Cli) -> None:
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    edit(plan_file(lab), lower_everything)
    refused = cli("approve", CHG, actor="amoreau")
    assert refused.code == 3
    assert "does not match its content" in refused.err and len(refused.err.strip().splitlines()) == 1
    with Journal(lab / "home" / "journal.sqlite") as j:
        assert j.approvals(CHG) == []


def test_a_resealed_plan_is_not_the_plan_the_journal_holds(lab: Path, cli: Cli) -> None:
    """Edit, recompute the hash, keep the file name: the journal's hash and copy say no."""
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    path = plan_file(lab)

    def reseal(data: dict) -> None:
        lower_everything(data)
        data["plan_hash"] = compute_plan_hash(data)

    edit(path, reseal)
    refused = cli("apply", CHG, actor="dnguyen", now=TUESDAY_1930)
    assert refused.code == 3 and "the document says plan" in refused.err
    # Same content as the journal's copy but a plan file that is not a regular file: refused too.
    path.unlink()
    path.mkdir()
    refused = cli("apply", CHG, actor="dnguyen", now=TUESDAY_1930)
    assert refused.code == 3 and len(refused.err.strip().splitlines()) == 1


def test_approvals_follow_the_journal_not_the_newest_file(lab: Path, cli: Cli) -> None:
    """A newer plan file dropped beside the current one (e.g. a minor one) is never picked up."""
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    current = plan_file(lab)
    data = json.loads(current.read_text())
    lower_everything(data)
    data["created_at"] = "2030-01-01T00:00:00Z"
    data["plan_hash"] = compute_plan_hash(data)
    (current.parent / f"{data['plan_hash']}.json").write_text(json.dumps(data))
    refused = cli("apply", CHG, actor="dnguyen", now=TUESDAY_1000)  # minor window: would pass if minor
    assert refused.code == 3
    assert "approvals missing" in refused.err  # judged as the medium plan the journal holds


def test_a_plan_where_every_host_failed_exits_1_with_no_category(lab: Path, cli: Cli, monkeypatch) -> None:
    devs = [MockDevice(n, SWITCH_RUNNING, diff="+vlan 20\n", site=s, fail={"load_merge_candidate": {
        "exception": "napalm.base.exceptions.MergeConfigException", "args": ["% Invalid input"]}})
        for n, s in (("sw1", "doif"), ("sw2", "doso"))]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(lab / "broken", devs)))
    result = cli("plan", str(write_change(lab)), "--json", actor="dnguyen")
    assert result.code == 1
    data = json.loads(result.out)
    assert data["category"] is None
    assert {h["category"] for h in data["hosts"]} == {None}
    assert set(data) >= {"change_id", "category", "plan_hash", "hosts"}
    text = cli("plan", str(write_change(lab)), actor="dnguyen")
    assert text.code == 1 and "none" in text.out and "MINOR" not in text.out
    # Nothing to approve: not stored, not recorded.
    assert not (lab / "home" / "plans" / CHG).exists()
    assert cli("approve", CHG, actor="amoreau").code == 2


# --- the policy pinned by its digest ------------------------------------------------------------


def lax_policy(lab: Path) -> Path:
    """The repo's policy with medium changes needing no approval: what a hurried engineer would want."""
    data = yaml.safe_load((REPO / "policy.yaml").read_text())
    data["categories"]["medium"]["approvals"] = []
    path = lab / "lax-policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))  # same version string: only the digest tells
    return path


def test_a_different_policy_file_is_refused_until_adopted(lab: Path, cli: Cli, monkeypatch) -> None:
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    assert cli("approve", CHG, actor="amoreau").code == 0
    monkeypatch.setenv("NETCHANGE_POLICY", str(lax_policy(lab)))
    for args, actor in ((("plan", str(write_change(lab))), "dnguyen"), (("approve", CHG), "amoreau"),
                        (("apply", CHG), "dnguyen"), (("close", CHG), "dnguyen")):
        refused = cli(*args, actor=actor, now=TUESDAY_1930)
        assert refused.code == 3, (args, refused.err)
        assert "is not the policy in force" in refused.err and load_policy(REPO / "policy.yaml").version in refused.err
        assert len(refused.err.strip().splitlines()) == 1
    # An engineer may not adopt it; the unknown account neither; the project manager may.
    assert cli("policy", "adopt", actor="dnguyen").code == 3
    assert cli("policy", "adopt", actor="mallory").code == 3
    adopted = cli("policy", "adopt", "--reason", "Q1 review", actor="gperrin")
    assert adopted.code == 0, adopted.err
    with Journal(lab / "home" / "journal.sqlite") as j:
        event = j.last_event(["policy_pinned", "policy_adopted"])
        assert event is not None and event.kind == "policy_adopted" and event.actor == "gperrin"
        assert event.data["reason"] == "Q1 review" and event.data["previous_digest"] != event.data["digest"]
        assert j.verify() == []
    # The plan was made under the old policy: apply wants a new plan, then runs under the new one.
    refused = cli("apply", CHG, actor="dnguyen", now=TUESDAY_1930)
    assert refused.code == 3 and "plan again" in refused.err
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    applied = cli("apply", CHG, "--json", actor="dnguyen", now=TUESDAY_1930)
    assert applied.code in (0, 1), applied.err  # the guard let it through: medium needs no approval now
    assert "refused" not in applied.err


def test_a_new_policy_cannot_make_its_own_author_an_administrator(lab: Path, cli: Cli, monkeypatch) -> None:
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    data = yaml.safe_load((REPO / "policy.yaml").read_text())
    data["policy_admin"] = {"roles": ["engineer"]}
    path = lab / "self-serving.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    monkeypatch.setenv("NETCHANGE_POLICY", str(path))
    refused = cli("policy", "adopt", actor="dnguyen")
    assert refused.code == 3 and "project_manager" in refused.err


def test_an_approval_given_under_another_policy_does_not_count(tmp_path: Path) -> None:
    strict = load_policy(REPO / "policy.yaml")
    other = strict.model_copy(update={"project": "another file"})
    with Journal(tmp_path / "j.sqlite") as journal:
        require(strict, journal, actor="dnguyen")
        plan = make_plan(category=Category.MEDIUM, policy_digest=strict.digest)
        journal.record_plan(plan, "dnguyen")
        approve(strict, journal, plan.change.id, actor_for(strict, "amoreau"))
        assert status_of_current(strict, journal, plan.change.id).complete
        with pytest.raises(PolicyNotPinned):
            require(other, journal, actor="dnguyen")
        adopt(other, journal, actor="gperrin")
        status = status_of_current(other, journal, plan.change.id)
        assert not status.complete
        assert [why for _, why in status.ignored] == [f"given under another policy ({strict.digest[:12]})"]


# --- approvals are used up by an attempt that rolled back -----------------------------------------


def test_an_attempt_that_rolled_back_uses_up_its_approvals(lab: Path, cli: Cli) -> None:
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    assert cli("approve", CHG, actor="amoreau").code == 0
    assert cli("approve", CHG, actor="bleroy").code == 0  # sw2 is at doso: both site managers (all_sites)
    applied = cli("apply", CHG, "--json", actor="dnguyen", now=TUESDAY_1930)
    assert applied.code == 1  # the mock never shows VLAN 20: post-check fails, rolled back
    assert "rolled_back" in applied.out
    # Re-plan to the very same hash (same devices, same request, same instant): the journal
    # makes it the current plan again, but the approval was for the attempt that failed.
    stored = planstore.load_verified(lab / "home" / "plans", CHG, plan_file(lab).stem)
    with Journal(lab / "home" / "journal.sqlite") as j:
        j.record_plan(stored, actor="dnguyen")
        assert j.change(CHG).plan_hash == stored.plan_hash
    refused = cli("apply", CHG, actor="dnguyen", now=TUESDAY_1930)
    assert refused.code == 3
    assert "approvals missing" in refused.err
    shown = cli("show", CHG, actor="dnguyen")
    assert "used up by an apply attempt" in shown.out
    # A new approval after the failed attempt counts again.
    assert cli("approve", CHG, actor="amoreau").code == 0
    assert cli("approve", CHG, actor="bleroy").code == 0
    assert cli("apply", CHG, actor="dnguyen", now=TUESDAY_1930).code == 1  # runs (and rolls back) again


# --- the library refuses too, whoever calls it --------------------------------------------------


def test_the_guard_verifies_the_plan_it_is_given(tmp_path: Path) -> None:
    policy = load_policy(REPO / "policy.yaml")
    with Journal(tmp_path / "j.sqlite") as journal:
        plan = make_plan(category=Category.MEDIUM)
        journal.record_plan(plan, "dnguyen")
        lowered = plan.model_copy(update={"category": Category.MINOR})
        with pytest.raises(PlanTampered, match="does not match its content"):
            check_apply(lowered, policy=policy, journal=journal, actor="dnguyen",
                        now=plan.created_at)
        # Re-sealed but inconsistent: a plan lower than one of its hosts.
        resealed = lowered.model_copy(update={"plan_hash": compute_plan_hash(lowered)})
        with pytest.raises(GuardRefused, match="the plan says minor but a host is medium"):
            check_apply(resealed, policy=policy, journal=journal, actor="dnguyen", now=plan.created_at)
        # Re-sealed with the request's own raise ignored: a category is raised, never lowered.
        raised = plan.change.model_copy(update={"category": Category.MAJOR})
        ignored = plan.model_copy(update={"change": raised})
        ignored = ignored.model_copy(update={"plan_hash": compute_plan_hash(ignored)})
        with pytest.raises(GuardRefused, match="the request raised it to major"):
            check_apply(ignored, policy=policy, journal=journal, actor="dnguyen", now=plan.created_at)


def test_a_plan_carrying_a_secret_is_not_stored(lab: Path, cli: Cli, monkeypatch) -> None:
    """The store never scrubs a plan (it could not verify, and a scrubbed candidate must not be pushed)."""
    secret = "S3cr3t-community-4711"
    redact.register(secret)
    devs = [MockDevice("sw1", SWITCH_RUNNING, diff=f"+vlan 20\n+snmp-server community {secret} RO\n",
                       cli={"show vlan brief": SHOW_VLAN_BRIEF})]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(lab / "secret", devs)))
    result = cli("plan", str(write_change(lab)), actor="dnguyen")
    assert result.code == 2
    assert "hosts.sw1.diff" in result.err and secret not in result.err + result.out
    assert not (lab / "home" / "plans" / CHG).exists()


def test_a_pin_from_another_version_still_lets_its_administrators_adopt(tmp_path: Path) -> None:
    """A pinned policy that no longer validates (a newer model) must not lock everyone out."""
    policy = load_policy(REPO / "policy.yaml")
    newer = policy.model_copy(update={"project": "after the upgrade"})
    with Journal(tmp_path / "j.sqlite") as journal:
        old = policy.model_dump(mode="json")
        old["categories"] = {}  # what an older or newer model would not accept
        journal.event(None, "policy_pinned", actor="dnguyen",
                      data={"digest": "0" * 64, "version": "2025.1", "path": "old.yaml", "policy": old})
        with pytest.raises(GuardRefused, match="project_manager"):
            adopt(newer, journal, actor="dnguyen")
        assert adopt(newer, journal, actor="gperrin").changed
        assert require(newer, journal, actor="dnguyen").digest == newer.digest


def test_the_journal_copy_is_verified_too(tmp_path: Path) -> None:
    """An edited plan row in the journal (the copy show, report, approve and recover read) is refused."""
    import sqlite3

    with Journal(tmp_path / "j.sqlite") as journal:
        plan = make_plan(category=Category.MEDIUM)
        journal.record_plan(plan, "dnguyen")
        assert planstore.from_journal(journal, plan.change.id) == plan
        assert planstore.from_journal(journal, plan.change.id, plan.plan_hash) == plan
        assert planstore.from_journal(journal, plan.change.id, "0" * 64) is None
    data = json.loads(plan.model_dump_json())
    data["hosts"][0]["diff"] = "+vlan 42\n+vlan 43\n"
    with sqlite3.connect(tmp_path / "j.sqlite") as conn:
        conn.execute("UPDATE plans SET json = ? WHERE hash = ?", (json.dumps(data), plan.plan_hash))
    with Journal(tmp_path / "j.sqlite") as journal:
        for load in (lambda: planstore.from_journal(journal, plan.change.id),
                     lambda: status_of_current(load_policy(REPO / "policy.yaml"), journal, plan.change.id),
                     lambda: approve(load_policy(REPO / "policy.yaml"), journal, plan.change.id,
                                     actor_for(load_policy(REPO / "policy.yaml"), "amoreau"))):
            with pytest.raises(PlanTampered, match="does not match its content"):
                load()
