"""The lab, brought up once per test session in its own ``NETCHANGE_HOME``, and torn down after.

Drivers are opened the way the engine opens them: Nornir reads the ``nornir.yaml`` the lab
wrote, the ``netchange_credentials`` transform function fills in the generated secrets, and the
``netchange`` connection plugin builds the driver. So these tests also cover the inventory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nornir import InitNornir

from netchange.inventory import NetchangeConnection
from netchange.lab.manager import LabManager


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces)"
    for tool in ("ip", "nft", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    if not Path("/usr/sbin/sshd").exists():
        return "sshd not installed"
    return None


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabManager]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("netchange-home")
    old = os.environ.get("NETCHANGE_HOME")
    os.environ["NETCHANGE_HOME"] = str(home)
    manager = LabManager(home / "lab")
    try:
        report = manager.up()
        assert not report.already_running
        yield manager
    finally:
        down = manager.down()
        if old is None:
            os.environ.pop("NETCHANGE_HOME", None)
        else:
            os.environ["NETCHANGE_HOME"] = old
    assert not down.leftovers, f"left after lab down: {down.leftovers}"


@pytest.fixture(scope="session")
def nornir(lab: LabManager) -> Any:
    return InitNornir(config_file=str(lab.nornir_config))


@pytest.fixture
def open_driver(nornir: Any) -> Iterator[Callable[[str], Any]]:
    """Open a fresh driver session to a lab host by name; every session is closed after the test."""
    opened: list[Any] = []

    def _open(name: str) -> Any:
        host = nornir.inventory.hosts[name]
        params = host.get_connection_parameters("netchange")
        conn = NetchangeConnection()
        conn.open(hostname=params.hostname, username=params.username, password=params.password,
                  port=params.port, platform=params.platform, extras=params.extras)
        opened.append(conn)
        return conn.connection

    yield _open
    for conn in opened:
        conn.close()


def host_data(nornir: Any, name: str) -> dict[str, Any]:
    data: dict[str, Any] = dict(nornir.inventory.hosts[name].data)
    return data
