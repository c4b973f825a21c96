"""The ``bind`` driver and ``dns_record`` against the lab's BIND 9 (AXFR, signed UPDATE)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest
from napalm.base.exceptions import CommitError, ConnectionException, MergeConfigException

from netchange.drivers.bind import BindDriver
from netchange.errors import BadRequest
from tests.integration.lab2_support import context, failed

pytestmark = pytest.mark.lab
DNS = "dns-doif"


def _resolve(nornir: Any, name: str, rdtype: str) -> list[str]:
    data = nornir.inventory.hosts[DNS].data
    answer = dns.query.udp(
        dns.message.make_query(name, rdtype), "127.0.0.1", port=data["dns_port"], timeout=2
    )
    if answer.rcode() != dns.rcode.NOERROR:
        return []
    return [r.to_text() for rrset in answer.answer for r in rrset]


def test_add_record_resolves_then_rolled_back(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(DNS)
    snapshot = dev.get_config()["running"]
    ct, ctx = context(nornir, DNS, dev, "dns_record", {"type": "A", "name": "app", "address": "192.0.2.50"})
    assert not failed(ct.pre_checks(ctx))
    t0 = time.monotonic()
    dev.load_merge_candidate(config=ct.render(ctx))
    assert dev.compare_config() == "+app.doif.lab.example. 300 IN A 192.0.2.50\n"
    plan_s = time.monotonic() - t0
    t0 = time.monotonic()
    dev.commit_config()
    apply_s = time.monotonic() - t0
    ctx.refresh()  # post-checks see the configuration read after the commit, as apply gives it
    assert not failed(ct.post_checks(ctx))
    assert _resolve(nornir, "app.doif.lab.example.", "A") == ["192.0.2.50"]
    t0 = time.monotonic()
    dev.rollback()
    rollback_s = time.monotonic() - t0
    assert dev.get_config()["running"] == snapshot
    assert _resolve(nornir, "app.doif.lab.example.", "A") == []
    print(f"bind timings: plan {plan_s:.3f}s apply {apply_s:.3f}s rollback {rollback_s:.3f}s")


def test_ptr_cname_remove_and_replace_restores(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(DNS)
    snapshot = dev.get_config()["running"]
    ct, ctx = context(
        nornir, DNS, dev, "dns_record", {"type": "PTR", "address": "192.0.2.77", "target": "app"}
    )
    dev.load_merge_candidate(config=ct.render(ctx))
    dev.commit_config()
    ctx.refresh()  # post-checks see the configuration read after the commit, as apply gives it
    assert not failed(ct.post_checks(ctx))
    dev.load_merge_candidate(config="add alias 600 IN CNAME mail\ndelete www A 192.0.2.10\n")
    dev.commit_config()
    assert _resolve(nornir, "alias.doif.lab.example.", "CNAME") == ["mail.doif.lab.example."]
    dev.load_replace_candidate(config=snapshot)
    assert "-77.2.0.192.in-addr.arpa." in dev.compare_config()
    dev.commit_config()
    assert dev.get_config()["running"] == snapshot


def test_pre_checks_refuse_conflicts(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(DNS)
    ct, ctx = context(nornir, DNS, dev, "dns_record", {"type": "A", "name": "portal", "address": "192.0.2.9"})
    assert any("not a CNAME" in p for p in failed(ct.pre_checks(ctx)))
    ct, ctx = context(nornir, DNS, dev, "dns_record", {"type": "A", "name": "www", "address": "192.0.2.10"})
    assert any("not there yet" in p for p in failed(ct.pre_checks(ctx)))
    ct, ctx = context(
        nornir,
        DNS,
        dev,
        "dns_record",
        {"action": "remove", "type": "A", "name": "nope", "address": "192.0.2.1"},
    )
    assert any("exists" in p for p in failed(ct.pre_checks(ctx)))


def test_bad_input_refused(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(DNS)
    snapshot = dev.get_config()["running"]
    for candidate in (
        "add portal A 192.0.2.1",
        "add x A 300.1.1.1",
        "add x.example.org. A 192.0.2.1",
        "add @ NS ns2",
        "frobnicate x A 192.0.2.1",
    ):
        with pytest.raises(MergeConfigException):
            dev.load_merge_candidate(config=candidate)
    ct, _ = context(nornir, DNS, dev, "dns_record", {"type": "A", "name": "ok", "address": "192.0.2.1"})
    for params in (
        {"type": "A", "name": "bad_name!", "address": "192.0.2.1"},
        {"type": "A", "name": "x", "address": "2001:db8::1"},
        {"type": "CNAME", "name": "x\nadd y", "target": "www"},
        {"type": "PTR", "name": "x", "address": "192.0.2.1", "target": "www"},
    ):
        with pytest.raises(BadRequest):
            ct.validate(params)
    assert dev.get_config()["running"] == snapshot


def test_drift_between_load_and_commit_is_refused(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev, other = open_driver(DNS), open_driver(DNS)
    snapshot = dev.get_config()["running"]
    dev.load_merge_candidate(config="add www 300 IN A 192.0.2.12\n")
    other.load_merge_candidate(config="add www 300 IN A 192.0.2.13\n")
    other.commit_config()
    with pytest.raises(CommitError, match="changed by another hand since it was read"):
        dev.commit_config()  # the UPDATE's prerequisites say "www as loaded": the server refuses
    other.rollback()
    assert dev.get_config()["running"] == snapshot


def test_wrong_tsig_key_is_a_clear_error(nornir: Any) -> None:
    host = nornir.inventory.hosts[DNS]
    params = host.get_connection_parameters("netchange")
    opts = dict(params.extras["optional_args"])
    real_secret = opts["tsig_secret"]
    for wrong in (
        {"tsig_secret": "A" * 43 + "="},
        {"tsig_name": "intruder."},
        {"tsig_secret": "not base64!"},
    ):
        dev = BindDriver("127.0.0.1", "", "", optional_args={**opts, "port": params.port, **wrong})
        with pytest.raises(ConnectionException) as info:
            dev.open()
        assert "TSIG" in str(info.value)
        assert real_secret not in str(info.value)
