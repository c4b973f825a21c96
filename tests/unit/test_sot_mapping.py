"""The source-of-truth mapping (issue 22 item 10, netchange/inventory/_sot.py): a NetBox or
Nautobot record becomes netchange's role, site, platform and syntax by a declared YAML, run as the
``netchange_sot`` transform with the credentials chained after it. Bad mappings and values outside
them are one line, exit 2. Here the records come through Nornir's SimpleInventory (the shapes the
plugins give: NetBox's device JSON as the host's data, Nautobot's under ``pynautobot_dictionary``);
the real plugins against real answers are tests/integration/test_sot_nautobot.py and test_sot_netbox.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.errors import BadRequest
from netchange.inventory import parse_mapping
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def netbox_device(name: str, role: str, site: str, platform: str | None, *, tags: list[str] | None = None,
                  custom: dict[str, Any] | None = None) -> dict[str, Any]:
    """A device as NetBox's API gives it (the keys the mapping reads)."""
    return {
        "name": name, "device_role": {"name": role.title(), "slug": role}, "site": {"name": site.upper(), "slug": site},
        "platform": {"name": platform, "slug": platform} if platform else None,
        "tags": [{"name": t, "slug": t} for t in (tags or [])], "custom_fields": custom or {},
    }


MAPPING: dict[str, Any] = {
    "role": {"from": "device_role.slug", "values": {"access": "switch", "edge-fw": "firewall"}},
    "site": {"from": "site.slug", "values": {"paris-1": "doif", "bordeaux-1": "doso"}},
    "platform": {"from": "platform.slug", "values": {"ios": "ios_cli", "asa": "asa_cli"}},
    "data": {"criticality": "custom_fields.criticality"},
}


def write(root: Path, devices: list[dict[str, Any]], mapping: Any = MAPPING, *, inline: bool = False) -> Path:
    """nornir.yaml over a SimpleInventory holding ``devices`` as the plugins hold them, and the mapping."""
    root.mkdir(parents=True, exist_ok=True)
    hosts = {d.get("name") or d["pynautobot_dictionary"]["name"]: {"hostname": "192.0.2.1", "data": d}
             for d in devices}
    (root / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    options: dict[str, Any] = {"mapping": mapping} if inline else {"mapping": "sot-mapping.yaml"}
    if not inline:
        (root / "sot-mapping.yaml").write_text(mapping if isinstance(mapping, str) else yaml.safe_dump(mapping))
    config = root / "nornir.yaml"
    config.write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {"host_file": str(root / "hosts.yaml")},
                      "transform_function": "netchange_sot", "transform_function_options": options},
        "runner": {"plugin": "threaded", "options": {"num_workers": 2}},
        "logging": {"enabled": False},
    }))
    return config


@pytest.fixture
def use(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    def _use(devices: list[dict[str, Any]], mapping: Any = MAPPING, **kw: Any) -> Path:
        config = write(workspace / "sot", devices, mapping, **kw)
        monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(config))
        return config

    monkeypatch.setenv("NETCHANGE_SECRETS", str(workspace / "no-secrets.yaml"))
    return _use


def listed(cli: Cli) -> dict[str, tuple[Any, ...]]:
    result = cli("inventory", "--json")
    assert result.code == 0, result.err
    return {h["name"]: (h["site"], h["role"], h["platform"], h["criticality"]) for h in json.loads(result.out)["hosts"]}


def one_line_error(cli: Cli) -> str:
    result = cli("inventory")
    assert result.code == 2, result.out + result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err
    return result.err


def test_netbox_records_become_netchange_hosts(use: Callable[..., Path], cli: Cli, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    use([netbox_device("p-sw-1", "access", "paris-1", "ios", custom={"criticality": "high"}),
         netbox_device("b-fw-1", "edge-fw", "bordeaux-1", "asa")])
    monkeypatch.chdir(tmp_path)  # the mapping file is found beside nornir.yaml, not in the working directory
    assert listed(cli) == {"p-sw-1": ("doif", "switch", "ios_cli", "high"),
                           "b-fw-1": ("doso", "firewall", "asa_cli", None)}
    assert [h["name"] for h in json.loads(cli("inventory", "--site", "doif", "--json").out)["hosts"]] == ["p-sw-1"]


def test_nautobot_records_are_read_from_the_pynautobot_dictionary(use: Callable[..., Path], cli: Cli) -> None:
    record = {"name": "p-sw-2", "role": {"name": "Access switch"}, "location": {"name": "DOIF"},
              "platform": {"name": "Cisco IOS", "network_driver": "cisco_ios"}, "custom_fields": {}}
    mapping = {"role": {"from": "role.name", "values": {"Access switch": "switch"}},
               "site": {"from": "location.name", "values": {"DOIF": "doif"}},
               "platform": {"from": "platform.network_driver", "values": {"cisco_ios": "ios_cli"}}}
    use([{"pynautobot_dictionary": record}], mapping, inline=True)
    assert listed(cli) == {"p-sw-2": ("doif", "switch", "ios_cli", None)}


def test_a_role_from_tags_takes_the_one_tag_the_mapping_names(use: Callable[..., Path], cli: Cli) -> None:
    mapping = {**MAPPING, "role": {"from": "tags.slug", "values": {"nc-switch": "switch", "nc-firewall": "firewall"}}}
    use([netbox_device("p-sw-3", "whatever", "paris-1", "ios", tags=["backup", "nc-switch"])], mapping)
    assert listed(cli)["p-sw-3"][1] == "switch"

    use([netbox_device("p-sw-3", "whatever", "paris-1", "ios", tags=["nc-switch", "nc-firewall"])], mapping)
    err = one_line_error(cli)
    assert "p-sw-3" in err and "switch" in err and "firewall" in err


def test_a_value_outside_the_mapping_names_the_device_and_the_value(use: Callable[..., Path], cli: Cli) -> None:
    use([netbox_device("p-sw-1", "access", "paris-1", "ios"), netbox_device("p-spine-1", "spine", "paris-1", "ios")])
    err = one_line_error(cli)
    assert "p-spine-1" in err and "'spine'" in err and "device_role.slug" in err

    use([netbox_device("l-sw-1", "access", "lyon-1", "ios")])
    assert "'lyon-1'" in one_line_error(cli)


def test_values_that_are_not_netchanges_are_refused(use: Callable[..., Path], cli: Cli) -> None:
    # No table: the source's value must already be netchange's.
    use([netbox_device("p-sw-1", "Access", "paris-1", "ios")], {**MAPPING, "role": "device_role.name"})
    err = one_line_error(cli)
    assert "p-sw-1" in err and "'Access'" in err and "switch" in err  # netchange's roles are listed

    use([netbox_device("p-sw-1", "access", "paris-1", "cisco-xr")], {**MAPPING, "platform": "platform.slug"})
    err = one_line_error(cli)
    assert "'cisco-xr'" in err and "ios_cli" in err

    use([netbox_device("p-sw-1", "access", "paris-1", "ios", custom={"syntax": "cobol"})],
        {**MAPPING, "syntax": "custom_fields.syntax"})
    assert "'cobol'" in one_line_error(cli)


def test_a_device_without_platform_is_refused_unless_a_default_is_declared(use: Callable[..., Path], cli: Cli) -> None:
    use([netbox_device("p-sw-9", "access", "paris-1", None)])
    err = one_line_error(cli)
    assert "p-sw-9" in err and "no platform" in err

    with_default = {**MAPPING, "platform": {**MAPPING["platform"], "default": "ios_cli"}}
    use([netbox_device("p-sw-9", "access", "paris-1", None)], with_default)
    assert listed(cli)["p-sw-9"][2] == "ios_cli"


def test_the_credentials_are_chained_after_the_mapping(use: Callable[..., Path], workspace: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange.config import Settings
    from netchange.inventory import load_nornir

    use([netbox_device("p-fw-1", "edge-fw", "paris-1", "asa")])
    secrets = workspace / "secrets.yaml"
    secrets.write_text("hosts:\n  p-fw-1:\n    username: fwadmin\n    password: pw-from-file\n"
                       "    optional_args: {secret: enable-from-file}\n")
    monkeypatch.setenv("NETCHANGE_SECRETS", str(secrets))
    cfg = Settings.resolve()
    nr = load_nornir(cfg.nornir_config, secrets=cfg.secrets, logins=cfg.logins)
    params = nr.inventory.hosts["p-fw-1"].get_connection_parameters("netchange")
    assert (params.platform, params.username, params.password) == ("asa_cli", "fwadmin", "pw-from-file")
    assert (params.extras or {})["optional_args"]["secret"] == "enable-from-file"


@pytest.mark.parametrize(("spec", "said"), [
    ({"site": "site.slug"}, "no rule for 'role'"),
    ({"role": "device_role.slug"}, "no rule for 'site'"),
    ({**MAPPING, "tenant": "tenant.slug"}, "unknown field 'tenant'"),
    ({**MAPPING, "role": {"values": {"a": "switch"}}}, "role: give a dotted path"),
    ({**MAPPING, "role": {"from": "device_role.slug", "map": {}}}, "unknown key 'map'"),
    ({**MAPPING, "role": {"from": "device_role.slug", "values": ["switch"]}}, "role.values"),
    ({**MAPPING, "data": {"role": "x"}}, "data.role"),
    (["role", "site"], "must be a YAML mapping"),
])
def test_bad_mappings_are_bad_input(spec: Any, said: str) -> None:
    with pytest.raises(BadRequest, match=said.replace("(", r"\(")):
        parse_mapping(spec, "m.yaml")


def test_a_bad_mapping_file_is_one_line_exit_2(use: Callable[..., Path], cli: Cli) -> None:
    config = use([netbox_device("p-sw-1", "access", "paris-1", "ios")], "role: [unclosed\n")
    err = one_line_error(cli)
    assert str(config.parent / "sot-mapping.yaml") in err and "not YAML" in err

    use([netbox_device("p-sw-1", "access", "paris-1", "ios")], {"role": "device_role.slug"})
    assert "no rule for 'site'" in one_line_error(cli)

    (config.parent / "sot-mapping.yaml").unlink()
    assert "inventory mapping not found" in one_line_error(cli)
