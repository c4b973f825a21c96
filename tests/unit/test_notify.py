"""Notifications, end to end through the CLI, received by a real SMTP server (aiosmtpd on 127.0.0.1).

Each step of the procedure mails the people the policy names (the approvers by site), with a
link to the change page; a rejection carries its comment; no secret, nor a diff line carrying
one, reaches a mail; a relay that is down never fails the change: the failure is journaled and
the mail goes out on a later try.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from netchange import notify, redact
from netchange.config import Settings
from netchange.journal import Journal
from netchange.journal.testing import make_plan
from netchange.notify import Notifier
from netchange.notify.compose import WITHHELD, withhold_secrets
from netchange.notify.outbox import Outbox, outbox_path
from netchange.policy import load_policy
from netchange.vocabulary import Category
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING, MockDevice, write_inventory
from tests.smtpsink import Received, SmtpServer

Cli = Callable[..., CliResult]
TUESDAY_1930 = "2026-12-01T19:30:00+01:00"
BASE = "https://netchange.example.test"
LINK = f"{BASE}/changes/CHG-2026-0042"
ALICE, BRUNO, CAMILLE = "alice.moreau@aquilon.test", "bruno.leroy@aquilon.test", "camille.renard@aquilon.test"
DAN, ELISE, GILLES = "dan.nguyen@provider.test", "elise.faure@provider.test", "gilles.perrin@provider.test"

VLAN_20_UP = """\

VLAN Name                             Status    Ports
---- -------------------------------- --------- -------------------------------
1    default                          active    Gi1/0/3
10   users                            active    Gi1/0/2
20   servers                          active
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def _mock(workspace: Path, monkeypatch: pytest.MonkeyPatch, *, post_check_passes: bool) -> None:
    show = VLAN_20_UP if post_check_passes else VLAN_20_UP.replace("20   servers", "30   other  ")
    dev = MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli={"show vlan brief": show})
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", [dev])))


def _mail_env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("NETCHANGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NETCHANGE_SMTP_PORT", str(port))
    monkeypatch.setenv("NETCHANGE_SMTP_SECURITY", "none")
    monkeypatch.setenv("NETCHANGE_MAIL_FROM", "netchange@ops.example.test")
    monkeypatch.setenv("NETCHANGE_BASE_URL", BASE + "/")


def _change(root: Path, requester: str = "crenard") -> Path:
    path = root / "chg.yaml"
    path.write_text(yaml.safe_dump({
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": requester,
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"hosts": ["sw1"]}, "params": {"vlan_id": 20, "name": "servers"}}],
    }))
    return path


@pytest.fixture
def mailing(workspace: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> SmtpServer:
    _mock(workspace, monkeypatch, post_check_passes=True)
    _mail_env(monkeypatch, smtp.port)
    return smtp


def _by_notice(mails: list[Received]) -> dict[str, Received]:
    found: dict[str, Received] = {}
    for m in mails:
        notice = m.subject.split("CHG-2026-0042 ", 1)[1].split(":", 1)[0]
        assert notice not in found, f"two mails for {notice}"
        found[notice] = m
    return found


def _journal_events(workspace: Path, kind: str) -> list[dict[str, object]]:
    with Journal(workspace / "home" / "journal.sqlite") as journal:
        return [e.data for e in journal.events("CHG-2026-0042") if e.kind == kind]


def test_every_step_mails_the_people_the_policy_names(workspace: Path, mailing: SmtpServer, cli: Cli) -> None:
    sink = mailing.sink
    assert cli("plan", str(_change(workspace)), actor="dnguyen").code == 0
    mails = _by_notice(sink.take())
    assert set(mails) == {"taken", "approval requested"}
    # A medium change on DOIF: the approval is asked of DOIF's operations manager only (not DOSO's,
    # not the requester, not the plan's author); the requester is told it is taken.
    asked = mails["approval requested"]
    assert asked.rcpt_tos == [ALICE]
    assert "Alice Moreau" in asked.message["To"] and "bruno" not in asked.message["To"]
    assert asked.subject == "[netchange] CHG-2026-0042 approval requested: New VLAN for servers"
    assert LINK in asked.text and f'href="{LINK}"' in asked.html
    assert "+vlan 20" in asked.text and "a client ops_manager" in asked.text
    assert mails["taken"].rcpt_tos == [CAMILLE]  # dnguyen planned it: not told of his own act
    assert asked.message["From"] == "netchange@ops.example.test"
    assert asked.message["References"] == mails["taken"].message["References"]  # one thread per change

    # A manager of the other site cannot approve for DOIF, so is not asked; Alice rejects with a comment.
    rejected = cli("approve", "CHG-2026-0042", "--reject", "--comment", "name it srv-farm, per the addressing plan",
                   actor="amoreau")
    assert rejected.code == 0, rejected.err
    mails = _by_notice(sink.take())
    assert set(mails) == {"rejected"}
    assert sorted(mails["rejected"].rcpt_tos) == sorted([CAMILLE, DAN])
    assert "name it srv-farm, per the addressing plan" in mails["rejected"].text
    assert "name it srv-farm, per the addressing plan" in mails["rejected"].html
    assert "Rejected by Alice Moreau (amoreau)" in mails["rejected"].text

    # The rejection stands until the change is planned again (then the approval is asked again).
    assert cli("approve", "CHG-2026-0042", "--comment", "fine after all", actor="amoreau").code == 3
    assert sink.take() == []
    assert cli("plan", str(_change(workspace)), actor="dnguyen").code == 0
    replanned = _by_notice(sink.take())
    assert "approval requested" in replanned
    assert replanned["approval requested"].rcpt_tos == [ALICE]
    assert cli("approve", "CHG-2026-0042", "--comment", "fine after all", actor="amoreau").code == 0
    mails = _by_notice(sink.take())
    assert set(mails) == {"approved", "scheduled"}
    assert sorted(mails["scheduled"].rcpt_tos) == sorted([CAMILLE, DAN])

    applied = cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930)
    assert applied.code == 0, applied.err + applied.out
    mails = _by_notice(sink.take())
    assert set(mails) == {"applied"}
    assert sorted(mails["applied"].rcpt_tos) == sorted([CAMILLE, ALICE])

    assert cli("close", "CHG-2026-0042", actor="efaure").code == 0
    assert sink.take() == []  # one signature of two: nothing to tell yet
    assert cli("close", "CHG-2026-0042", actor="amoreau").code == 0
    mails = _by_notice(sink.take())
    assert set(mails) == {"closed"}
    assert sorted(mails["closed"].rcpt_tos) == sorted([CAMILLE, DAN])

    # Every delivery is in the journal (who was told, never their address), and the chain is intact.
    sent = _journal_events(workspace, "notification_sent")
    assert [d["notice"] for d in sent] == ["taken", "approval requested", "rejected", *replanned, "approved",
                                           "scheduled", "applied", "closed"]
    assert sent[1]["to"] == ["amoreau"]
    assert cli("journal", "verify").code == 0
    # The outbox holds mail bodies with diffs: private like the journal.
    assert oct(outbox_path(workspace / "home" / "journal.sqlite").stat().st_mode & 0o777) == "0o600"


def test_a_rollback_mails_its_cause(workspace: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch,
                                    cli: Cli) -> None:
    _mock(workspace, monkeypatch, post_check_passes=False)
    _mail_env(monkeypatch, smtp.port)
    assert cli("plan", str(_change(workspace)), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 0
    smtp.sink.take()
    assert cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930).code == 1
    mails = _by_notice(smtp.sink.take())
    assert set(mails) == {"rolled back"}
    body = mails["rolled back"].text
    assert "Rolled back" in body and "sw1" in body and "vlan 20 servers is active" in body
    assert sorted(mails["rolled back"].rcpt_tos) == sorted([CAMILLE, ALICE])


def test_a_major_change_asks_the_client_and_the_provider(workspace: Path, mailing: SmtpServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Through the journal API: a major plan on DOSO, requested by Alice (DOIF's manager).
    journal_path = workspace / "home" / "journal.sqlite"
    with Journal(journal_path) as journal:
        journal.record_plan(make_plan("CHG-2026-0042", category=Category.MAJOR,
                                      requester="amoreau", hosts=(("sw-doso-1", "doso"),)), actor="dnguyen")
    cfg = Settings.resolve()
    assert cfg.mail is not None
    report = Notifier(cfg.mail, load_policy(cfg.policy), journal_path).run(since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert report.sent == 2 and not report.failed
    mails = _by_notice(mailing.sink.take())
    assert sorted(mails["approval requested"].rcpt_tos) == sorted([BRUNO, GILLES])
    assert "a client ops_manager AND a provider project_manager" in mails["approval requested"].text


def test_no_secret_and_no_line_carrying_one_reaches_a_mail(workspace: Path, mailing: SmtpServer) -> None:
    secret = "Zq8-unregistered-then-registered"
    community = "c0mmunity-n0t-registered"
    diff = (f"+vlan 42\n+ name users\n+ description uplink to {secret} rack\n"
            f"+snmp-server community {community} RO\n+ip route 10.9.0.0 255.255.0.0 10.1.1.1\n")
    journal_path = workspace / "home" / "journal.sqlite"
    with Journal(journal_path) as journal:
        # Recorded before the secret was known (so the journal's copy verifies and the diff is shown)...
        journal.record_plan(make_plan("CHG-2026-0042", requester="crenard", diff=diff,
                                      category=Category.MEDIUM), actor="dnguyen")
    redact.register(secret)  # ... and registered before the mail is written.
    cfg = Settings.resolve()
    assert cfg.mail is not None
    Notifier(cfg.mail, load_policy(cfg.policy), journal_path).run(since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    mails = _by_notice(mailing.sink.take())
    asked = mails["approval requested"]
    for received in mailing.sink.received + list(mails.values()):
        assert secret.encode() not in received.raw and community.encode() not in received.raw
    assert "+vlan 42" in asked.text and "+ip route 10.9.0.0" in asked.text  # the rest of the diff is there
    assert asked.text.count(WITHHELD) == 2 and "description uplink" not in asked.text
    assert "snmp-server community" not in asked.html
    # Nor in the outbox that kept the mail, nor in what the journal says of its delivery.
    outbox = outbox_path(journal_path)
    for path in (outbox, Path(f"{outbox}-wal")):
        if path.exists():
            assert secret.encode() not in path.read_bytes() and community.encode() not in path.read_bytes()


def test_withholding_is_by_line_and_by_registered_value(workspace: Path) -> None:
    redact.register("s3cr3t-value-xyz")
    text = "+vlan 5\n+ description s3cr3t-value-xyz\n+username admin password 0 hunter22\n+ name ok\n"
    assert withhold_secrets(text) == f"+vlan 5\n{WITHHELD}\n{WITHHELD}\n+ name ok\n"


def test_a_relay_that_is_down_never_fails_the_change(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                     cli: Cli) -> None:
    _mock(workspace, monkeypatch, post_check_passes=True)
    down = SmtpServer()  # its port is chosen, nothing listens there yet
    _mail_env(monkeypatch, down.port)
    monkeypatch.setattr(notify, "FIRST_DELAY", dt.timedelta(minutes=10))

    planned = cli("plan", str(_change(workspace)), "--json", actor="dnguyen")
    assert planned.code == 0
    assert json.loads(planned.out)["category"] == "medium"  # stdout is the plan alone
    assert "2 mail(s) not delivered" in planned.err and "Connection refused" in planned.err
    failed = _journal_events(workspace, "notification_failed")
    assert [d["notice"] for d in failed] == ["taken", "approval requested"]
    assert all(d["attempt"] == 1 and "retry_at" in d for d in failed)
    assert _journal_events(workspace, "plan_recorded")  # the change itself went on

    down.start()
    try:
        # Not due yet (backoff): the next command does not resend ...
        assert cli("list", actor="dnguyen").code == 0
        assert down.sink.take() == []
        # ... 'notify flush' sends what is pending now.
        flushed = cli("notify", "flush", actor="dnguyen")
        assert flushed.code == 0, flushed.err
        assert "sent 2" in flushed.out
        assert set(_by_notice(down.sink.take())) == {"approval requested", "taken"}
        sent = _journal_events(workspace, "notification_sent")
        assert [d["notice"] for d in sent] == ["taken", "approval requested"]

        # Down again for the approval's mails; with no backoff, the next command retries by itself.
        down.stop()
        monkeypatch.setattr(notify, "FIRST_DELAY", dt.timedelta(0))
        approved = cli("approve", "CHG-2026-0042", actor="amoreau")
        assert approved.code == 0 and "not delivered" in approved.err
        assert cli("show", "CHG-2026-0042").code == 0
        down.start()
        assert cli("list").code == 0
        assert set(_by_notice(down.sink.take())) == {"approved", "scheduled"}
    finally:
        down.stop()
    with Outbox(outbox_path(workspace / "home" / "journal.sqlite")) as outbox:
        assert {m.state for m in outbox.mails()} == {"sent"}
    assert cli("journal", "verify").code == 0
    # The JSON face: the outbox in the common vocabulary, and a flush with nothing left to send.
    status = cli("notify", "status", "CHG-2026-0042", "--json")
    assert status.code == 0, status.err
    mails = json.loads(status.out)["mails"]
    assert {m["notice"] for m in mails} >= {"taken", "approved"} and {m["state"] for m in mails} == {"sent"}
    assert all(m["change_id"] == "CHG-2026-0042" and "change" not in m for m in mails)
    flushed = cli("notify", "flush", "--json")
    assert flushed.code == 0 and json.loads(flushed.out) == {"queued": 0, "sent": 0, "failed": [], "abandoned": 0,
                                                             "exit_code": 0}


def test_without_an_smtp_host_nothing_is_queued(workspace: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    _mock(workspace, monkeypatch, post_check_passes=True)
    assert cli("plan", str(_change(workspace)), actor="dnguyen").code == 0
    assert not outbox_path(workspace / "home" / "journal.sqlite").exists()
    assert cli("notify", "flush").code == 2
    refused = cli("notify", "flush", "--json")
    assert refused.code == 2 and json.loads(refused.out)["error"]["type"] == "BadRequest"


def test_backoff_doubles_up_to_an_hour_and_gives_up(workspace: Path) -> None:
    assert [notify.backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [60, 120, 240, 3600, 3600, 3600]
    assert notify.MAX_ATTEMPTS * 3600 > 6 * 3600


def test_mail_settings_password_and_token_stay_out_of_settings_yaml(workspace: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home = workspace / "home"
    (home / "settings.yaml").write_text("mail: {smtp_host: relay.example.test, user: nc, password: oops}\n")
    with pytest.raises(Exception, match="belongs in the secrets file"):
        _ = Settings.resolve().mail
    (home / "settings.yaml").write_text("mail: {smtp_host: relay.example.test, user: nc, security: ssl}\n"
                                        "server: {url: 'https://nc.example.test/'}\n")
    secrets = home / "secrets.yaml"
    secrets.write_text("mail: {password: relay-pass-123}\nserver: {token: tok-abcdef-123}\n")
    secrets.chmod(0o600)
    cfg = Settings.resolve()
    assert cfg.mail is not None and cfg.server is not None
    assert (cfg.mail.host, cfg.mail.port, cfg.mail.password) == ("relay.example.test", 465, "relay-pass-123")
    assert cfg.mail.base_url == "https://nc.example.test" and cfg.server.token == "tok-abcdef-123"
    assert "relay-pass-123" not in repr(cfg.mail) and "tok-abcdef" not in repr(cfg.server)
    monkeypatch.setenv("NETCHANGE_SMTP_SECURITY", "none")
    with pytest.raises(Exception, match="never sent over an unencrypted"):
        _ = Settings.resolve().mail


def test_starttls_and_login_with_the_password_from_the_secrets_file(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     cli: Cli) -> None:
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.smtpsink import self_signed

    cert, key = self_signed(workspace)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[str, str]] = []

    def authenticator(server: object, session: object, envelope: object, mechanism: str,
                      auth_data: object) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"relay-pass-5678")

    server = SmtpServer(tls_context=context, require_starttls=True, authenticator=authenticator,
                        auth_require_tls=True).start()
    try:
        _mock(workspace, monkeypatch, post_check_passes=True)
        _mail_env(monkeypatch, server.port)
        monkeypatch.setenv("NETCHANGE_SMTP_SECURITY", "starttls")
        monkeypatch.setenv("NETCHANGE_SMTP_USER", "netchange")
        monkeypatch.setenv("SSL_CERT_FILE", cert)  # the test's CA: the relay's certificate is verified
        secrets = workspace / "home" / "secrets.yaml"
        secrets.write_text("mail: {password: relay-pass-5678}\n")
        secrets.chmod(0o600)
        planned = cli("plan", str(_change(workspace)), actor="dnguyen")
        assert planned.code == 0 and "not delivered" not in planned.err, planned.err
        assert set(_by_notice(server.sink.take())) == {"taken", "approval requested"}
        assert logins == [("netchange", "relay-pass-5678")]
        # The password is nowhere netchange writes.
        for path in (workspace / "home").rglob("*"):
            if path.is_file() and path.name != "secrets.yaml":
                assert b"relay-pass-5678" not in path.read_bytes(), path
        assert "relay-pass-5678" not in planned.out + planned.err
    finally:
        server.stop()
    # A relay whose certificate is not trusted is refused, and that is journaled, not sent in clear.
    monkeypatch.delenv("SSL_CERT_FILE")
    server = SmtpServer(port=server.port, tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_require_tls=True).start()
    try:
        approved = cli("approve", "CHG-2026-0042", actor="amoreau")
        assert approved.code == 0 and "CERTIFICATE_VERIFY_FAILED" in approved.err
        assert server.sink.take() == []
    finally:
        server.stop()


def test_a_minor_change_is_not_announced_as_scheduled_before_it_runs(workspace: Path, mailing: SmtpServer) -> None:
    # A minor change needs no approval (its request is the validation): the guard moves it to
    # approved as it starts; only "taken" and then "applied" are news.
    journal_path = workspace / "home" / "journal.sqlite"
    with Journal(journal_path) as journal:
        journal.record_plan(make_plan("CHG-2026-0042", requester="crenard"), actor="dnguyen")
        journal.set_state("CHG-2026-0042", "approved", actor="dnguyen", reason="complete")
        journal.set_state("CHG-2026-0042", "in_progress", actor="dnguyen", reason="apply")
        journal.set_state("CHG-2026-0042", "completed", actor="dnguyen", reason="")
    cfg = Settings.resolve()
    assert cfg.mail is not None
    Notifier(cfg.mail, load_policy(cfg.policy), journal_path).run(since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert set(_by_notice(mailing.sink.take())) == {"taken", "applied"}
