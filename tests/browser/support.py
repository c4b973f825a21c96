"""A netchange home with stored plans behind a real `netchange serve` process, for the service's tests.

Plans are real sealed documents (``netchange.journal.testing.make_plan``) stored and recorded as
``netchange plan`` does (plan store + journal, policy pinned); the server is the CLI's own
``netchange serve`` on 127.0.0.1 and a free port, started as a separate process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netchange.journal import Journal
from netchange.journal.key import KEY_FILE_NAME, JournalSetup, configure
from netchange.plan import Plan
from netchange.plan import store as planstore
from netchange.policy import Policy, load_policy
from netchange.policy import pin as policypin
from netchange.service.launch import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, which ``make test`` installs (Playwright drives it; no browser download)."""
NETCHANGE = Path(sys.executable).parent / "netchange"
PASSWORD = "correct horse battery staple"
# A weekday evening inside the medium window (19:00–20:00 Europe/Paris).
NOW = "2026-12-02T19:10:00+01:00"


def directory_home(tmp: Path, identity: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    """A home (``make_home``) whose policy maps directory groups to roles (``tests.directorypolicy``)
    and whose service signs people in through ``identity`` (settings.yaml's ``identity:``)."""
    import yaml

    from tests.directorypolicy import MAPPING

    home, _policy, env = make_home(tmp)
    with (tmp / "policy.yaml").open("a") as f:
        f.write(MAPPING)
    (home / "settings.yaml").write_text(yaml.safe_dump({"identity": identity}))
    return home, env


_DATABASES: dict[Path, str] = {}
"""Each home kept in PostgreSQL (``make_home(database=...)``): its URL, for :func:`journal_of`."""


def make_home(tmp: Path, database: str | None = None) -> tuple[Path, Policy, dict[str, str]]:
    """A home and a policy where each client operations manager approves for one site.

    ``database``: the team's PostgreSQL database (``NETCHANGE_DATABASE_URL``) for its journal,
    sessions and sign-in throttle (issue 24 item 1: the same tests on both storages); ``None``: SQLite."""
    home = tmp / "home"
    home.mkdir(mode=0o700)
    if database is not None:
        _DATABASES[home] = database
    shutil.copy(REPO / "policy.yaml", tmp / "policy.yaml")  # amoreau approves for doif, bleroy for doso
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")},
        "NETCHANGE_HOME": str(home),
        "NETCHANGE_POLICY": str(tmp / "policy.yaml"),
        "NETCHANGE_LOCK_DIR": str(tmp / "locks"),
        "NETCHANGE_NOW": NOW,
        **({"NETCHANGE_DATABASE_URL": database} if database is not None else {}),
    }
    return home, load_policy(tmp / "policy.yaml"), env


def database_of(home: Path) -> str | None:
    """The PostgreSQL database ``home`` keeps its journal in (``None``: its SQLite file)."""
    return _DATABASES.get(home)


@contextmanager
def journal_of(home: Path) -> Iterator[Journal]:
    """The home's journal, keyed as the CLI keys it (key file beside the secrets file), on the
    home's storage (its PostgreSQL database when it has one)."""
    configure(JournalSetup(key_file=home / KEY_FILE_NAME, database_url=database_of(home)))
    try:
        with Journal(home / "journal.sqlite") as journal:
            yield journal
    finally:
        configure(None)


def store(home: Path, policy: Policy, plan: Plan) -> Plan:
    """Store and record ``plan`` as ``netchange plan`` does."""
    with journal_of(home) as journal:
        policypin.require(policy, journal, actor=plan.created_by)
        planstore.save(home / "plans", plan)
        journal.record_plan(plan, actor=plan.created_by)
    return plan


def netchange(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NETCHANGE), *args], env=env, input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


def set_passwords(env: dict[str, str], *logins: str) -> None:
    for login in logins:
        done = netchange(env, "users", "set-password", login, stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stderr


server = serving  # the name these tests use


def copy_policy_unchanged(tmp: Path) -> None:
    shutil.copy(REPO / "policy.yaml", tmp / "policy.yaml")


@contextmanager
def in_chromium(env: dict[str, str], tmp: Path, *, port: int | None = None) -> Iterator[tuple[str, Browser, Path]]:
    """A real ``netchange serve`` on ``env``'s home and Debian's Chromium driven by Playwright:
    ``(the service's base URL, the browser, the screenshots directory)``. Screenshots go to
    ``NETCHANGE_SCREENSHOTS`` when set (docs/screenshots/ is refreshed that way), else under ``tmp``."""
    from playwright import sync_api

    shots = Path(os.environ.get("NETCHANGE_SCREENSHOTS") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with server(env, port=port) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield base, browser, shots
        finally:
            browser.close()
