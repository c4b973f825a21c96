"""Every registered driver keeps NAPALM's contract (issue 12 item 4).

- the lifecycle methods exist with NAPALM's parameters (names, kinds, defaults), so a NAPALM
  driver and a netchange driver stay interchangeable;
- a line the device refuses in a merged/replaced candidate raises ``MergeConfigException`` /
  ``ReplaceConfigException``, as NAPALM's own ``ios`` driver does, and netchange's ``CommitFailed``;
- ``optional_args`` are a typed options model: an unknown key is an error naming the key, never
  its value (it may be a secret).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from napalm.base import NetworkDriver
from napalm.base.exceptions import MergeConfigException, ReplaceConfigException
from netmiko.exceptions import ConfigInvalidException

from netchange.drivers.base import DriverOptionsError, NetchangeDriver
from netchange.drivers.contract import DRIVERS, driver_class, rollback_preview
from netchange.errors import BadRequest, CommitFailed
from netchange.platforms import PLATFORMS
from netchange.testing import MemorySession, StoredDevice

LIFECYCLE = ("open", "close", "is_alive", "get_config", "load_merge_candidate", "load_replace_candidate",
             "compare_config", "commit_config", "confirm_commit", "has_pending_commit", "discard_config",
             "rollback", "cli")

IMPLEMENTED_BY_THE_BASE = ("get_config",)
"""The lifecycle methods :class:`NetchangeDriver` implements for every driver; it only specifies
the others (NAPALM's way: a docstring and ``NotImplementedError``)."""


def _params(fn: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def check_contract(name: str, cls: type[Any]) -> None:
    """``cls`` is a netchange driver with NAPALM's lifecycle methods and signatures."""
    assert issubclass(cls, NetchangeDriver) and issubclass(cls, NetworkDriver)
    for method in LIFECYCLE:
        ours, napalm = getattr(cls, method), getattr(NetworkDriver, method)
        assert ours is not napalm, f"{name}.{method} is NAPALM's NotImplementedError stub"
        assert method in IMPLEMENTED_BY_THE_BASE or ours is not getattr(NetchangeDriver, method), (
            f"{name}.{method} is only the base class's specification (NotImplementedError)")
        assert _params(ours) == _params(napalm), f"{name}.{method}{inspect.signature(ours)}"
    assert _params(cls.__init__) == _params(NetworkDriver.__init__)


def test_the_base_class_specifies_napalms_lifecycle_with_napalms_signatures() -> None:
    for method in LIFECYCLE:
        spec = getattr(NetchangeDriver, method)
        assert spec is not getattr(NetworkDriver, method) and spec.__doc__, method
        assert _params(spec) == _params(getattr(NetworkDriver, method)), method


@pytest.mark.parametrize("name", DRIVERS.names())
def test_every_registered_driver_has_napalms_lifecycle_signatures(name: str) -> None:
    check_contract(name, DRIVERS.get(name))


@pytest.mark.parametrize("platform", PLATFORMS.names())
def test_every_platform_has_a_driver(platform: str) -> None:
    try:
        driver_class(platform)
    except BadRequest:
        # A NAPALM community driver (napalm-asa) that is not installed here.
        assert platform == "asa"


class _Refusing(MemorySession):
    """Refuses any line typing ``frobnicate``, as IOS prints it; applies nothing."""

    def send_config_set(self, lines: list[str], **_: Any) -> str:
        if any("frobnicate" in line for line in lines):
            raise ConfigInvalidException("frobnicate the port\n% Invalid input detected at '^' marker.")
        return ""


RUNNING = "hostname sw1\n!\ninterface FastEthernet0/3\n description old\n!\n"


@pytest.mark.parametrize(("load", "napalm_class"), [
    ("load_merge_candidate", MergeConfigException), ("load_replace_candidate", ReplaceConfigException)])
def test_a_refused_line_raises_napalms_exception_for_the_mode(load: str, napalm_class: type[Exception]) -> None:
    dev = StoredDevice("sw1", RUNNING).driver()
    dev.session = _Refusing(StoredDevice("sw1", RUNNING))
    dev.open()
    candidate = "interface FastEthernet0/3\n frobnicate the port\n"
    if load == "load_replace_candidate":
        candidate = RUNNING.replace(" description old\n", " description old\n frobnicate the port\n")
    getattr(dev, load)(config=candidate)
    with pytest.raises(napalm_class, match="device rejected the change") as info:
        dev.commit_config()
    assert isinstance(info.value, CommitFailed)
    assert "lines already sent were undone" in str(info.value)


def test_unknown_or_mistyped_options_name_the_key_not_the_value() -> None:
    cls = DRIVERS.get("ios_cli")
    with pytest.raises(DriverOptionsError, match=r"optional_args\.tsig_secret") as info:
        cls("sw1", "u", "p", optional_args={"tsig_secret": "s3cr3t-value"})
    assert "s3cr3t-value" not in str(info.value)
    with pytest.raises(DriverOptionsError, match=r"optional_args\.running_reuse_seconds"):
        cls("sw1", "u", "p", optional_args={"running_reuse_seconds": "soon"})
    assert cls("sw1", "u", "p", optional_args={"port": 2222, "secret": "x"}).port == 2222


def test_optional_features_have_defaults_for_plain_napalm_drivers() -> None:
    mock = driver_class("mock")("h", "u", "p", optional_args={"path": "/nonexistent"})
    assert rollback_preview(mock) is None
    assert rollback_preview(DRIVERS.get("netconf")("h", "u", "p")) is None  # snapshot restore


def test_get_config_reads_only_the_datastores_asked_for() -> None:
    reads: list[str] = []

    class Counting(NetchangeDriver):  # type: ignore[misc]

        def running_config(self) -> str:
            reads.append("running")
            return "hostname r\n"

        def candidate_config(self) -> str | None:
            reads.append("candidate")
            return None

    driver = Counting("h", "u", "p")
    assert driver.get_config(retrieve="running") == {"running": "hostname r\n", "candidate": "", "startup": ""}
    assert reads == ["running"]
    assert driver.get_config(retrieve="candidate")["candidate"] == ""  # nothing loaded: empty, not None
    assert driver.get_config()["running"] == "hostname r\n"
    assert reads == ["running", "candidate", "running", "candidate"]
