"""Platforms, drivers and change types are found through one registry each (issue 12 items 4, 5).

A test or a plugin registers an object under a name; nothing is monkeypatched. Platform facts
(syntax, ntc-templates platform, confirmed commit, read-only commands, CLI error strings) live in
the profiles only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from netchange.apply import supports_confirmed_commit
from netchange.basemodels import StrictModel
from netchange.changetype import CHANGE_TYPES, ChangeType, get_change_type
from netchange.drivers.contract import DRIVERS, driver_class, known_platforms
from netchange.errors import BadRequest
from netchange.platforms import PLATFORMS, PlatformProfile, profile_of, syntax_of
from netchange.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


class _Driver:
    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname


def test_a_registered_platform_is_known_everywhere_and_gone_afterwards() -> None:
    profile = PlatformProfile(name="acme_os", syntax="ios", ntc_platform="cisco_ios", confirmed_commit=True)
    with PLATFORMS.registered("acme_os", profile), DRIVERS.registered("acme_os", _Driver):
        assert syntax_of("acme_os") == "ios"
        assert driver_class("acme_os") is _Driver
        assert supports_confirmed_commit("acme_os") is True
        assert "acme_os" in known_platforms()
    with pytest.raises(BadRequest, match="unknown platform 'acme_os'"):
        syntax_of("acme_os")
    assert "acme_os" not in known_platforms()


def test_a_profile_may_name_a_shared_driver() -> None:
    with PLATFORMS.registered("acme_cli", PlatformProfile(name="acme_cli", syntax="ios", driver="ios_cli")):
        assert driver_class("acme_cli").__name__ == "IosCliDriver"


def test_shipped_platform_facts() -> None:
    assert [syntax_of(p) for p in ("ios", "ios_cli", "eos", "nxos_ssh", "asa_cli", "junos")] == \
        ["ios", "ios", "ios", "ios", "asa", "junos"]
    assert {p for p in PLATFORMS.names() if profile_of(p).confirmed_commit} == {"eos", "junos", "mock", "netconf"}
    assert profile_of("ios_cli").ntc_platform == "cisco_ios" and profile_of("asa_cli").ntc_platform == "cisco_asa"
    assert syntax_of("mock", "ios") == "ios"
    with pytest.raises(BadRequest, match="no configuration syntax of its own"):
        syntax_of("mock")


def test_registering_a_taken_name_is_an_error_unless_replaced() -> None:
    registry: Registry[int] = Registry("number", "netchange.test_none")
    registry.register("one", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("one", 2)
    registry.register("one", 2, replace=True)
    assert registry.get("one") == 2
    with pytest.raises(KeyError, match="unknown number 'two'"):
        registry.get("two")


class _EchoParams(StrictModel):
    text: str


class _Echo(ChangeType[_EchoParams]):
    name = "echo"
    Params = _EchoParams


def test_a_change_type_registered_by_a_test_is_found_by_name() -> None:
    with CHANGE_TYPES.registered("echo", _Echo):
        assert get_change_type("echo").validate({"text": "x"}).text == "x"
    with pytest.raises(BadRequest, match="unknown change type 'echo'"):
        get_change_type("echo")


def test_a_platform_from_another_distribution_comes_from_its_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "acme_platform"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pathlib import Path\nPROFILE = Path(__file__).with_name('acme_fw.yaml')\n")
    (pkg / "acme_fw.yaml").write_text("name: acme_fw\nsyntax: asa\nconfirmed_commit: true\n")
    info = tmp_path / "acme_platform-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-platform\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[netchange.platforms]\nacme_fw = acme_platform:PROFILE\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "acme_platform", raising=False)
    PLATFORMS.reset()
    try:
        assert syntax_of("acme_fw") == "asa" and supports_confirmed_commit("acme_fw")
    finally:
        monkeypatch.undo()
        PLATFORMS.reset()
    assert "acme_fw" not in PLATFORMS


def test_platform_facts_live_in_the_profiles_only() -> None:
    """The grep of issue 12's "done when": no per-platform table left in the code."""
    gone = re.compile(r"\b(_SYNTAX|NTC_PLATFORM|_NAPALM_CONFIRMED_COMMIT|READ_ONLY_PREFIXES|CliPlatform)\b")
    defines = re.compile(r"^def syntax_of\b", re.M)
    hits, definitions = [], []
    for path in (ROOT / "netchange").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        hits += [f"{path}: {m.group(0)}" for m in gone.finditer(text)]
        if defines.search(text):
            definitions.append(path.relative_to(ROOT).as_posix())
    assert hits == []
    assert definitions == ["netchange/platforms/__init__.py"]


def test_a_profile_is_read_when_first_asked_for() -> None:
    """Looking up a NAPALM platform reads its own profile only: hier_config (~170 ms to import,
    needed to validate the ios_cli profile) stays unloaded, as the lazy start-up wants."""
    import subprocess

    code = ("import sys\nfrom netchange.platforms import syntax_of\nassert syntax_of('eos') == 'ios'\n"
            "print('hier_config' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
