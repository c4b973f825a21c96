"""Save after success (issue 21 item 4): the platform profiles say how, the base class does it,
apply saves a verified change and every verified restore saves the restored state.

The real devices are in tests/integration/test_save.py (a restarted lab device shows the state).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.drivers.base import NetchangeDriver
from netchange.drivers.contract import DRIVERS, DriverFeatures, SaveReport, save_running
from netchange.drivers.errors import CommitRefused
from netchange.failpoints import arm
from netchange.platforms import PLATFORMS, PROFILES_DIR, PlatformProfile, SaveSteps, profile_of
from tests import fakedriver
from tests.mockdev import SWITCH_RUNNING

# -- the profiles ---------------------------------------------------------------------------------

SAVING = {"ios_cli", "asa_cli", "frr", "netconf"}


def test_every_packaged_profile_says_whether_it_saves() -> None:
    """``save:`` is written in every profile (``null`` with the reason in a comment above it)."""
    for path in sorted(PROFILES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert "save" in data, f"{path.name}: no save: key (give the steps, or null and why)"
        if data["save"] is None:
            text = path.read_text()
            before = text[: text.index("save: null")].rstrip().splitlines()
            assert before[-1].startswith("#"), f"{path.name}: save: null without a comment saying why"
    assert {p.stem for p in PROFILES_DIR.glob("*.yaml") if profile_of(p.stem).save is not None} == SAVING


def test_the_steps_of_each_saving_platform() -> None:
    ios = profile_of("ios_cli").save
    assert ios is not None and (ios.command, ios.startup) == ("write memory", "show startup-config")
    frr = profile_of("frr").save
    assert frr is not None and frr.command == "write memory" and "{config_dir}" in frr.startup
    netconf = profile_of("netconf").save
    assert netconf is not None and netconf.command == "copy-config running startup"
    assert netconf.capability == "urn:ietf:params:netconf:capability:startup:1.0"


def test_header_lines_are_not_compared() -> None:
    ios = profile_of("ios_cli").save
    assert ios is not None
    startup = "Using 1234 out of 65536 bytes\n!\nhostname sw1\n!\nend\n"
    running = "Building configuration...\n\nCurrent configuration : 99 bytes\n!\nhostname sw1\n!\nend\n"
    assert ios.configuration(startup) == ios.configuration(running) == "!\nhostname sw1\n!\nend"
    with pytest.raises(ValueError, match="header pattern"):
        SaveSteps(command="w", startup="s", header_patterns=("(",))


# -- the base class ----------------------------------------------------------------------------------


class _Device(NetchangeDriver):
    """A NetchangeDriver whose transport is two strings: what it runs, what it keeps."""

    def __init__(self, *, refuse: bool = False, loses: bool = False) -> None:
        super().__init__("d", "u", "p")
        self.running, self.startup, self.sent = "hostname d\nvlan 20\n", "hostname d\n", []
        self.refuse, self.loses = refuse, loses

    def running_config(self) -> str:
        return "Building configuration...\n" + self.running

    def send_save(self, save: SaveSteps) -> None:
        self.sent.append(save.command)
        if self.refuse:
            raise CommitRefused("d: 'write memory' refused by the device: % Error")
        if not self.loses:
            self.startup = self.running

    def read_startup(self, save: SaveSteps) -> str:
        self.sent.append(save.startup)
        return "Using 12 out of 100 bytes\n" + self.startup


STEPS = SaveSteps(command="write memory", startup="show startup-config",
                  header_patterns=(r"^Using \d+ out of \d+ bytes$", r"^Building configuration\.\.\.$"))


def test_save_config_sends_the_profiles_command_and_compares_the_startup_read_back() -> None:
    device = _Device()
    assert device.save_config(STEPS) is True
    assert device.sent == ["write memory", "show startup-config"]
    assert _Device(loses=True).save_config(STEPS) is False  # the device said OK and kept nothing


def test_save_running_is_driven_by_the_profile_and_never_raises() -> None:
    profile = PlatformProfile(name="saving", syntax="ios", save=STEPS)
    with PLATFORMS.registered("saving", profile):
        report = save_running(_Device(), "saving")
        assert report is not None and report.startup_equals_running and not report.error
        refused = save_running(_Device(refuse=True), "saving")
        assert refused is not None and not refused.startup_equals_running
        assert "refused by the device" in refused.error
        assert refused.event_data()["startup_equals_running"] is False
    # No steps in the profile (no startup apart), or a NAPALM driver: nothing to do.
    assert save_running(_Device(), "nftables") is None
    assert save_running(object(), "ios_cli") is None


def test_a_device_without_the_capability_is_not_saved() -> None:
    class _NoStartup(_Device):
        def can_save(self, save: SaveSteps) -> bool:
            return False

    with PLATFORMS.registered("saving", PlatformProfile(name="saving", syntax="ios", save=STEPS)):
        device = _NoStartup()
        assert save_running(device, "saving") is None and device.sent == []


# -- apply and restore ---------------------------------------------------------------------------------

STARTUP: dict[str, str] = {}


class _SavingFake(DriverFeatures, fakedriver.FakeDriver):
    """The stateful fake device with a startup state: ``save_config`` copies running to it."""

    def can_save(self, save: SaveSteps) -> bool:
        return True

    def save_config(self, save: SaveSteps) -> bool:
        self._call("save_config")
        if self.args.get("save_fails"):
            raise CommitRefused(f"{self.name}: 'write memory' refused by the device: % Error")
        STARTUP[self.name] = fakedriver.running_of(self.name)
        return STARTUP[self.name] == fakedriver.running_of(self.name)


@pytest.fixture
def saving_platform() -> Iterator[None]:
    STARTUP.clear()
    profile = PlatformProfile(name="fake", syntax=None, save=STEPS)
    with PLATFORMS.registered("fake", profile), DRIVERS.registered("fake", _SavingFake):
        yield
    arm(None)


def _run(tmp_path: Path, faults: dict[str, dict[str, Any]] | None = None) -> tuple[Any, Any]:
    from tests.unit import test_apply

    _, outcome, journal = test_apply.run(tmp_path, faults=faults)
    return outcome, journal


def _events(journal: Any, host: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.kind, dict(e.data or {})) for e in journal.events("CHG-2026-0100") if e.host == host]


def test_apply_saves_each_verified_host_after_its_confirm(saving_platform: None, tmp_path: Path) -> None:
    outcome, journal = _run(tmp_path)
    assert outcome.outcome == "completed"
    for i in range(1, 5):
        host = f"sw{i}"
        kinds = [k for k, _ in _events(journal, host)]
        assert kinds == ["snapshot", "commit_started", "committed", "post_checks", "confirmed", "saved"]
        assert _events(journal, host)[-1][1]["startup_equals_running"] is True
        assert "vlan 20" in STARTUP[host]
    assert journal.verify() == []


def test_a_rollback_saves_the_restored_state(saving_platform: None, tmp_path: Path) -> None:
    """sw1 and sw2 were saved with the change; sw3's commit fails: every restored host is saved
    again, so that a reload does not bring the change back."""
    outcome, journal = _run(tmp_path, faults={"sw3": {"fail_commit": True}})
    assert outcome.outcome == "rolled_back"
    for host in ("sw1", "sw2"):
        kinds = [k for k, _ in _events(journal, host)]
        assert kinds[-3:] == ["rollback_started", "rollback_verified", "saved"], kinds
        assert "vlan 20" not in STARTUP[host]
        assert STARTUP[host].strip() == SWITCH_RUNNING.strip()


def test_a_failed_save_is_journaled_and_the_verified_change_stays(saving_platform: None, tmp_path: Path) -> None:
    outcome, journal = _run(tmp_path, faults={"sw2": {"save_fails": True}})
    assert outcome.outcome == "completed"
    saved = dict(_events(journal, "sw2"))["saved"]
    assert saved["startup_equals_running"] is False and "refused by the device" in saved["error"]
    assert "vlan 20" in fakedriver.running_of("sw2")


def test_save_fail_points_are_named_in_the_source() -> None:
    """The crash matrix finds the save's points by their literal names (netchange/failpoints.py)."""
    import netchange.apply._applier as applier
    import netchange.rollback.runner as runner

    for module, names in ((applier, ("save.apply.before", "save.apply.after")),
                          (runner, ("save.restore.before", "save.restore.after"))):
        source = Path(str(module.__file__)).read_text()
        for name in names:
            assert f'fail_point("{name}"' in source


def test_a_kill_point_in_the_save_raises_where_armed(saving_platform: None, tmp_path: Path) -> None:
    """``:raise`` at the apply's save reads as a session lost there: the host is rolled back,
    and its restore saves the snapshot's state."""
    arm("save.apply.before@sw1:raise")
    outcome, journal = _run(tmp_path)
    assert outcome.outcome == "rolled_back"
    kinds = [k for k, _ in _events(journal, "sw1")]
    assert "saved" in kinds and kinds.index("rollback_verified") < kinds.index("saved")
    assert STARTUP["sw1"].strip() == SWITCH_RUNNING.strip()


def test_save_report_event_data() -> None:
    assert SaveReport(True, 0.12345).event_data() == {"startup_equals_running": True, "seconds": 0.123}
