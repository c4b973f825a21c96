"""The plan pipeline: what the engine does with what devices say.

Devices are built from stored configurations with netchange's test kit (:mod:`netchange.testing`:
the ios_cli driver over an in-memory session, so the diff is the driver's own); NAPALM's mock
driver (``tests/mockdev.py``) remains where a test needs a canned failure or a canned diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netchange.changetype import text_hash
from netchange.inventory import load_nornir
from netchange.models import ChangeRequest
from netchange.plan import Plan, build_plan, compute_plan_hash
from netchange.testing import StoredDevice, assert_diff, build_inventory
from netchange.vocabulary import Category
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory


def request(**params: object) -> ChangeRequest:
    return ChangeRequest.model_validate({
        "id": "CHG-2026-0001", "title": "Add VLAN 20", "ticket": "INC123", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"},
                   "params": params or {"vlan_id": 20, "name": "servers"}}],
    })


def devices() -> list[StoredDevice]:
    return [StoredDevice("sw1", SWITCH_RUNNING, site="doif"), StoredDevice("sw2", SWITCH_RUNNING, site="doso")]


def mock_devices(diff: str = "+vlan 20\n+ name servers\n", **kw: object) -> list[MockDevice]:
    """NAPALM mock devices, for a canned failure or a canned diff."""
    return [
        MockDevice("sw1", SWITCH_RUNNING, diff=diff, cli={"show vlan brief": SHOW_VLAN_BRIEF}, **kw),  # type: ignore[arg-type]
        MockDevice("sw2", SWITCH_RUNNING, diff=diff, cli={"show vlan brief": SHOW_VLAN_BRIEF}, site="doso", **kw),  # type: ignore[arg-type]
    ]


def make(tmp_path: Path, devs: list[StoredDevice] | list[MockDevice], req: ChangeRequest | None = None) -> Plan:
    if devs and isinstance(devs[0], MockDevice):
        nr = load_nornir(write_inventory(tmp_path, devs))  # type: ignore[arg-type]
    else:
        nr = build_inventory(devs)  # type: ignore[arg-type]
    return build_plan(req or request(), nr, actor="dnguyen", policy_version="test",
                      requirements=lambda c: [f"window for {c.value}"])


def test_plan_classifies_each_host_and_never_commits(tmp_path: Path) -> None:
    plan = make(tmp_path, devices())
    assert [h.host for h in plan.hosts] == ["sw1", "sw2"]
    for h in plan.hosts:
        assert h.ok, h.error
        assert h.candidate == "vlan 20\n name servers\n"  # rendered from the template, not canned
        assert_diff(plan, "+vlan 20\n+ name servers", host=h.host)  # computed by the ios_cli driver
        assert h.running_hash == text_hash(SWITCH_RUNNING.removesuffix("end\n"))  # its canonical form
        assert h.category is Category.MEDIUM  # a new VLAN: "create a new VLAN and its routing"
        assert any("vlan" in r.rule for r in h.reasons)
    assert plan.category is Category.MEDIUM
    assert plan.requirements == ("window for medium",)
    # The driver's own rollback lines, shown before anything is committed.
    assert all(h.rollback is not None and h.rollback.lines == "no vlan 20\n" for h in plan.hosts)


def test_plan_never_calls_commit(tmp_path: Path, mocker) -> None:  # type: ignore[no-untyped-def]
    from napalm.base.mock import MockDriver

    from netchange.drivers.ios_cli import CliDriver
    from netchange.testing import MemorySession

    commit = mocker.spy(MockDriver, "commit_config")
    discard = mocker.spy(MockDriver, "discard_config")
    make(tmp_path, mock_devices())
    assert commit.call_count == 0
    assert discard.call_count == 2
    commit = mocker.spy(CliDriver, "commit_config")
    discard = mocker.spy(CliDriver, "discard_config")
    sent = mocker.spy(MemorySession, "send_config_set")
    make(tmp_path, devices())
    assert commit.call_count == 0 and sent.call_count == 0
    assert discard.call_count >= 2  # at least once per host, after its diff


def test_failed_pre_check_blocks_the_host_only(tmp_path: Path) -> None:
    # VLAN 10 already exists on both: the pre-check refuses before anything is rendered.
    plan = make(tmp_path, devices(), request(vlan_id=10, name="dup"))
    assert not plan.ok
    for h in plan.hosts:
        assert h.error == "pre-check failed: vlan 10 is free"
        assert h.candidate == "" and h.diff == ""


def test_unreachable_host_is_data_not_a_crash(tmp_path: Path) -> None:
    devs = mock_devices()
    devs[1].fail = {"load_merge_candidate": {"exception": "napalm.base.exceptions.MergeConfigException",
                                              "args": ["% Invalid input detected"]}}
    plan = make(tmp_path, devs)
    ok, bad = plan.hosts
    assert ok.ok and ok.changes
    assert bad.error is not None and "Invalid input" in bad.error


def test_unknown_line_makes_the_change_major(tmp_path: Path) -> None:
    plan = make(tmp_path, mock_devices(diff="+vlan 20\n+ name servers\n+frobnicate everything\n"))
    assert plan.category is Category.MAJOR
    assert "sw1: +frobnicate everything" in plan.unclassified
    assert plan.host("sw1").unclassified == ("+frobnicate everything",)


def test_hash_binds_diff_running_state_and_versions(tmp_path: Path) -> None:
    plan = make(tmp_path, devices())
    same = compute_plan_hash(plan)
    assert same == plan.plan_hash
    other_policy = compute_plan_hash(plan.model_copy(update={"policy_version": "other"}))
    drifted = tuple(h.model_copy(update={"running_hash": "0" * 64}) for h in plan.hosts)
    other_state = compute_plan_hash(plan.model_copy(update={"hosts": drifted}))
    assert len({same, other_policy, other_state}) == 3


PLAN_FIELDS = ("change", "created_at", "created_by", "category", "reasons", "unclassified", "requirements",
               "policy_version", "policy_digest", "rules_version", "rules_digest", "not_applicable")
HOST_FIELDS = ("site", "role", "platform", "syntax", "steps", "pre_checks", "running_hash", "candidate", "diff",
               "rollback", "has_post_checks", "category", "reasons", "unclassified", "error")


def test_hash_covers_every_field_of_the_document(tmp_path: Path) -> None:
    """Issue 11 item 1: category, requirements, author, date, candidate... an edit of any changes the hash."""
    plan = make(tmp_path, devices())
    data = plan.model_dump(mode="json")
    assert set(data) == {*PLAN_FIELDS, "plan_hash", "hosts"}  # a new field must be added here, and is covered
    assert set(data["hosts"][0]) == {*HOST_FIELDS, "host"}
    other = {"change": {**data["change"], "title": "Something else"}, "created_at": "2026-01-01T00:00:00Z",
             "created_by": "someone", "category": "minor", "reasons": [], "unclassified": ["+x"],
             "requirements": ["none"], "policy_version": "lax", "policy_digest": "f" * 64, "rules_version": "0",
             "rules_digest": "e" * 64, "not_applicable": [{"host": "sw3", "step": 0, "reason": "x"}]}
    for field in PLAN_FIELDS:
        assert data[field] != other[field]
        assert compute_plan_hash({**data, field: other[field]}) != plan.plan_hash, field
    host = data["hosts"][0]
    other_host = {"site": "doso", "role": "firewall", "platform": "eos", "syntax": "eos", "steps": [1],
                  "pre_checks": [], "running_hash": "0" * 64, "candidate": "vlan 99\n", "diff": "+vlan 99\n",
                  "rollback": None, "has_post_checks": not host["has_post_checks"], "category": "minor",
                  "reasons": [], "unclassified": ["+x"], "error": "boom"}
    for field in HOST_FIELDS:
        assert host[field] != other_host[field], field
        edited = {**data, "hosts": [{**host, field: other_host[field]}, *data["hosts"][1:]]}
        assert compute_plan_hash(edited) != plan.plan_hash, field
    # The hash is of the content, not of the serialisation: a round trip through JSON keeps it.
    assert type(plan).model_validate_json(plan.model_dump_json(indent=2)).verify() == plan


def test_a_plan_where_every_host_failed_has_no_category(tmp_path: Path) -> None:
    """Issue 11 item 8: it used to say "minor"."""
    devs = mock_devices()
    for dev in devs:
        dev.fail = {"load_merge_candidate": {"exception": "napalm.base.exceptions.MergeConfigException",
                                             "args": ["% Invalid input detected"]}}
    plan = build_plan(request(), load_nornir(write_inventory(tmp_path, devs)), actor="dnguyen",
                      policy_version="t", requirements=lambda c: ["never asked"])
    assert not plan.ok
    assert plan.category is None and plan.requirements == ()
    assert all(h.category is None and h.error for h in plan.hosts)
    plan.verify()


def test_request_raise_is_kept_never_lowered(tmp_path: Path) -> None:
    base = request().model_dump()
    raised = ChangeRequest.model_validate({**base, "category": "major"})
    assert make(tmp_path / "a", devices(), raised).category is Category.MAJOR
    lowered = ChangeRequest.model_validate({**base, "category": "minor"})
    assert make(tmp_path / "b", devices(), lowered).category is Category.MEDIUM


def test_unknown_host_and_type_mismatch_are_bad_input(tmp_path: Path) -> None:
    from netchange.errors import BadRequest

    bad_host = ChangeRequest.model_validate({**request().model_dump(), "steps": [
        {"type": "vlan", "targets": {"hosts": ["nope"]}, "params": {"vlan_id": 20, "name": "x"}}]})
    with pytest.raises(BadRequest, match="unknown host 'nope'"):
        make(tmp_path, devices(), bad_host)
    fw_on_switch = ChangeRequest.model_validate({**request().model_dump(), "steps": [
        {"type": "fw_rule", "targets": {"hosts": ["sw1"]}, "params": {
            "name": "web", "source": "10.0.0.0/24", "destination": "10.1.1.1/32", "protocol": "tcp", "port": 443}}]})
    with pytest.raises(BadRequest, match="does not apply to role 'switch'"):
        make(tmp_path / "b", devices(), fw_on_switch)


def test_plan_json_contract(tmp_path: Path) -> None:
    from netchange.cli.jsonface import plan_document
    from netchange.plan import verdict

    plan = make(tmp_path, devices())
    encoded = json.loads(plan_document(plan, verdict(plan), recorded=True, offline=None).to_json())
    assert encoded["change_id"] == "CHG-2026-0001"
    assert encoded["category"] == "medium"
    assert len(encoded["plan_hash"]) == 64
    assert [h["name"] for h in encoded["hosts"]] == ["sw1", "sw2"]
    for host in encoded["hosts"]:
        assert set(host) >= {"diff", "category", "reasons", "pre_checks"}


def test_vlan_pre_check_asks_the_device_when_the_config_has_no_vlan_database(tmp_path: Path) -> None:
    # VTP server mode: no "vlan N" sections in the running config; show vlan brief lists VLAN 20.
    no_vlans = "\n".join(line for line in SWITCH_RUNNING.splitlines()
                         if not line.startswith(("vlan ", " name ")))
    taken = SHOW_VLAN_BRIEF + "20   servers                          active    \n"
    plan = build_plan(request(), build_inventory([StoredDevice("sw1", no_vlans, show={"show vlan brief": taken})]),
                      actor="dnguyen", policy_version="t", requirements=lambda c: [])
    check = plan.host("sw1").pre_checks[0]
    assert not check.passed and "show vlan brief" in check.detail


def test_vlan_pre_check_reads_the_running_config_when_it_holds_the_vlans(tmp_path: Path) -> None:
    # "vlan 10" in the running config: the config is the VLAN database; VLAN 20 is free there,
    # whatever show vlan would say (the device's show vlan, which would list VLAN 20, is never asked).
    taken = SHOW_VLAN_BRIEF + "20   servers                          active    \n"
    plan = make(tmp_path, [StoredDevice("sw1", SWITCH_RUNNING, show={"show vlan brief": taken})])
    check = plan.host("sw1").pre_checks[0]
    assert check.passed and "running config" in check.detail


def test_each_hosts_facts_are_worked_out_once_and_carried_into_its_plan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two steps on the same two hosts: the host's syntax, role and site are read from the
    # inventory once per host (they were read five times before: twice to bind, once for the
    # host's plan, twice for the contexts), and the host's plan and every context carry them.
    import netchange.plan._build as plan_mod

    calls: list[str] = []
    for name in ("syntax_of", "host_role", "host_site"):
        real = getattr(plan_mod, name)

        def counting(*args: object, _real: object = real, _name: str = name) -> object:
            calls.append(_name)
            return _real(*args)  # type: ignore[operator]

        monkeypatch.setattr(plan_mod, name, counting)
    seen: list[tuple[str, str, str, str]] = []
    real_contexts = plan_mod.PlanTarget.contexts

    def contexts(self: plan_mod.PlanTarget, *args: object) -> list:  # type: ignore[type-arg]
        made = real_contexts(self, *args)  # type: ignore[arg-type]
        seen.extend((ctx.host, ctx.syntax, str(ctx.role), ctx.site) for _, ctx in made)
        return made

    monkeypatch.setattr(plan_mod.PlanTarget, "contexts", contexts)
    req = ChangeRequest.model_validate({
        "id": "CHG-2026-0001", "title": "Two VLANs", "ticket": "INC123", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}},
                  {"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 30, "name": "voice"}}]})
    plan = make(tmp_path, devices(), req)
    assert sorted(calls) == sorted(["syntax_of", "host_role", "host_site"] * 2)
    assert {(h.host, h.syntax, str(h.role), h.site, h.steps) for h in plan.hosts} == {
        ("sw1", "ios", "switch", "doif", (0, 1)), ("sw2", "ios", "switch", "doso", (0, 1))}
    assert sorted(seen) == sorted([("sw1", "ios", "switch", "doif")] * 2 + [("sw2", "ios", "switch", "doso")] * 2)
