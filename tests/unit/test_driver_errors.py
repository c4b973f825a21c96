"""Typed driver errors (issue 12): every driver's failures reach the engine as netchange's errors
by phase, and the engine branches on their class (``isinstance``), never on a name or a message.

NAPALM's own drivers (``ios``, ``eos``, ``junos``…) and plain ``NetworkDriver`` plugins are
wrapped at the driver boundary; the translated errors are still NAPALM's exceptions, so code
written against NAPALM keeps catching them.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from napalm.base import NetworkDriver
from napalm.base.exceptions import (
    CommitError,
    ConnectAuthError,
    ConnectionClosedException,
    ConnectionException,
    MergeConfigException,
)

from netchange.drivers.contract import DRIVERS, driver_class
from netchange.drivers.errors import (
    CommitRefused,
    LoginRefused,
    MergeRejected,
    OpenFailed,
    Phase,
    SessionClosed,
    translate,
)
from netchange.errors import CommitFailed, ConnectionFailed, DeviceLost
from netchange.testing import MemorySession, StoredDevice
from tests import fakedriver
from tests.unit import test_apply


class _Plugin(NetworkDriver):  # type: ignore[misc]
    """A NAPALM driver from some plugin: raises what its libraries raise."""

    raises: dict[str, BaseException] = {}  # noqa: RUF012 - set per test

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname

    def _maybe(self, name: str) -> None:
        if name in self.raises:
            raise self.raises[name]

    def open(self) -> None:
        self._maybe("open")

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._maybe("load_merge_candidate")

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self._maybe("commit_config")

    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> dict[str, str]:
        self._maybe("get_config")
        return {"running": "", "candidate": "", "startup": ""}


@pytest.mark.parametrize(("method", "raised", "expected", "napalm_class"), [
    ("open", ConnectAuthError("bad password"), LoginRefused, ConnectAuthError),
    ("open", TimeoutError("timed out"), OpenFailed, ConnectionException),
    ("open", EOFError(), OpenFailed, ConnectionException),
    ("get_config", EOFError("socket closed"), SessionClosed, ConnectionClosedException),
    ("get_config", BrokenPipeError(32, "Broken pipe"), SessionClosed, ConnectionClosedException),
    ("load_merge_candidate", MergeConfigException("% Invalid input"), MergeRejected, MergeConfigException),
    ("commit_config", CommitError("device busy"), CommitRefused, CommitError),
    ("commit_config", ConnectionClosedException("gone"), SessionClosed, ConnectionClosedException),
])
def test_a_napalm_plugin_driver_raises_netchanges_errors_that_are_still_napalms(
        method: str, raised: BaseException, expected: type[Exception], napalm_class: type[Exception]) -> None:
    _Plugin.raises = {method: raised}
    with DRIVERS.registered("plugin_os", _Plugin):
        cls = driver_class("plugin_os")
        assert cls is driver_class("plugin_os") and cls.__name__ == "_Plugin" and issubclass(cls, _Plugin)
        device = cls("h", "u", "p")
        args: dict[str, Any] = {"config": "x"} if method == "load_merge_candidate" else {}
        with pytest.raises(expected) as info:
            getattr(device, method)(**args)
    assert isinstance(info.value, napalm_class)  # NAPALM's contract kept
    assert type(raised).__name__ in str(info.value)  # the library's words are kept
    assert info.value.__cause__ is raised


def test_an_unknown_exception_and_an_interrupt_pass_through_untouched() -> None:
    _Plugin.raises = {"get_config": KeyError("odd")}
    with DRIVERS.registered("plugin_os", _Plugin):
        device = driver_class("plugin_os")("h", "u", "p")
        with pytest.raises(KeyError):
            device.get_config()
        _Plugin.raises = {"commit_config": KeyboardInterrupt()}
        with pytest.raises(KeyboardInterrupt):
            device.commit_config()


def test_a_class_named_like_a_lost_session_is_not_one() -> None:
    # The old engine matched class names ("ConnectionClosed" in the name): an error merely named
    # so is no lost session; a real one is, whatever its name.
    class ConnectionClosedByPolicy(Exception):
        pass

    class Gone(ConnectionError):
        pass

    assert translate(ConnectionClosedByPolicy("refused by policy"), Phase.READ).__class__ is ConnectionClosedByPolicy
    assert isinstance(translate(Gone("peer went away"), Phase.READ), DeviceLost)


def test_napalms_own_ios_driver_is_translated_at_the_boundary() -> None:
    # NAPALM's ios driver (netmiko underneath) on a port nothing listens on.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cls = driver_class("ios")
    assert cls.__module__.startswith("napalm.ios")
    device = cls("127.0.0.1", "u", "p", timeout=2, optional_args={"port": port, "conn_timeout": 2})
    with pytest.raises(OpenFailed) as info:
        device.open()
    assert isinstance(info.value, ConnectionFailed) and isinstance(info.value, ConnectionException)


def test_netconf_refuses_a_login_with_netchanges_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from ncclient.transport import AuthenticationError

    from netchange.drivers import netconf

    def refuse(**_: Any) -> None:
        raise AuthenticationError("Authentication failed.")

    monkeypatch.setattr(netconf.manager, "connect", refuse)
    device = DRIVERS.get("netconf")("127.0.0.1", "u", "wrong-pw", optional_args={"hostkey_verify": False})
    with pytest.raises(LoginRefused) as info:
        device.open()
    assert isinstance(info.value, OpenFailed) and isinstance(info.value, ConnectAuthError)
    assert "wrong-pw" not in str(info.value)


def test_apply_keeps_a_typed_failure_per_host(tmp_path: Path) -> None:
    with fakedriver.fake_platform():
        _, outcome, journal = test_apply.run(tmp_path, faults={"sw1": {"reject_line": "name servers"}})
    failure = outcome.hosts["sw1"].failure
    assert failure is not None and failure.is_a(MergeRejected) and failure.is_a(CommitFailed)
    assert failure.is_a(MergeConfigException)
    failed = [e for e in journal.events("CHG-2026-0100") if e.kind == "host_failed"]
    assert failed[0].data == {"error": failure.text}
    assert failure.text.startswith("MergeConfigException: % Invalid input")  # as the journal always read


def test_a_session_lost_during_commit_is_a_typed_lost_device(tmp_path: Path) -> None:
    with fakedriver.fake_platform():
        _, outcome, _ = test_apply.run(tmp_path, faults={"sw2": {"lose_session_on_commit": True}})
    failure = outcome.hosts["sw2"].failure
    assert failure is not None and failure.is_a(DeviceLost) and not outcome.hosts["sw2"].drifted


def test_a_compare_error_named_like_a_lost_session_on_a_live_session_is_not_a_lost_device(tmp_path: Path) -> None:
    class SessionCloseErrorLookalike(Exception):
        pass

    original = fakedriver.FakeDriver.compare_config

    def compare(self: fakedriver.FakeDriver) -> str:
        if self.name == "sw1" and fakedriver.CALLS[self.name].count("compare_config") >= 1:
            fakedriver.CALLS[self.name].append("compare_config")
            raise SessionCloseErrorLookalike("the device could not say")
        return original(self)

    with fakedriver.fake_platform(), pytest.MonkeyPatch.context() as mp:
        mp.setattr(fakedriver.FakeDriver, "compare_config", compare)
        _, outcome, _ = test_apply.run(tmp_path)
    sw1 = outcome.hosts["sw1"]
    assert sw1.failure is not None and sw1.failure.is_a(CommitFailed) and not sw1.failure.is_a(DeviceLost)
    assert sw1.error.startswith("sw1: the candidate could not be compared: SessionCloseErrorLookalike")


class _Dying(MemorySession):
    """A session whose socket closes under the next command, as netmiko reports it."""

    def send_command(self, command: str, **_: Any) -> str:
        raise OSError("Socket is closed")

    def send_config_set(self, lines: list[str], **_: Any) -> str:
        raise EOFError("EOF during negotiation")


def test_the_ios_cli_driver_says_session_closed_when_netmiko_loses_the_socket() -> None:
    dev = StoredDevice("sw1", "hostname sw1\n!\n").driver()
    dev.session = _Dying(StoredDevice("sw1", "hostname sw1\n!\n"))
    dev.open()
    for call in (lambda: dev.get_config(retrieve="running"), lambda: dev.cli(["show vlan brief"])):
        with pytest.raises(SessionClosed, match="session lost: OSError: Socket is closed") as info:
            call()
        assert isinstance(info.value, DeviceLost) and isinstance(info.value, ConnectionClosedException)
    with pytest.raises(SessionClosed, match="EOFError"):
        dev._send(["vlan 20"])
