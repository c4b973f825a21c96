"""Secrets typed by operators never reach a file or a screen; state files are private from creation.

Issue 11 item 4: ``approve --comment``, ``close --comment`` and ``apply --emergency`` journaled their
text before any secret was registered (those commands never load the inventory); a secret in a
request was scrubbed into a plan that no longer validated; the journal, plans and reports were
0644 in a 0755 home and snapshots were chmod-ed after being written.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netchange.journal import EventKind, Journal
from tests.conftest import CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

Cli = Callable[..., CliResult]
TUESDAY_1930 = "2026-12-01T19:30:00+01:00"
FILE_SECRET = "Zq8-SecretPassw0rd"  # the secrets file's default password
ENV_SECRET = "Env-Enable-S3cret"  # NETCHANGE_ENABLE_SECRET
TOKEN = "tok-9f8e7d6c5b4a"  # NETCHANGE_API_TOKEN: any NETCHANGE_* variable named like a secret


@pytest.fixture
def lab(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    devs = [MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n",
                       cli={"show vlan brief": SHOW_VLAN_BRIEF})]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    home = workspace / "home"
    fd = os.open(home / "secrets.yaml", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump({"defaults": {"username": "netops", "password": FILE_SECRET}}, fh)
    monkeypatch.setenv("NETCHANGE_ENABLE_SECRET", ENV_SECRET)
    monkeypatch.setenv("NETCHANGE_API_TOKEN", TOKEN)
    return workspace


def write_change(root: Path, **fields: object) -> Path:
    path = root / "chg.yaml"
    data: dict[str, object] = {
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "crenard",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
    }
    data.update(fields)
    path.write_text(yaml.safe_dump(data))
    return path


def _quarter() -> str:
    today = dt.datetime.now(dt.UTC)
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def test_operator_text_with_a_secret_reaches_no_file_and_no_screen(lab: Path, cli: Cli) -> None:
    home = lab / "home"
    outputs: list[CliResult] = []

    def run(*args: str, **kw: str) -> CliResult:
        result = cli(*args, **kw)
        outputs.append(result)
        return result

    assert run("plan", str(write_change(lab)), actor="dnguyen").code == 0
    approved = run("approve", "CHG-2026-0042", "--comment", f"ok, the switch password is {FILE_SECRET}",
                   actor="amoreau")
    assert approved.code == 0, approved.err
    applied = run("apply", "CHG-2026-0042", "--emergency", f"outage; enable is {ENV_SECRET}", actor="dnguyen",
                  now=TUESDAY_1930)
    assert applied.code == 1, applied.err  # the mock never shows the VLAN: rolled back
    closed = run("close", "CHG-2026-0042", "--comment", f"done {FILE_SECRET} {ENV_SECRET} {TOKEN}",
                 actor="dnguyen")
    assert closed.code == 0, closed.err
    run("show", "CHG-2026-0042")
    run("show", "CHG-2026-0042", "--json")
    sheet = run("report", "CHG-2026-0042", "--format", "md")
    run("report", "CHG-2026-0042", "--format", "html")
    quarterly = run("report", "quarterly", "--quarter", _quarter(), "--format", "md")
    run("report", "quarterly", "--quarter", _quarter(), "--format", "json")
    # The texts are there, scrubbed (Markdown escapes the mask's stars).
    assert "********" in sheet.out.replace("\\", "")
    assert "outage; enable is ********" in quarterly.out.replace("\\", "")
    run("report", "CHG-2026-0042", "--output", str(home / "sheet.md"))
    # Every document names the journal head it was made from (nothing was written since).
    head = run("journal", "head").out.strip()
    assert head.split()[0].isdigit() and len(head.split()[1]) == 64
    assert head in sheet.out and head in quarterly.out
    assert head in run("show", "CHG-2026-0042").out

    files = [p for p in home.rglob("*") if p.is_file() and p.name != "secrets.yaml"]
    assert any(p.name.startswith("journal.sqlite") for p in files)
    for secret in (FILE_SECRET, ENV_SECRET, TOKEN):
        for path in files:
            assert secret.encode() not in path.read_bytes(), path
        for result in outputs:
            assert secret not in result.out + result.err


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"title": f"VLAN {FILE_SECRET}"}, "title"),
        ({"description": f"enable {ENV_SECRET}"}, "description"),
        ({"steps": [{"type": "vlan", "targets": {"role": "switch"},
                     "params": {"vlan_id": 20, "name": ENV_SECRET}}]}, "steps.0.params.name"),
    ],
)
def test_a_request_carrying_a_secret_is_refused_at_load(lab: Path, cli: Cli, fields: dict[str, object],
                                                        where: str) -> None:
    change = write_change(lab, **fields)
    result = cli("plan", str(change), actor="dnguyen")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert f"{change}: {where}: holds a secret value" in result.err.replace("\n", "")
    assert FILE_SECRET not in result.out + result.err and ENV_SECRET not in result.out + result.err
    assert not list((lab / "home").glob("plans/*/*.json"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_files_are_private_from_creation(lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    os.umask(0o022)  # a usual umask: the modes below must not depend on it
    # Every file netchange creates is opened with its mode: record each os.open and mkdir.
    opened: list[tuple[str, int]] = []
    real_open, real_mkdir = os.open, os.mkdir

    def spy_open(path: object, flags: int, mode: int = 0o777, *a: object, **k: object) -> int:
        if flags & os.O_CREAT:
            opened.append((str(path), mode))
        return real_open(path, flags, mode, *a, **k)  # type: ignore[arg-type]

    def spy_mkdir(path: object, mode: int = 0o777, *a: object, **k: object) -> None:
        opened.append((str(path), mode))
        real_mkdir(path, mode, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "mkdir", spy_mkdir)
    home = lab / "home"
    os.chmod(home, 0o755)  # as an older release left it
    assert cli("plan", str(write_change(lab)), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 0
    assert cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930).code == 1
    output = lab / "out" / "sheet.html"
    output.parent.mkdir()
    assert cli("report", "CHG-2026-0042", "--format", "html", "--output", str(output)).code == 0
    journal = home / "journal.sqlite"
    wal, shm = journal.with_name("journal.sqlite-wal"), journal.with_name("journal.sqlite-shm")
    os.umask(0o022)  # the CLI set 077 for its process; the journal must not rely on it
    with Journal(journal) as j:  # -wal and -shm exist while a connection is open: look then
        j.event("CHG-2026-0042", EventKind.SIGNIN, actor="dnguyen")
        files = [p for p in home.rglob("*") if p.is_file()]
        assert {journal, wal, shm, home / "journal.key"} <= set(files)
        assert any("plans" in p.parts for p in files) and any("snapshots" in p.parts for p in files)
        for path in [*files, output]:
            assert _mode(path) == 0o600, path
    with Journal(lab / "fresh" / "journal.sqlite") as j:
        j.event(None, EventKind.SIGNIN, actor="dnguyen")
        for path in (lab / "fresh").iterdir():
            assert _mode(path) == 0o600, path
    assert _mode(lab / "fresh") == 0o700
    assert _mode(home) == 0o700
    for directory in [p for p in home.rglob("*") if p.is_dir()]:
        assert _mode(directory) == 0o700, directory
    # From creation: what netchange created under the home was created with these modes.
    mine = [(p, m) for p, m in opened if p.startswith(str(home)) or p == str(output)]
    assert mine and all(m in (0o600, 0o700) for _, m in mine), mine
