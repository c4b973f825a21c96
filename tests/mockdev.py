"""Build NAPALM mock-driver devices and a Nornir inventory of them, for engine tests.

NAPALM's ``mock`` driver answers each call ``<method>.<n>`` from a file; it keeps no state. The
engine tests give each device a running config and a diff, and assert what the engine does with
them (which calls it makes, how it classifies, what it refuses), never the canned answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CALLS = 12  # how many calls of each method a device answers


@dataclass
class MockDevice:
    name: str
    running: str
    diff: str = ""
    cli: dict[str, str] = field(default_factory=dict)
    role: str = "switch"
    site: str = "doif"
    syntax: str = "ios"
    fail: dict[str, dict[str, Any]] = field(default_factory=dict)
    """method → {"exception": "napalm.base.exceptions.X", "args": [...]} for every call."""
    running_after: str | None = None
    """What get_config answers from the second call on (the device after a commit)."""


def write_device(root: Path, dev: MockDevice) -> Path:
    path = root / dev.name
    path.mkdir(parents=True, exist_ok=True)
    for n in range(1, CALLS + 1):
        running = dev.running if (n == 1 or dev.running_after is None) else dev.running_after
        (path / f"get_config.{n}").write_text(json.dumps({"running": running, "startup": "", "candidate": ""}))
        (path / f"compare_config.{n}").write_text(json.dumps({"diff": dev.diff}))
        for method in ("load_merge_candidate", "load_replace_candidate", "discard_config", "commit_config",
                       "confirm_commit"):
            (path / f"{method}.{n}").write_text(json.dumps(dev.fail.get(method, {})))
        for i_cmd, (command, text) in enumerate(dev.cli.items()):
            del i_cmd
            import re

            sanitized = re.sub("[^a-zA-Z0-9]+", "_", command)
            (path / f"cli.{n}.{sanitized}.0").write_text(text)
    return path


def write_inventory(root: Path, devices: list[MockDevice]) -> Path:
    """A Nornir configuration over mock devices; returns the nornir.yaml path."""
    hosts = {}
    for dev in devices:
        path = write_device(root / "devices", dev)
        hosts[dev.name] = {
            "hostname": "127.0.0.1",
            "platform": "mock",
            "groups": [dev.site, dev.role],
            "data": {"role": dev.role, "site": dev.site, "syntax": dev.syntax},
            "connection_options": {"netchange": {"extras": {"optional_args": {"path": str(path)}}}},
        }
    groups = {g: {} for d in devices for g in (d.site, d.role)}
    inv = root / "inventory"
    inv.mkdir(parents=True, exist_ok=True)
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text(yaml.safe_dump(groups))
    (inv / "defaults.yaml").write_text("data: {}\n")
    config = {
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(inv / "hosts.yaml"), "group_file": str(inv / "groups.yaml"),
            "defaults_file": str(inv / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 4}},
        "logging": {"enabled": False},
    }
    cfg = root / "nornir.yaml"
    cfg.write_text(yaml.safe_dump(config))
    return cfg


SWITCH_RUNNING = """\
hostname sw1
!
vlan 1
 name default
!
vlan 10
 name users
!
interface GigabitEthernet1/0/1
 description uplink
 switchport mode trunk
!
interface GigabitEthernet1/0/2
 switchport mode access
 switchport access vlan 10
!
interface Vlan10
 ip address 10.1.10.1 255.255.255.0
!
ip access-list extended EDGE-IN
 10 permit tcp any host 10.1.10.5 eq 443
!
end
"""

SHOW_VLAN_BRIEF = """\

VLAN Name                             Status    Ports
---- -------------------------------- --------- -------------------------------
1    default                          active    Gi1/0/3
10   users                            active    Gi1/0/2
"""
