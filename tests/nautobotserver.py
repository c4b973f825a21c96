"""A real Nautobot server for the tests, started once per test run and seeded through its REST API
(issue 22 item 10).

Nautobot is the PyPI package (``nautobot``, version pinned in the Makefile), installed in its own
venv (``.venv-nautobot``, built by ``make nautobot-venv``, which this fixture runs when the venv is
missing: a fresh clone needs nothing else), so that Django and its pins never constrain netchange's
venv. It runs on Debian's PostgreSQL 15 (the run's cluster: :mod:`tests.pgserver`) and Redis
(``redis-server``, started here with a config of our own on 127.0.0.1), served by
``nautobot-server runserver`` on 127.0.0.1.

The schema is built from Nautobot's models (``migrate --run-syncdb`` with every app's migrations
turned off, as Django's own test runner does with ``TEST: {"MIGRATE": False}``): replaying
Nautobot's ~470 migrations took 6 min 32 s here (load ~4.5 on 2 cores) against 9 s, and the
tables are the same (compared: 231 tables, 1,233 indexes; only ``django_migrations`` differs).
What the migrations would also have written — the default statuses and roles — the seed creates
through the API, as a team's own set-up would. The server is Nautobot's own code answering
Nautobot's REST API; only the way its empty database was laid out differs.
``NETCHANGE_NAUTOBOT_MIGRATE=1`` replays the real migrations instead (the same tests pass on it).

The seed: two locations (the project's sites, named as a team would: ``DOIF``, ``DOSO``), roles
with a team's names (``Access switch``, ``Edge firewall``...), platforms with their Netmiko
``network_driver`` (``cisco_ios``, ``cisco_asa``), a ``criticality`` custom field, a ``netchange``
tag on the devices netchange manages, and a spare switch without platform nor tag.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.pgserver import PgServer

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-nautobot"
SERVER = VENV / "bin" / "nautobot-server"

# netchange's name for what the seed holds: what the mapping of the tests must produce.
DEVICES = {
    # name: (role, location, platform, criticality, managed by netchange)
    "doif-sw-acc-01": ("Access switch", "DOIF", "Cisco IOS", "medium", True),
    "doif-sw-acc-02": ("Access switch", "DOIF", "Cisco IOS", "medium", True),
    "doso-sw-acc-01": ("Access switch", "DOSO", "Cisco IOS", "low", True),
    "doif-sw-core-01": ("Core switch", "DOIF", "Cisco IOS", "high", True),
    "doif-fw-01": ("Edge firewall", "DOIF", "Cisco ASA", "high", True),
    "doif-sw-spare": ("Access switch", "DOIF", None, None, False),
}
ROLES = ("Access switch", "Core switch", "Edge firewall")
PLATFORMS = {"Cisco IOS": "cisco_ios", "Cisco ASA": "cisco_asa"}

_CONFIG = '''\
"""Nautobot's settings for netchange's tests (written by tests/nautobotserver.py)."""
import os

from nautobot.core.settings import *  # noqa: F403 - Nautobot's defaults, read from NAUTOBOT_* variables

SECRET_KEY = os.environ["NAUTOBOT_SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLATION_METRICS_ENABLED = False


class _NoMigrations(dict):
    """Every app's migrations off: ``migrate --run-syncdb`` creates the tables from the models."""

    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


if os.environ.get("NETCHANGE_NAUTOBOT_MIGRATE") != "1":
    MIGRATION_MODULES = _NoMigrations()
'''

_ADMIN = '''\
from nautobot.users.models import Token, User
user = User.objects.create_superuser("netchange-tests", "tests@example.net", None)
Token.objects.create(user=user, key="{token}")
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NautobotServer:
    """A running, seeded Nautobot: its URL, an API token, and how long each step took."""

    url: str
    token: str
    timings: dict[str, float] = field(default_factory=dict)


def ensure_venv() -> float:
    """Build ``.venv-nautobot`` when missing (``make nautobot-venv``); the seconds it took."""
    started = time.monotonic()
    if not SERVER.exists() or not any(VENV.glob(".installed*")):
        subprocess.run(["make", "-C", str(REPO), "nautobot-venv"], check=True, capture_output=True, timeout=1200)
    return time.monotonic() - started


def _wait(url: str, token: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nautobot-server exited with {process.returncode}")
        try:
            if requests.get(f"{url}/api/status/", headers={"Authorization": f"Token {token}"}, timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Nautobot did not answer at {url} within {timeout:.0f} s")


def seed(url: str, token: str) -> None:
    """Locations, roles, platforms, a custom field, a tag and the devices of :data:`DEVICES`."""
    import pynautobot

    api = pynautobot.api(url, token=token)
    device_types = ["dcim.device"]
    # The real migrations create an "Active" status for devices and locations; the schema alone has none.
    active = (api.extras.statuses.get(name="Active")
              or api.extras.statuses.create(name="Active", content_types=[*device_types, "dcim.location"]))
    site = api.dcim.location_types.create(name="Site", content_types=device_types)
    locations = {name: api.dcim.locations.create(name=name, location_type=site.id, status=active.id)
                 for name in ("DOIF", "DOSO")}
    roles = {name: api.extras.roles.create(name=name, content_types=device_types) for name in ROLES}
    cisco = api.dcim.manufacturers.create(name="Cisco")
    platforms = {name: api.dcim.platforms.create(name=name, network_driver=driver, manufacturer=cisco.id)
                 for name, driver in PLATFORMS.items()}
    model = api.dcim.device_types.create(model="Catalyst 2960", manufacturer=cisco.id)
    tag = api.extras.tags.create(name="netchange", content_types=device_types)
    api.extras.custom_fields.create(label="Criticality", key="criticality", type="text", content_types=device_types)
    for name, (role, location, platform, criticality, managed) in DEVICES.items():
        device: dict[str, Any] = {"name": name, "role": roles[role].id, "location": locations[location].id,
                                  "status": active.id, "device_type": model.id}
        if platform:
            device["platform"] = platforms[platform].id
        if criticality:
            device["custom_fields"] = {"criticality": criticality}
        if managed:
            device["tags"] = [tag.id]
        api.dcim.devices.create(**device)


def _redis(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    config = directory / "redis.conf"
    config.write_text(f"bind 127.0.0.1\nport {port}\nsave \"\"\nappendonly no\ndir {directory}\n"
                      f"logfile {directory / 'redis.log'}\n")
    redis = subprocess.Popen(["redis-server", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return redis, port
        except OSError:
            time.sleep(0.1)
    redis.terminate()
    raise RuntimeError("redis-server did not start")


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def nautobot(postgres: PgServer) -> Iterator[NautobotServer]:
    """The run's Nautobot (started on first use, seeded, stopped at the end of the run)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: install redis-server (make lab-deps)")
    started = time.monotonic()
    timings = {"venv": ensure_venv()}
    directory = Path(tempfile.mkdtemp(prefix="netchange-nautobot-"))
    redis: subprocess.Popen[bytes] | None = None
    server: subprocess.Popen[bytes] | None = None
    try:
        redis, redis_port = _redis(directory)
        database = urllib.parse.urlparse(postgres.database("nautobot"))
        (directory / "nautobot_config.py").write_text(_CONFIG)
        env = {
            **os.environ, "NAUTOBOT_ROOT": str(directory), "NAUTOBOT_SECRET_KEY": secrets.token_hex(32),
            "NAUTOBOT_DB_NAME": database.path.lstrip("/"), "NAUTOBOT_DB_USER": database.username or "postgres",
            "NAUTOBOT_DB_HOST": "127.0.0.1", "NAUTOBOT_DB_PORT": str(database.port),
            "NAUTOBOT_REDIS_HOST": "127.0.0.1", "NAUTOBOT_REDIS_PORT": str(redis_port),
        }
        for name in ("PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"):
            env.pop(name, None)
        manage = [str(SERVER), "--config", str(directory / "nautobot_config.py")]
        step = time.monotonic()
        migrate = ["migrate"] if env.get("NETCHANGE_NAUTOBOT_MIGRATE") == "1" else ["migrate", "--run-syncdb"]
        subprocess.run([*manage, *migrate], env=env, check=True, capture_output=True, timeout=1800)
        timings["schema"] = time.monotonic() - step
        token = secrets.token_hex(20)
        subprocess.run([*manage, "shell", "-c", _ADMIN.format(token=token)], env=env, check=True,
                       capture_output=True, timeout=300)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        step = time.monotonic()
        with (directory / "server.log").open("wb") as log:
            server = subprocess.Popen([*manage, "runserver", "--noreload", f"127.0.0.1:{port}"], env=env,
                                      stdout=log, stderr=subprocess.STDOUT)
        _wait(url, token, server, timeout=180)
        timings["serve"] = time.monotonic() - step
        step = time.monotonic()
        seed(url, token)
        timings["seed"] = time.monotonic() - step
        timings["total"] = time.monotonic() - started
        yield NautobotServer(url=url, token=token, timings=timings)
    finally:
        _stop(server)
        _stop(redis)
        shutil.rmtree(directory, ignore_errors=True)
