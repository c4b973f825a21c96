"""The global load balancer (gdnsd) with the gdnsd driver and ``gslb_member`` against the lab: a
drain of DOSO watched in the answers and the centres' own counters, its return, a re-weight and a
failover's priority rolled back byte for byte, and the pre-check that refuses to drain the last
healthy centre."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import pytest

from netchange.errors import BadRequest
from tests.integration.lab2_support import context, failed

pytestmark = pytest.mark.lab
GSLB = "gslb-global"
WWW = "resource www"


def _files(dev: Any) -> tuple[str, str]:
    """gdnsd's two files as they are on disk (the lab reads them back by its own means)."""
    base = Path(dev.config_dir)
    return (base / "config").read_text(), (base / "state" / "admin_state").read_text()


def test_bind_delegates_the_subzone(nornir: Any) -> None:
    bind = nornir.inventory.hosts["dns-doif"].data
    gslb = nornir.inventory.hosts[GSLB].data
    reply = dns.query.udp(dns.message.make_query(gslb["service_name"], "A"), "127.0.0.1",
                          port=bind["dns_port"], timeout=2)
    assert [str(rr.target) for rrset in reply.authority for rr in rrset] == [f"ns1.{gslb['zone']}"]
    assert [rr.address for rrset in reply.additional for rr in rrset] == ["127.0.0.1"]


def test_drain_doso_and_bring_it_back(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(GSLB)
    snapshot, files = dev.get_config()["running"], _files(dev)
    ct, ctx = context(nornir, GSLB, dev, "gslb_member", {"action": "drain", "resource": "www", "centre": "doso"})
    assert not failed(ct.pre_checks(ctx))
    dev.load_merge_candidate(config=ct.render(ctx))
    # One override drains DOSO's address wherever gdnsd's monitor watches it: the failover too.
    assert [line for line in dev.compare_config().splitlines() if line[0] != " "] == [
        "-    member doso 127.0.2.80 weight 1 state up", "+    member doso 127.0.2.80 weight 1 state drain",
        "-    member doso 127.0.2.80 priority 2 state up", "+    member doso 127.0.2.80 priority 2 state drain"]
    t0 = time.monotonic()
    dev.commit_config()
    ctx.refresh()
    checks = ct.post_checks(ctx)
    drain_s = time.monotonic() - t0
    assert not failed(checks)
    assert "127.0.2.80/centre_http => DOWN" in _files(dev)[1]
    assert "+0" in checks[-1].detail and "same connection" in checks[-1].detail
    # Back: a new change, its own post-checks see clients reach DOSO again.
    ct, ctx = context(nornir, GSLB, dev, "gslb_member", {"action": "enable", "resource": "www", "centre": "doso"})
    assert not failed(ct.pre_checks(ctx))
    dev.load_merge_candidate(config=ct.render(ctx))
    dev.commit_config()
    ctx.refresh()
    assert not failed(ct.post_checks(ctx))
    assert dev.get_config()["running"] == snapshot and _files(dev) == files
    print(f"drain committed and verified in {drain_s:.1f} s ({checks[1].detail})")


def test_weight_then_rollback_byte_equal(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(GSLB)
    snapshot, files = dev.get_config()["running"], _files(dev)
    ct, ctx = context(nornir, GSLB, dev, "gslb_member",
                      {"action": "weight", "resource": "www", "centre": "doif", "weight": 3})
    assert not failed(ct.pre_checks(ctx))
    dev.load_merge_candidate(config=ct.render(ctx))
    assert "member doif 127.0.1.80 weight 1 state up" in dev.rollback_preview()
    dev.commit_config()
    ctx.refresh()
    checks = ct.post_checks(ctx)
    assert not failed(checks), checks  # 75 % / 25 % from every point of view
    dev.rollback()
    assert dev.get_config()["running"] == snapshot
    assert _files(dev) == files  # byte for byte, both files
    ctx.refresh()
    assert not failed(ct.restored_checks(ctx))


def test_priority_fails_over_then_rollback_byte_equal(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(GSLB)
    snapshot, files = dev.get_config()["running"], _files(dev)
    ct, ctx = context(nornir, GSLB, dev, "gslb_member",
                      {"action": "priority", "resource": "www_failover", "centre": "doso", "priority": 1})
    assert not failed(ct.pre_checks(ctx))
    dev.load_merge_candidate(config=ct.render(ctx))
    dev.commit_config()
    assert "datacenters => [ doso, doif ]" in _files(dev)[0]
    ctx.refresh()
    checks = ct.post_checks(ctx)
    assert not failed(checks), checks  # every answer of failover.gslb… is DOSO's, from every view
    dev.rollback()
    assert dev.get_config()["running"] == snapshot and _files(dev) == files
    ctx.refresh()
    assert not failed(ct.restored_checks(ctx))  # DOIF's alone again


def test_refusals(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(GSLB)
    snapshot = dev.get_config()["running"]
    # Draining DOSO while DOIF is drained would leave no centre serving: the live pre-check says so.
    dev.load_merge_candidate(config=f"{WWW}\n    member doif state drain\n")
    dev.commit_config()
    try:
        ct, ctx = context(nornir, GSLB, dev, "gslb_member", {"action": "drain", "resource": "www", "centre": "doso"})
        assert any("none" in f for f in failed(ct.pre_checks(ctx)))
    finally:
        dev.rollback()
    assert dev.get_config()["running"] == snapshot
    ct, _ = context(nornir, GSLB, dev, "gslb_member", {"action": "drain", "resource": "www", "centre": "doso"})
    for params in (
        {"action": "drain", "resource": "www", "centre": "doso", "weight": 2},
        {"action": "add", "resource": "www", "centre": "dr"},
        {"action": "weight", "resource": "www", "centre": "doif", "weight": 0},
        {"action": "drain", "resource": "www", "centre": "doso\nmember x"},
        {"action": "add", "resource": "www", "centre": "dr", "address": "2001:db8::1"},
        {"action": "drain", "resource": "www", "centre": "doso", "tolerance": 0.9},
    ):
        with pytest.raises(BadRequest):
            ct.validate(params)
