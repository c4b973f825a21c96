"""The ``haproxy`` driver and ``lb_member`` against the lab's HAProxy (runtime API + config file)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from napalm.base.exceptions import MergeConfigException

from netchange.errors import BadRequest
from tests.integration.lab2_support import context, failed

pytestmark = pytest.mark.lab
LB = "lb-doif"


def _served(url: str, n: int = 6) -> set[str]:
    out = set()
    for _ in range(n):
        with urllib.request.urlopen(url, timeout=2) as response:
            out.add(response.read().decode().strip())
    return out


def test_add_member_served_then_rolled_back(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(LB)
    data = nornir.inventory.hosts[LB].data
    cfg = Path(dev.config_path)
    snapshot, file_before = dev.get_config()["running"], cfg.read_text()
    address, port = data["members"]["web3"].split(":")
    ct, ctx = context(
        nornir,
        LB,
        dev,
        "lb_member",
        {"action": "add", "backend": "be_web", "server": "web3", "address": address, "port": int(port)},
    )
    assert not failed(ct.pre_checks(ctx))
    t0 = time.monotonic()
    dev.load_merge_candidate(config=ct.render(ctx))
    diff = dev.compare_config()
    plan_s = time.monotonic() - t0
    lines = diff.splitlines()
    assert lines[0] == " backend be_web"
    assert [line for line in lines if line[0] != " "] == [f"+    server web3 {address}:{port} weight 1 state ready"]
    # The servers that stay are context lines (the classifier tells "one of several" from "the last").
    assert {line.split()[1] for line in lines[1:] if line.startswith(" ")} == {"web1", "web2"}
    assert "no server web3" in dev.rollback_preview()
    t0 = time.monotonic()
    dev.commit_config()
    apply_s = time.monotonic() - t0
    ctx.refresh()  # post-checks see the configuration read after the commit, as apply gives it
    assert not failed(ct.post_checks(ctx))  # includes: a request is served by web3
    assert "server web3" in cfg.read_text()  # a reload keeps it
    t0 = time.monotonic()
    dev.rollback()
    rollback_s = time.monotonic() - t0
    assert dev.get_config()["running"] == snapshot
    assert cfg.read_text() == file_before
    assert "web3" not in _served(data["frontend_url"])
    print(f"haproxy timings: plan {plan_s:.3f}s apply {apply_s:.3f}s rollback {rollback_s:.3f}s")


def test_drain_weight_remove_and_replace_restores(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(LB)
    cfg = Path(dev.config_path)
    snapshot, file_before = dev.get_config()["running"], cfg.read_text()
    dev.load_merge_candidate(config="backend be_web\n    server web1 weight 7\n    no server web2\n")
    diff = dev.compare_config()
    assert "-    server web2 " in diff
    assert "+    server web1 " in diff
    assert "weight 7" in diff
    dev.commit_config()
    assert _served(nornir.inventory.hosts[LB].data["frontend_url"]) == {"web1"}
    dev.load_replace_candidate(config=snapshot)
    dev.commit_config()
    assert dev.get_config()["running"] == snapshot
    assert cfg.read_text() == file_before


def test_pre_check_keeps_one_server_up(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(LB)
    snapshot = dev.get_config()["running"]
    dev.load_merge_candidate(config="backend be_web\n    server web2 state drain\n")
    dev.commit_config()
    try:
        ct, ctx = context(
            nornir, LB, dev, "lb_member", {"action": "remove", "backend": "be_web", "server": "web1"}
        )
        problems = failed(ct.pre_checks(ctx))
        assert any("keeps at least one server up" in p for p in problems), problems
    finally:
        dev.rollback()
    assert dev.get_config()["running"] == snapshot


def test_bad_input_refused(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(LB)
    snapshot = dev.get_config()["running"]
    for candidate in (
        "backend nope\n    server x 127.0.0.1:1\n",  # unknown backend
        "backend be_web\n    server web9 state drain\n",  # new server without an address
        "backend be_web\n    balance leastconn\n",  # not a runtime change
        "backend be_web\n    server web1 weight 999\n",
    ):
        with pytest.raises(MergeConfigException):
            dev.load_merge_candidate(config=candidate)
    ct, _ = context(nornir, LB, dev, "lb_member", {"action": "drain", "backend": "be_web", "server": "web1"})
    for params in (
        {"action": "add", "backend": "be_web", "server": "web9"},  # no address
        {"action": "drain", "backend": "be_web", "server": "web1\nshutdown"},
        {"action": "remove", "backend": "be_web", "server": "web1", "port": 80},
    ):
        with pytest.raises(BadRequest):
            ct.validate(params)
    assert dev.get_config()["running"] == snapshot
