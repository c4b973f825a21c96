"""docs/adding-a-platform.md stays true: its profile and its driver, taken from the page, register
and are found by the engine's own look-ups (issue 12: "a new platform is one profile file plus a
driver class")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from netchange.apply import supports_confirmed_commit
from netchange.drivers.contract import DRIVERS, driver_class, known_platforms, rollback_preview
from netchange.drivers.errors import CommandRefused
from netchange.platforms import PLATFORMS, read_profile, syntax_of
from tests.unit.test_driver_contract import check_contract

PAGE = Path(__file__).resolve().parents[2] / "docs" / "adding-a-platform.md"


def _block(language: str, index: int = 0) -> str:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)[index]


def test_the_pages_profile_and_driver_make_a_platform(tmp_path: Path) -> None:
    (tmp_path / "acme_os.yaml").write_text(_block("yaml"))
    profile = read_profile(tmp_path / "acme_os.yaml")
    namespace: dict[str, Any] = {}
    exec(compile(_block("python"), str(PAGE), "exec"), namespace)
    driver = namespace["AcmeDriver"]
    check_contract("acme_os", driver)
    with PLATFORMS.registered("acme_os", profile), DRIVERS.registered("acme_os", driver):
        assert "acme_os" in known_platforms()
        assert syntax_of("acme_os") == "ios"
        assert supports_confirmed_commit("acme_os") is False
        dev = driver_class("acme_os")("acme1", "u", "p", optional_args={"api_token_file": "/t", "port": 8443})
        assert dev.port == 8443
        dev.open()
        dev.load_merge_candidate(config="vlan 10\n")
        assert dev.compare_config() == "+vlan 10\n" and rollback_preview(dev) is None
        dev.commit_config()
        assert dev.get_config()["running"] == "hostname acme\nvlan 10\n"
        assert PLATFORMS.get("acme_os").ntc_platform == "cisco_ios"
        assert dev.cli(["show version"]) == {"show version": ""}
        with pytest.raises(CommandRefused, match="not a read-only command"):
            dev.cli(["show version", "reload"])
    assert "acme_os" not in known_platforms()
