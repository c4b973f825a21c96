"""Credentials are checked for every target before any device is contacted, and follow ``--home``.

The devices are a recording stand-in for the ``ios_cli`` driver: it notes who logged in where, and
refuses the session, so a test sees exactly which devices a command tried to contact and with
which user.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from napalm.base.exceptions import ConnectionException

from netchange.drivers.contract import DRIVERS
from netchange.inventory import load_nornir
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
HOSTS = ("sw8", "sw9")


class Recorder:
    """Stands in for a driver class: records each open, then refuses the session."""

    opened: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.name = str((optional_args or {}).get("device"))
        self.username = username

    def open(self) -> None:
        Recorder.opened.append((self.name, self.username))
        raise ConnectionException(f"{self.name}: recorded, refused")

    def close(self) -> None:
        pass


@pytest.fixture
def site(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two ios_cli switches whose credentials come only from the credentials transform."""
    for var in ("NETCHANGE_USERNAME", "NETCHANGE_PASSWORD", "NETCHANGE_ENABLE_SECRET", "NETCHANGE_SECRETS"):
        monkeypatch.delenv(var, raising=False)
    Recorder.opened = []
    inv = workspace / "inv"
    inv.mkdir()
    hosts = {name: {"hostname": "192.0.2.1", "platform": "ios_cli", "groups": ["doif", "switch"],
                    "data": {"role": "switch", "site": "doif"},
                    "connection_options": {"netchange": {"extras": {"optional_args": {"device": name}}}}}
             for name in HOSTS}
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text(yaml.safe_dump({"doif": {}, "switch": {}}))
    (inv / "defaults.yaml").write_text("data: {}\n")
    config = workspace / "nornir.yaml"
    config.write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory",
                      "options": {f"{k}_file": str(inv / f"{k}s.yaml") for k in ("host", "group")}
                      | {"defaults_file": str(inv / "defaults.yaml")},
                      "transform_function": "netchange_credentials"},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}},
        "logging": {"enabled": False},
    }))
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(config))
    (workspace / "chg.yaml").write_text(yaml.safe_dump({
        "id": "CHG-2026-0050", "title": "VLAN", "ticket": "T1", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
    }))
    with DRIVERS.registered("ios_cli", Recorder):  # the real platform, a recording driver
        yield workspace


def write_secrets(home: Path, hosts: dict[str, dict[str, str]]) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "secrets.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(yaml.safe_dump({"hosts": hosts}))
    return path


def test_targets_without_credentials_are_named_and_nothing_is_contacted(site: Path, cli: Cli) -> None:
    result = cli("plan", str(site / "chg.yaml"), actor="dnguyen")
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 2, result.err  # one line per host, nothing else (no netmiko trace)
    assert "sw8" in lines[0] and "sw9" in lines[1]
    assert all("missing username, password or key_file" in line for line in lines)
    assert "Traceback" not in result.err and "category" not in result.out
    assert Recorder.opened == []
    assert not (site / "home" / "plans").exists() or not any((site / "home" / "plans").iterdir())


def test_one_host_without_credentials_blocks_all_before_any_contact(site: Path, cli: Cli) -> None:
    write_secrets(site / "home", {"sw8": {"username": "netops", "password": "pw-of-sw8"}})
    result = cli("plan", str(site / "chg.yaml"), actor="dnguyen")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "sw9" in lines[0] and "sw8" not in lines[0]
    assert "pw-of-sw8" not in result.err
    assert Recorder.opened == []


def test_the_secrets_file_follows_home(site: Path, cli: Cli) -> None:
    """NETCHANGE_HOME has no secrets; ``--home other`` has: the devices are tried with other's user."""
    other = site / "other"
    write_secrets(other, {h: {"username": "otheruser", "password": f"pw-{h}-x"} for h in HOSTS})
    assert cli("plan", str(site / "chg.yaml"), actor="dnguyen").code == 2  # the default home: none
    result = cli("--home", str(other), "plan", str(site / "chg.yaml"), "--json", actor="dnguyen")
    assert result.code == 1, result.err  # credentials found; the stand-in then refuses the session
    assert sorted(Recorder.opened) == [("sw8", "otheruser"), ("sw9", "otheruser")]
    assert {h["name"]: h for h in json.loads(result.out)["hosts"]}["sw8"]["error"]


def test_load_nornir_uses_the_given_secrets_but_keeps_a_file_named_in_the_config(site: Path) -> None:
    mine = write_secrets(site / "a", {"sw8": {"username": "from-a", "password": "pw-a-123"}})
    nr = load_nornir(site / "nornir.yaml", secrets=mine)
    assert nr.inventory.hosts["sw8"].username == "from-a"
    # A config that names its own secrets file (as the lab's does) keeps it.
    named = write_secrets(site / "b", {"sw8": {"username": "from-b", "password": "pw-b-123"}})
    data = yaml.safe_load((site / "nornir.yaml").read_text())
    data["inventory"]["transform_function_options"] = {"secrets_file": str(named)}
    (site / "nornir.yaml").write_text(yaml.safe_dump(data))
    assert load_nornir(site / "nornir.yaml", secrets=mine).inventory.hosts["sw8"].username == "from-b"


def test_lab_commands_follow_home(site: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """``netchange --home other lab down`` tears down other's lab, not NETCHANGE_HOME's."""
    from netchange.lab import instances

    monkeypatch.setattr(instances, "LOCK_FILE", site / "instances.lock")  # not the machine's
    monkeypatch.setattr(instances, "REGISTRY", site / "instances.json")
    empty = {"pids": {}, "start_times": {}, "namespaces": [], "inventory": [], "complete": True}
    for home in (site / "home", site / "other"):
        (home / "lab").mkdir(parents=True)
        (home / "lab" / "state.json").write_text(json.dumps(empty))
    result = cli("--home", str(site / "other"), "lab", "down")
    assert result.code == 0, result.err
    assert not (site / "other" / "lab" / "state.json").exists()
    assert (site / "home" / "lab" / "state.json").exists()
    status = cli("--home", str(site / "other"), "lab", "status")
    assert status.code == 0 and "lab not running" in status.out
