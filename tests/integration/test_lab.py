"""The lab itself: what ``lab up`` writes and starts, and that ``up`` is idempotent."""

from __future__ import annotations

import stat
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager

pytestmark = pytest.mark.lab


def test_inventory_and_secrets(lab: LabManager, nornir: Any) -> None:
    hosts = nornir.inventory.hosts
    switches = [h for h in hosts.values() if h.platform == "ios_cli"]
    firewalls = [h for h in hosts.values() if h.platform == "nftables"]
    assert len(switches) >= 4
    assert len(firewalls) >= 2
    assert {h.data["site"] for h in switches} == {"doif", "doso"}
    assert {h.data["site"] for h in firewalls} == {"doif", "doso"}
    sw = hosts["sw-doif-core1"]
    assert [g.name for g in sw.groups] == ["switch", "doif", "ios_cli"]
    assert sw.data["ha_peer"] == "sw-doif-core2"
    assert sw.hostname == "127.0.0.1"
    assert sw.password
    assert sw.username
    assert stat.S_IMODE(lab.secrets_file.stat().st_mode) == 0o600
    inventory_text = (lab.root / "inventory" / "hosts.yaml").read_text()
    assert sw.password not in inventory_text
    secrets = yaml.safe_load(lab.secrets_file.read_text())
    assert set(secrets) == {"defaults", "groups", "hosts"}


def test_up_is_idempotent(lab: LabManager) -> None:
    before = lab.load_state()
    report = lab.up()
    assert report.already_running
    assert lab.load_state() == before
    assert not lab.problems()


def test_status_reports_every_device(lab: LabManager, nornir: Any) -> None:
    states = {dev: state for devices in lab.status().values() for dev, state in devices.items()}
    for name, host in nornir.inventory.hosts.items():
        if host.platform not in ("ios_cli", "asa_cli", "nftables"):
            continue  # other components report in their own words
        assert name in states
        assert "not" not in states[name], states[name]
        assert "missing" not in states[name], states[name]
