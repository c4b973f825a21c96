"""The team lab (issue 25 item 3) for the tests: started once per test run, in its own home.

``netchange lab up --team``'s component (:class:`netchange.lab.team.TeamNetwork`): a centre
namespace with PostgreSQL and the Temporal dev server, one jump namespace per site, each site's
switches behind it. :class:`TeamLab` is what tests use: the addresses, commands run inside a
namespace, and each device read independently from its site's jump namespace
(``tests/team_reader.py``: a plain netmiko ``show running-config``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager

READER = Path(__file__).resolve().parent / "team_reader.py"


@dataclass
class TeamLab:
    manager: LabManager

    @property
    def root(self) -> Path:
        return self.manager.root

    @property
    def layout(self) -> dict[str, Any]:
        data: dict[str, Any] = yaml.safe_load((self.root / "team.yaml").read_text())
        return data

    def jump(self, site: str) -> str:
        return str(self.layout["sites"][site]["jump"])

    @property
    def centre(self) -> str:
        return str(self.layout["centre"])

    def hosts(self, site: str | None = None) -> dict[str, Any]:
        hosts: dict[str, Any] = yaml.safe_load((self.root / "inventory" / "hosts.yaml").read_text())
        return {n: h for n, h in hosts.items() if site is None or h["data"]["site"] == site}

    def run_in(self, ns: str, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=timeout,
                              check=False)

    def connects(self, ns: str, host: str, port: int) -> bool:
        probe = f"import socket; socket.create_connection(({host!r}, {port}), timeout=2)"
        return self.run_in(ns, [sys.executable, "-c", probe]).returncode == 0

    def read(self, names: list[str], *, from_site: str | None = None,
             secrets: Path | None = None) -> dict[str, dict[str, str]]:
        """Each device's running configuration read from a jump namespace (its own site's unless
        ``from_site``), with the lab's full secrets unless ``secrets``."""
        hosts = self.hosts()
        site = from_site or hosts[names[0]]["data"]["site"]
        proc = self.run_in(self.jump(site), [sys.executable, str(READER), str(self.root / "inventory" / "hosts.yaml"),
                                             str(secrets or self.manager.secrets_file), *names], timeout=120)
        assert proc.returncode == 0, proc.stderr
        result: dict[str, dict[str, str]] = json.loads(proc.stdout)
        return result

    def running(self, name: str) -> str:
        got = self.read([name])[name]
        assert "running" in got, got
        return got["running"]


@pytest.fixture(scope="session")
def team_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamLab]:
    from netchange.lab.team import team_components

    if os.geteuid() != 0:
        pytest.skip("the team lab needs root (network namespaces)")
    manager = LabManager(tmp_path_factory.mktemp("team-home") / "lab", components=team_components())
    reason = team_components()[0].available()
    if reason:
        pytest.skip(reason)
    try:
        report = manager.up()
        assert not report.already_running
        yield TeamLab(manager)
    finally:
        down = manager.down()
    assert not down.leftovers, f"left after lab down: {down.leftovers}"
