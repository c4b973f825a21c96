"""Shared fixtures: an isolated netchange workspace, the CLI in-process, fake and mock devices."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from netchange.cli import main as cli_main
from tests.ldapserver import slapd  # noqa: F401 - the run's LDAP directory, for any test that asks
from tests.oidcserver import oidc_provider  # noqa: F401 - the run's OIDC provider, for any test that asks
from tests.pgserver import postgres  # noqa: F401 - the run's PostgreSQL server, for any test that asks
from tests.teamlab import team_lab  # noqa: F401 - issue 25: the run's team lab (one for every module that asks)
from tests.temporalserver import runner, temporal_server  # noqa: F401 - issue 25: a pipeline test over both runners

REPO = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session", autouse=True)
def _journal_heads_of_this_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The journal heads netchange keeps outside the state directory (issue 21 item 7) go to this
    session's directory, not the developer's ``~/.local/state/netchange/journal-heads``: for the
    session's and modules' fixtures too, and for a child process given an environment without the
    ``NETCHANGE_*`` variables (``XDG_STATE_HOME`` is where the default then falls)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
        patch.setenv("NETCHANGE_JOURNAL_ANCHORS", str(tmp_path_factory.mktemp("journal-heads")))
        yield


@pytest.fixture(autouse=True)
def _journal_heads_of_this_test(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own journal heads, as each has its own state directory."""
    monkeypatch.setenv("NETCHANGE_JOURNAL_ANCHORS", str(tmp_path_factory.mktemp("journal-heads")))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory and the repo's policy, isolated from the developer's own ``.netchange``."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "policy.yaml", tmp_path / "policy.yaml")
    monkeypatch.setenv("NETCHANGE_HOME", str(home))
    monkeypatch.setenv("NETCHANGE_POLICY", str(tmp_path / "policy.yaml"))
    # Device locks are machine-wide: each test gets its own lock directory.
    monkeypatch.setenv("NETCHANGE_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("NETCHANGE_NOW", raising=False)
    monkeypatch.delenv("NETCHANGE_ACTOR", raising=False)
    # No mail relay nor approval service of the developer's: tests that want them set their own.
    for name in ("NETCHANGE_SMTP_HOST", "NETCHANGE_SERVER_URL", "NETCHANGE_SETTINGS", "NETCHANGE_API_TOKEN",
                 "NETCHANGE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., CliResult]]:
    """Run ``netchange ARGS`` in-process; returns exit code and captured output."""

    def run(*args: str, actor: str | None = None, now: str | None = None) -> CliResult:
        cli_main._overrides.clear()
        if actor:
            monkeypatch.setenv("NETCHANGE_ACTOR", actor)
        if now:
            monkeypatch.setenv("NETCHANGE_NOW", now)
        capsys.readouterr()
        try:
            cli_main.main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            monkeypatch.delenv("NETCHANGE_ACTOR", raising=False)
            monkeypatch.delenv("NETCHANGE_NOW", raising=False)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    yield run
    cli_main._overrides.clear()


@pytest.fixture
def two_switches(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workspace with two mock switches (sw1 at doif, sw2 at doso) whose plan adds VLAN 20
    ("servers"): the inventory of the CLI flow tests."""
    from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

    devs = [
        MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli={"show vlan brief": SHOW_VLAN_BRIEF}),
        MockDevice("sw2", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli={"show vlan brief": SHOW_VLAN_BRIEF},
                   site="doso"),
    ]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    return workspace
