"""The circular test on every lab-backed platform (issue 12 item 4): apply a change through the
driver the registry gives the platform, read it back, roll back, and the running configuration
is byte for byte the snapshot. A platform added to the lab without a case here fails the first test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from netchange.drivers.contract import driver_class
from tests.integration.lab2_support import context

pytestmark = pytest.mark.lab

# platform → (change type, params from the host's data): a change the platform renders itself.
CASES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "ios_cli": ("vlan", lambda data: {"vlan_id": 333, "name": "circular"}),
    # A member of a group of the seed (a real ASA's configuration, lab/asa_seed.py).
    "asa_cli": ("fw_object_group", lambda data: {"group": "Inside", "add": ["198.51.100.33/32"]}),
    "nftables": ("fw_rule", lambda data: {"name": "circular-9191", "source": "192.0.2.10/32",
                                          "destination": "192.0.2.20", "protocol": "tcp", "port": 9191}),
    "haproxy": ("lb_member", lambda data: {
        "action": "add", "backend": "be_web", "server": "web3",
        "address": data["members"]["web3"].split(":")[0], "port": int(data["members"]["web3"].split(":")[1])}),
    "bind": ("dns_record", lambda data: {"type": "A", "name": "circular", "address": "192.0.2.77"}),
    "netconf": ("vlan", lambda data: {"vlan_id": 333, "name": "CIRCULAR"}),
    # A next hop on the router's OSPF link: a connected network.
    "frr": ("static_route", lambda data: {"prefix": "10.99.0.0/24", "next_hop": data["ospf"]["neighbor_address"]}),
    "keepalived": ("vrrp", lambda data: {"instance": data["vrrp"]["instance"], "group": data["vrrp"]["vrid"],
                                         "priority": 77}),
    "gdnsd": ("gslb_member", lambda data: {"action": "weight", "resource": "www", "centre": "doif", "weight": 5}),
}


def test_every_lab_platform_has_a_circular_case(nornir: Any) -> None:
    assert {h.platform for h in nornir.inventory.hosts.values()} == set(CASES)


@pytest.mark.parametrize("platform", sorted(CASES))
def test_apply_read_back_roll_back_is_byte_equal(
        platform: str, nornir: Any, open_driver: Callable[[str], Any]) -> None:
    name = next(h.name for h in nornir.inventory.hosts.values() if h.platform == platform)
    dev = open_driver(name)
    assert type(dev) is driver_class(platform)
    snapshot = dev.get_config(retrieve="running")["running"]
    change_type, params = CASES[platform]
    ct, ctx = context(nornir, name, dev, change_type, params(dict(nornir.inventory.hosts[name].data)))
    t0 = time.monotonic()
    dev.load_merge_candidate(config=ct.render(ctx))
    assert [line for line in dev.compare_config().splitlines() if line[:1] in "+-"], "the change shows no diff"
    t1 = time.monotonic()
    dev.commit_config()
    t2 = time.monotonic()
    after = dev.get_config(retrieve="running")["running"]
    assert after != snapshot
    t3 = time.monotonic()
    dev.rollback()
    t4 = time.monotonic()
    assert dev.get_config(retrieve="running")["running"] == snapshot
    print(f"\n{platform}: plan (load + diff) {t1 - t0:.2f} s, apply {t2 - t1:.2f} s, rollback {t4 - t3:.2f} s")
