"""Pure parts of the lab: device plans, seeds, rulesets, keys, probes' argument checks."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from netchange.changetype.probes import tcp_probe
from netchange.lab import keys
from netchange.lab.firewalls import base_ruleset, plan_firewalls, sshd_config
from netchange.lab.switches import plan_switches, seed_config


def test_plan_switches_scales_and_names_per_site() -> None:
    specs = plan_switches(4)
    assert [s.name for s in specs] == [
        "sw-doif-core1",
        "sw-doif-core2",
        "sw-doif-acc1",
        "sw-doif-acc2",
        "sw-doso-core1",
        "sw-doso-core2",
        "sw-doso-acc1",
        "sw-doso-acc2",
    ]
    assert specs[0].ha_peer == "sw-doif-core2"
    assert specs[2].ha_peer is None
    assert len(plan_switches(100)) == 200
    assert len({s.name for s in plan_switches(100)}) == 200


def test_seed_leaves_interface_mode_before_global_lines() -> None:
    seed = seed_config(plan_switches(2)[0])
    route = next(i for i, line in enumerate(seed) if line.startswith("ip route"))
    assert seed[route - 1] == "exit"


def test_firewall_plan_and_addresses_do_not_collide() -> None:
    specs = plan_firewalls(instance=3)
    assert [s.name for s in specs] == ["fw-doif-a", "fw-doif-b", "fw-doso-a", "fw-doso-b"]
    assert len({s.mgmt_addr for s in specs}) == 4
    assert all(s.mgmt_addr.startswith("10.250.3.") for s in specs)
    assert all(len(s.mgmt_host_if) <= 15 for s in plan_firewalls(instance=63))  # Linux interface names
    assert specs[0].ha_peer == "fw-doif-b"
    assert specs[0].ns("fw") == "nc3-fw-doif-a"


def test_base_ruleset_has_the_promised_objects() -> None:
    text = base_ruleset(plan_firewalls(0)[0])
    assert "table inet filter {" in text
    assert "policy drop;" in text
    assert "ct state established,related accept" in text
    assert "set allowed_clients {" in text


def test_sshd_config_is_key_only_on_the_management_address(tmp_path: Path) -> None:
    spec = plan_firewalls(0)[0]
    conf = sshd_config(spec, tmp_path / "k", tmp_path / "a")
    assert f"ListenAddress {spec.mgmt_addr}:22" in conf
    assert "PasswordAuthentication no" in conf


def test_keys_are_private_and_known_hosts_lines_use_ports(tmp_path: Path) -> None:
    public = keys.ed25519_keypair(tmp_path / "k", "x@lab")
    assert public.startswith("ssh-ed25519 ")
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600
    assert keys.known_hosts_line("127.0.0.1", 2222, public).startswith("[127.0.0.1]:2222 ssh-ed25519 ")
    assert keys.known_hosts_line("10.0.0.1", 22, public).startswith("10.0.0.1 ssh-ed25519 ")
    assert keys.password() != keys.password()


@pytest.mark.parametrize(
    ("ns", "host", "port"),
    [("bad name", "10.0.0.1", 80), ("ns", "not-an-ip", 80), ("ns", "10.0.0.1", 0), ("-x", "10.0.0.1", 80)],
)
def test_tcp_probe_refuses_bad_arguments(ns: str, host: str, port: int) -> None:
    with pytest.raises(ValueError):
        tcp_probe(ns, host, port)
