"""The mail outbox in the team's database (issue 24 items 1 and 5): two machines on one journal in
PostgreSQL mail each notice once. Each machine's commands queue and deliver after themselves (the
CLI's hook) and each may flush; the outbox's cursor and ``UNIQUE(event_seq, notice)`` are shared,
so neither queues an event the other has queued. A real SMTP server receives the mails."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.pgserver import PgServer, journal_database
from tests.smtpsink import SmtpServer
from tests.unit.test_notify import _by_notice, _change, _mail_env, _mock

Cli = Callable[..., CliResult]
KEY = "2f" * 32


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def test_two_machines_on_one_database_mail_each_notice_once(
        workspace: Path, smtp: SmtpServer, postgres: PgServer, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    _mock(workspace, monkeypatch, post_check_passes=True)
    _mail_env(monkeypatch, smtp.port)
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", journal_database(postgres))
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", KEY)
    machine_a, machine_b = ("--home", str(workspace / "home-a")), ("--home", str(workspace / "home-b"))
    sink = smtp.sink

    assert cli(*machine_a, "plan", str(_change(workspace)), actor="dnguyen").code == 0
    assert set(_by_notice(sink.take())) == {"taken", "approval requested"}
    # The other machine flushes: the events are queued already (the shared cursor), nothing again.
    assert cli(*machine_b, "notify", "flush").code == 0
    assert sink.take() == []

    assert cli(*machine_b, "approve", "CHG-2026-0042", actor="amoreau").code == 0
    assert set(_by_notice(sink.take())) == {"approved", "scheduled"}
    assert cli(*machine_a, "notify", "flush").code == 0
    assert sink.take() == []

    status = cli(*machine_a, "notify", "status", "--json")
    assert status.code == 0, status.err
    rows = json.loads(status.out)["mails"]
    assert sorted(r["notice"] for r in rows) == ["approval requested", "approved", "scheduled", "taken"]
    assert {r["state"] for r in rows} == {"sent"}
    assert not (workspace / "home-a" / "journal.outbox.sqlite").exists()  # the team's outbox, not a file
