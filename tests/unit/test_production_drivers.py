"""The production inventory runs what the tests run (issue 22 item 12).

Every platform the production inventory (``nornir.yaml``'s SimpleInventory) gives a host is either
one the lab serves (each lab component declares its platforms, and the lab's manager refuses a
host of another, so the declaration is what ``netchange lab up`` writes to its inventory), or
listed in the README's table "Which driver, proven how" as "proven by recorded sessions only",
with tests that drive that platform's real driver over netchange.testing's recorded session. The
table has one row per production platform, no more, and says "lab" exactly for the lab's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab import instances
from netchange.lab.component import LabContext, LabHost
from netchange.lab.manager import LabManager, lab_platforms

REPO = Path(__file__).resolve().parents[2]
RECORDED = "proven by recorded sessions only"


def production_platforms() -> dict[str, list[str]]:
    """Platform → its hosts, resolved as Nornir does: the host's own, else its groups' in order,
    else the defaults'."""
    options = yaml.safe_load((REPO / "nornir.yaml").read_text())["inventory"]["options"]
    hosts: dict[str, dict[str, Any]] = yaml.safe_load((REPO / options["host_file"]).read_text())
    groups: dict[str, dict[str, Any]] = yaml.safe_load((REPO / options["group_file"]).read_text())
    defaults: dict[str, Any] = yaml.safe_load((REPO / options["defaults_file"]).read_text()) or {}

    def platform(entry: dict[str, Any]) -> str | None:
        if entry.get("platform"):
            return str(entry["platform"])
        for group in entry.get("groups", []):
            found = platform(groups[group])
            if found:
                return found
        return None

    found: dict[str, list[str]] = {}
    for name, entry in hosts.items():
        named = platform(entry) or defaults.get("platform")
        assert named, f"{name}: no platform"
        found.setdefault(str(named), []).append(name)
    return found


def readme_table() -> dict[str, dict[str, Any]]:
    """The README's "Which driver, proven how": platform → {proven, tests}."""
    text = (REPO / "README.md").read_text()
    section = text.split("### Which driver, proven how", 1)
    assert len(section) == 2, "README: no section 'Which driver, proven how'"
    rows: dict[str, dict[str, Any]] = {}
    for line in section[1].splitlines():
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 5 or cells[0] in ("platform", "---"):
            continue
        name = cells[0].strip("`")
        assert name not in rows, f"README: {name} listed twice"
        rows[name] = {"proven": cells[3], "tests": re.findall(r"`(tests/[^`]+\.py)`", cells[4])}
    return rows


def test_every_production_platform_is_driven_by_the_lab_or_listed_as_recorded_only() -> None:
    production = production_platforms()
    lab = lab_platforms()
    rows = readme_table()
    assert set(rows) == set(production), (
        f"README table rows {sorted(rows)} != the production inventory's platforms {sorted(production)}")
    for platform, row in rows.items():
        assert row["tests"], f"{platform}: no test named"
        for test in row["tests"]:
            assert (REPO / test).is_file(), f"{platform}: {test} does not exist"
        texts = [(REPO / test).read_text() for test in row["tests"]]
        if platform in lab:
            assert row["proven"].startswith("lab:"), f"{platform} is a lab platform: {row['proven']!r}"
            assert any(f'"{platform}"' in text for text in texts), f"{platform}: no named test drives it"
        else:
            assert row["proven"] == RECORDED, (
                f"{platform} (hosts {production[platform]}) is not served by the lab {sorted(lab)}: "
                f"the README must say {RECORDED!r}, not {row['proven']!r}")
            for test, text in zip(row["tests"], texts, strict=True):
                assert f'platform="{platform}"' in text and "StoredDevice" in text, (
                    f"{test} does not run the {platform} driver over a recorded session")


def test_the_switches_name_the_driver_the_lab_proves() -> None:
    """NAPALM's ``ios`` needs SCP and ``archive`` on the device and never ran through the pipeline."""
    production = production_platforms()
    assert "ios" not in production
    assert {h for h in production["ios_cli"] if "-sw-" in h} == {
        h for hosts in production.values() for h in hosts if "-sw-" in h}
    assert "ios_cli" in lab_platforms()


def test_the_firewalls_name_the_driver_the_lab_proves() -> None:
    """``asa_cli`` had never opened a session (issue 22 item 12): the lab's ASA stand-in drives it now."""
    production = production_platforms()
    assert {h for h in production["asa_cli"] if "-fw-" in h} == {
        h for hosts in production.values() for h in hosts if "-fw-" in h}
    assert "asa_cli" in lab_platforms()
    assert readme_table()["asa_cli"]["proven"].startswith("lab:")


def test_the_lab_serves_its_declared_platforms_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The declaration the table is checked against cannot drift from what ``lab up`` writes:
    a component serving a platform it does not declare stops the lab's start-up."""
    # A registry of the test's own: the machine-wide one belongs to the labs that run.
    monkeypatch.setattr(instances, "LOCK_FILE", tmp_path / "instances.lock")
    monkeypatch.setattr(instances, "REGISTRY", tmp_path / "instances.json")

    class Liar:
        name = "liar"
        platforms: tuple[str, ...] = ("ios_cli",)

        def available(self) -> str | None:
            return None

        def up(self, ctx: LabContext) -> list[LabHost]:
            return [LabHost(name="fw1", hostname="127.0.0.1", port=22, platform="asa_cli", role="firewall",
                            site="doif")]

        def status(self, ctx: LabContext) -> dict[str, str]:
            return {}

    manager = LabManager(tmp_path / "lab", components=[Liar()])
    monkeypatch.setattr(manager, "reserve_instance", lambda: 7)
    with pytest.raises(RuntimeError, match=r"liar served platform\(s\) \['asa_cli'\] it does not declare"):
        manager.up()
    assert lab_platforms([Liar()]) == {"ios_cli"}
