"""Settings are resolved once, by the CLI, and passed down (issue 12, item 7).

The simulated clock and the actor override are settings of the invocation: a library function
called with none given uses the wall clock and the OS account, whatever the environment holds;
the CLI reads ``NETCHANGE_NOW`` / ``NETCHANGE_ACTOR`` once (``Settings``) and passes them.
An option given to one in-process invocation does not leak into the next one.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
from pathlib import Path

import pytest

from netchange.cli import main as cli_main
from netchange.config import Settings
from netchange.policy import clock, current_actor, load_policy

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "netchange"


def test_library_functions_do_not_read_the_environment_behind_their_parameter(monkeypatch):
    policy = load_policy(REPO / "policy.yaml")
    monkeypatch.setenv("NETCHANGE_NOW", "2020-01-07T19:30:00+01:00")
    monkeypatch.setenv("NETCHANGE_ACTOR", "amoreau")
    assert clock.now(policy).year >= 2026  # the wall clock, not the variable
    assert current_actor(policy).login == getpass.getuser()
    # Given by the caller (the CLI fills them from Settings), they are honoured.
    assert clock.now(policy, "2020-01-07T19:30:00+01:00") == dt.datetime(
        2020, 1, 7, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert current_actor(policy, "amoreau").login == "amoreau"


def test_settings_resolve_argument_over_environment_over_default(monkeypatch, tmp_path):
    for name in ("NETCHANGE_HOME", "NETCHANGE_NOW", "NETCHANGE_ACTOR", "NETCHANGE_JOURNAL", "NETCHANGE_SECRETS"):
        monkeypatch.delenv(name, raising=False)
    default = Settings.resolve()
    assert (default.home, default.now, default.actor) == (Path(".netchange"), None, None)
    assert default.journal == Path(".netchange/journal.sqlite")
    monkeypatch.setenv("NETCHANGE_HOME", str(tmp_path / "env"))
    monkeypatch.setenv("NETCHANGE_ACTOR", " bleroy ")
    from_env = Settings.resolve()
    assert (from_env.home, from_env.actor) == (tmp_path / "env", "bleroy")
    assert from_env.secrets == tmp_path / "env" / "secrets.yaml"
    given = Settings.resolve(home=tmp_path / "arg", actor="dnguyen")
    assert (given.home, given.actor) == (tmp_path / "arg", "dnguyen")


def test_an_option_does_not_leak_into_the_next_in_process_invocation(monkeypatch, tmp_path):
    seen: list[Path] = []
    monkeypatch.setenv("NETCHANGE_HOME", str(tmp_path / "env-home"))
    monkeypatch.setattr(cli_main, "_private_and_scrubbed", lambda cfg: seen.append(cfg.home))
    cli_main._overrides.clear()
    for argv in (["--home", str(tmp_path / "option-home"), "version"], ["version"]):
        with pytest.raises(SystemExit) as done:
            cli_main.main(argv)
        assert done.value.code == 0
    assert seen == [tmp_path / "option-home", tmp_path / "env-home"]
    # Between commands, the settings of the last one are not kept either.
    assert cli_main.settings().home == tmp_path / "env-home"


ALLOWED_ENVIRONMENT_READS = {
    # path relative to the repository → why it may read os.environ
    "netchange/demo/_script.py": "runs the CLI in subprocesses: hands the user's environment on to them",
    "netchange/demo/team.py": "starts netchange's processes on the team lab: hands the user's environment on, "
                              "without its NETCHANGE_ variables (each process gets its own)",
    "netchange/demo/teamdemo.py": "runs the CLI in subprocesses (make demo-team): as netchange/demo/_script.py",
    "lab/netconf.py": "builds netconfd's own environment (PATH) for a child process",
    "netchange/failpoints.py": "test-only fault injection (NETCHANGE_FAILPOINT), read once at import",
}


def test_only_settings_reads_the_environment():
    # Every setting behind an option or a variable is resolved once by settings.py and passed
    # down; no other module of the installed package (netchange and the folders installed as
    # netchange.tasks, .classifiers, .rollback, .lab) reads the environment, except the allow-list.
    reads = re.compile(r"\bos\.(environ|getenv)\b|\bgetenv\(|from os import .*\b(environ|getenv)\b")
    offenders = sorted(
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for folder in ("netchange", "tasks", "classifiers", "rollback", "lab")
        for path in (REPO / folder).rglob("*.py")
        if path != PACKAGE / "config" / "_settings.py"
        if str(path.relative_to(REPO)) not in ALLOWED_ENVIRONMENT_READS
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if reads.search(line)
    )
    assert offenders == []
    for allowed in ALLOWED_ENVIRONMENT_READS:  # the allow-list does not outlive its reason
        assert reads.search((REPO / allowed).read_text(encoding="utf-8")), allowed


def test_the_environment_settings_are_resolved_once_and_passed_down(monkeypatch, tmp_path):
    from netchange.apply import locks as devicelock
    from netchange.config import apply_credentials
    from netchange.journal import EventKind, Journal
    from netchange.journal.key import JournalSetup, configure

    monkeypatch.setenv("NETCHANGE_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", "k" * 40)
    monkeypatch.setenv("NETCHANGE_JOURNAL_SYSLOG", "1")
    monkeypatch.setenv("NETCHANGE_USERNAME", "envuser")
    monkeypatch.setenv("NETCHANGE_PASSWORD", "env-pass-9")
    monkeypatch.setenv("NETCHANGE_ENABLE_SECRET", "env-enable-9")
    cfg = Settings.resolve()
    assert cfg.lock_dir == tmp_path / "locks" and cfg.journal_key == "k" * 40 and cfg.journal_syslog
    assert (cfg.logins.username, cfg.logins.password, cfg.logins.enable_secret) == \
        ("envuser", "env-pass-9", "env-enable-9")
    assert "env-pass-9" not in repr(cfg) and "k" * 40 not in repr(cfg)  # secrets never printed
    assert {"env-pass-9", "env-enable-9", "k" * 40} <= set(cfg.secret_values)
    # Changed after the resolution, the environment is not read again by the modules.
    for name in ("NETCHANGE_JOURNAL_KEY", "NETCHANGE_JOURNAL_SYSLOG", "NETCHANGE_USERNAME", "NETCHANGE_PASSWORD"):
        monkeypatch.delenv(name)
    from nornir.core.inventory import Host

    host = Host(name="sw1")
    apply_credentials(host, {}, cfg.logins)
    assert (host.username, host.password) == ("envuser", "env-pass-9")
    bare = Host(name="sw2")
    apply_credentials(bare, {})  # no logins given: none from the environment either
    assert (bare.username, bare.password) == (None, None)
    configure(JournalSetup(key_material=cfg.journal_key, syslog=cfg.journal_syslog))
    try:
        with Journal(tmp_path / "j.sqlite") as j:
            j.event(None, EventKind.SIGNIN, actor="x")
            assert j._key.where == "$NETCHANGE_JOURNAL_KEY" and j._syslog
    finally:
        configure(None)
    assert not (tmp_path / "journal.key").exists()  # keyed by the setting, no key file made
    with Journal(tmp_path / "other.sqlite") as j:  # a library caller: nothing from the environment
        assert j._key.where != "$NETCHANGE_JOURNAL_KEY" and not j._syslog
    assert devicelock.lock_dir(cfg.lock_dir) == tmp_path / "locks"


def test_journal_heads_are_kept_outside_the_home_by_default(tmp_path):
    """Issue 21 item 7: NETCHANGE_JOURNAL_ANCHORS > $XDG_STATE_HOME > ~/.local/state; ``off``: none."""
    from netchange.config._settings import default_anchors

    assert default_anchors({"NETCHANGE_JOURNAL_ANCHORS": str(tmp_path)}) == tmp_path
    assert default_anchors({"NETCHANGE_JOURNAL_ANCHORS": "off"}) is None
    assert default_anchors({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "netchange" / "journal-heads"
    assert default_anchors({"XDG_STATE_HOME": "relative/ignored"}) == (
        Path.home() / ".local" / "state" / "netchange" / "journal-heads")
