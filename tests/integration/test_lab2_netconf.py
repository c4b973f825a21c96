"""The ``netconf`` driver and the ``vlan`` type against netconfd (candidate, lock, confirmed commit)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from napalm.base.exceptions import LockError, MergeConfigException

from netchange.errors import BadRequest
from tests.integration.lab2_support import context, failed

pytestmark = pytest.mark.lab
NC = "nc-doif"


def test_vlan_circular(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(NC)
    snapshot = dev.get_config()["running"]
    ct, ctx = context(nornir, NC, dev, "vlan", {"vlan_id": 300, "name": "SERVERS"})
    assert not failed(ct.pre_checks(ctx))
    t0 = time.monotonic()
    dev.load_merge_candidate(config=ct.render(ctx))
    assert dev.compare_config() == "+vlan 300\n+ name SERVERS\n"
    plan_s = time.monotonic() - t0
    t0 = time.monotonic()
    dev.commit_config(revert_in=30)
    assert dev.has_pending_commit()
    ctx.refresh()  # post-checks see the configuration read after the commit, as apply gives it
    assert not failed(ct.post_checks(ctx))
    dev.confirm_commit()
    apply_s = time.monotonic() - t0
    assert not dev.has_pending_commit()
    t0 = time.monotonic()
    dev.rollback()
    rollback_s = time.monotonic() - t0
    assert dev.get_config()["running"] == snapshot
    print(f"netconf timings: plan {plan_s:.3f}s apply {apply_s:.3f}s rollback {rollback_s:.3f}s")


def test_unconfirmed_commit_reverts_by_itself(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(NC)
    snapshot = dev.get_config()["running"]
    dev.load_merge_candidate(config="vlan 10\n name renamed\nvlan 301\n name TEMP\n")
    assert dev.compare_config() == " vlan 10\n- name users\n+ name renamed\n+vlan 301\n+ name TEMP\n"
    dev.commit_config(revert_in=1)
    assert "vlan 301" in dev.get_config()["running"]
    # netconfd reverts once it has seen no RPC for about a second after the timeout: stay quiet.
    time.sleep(3.0)
    assert not dev.has_pending_commit()
    assert dev.get_config()["running"] == snapshot


def test_replace_restores_snapshot_and_rollback_cancels_pending(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(NC)
    snapshot = dev.get_config()["running"]
    dev.load_replace_candidate(config="")  # every VLAN removed
    assert dev.compare_config().startswith("-vlan 1\n")
    dev.commit_config(revert_in=60)
    assert "vlan" not in dev.get_config()["running"].replace("! container", "")
    dev.rollback()  # cancel-commit
    assert dev.get_config()["running"] == snapshot
    dev.load_merge_candidate(config="vlan 302\n name X302\n")
    dev.commit_config()
    dev.load_replace_candidate(config=snapshot)
    assert dev.compare_config() == "-vlan 302\n- name X302\n"
    dev.commit_config()
    assert dev.get_config()["running"] == snapshot


def test_bad_input_refused(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(NC)
    snapshot = dev.get_config()["running"]
    ns = nornir.inventory.hosts[NC].data["namespace"]
    bad = [
        f'<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><vlans xmlns="{ns}">'
        f"<vlan><id>{vid}</id><name>{name}</name></vlan></vlans></config>"
        for vid, name in ((5000, "X"), (20, "users"), (21, "bad name!"))  # range, unique, pattern
    ]
    for candidate in [*bad, "<config><unclosed>", "vlan 303 extra\n name X\n"]:
        with pytest.raises(MergeConfigException):
            dev.load_merge_candidate(config=candidate)
    ct, _ = context(nornir, NC, dev, "vlan", {"vlan_id": 2, "name": "ok"})
    for params in (
        {"vlan_id": 5000, "name": "x"},
        {"vlan_id": 5, "name": "a b"},
        {"vlan_id": "5", "name": "x\n"},
    ):
        with pytest.raises(BadRequest):
            ct.validate(params)
    assert dev.get_config()["running"] == snapshot


def test_candidate_lock_keeps_a_second_session_out(open_driver: Callable[[str], Any]) -> None:
    first, second = open_driver(NC), open_driver(NC)
    first.load_merge_candidate(config="vlan 304\n name LOCKED\n")
    try:
        with pytest.raises(LockError):
            second.load_merge_candidate(config="vlan 305\n name OTHER\n")
    finally:
        first.discard_config()
    second.load_merge_candidate(config="vlan 305\n name OTHER\n")
    assert second.compare_config() == "+vlan 305\n+ name OTHER\n"
    second.discard_config()
