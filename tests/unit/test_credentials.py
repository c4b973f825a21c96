"""Credentials come from the secrets file or the environment, never the inventory, and are scrubbed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from nornir.core.inventory import Group, Host

from netchange import redact
from netchange.config import Settings, apply_credentials, load_secrets
from netchange.errors import BadRequest


def host(name: str = "sw1", group: str = "switch") -> Host:
    return Host(name=name, groups=[Group(name=group)])  # type: ignore[list-item]


def test_precedence_host_then_group_then_env_then_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "defaults": {"username": "dflt", "password": "dflt-pass-1"},
        "groups": {"switch": {"password": "group-pass-2", "optional_args": {"secret": "enable-3"}}},
        "hosts": {"sw1": {"username": "hostuser"}},
    }
    monkeypatch.setenv("NETCHANGE_USERNAME", "envuser")
    monkeypatch.setenv("NETCHANGE_PASSWORD", "env-pass-4")
    logins = Settings.resolve().logins  # read once, passed down (as the CLI does)
    h = host()
    apply_credentials(h, secrets, logins)
    assert (h.username, h.password) == ("hostuser", "group-pass-2")
    assert h.connection_options["netchange"].extras["optional_args"]["secret"] == "enable-3"
    other = host("fw1", "firewall")
    apply_credentials(other, secrets, logins)
    assert (other.username, other.password) == ("envuser", "env-pass-4")


def test_every_secret_is_scrubbed() -> None:
    h = host("sw9")
    apply_credentials(h, {"defaults": {"username": "u", "password": "s3cr3t-pw",
                                       "optional_args": {"tsig_secret": "dHNpZy1rZXk="}}})
    text = "login s3cr3t-pw key dHNpZy1rZXk= end"
    assert redact.scrub(text) == f"login {redact.MASK} key {redact.MASK} end"


def test_a_world_readable_secrets_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump({"defaults": {"password": "x"}}))
    path.chmod(0o644)
    with pytest.raises(BadRequest, match="chmod 600"):
        load_secrets(path)
    path.chmod(0o600)
    assert load_secrets(path)["defaults"]["password"] == "x"


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return {str(k) for k in node} | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_the_repository_inventory_holds_no_credentials() -> None:
    root = Path(__file__).resolve().parents[2] / "inventory"
    files = list(root.glob("*.yaml"))
    assert len(files) == 3
    for path in files:
        found = _keys(yaml.safe_load(path.read_text())) & {"username", "password", "secret", "tsig_secret"}
        assert not found, f"{path.name} carries {found}"
