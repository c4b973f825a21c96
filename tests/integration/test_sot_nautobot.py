"""Nautobot as the inventory (issue 22 item 10): a real Nautobot server (tests/nautobotserver.py),
read by nornir_nautobot's ``NautobotInventory`` and netchange's declared mapping (``netchange_sot``),
credentials chained after it. ``netchange inventory`` lists its devices with netchange's role, site
and platform, and an offline plan selects them by ``targets: {site: ..., role: ...}`` and gates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CliResult
from tests.nautobotserver import NautobotServer, nautobot  # noqa: F401 - the run's Nautobot server
from tests.unit.test_offline_plan import SWITCH_CONFIG, request

Cli = Callable[..., CliResult]

# What a team writes: its own names on the left, netchange's on the right.
MAPPING = {
    "role": {"from": "role.name", "values": {"Access switch": "switch", "Core switch": "switch",
                                             "Edge firewall": "firewall"}},
    "site": {"from": "location.name", "values": {"DOIF": "doif", "DOSO": "doso"}},
    "platform": {"from": "platform.network_driver", "values": {"cisco_ios": "ios_cli", "cisco_asa": "asa_cli"}},
    "data": {"criticality": "custom_fields.criticality"},
}
EXPECTED = {  # name: (site, role, platform, criticality), as netchange must read them
    "doif-sw-acc-01": ("doif", "switch", "ios_cli", "medium"),
    "doif-sw-acc-02": ("doif", "switch", "ios_cli", "medium"),
    "doif-sw-core-01": ("doif", "switch", "ios_cli", "high"),
    "doso-sw-acc-01": ("doso", "switch", "ios_cli", "low"),
    "doif-fw-01": ("doif", "firewall", "asa_cli", "high"),
}


def write_config(root: Path, server: NautobotServer, *, mapping: dict[str, Any] | None = None,
                 filters: dict[str, Any] | None = None) -> Path:
    """A team's nornir.yaml over Nautobot, its mapping file beside it (relative name)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sot-mapping.yaml").write_text(yaml.safe_dump(mapping or MAPPING))
    options: dict[str, Any] = {"nautobot_url": server.url, "nautobot_token": server.token}
    if filters is not None:
        options["filter_parameters"] = filters
    config = root / "nornir.yaml"
    config.write_text(yaml.safe_dump({
        "inventory": {"plugin": "NautobotInventory", "options": options,
                      "transform_function": "netchange_sot",
                      "transform_function_options": {"mapping": "sot-mapping.yaml"}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 4}},
        "logging": {"enabled": False},
    }))
    return config


@pytest.fixture
def team(workspace: Path, nautobot: NautobotServer,  # noqa: F811 - the fixture imported above
         monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace reading the devices tagged ``netchange`` from Nautobot; a secrets file with defaults."""
    config = write_config(workspace / "sot", nautobot, filters={"tags": ["netchange"]})
    secrets = workspace / "secrets.yaml"
    secrets.write_text("defaults:\n  username: netops\n  password: never-printed-0\n")
    secrets.chmod(0o600)
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(config))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(secrets))
    monkeypatch.chdir(workspace)
    return workspace


def test_fixture_start_up_is_reported(nautobot: NautobotServer) -> None:  # noqa: F811
    print(f"\nNautobot fixture: {', '.join(f'{k} {v:.1f} s' for k, v in nautobot.timings.items())}")
    assert nautobot.timings["total"] < 600


def test_inventory_lists_nautobots_devices_with_netchanges_role_site_and_platform(team: Path, cli: Cli) -> None:
    result = cli("inventory", "--json")
    assert result.code == 0, result.err
    hosts = {h["name"]: h for h in json.loads(result.out)["hosts"]}
    assert {name: (h["site"], h["role"], h["platform"], h["criticality"]) for name, h in hosts.items()} == EXPECTED
    assert "doif-sw-spare" not in hosts  # not tagged netchange: the plugin's filter leaves it out
    assert hosts["doif-sw-acc-01"]["hostname"] == "doif-sw-acc-01"  # no primary IP: Nautobot's name

    by_site = cli("inventory", "--site", "doso", "--json")
    assert [h["name"] for h in json.loads(by_site.out)["hosts"]] == ["doso-sw-acc-01"]
    table = cli("inventory")
    assert table.code == 0 and "never-printed-0" not in table.out + table.err


def test_credentials_are_chained_after_the_mapping(team: Path) -> None:
    from netchange.config import Settings
    from netchange.inventory import load_nornir

    cfg = Settings.resolve()
    nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins)
    host = nr.inventory.hosts["doif-fw-01"]
    params = host.get_connection_parameters("netchange")
    assert (params.platform, params.username, params.password) == ("asa_cli", "netops", "never-printed-0")
    assert (host.get("role"), host.get("site")) == ("firewall", "doif")


def test_offline_plan_selects_nautobots_hosts_by_site_and_role_and_gates(team: Path, tmp_path: Path,
                                                                        cli: Cli) -> None:
    backups = tmp_path / "oxidized"
    backups.mkdir()
    for name in ("doif-sw-acc-01", "doif-sw-acc-02", "doif-sw-core-01"):
        (backups / name).write_text(SWITCH_CONFIG.replace("hostname doif-sw-acc-01", f"hostname {name}"))
    change = request(team / "c.yaml")
    data = json.loads(change.read_text())
    data["steps"][0]["targets"] = {"site": "doif", "role": "switch"}
    change.write_text(json.dumps(data))

    passed = cli("plan", str(change), "--offline", str(backups), "--json", "--fail-on", "medium")
    assert passed.code == 0, passed.out + passed.err
    plan = json.loads(passed.out)
    hosts = plan["hosts"]
    assert sorted(h["name"] for h in hosts) == ["doif-sw-acc-01", "doif-sw-acc-02", "doif-sw-core-01"]
    assert {(h["site"], h["role"], h["platform"]) for h in hosts} == {("doif", "switch", "ios_cli")}
    assert all("+ switchport access vlan 20" in h["diff"] for h in hosts)
    assert plan["category"] == "minor"

    stopped = cli("plan", str(change), "--offline", str(backups), "--json", "--fail-on", "minor")
    assert stopped.code == 4
    assert json.loads(stopped.out)["verdict"]["reason"] == "gate"

    data["steps"][0]["targets"] = {"site": "doso", "role": "firewall"}
    change.write_text(json.dumps(data))
    none = cli("plan", str(change), "--offline", str(backups), "--json")
    assert none.code == 2 and "selects no host" in none.out + none.err


def test_a_device_the_mapping_cannot_place_is_one_line_naming_it(workspace: Path, nautobot: NautobotServer,  # noqa: F811
                                                                  cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # No tag filter: the spare switch, which has no platform in Nautobot, is read too.
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_config(workspace / "all", nautobot)))
    result = cli("inventory")
    assert result.code == 2
    assert "doif-sw-spare" in result.err and "platform" in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1

    # A role the mapping does not name: the device and Nautobot's value.
    partial = {**MAPPING, "role": {"from": "role.name", "values": {"Access switch": "switch"}}}
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_config(
        workspace / "partial", nautobot, mapping=partial, filters={"tags": ["netchange"]})))
    result = cli("inventory")
    assert result.code == 2
    assert "'Edge firewall'" in result.err or "'Core switch'" in result.err
    assert "Traceback" not in result.err


def test_a_filter_nautobot_refuses_is_one_line(workspace: Path, nautobot: NautobotServer, cli: Cli,  # noqa: F811
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(workspace / "bad-filter", nautobot, filters={"no_such_field": ["x"]})
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(config))
    result = cli("inventory", "--json")
    assert result.code == 2
    assert "no_such_field" in result.out + result.err and "Error in the query filters" not in result.out.split("{")[0]
    assert json.loads(result.out)["error"]["exit_code"] == 2


def test_a_bad_token_is_one_line(workspace: Path, nautobot: NautobotServer, cli: Cli,  # noqa: F811
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(workspace / "bad", nautobot)
    text = config.read_text().replace(nautobot.token, "0" * 40)
    config.write_text(text)
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(config))
    result = cli("inventory")
    assert result.code == 2, result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
