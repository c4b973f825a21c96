"""No canary secret anywhere (issue 21 item 6): every credential of the lab and of the settings.

A unique canary string is set as every secret an invocation has: the lab's secrets file (a
switch's password, its enable secret, a TSIG key), the ``NETCHANGE_SECRETS`` file (default
password, SMTP password, API token), a password written in the inventory itself, and the secret
variables (device password and enable secret, SMTP password, API and server tokens, the journal
key). Then the commands an operator would paste them into run with ``--lab`` — ``plan`` of a
change whose title or description holds one, ``approve``/``reject``/``close --comment``,
``apply --emergency``, ``show``, ``list``, ``report``, ``notify flush`` to a real SMTP relay that
wants the canary password over STARTTLS — and every file under the home, every output, every
document and every mail is searched for every canary. Before this test, ``approve`` stored and
printed the lab's passwords: only ``NETCHANGE_SECRETS`` was registered, and approve, close and show
never load the inventory.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory
from tests.smtpsink import SmtpServer, self_signed

Cli = Callable[..., CliResult]
TUESDAY_1930 = "2026-12-01T19:30:00+01:00"

LAB = {  # the lab's secrets file, <home>/lab/secrets.yaml, as 'netchange lab up' writes it
    "lab-password": "CANARY-lab-sw1-password-4f1",
    "lab-enable": "CANARY-lab-sw1-enable-9c2",
    "lab-tsig": "CANARY-lab-ns1-tsig-b7e",
}
FILE = {  # the NETCHANGE_SECRETS file, outside the home
    "file-password": "CANARY-secrets-default-password-31a",
    "smtp-password": "CANARY-secrets-smtp-password-8d0",
    "server-token": "CANARY-secrets-server-token-c55",
}
INVENTORY = {"inventory-password": "CANARY-inventory-sw1-password-e04"}  # written in hosts.yaml
ENV = {
    "NETCHANGE_PASSWORD": "CANARY-env-password-7aa",
    "NETCHANGE_ENABLE_SECRET": "CANARY-env-enable-0b3",
    "NETCHANGE_API_TOKEN": "CANARY-env-api-token-5e8",
    "NETCHANGE_SERVER_TOKEN": "CANARY-env-server-token-d19",
    "NETCHANGE_JOURNAL_KEY": "CANARY-env-journal-key-material-0123456789abcdef",
}
CANARIES = {**LAB, **FILE, **INVENTORY, **ENV}


def _private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@pytest.fixture
def relay(workspace: Path) -> Iterator[tuple[SmtpServer, str]]:
    """A relay that wants STARTTLS and the canary SMTP password (a password is never sent in clear)."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(workspace)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server: object, session: object, envelope: object, mechanism: str,
                      auth_data: object) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        return AuthResult(success=auth_data.password == FILE["smtp-password"].encode())

    server = SmtpServer(tls_context=context, require_starttls=True, authenticator=authenticator,
                        auth_require_tls=True).start()
    try:
        yield server, cert
    finally:
        server.stop()


@pytest.fixture
def lab_home(workspace: Path, monkeypatch: pytest.MonkeyPatch, relay: tuple[SmtpServer, str]) -> Path:
    home = workspace / "home"
    dev = MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli={"show vlan brief": SHOW_VLAN_BRIEF})
    config = write_inventory(home / "lab", [dev])  # the lab's inventory, in the home as the lab's is
    hosts = home / "lab" / "inventory" / "hosts.yaml"
    inventory = yaml.safe_load(hosts.read_text())
    inventory["sw1"]["password"] = INVENTORY["inventory-password"]
    hosts.write_text(yaml.safe_dump(inventory))
    nornir = yaml.safe_load(config.read_text())
    nornir["inventory"]["transform_function"] = "netchange_credentials"
    nornir["inventory"]["transform_function_options"] = {"secrets_file": str(home / "lab" / "secrets.yaml")}
    config.write_text(yaml.safe_dump(nornir, sort_keys=False))
    _private(home / "lab" / "secrets.yaml", yaml.safe_dump({"defaults": {}, "groups": {}, "hosts": {
        "sw1": {"username": "admin", "password": LAB["lab-password"], "optional_args": {"secret": LAB["lab-enable"]}},
        "ns1": {"optional_args": {"tsig_name": "lab-key", "tsig_secret": LAB["lab-tsig"]}},
    }}))
    elsewhere = workspace / "etc" / "secrets.yaml"
    _private(elsewhere, yaml.safe_dump({
        "defaults": {"username": "netops", "password": FILE["file-password"]},
        "mail": {"password": FILE["smtp-password"]},
        "server": {"token": FILE["server-token"]},
    }))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(elsewhere))
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    server, cert = relay
    monkeypatch.setenv("NETCHANGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NETCHANGE_SMTP_PORT", str(server.port))
    monkeypatch.setenv("NETCHANGE_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("NETCHANGE_SMTP_USER", "netchange")
    monkeypatch.setenv("NETCHANGE_MAIL_FROM", "netchange@ops.example.test")
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    monkeypatch.delenv("NETCHANGE_NORNIR_CONFIG", raising=False)
    return home


def _change(root: Path, **fields: object) -> Path:
    data: dict[str, object] = {
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "crenard",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
    }
    data.update(fields)
    path = root / f"chg-{len(fields)}-{abs(hash(str(fields))) % 10_000}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_no_canary_secret_reaches_a_file_an_output_a_document_or_a_mail(
    workspace: Path, lab_home: Path, relay: tuple[SmtpServer, str], cli: Cli,
) -> None:
    home = lab_home
    every = " ".join(CANARIES.values())
    outputs: list[CliResult] = []

    def run(*args: str, **kw: str) -> CliResult:
        result = cli("--lab", *args, **kw)
        outputs.append(result)
        return result

    # A request carrying a secret is refused, and the refusal does not quote it.
    for field, value in (("title", f"VLAN {LAB['lab-password']}"), ("description", f"relay {FILE['smtp-password']}"),
                         ("title", f"VLAN {INVENTORY['inventory-password']}")):
        refused = run("plan", str(_change(workspace, **{field: value})), actor="dnguyen")
        assert refused.code == 2 and "holds a secret value" in refused.err, refused.err
    planned = run("plan", str(_change(workspace)), actor="dnguyen")
    assert planned.code == 0, planned.err
    approved = run("approve", "CHG-2026-0042", "--comment", f"login is {every}", actor="amoreau")
    assert approved.code == 0, approved.err
    run("reject", "CHG-2026-0042", "--comment", f"second thoughts: {every}", actor="bleroy")
    run("approve", "CHG-2026-0042", "--comment", f"again {every}", actor="amoreau")
    run("apply", "CHG-2026-0042", "--emergency", f"outage, enable is {every}", actor="dnguyen", now=TUESDAY_1930)
    closed = run("close", "CHG-2026-0042", "--comment", f"done {every}", actor="dnguyen")
    assert closed.code == 0, closed.err
    run("show", "CHG-2026-0042")
    run("show", "CHG-2026-0042", "--json")
    run("list")
    run("list", "--json")
    sheet = run("report", "CHG-2026-0042", "--format", "md")
    assert "********" in sheet.out.replace("\\", "")  # the texts are there, scrubbed
    run("report", "CHG-2026-0042", "--format", "html", "--output", str(home / "sheet.html"))
    run("report", "CHG-2026-0042", "--format", "md", "--output", str(workspace / "sheet.md"))
    run("report", "CHG-2026-0042", "--json")
    run("notify", "flush")
    run("notify", "status")
    verified = run("journal", "verify", "--json")
    assert verified.code == 0, verified.out + verified.err

    server, _ = relay
    mails = server.sink.take()
    assert mails, "the relay received nothing: the canary SMTP password was not used"
    inputs = {home / "lab" / "secrets.yaml", home / "lab" / "inventory" / "hosts.yaml"}  # where they belong
    written = {p: p.read_bytes() for p in home.rglob("*") if p.is_file() and p not in inputs}
    written[workspace / "sheet.md"] = (workspace / "sheet.md").read_bytes()
    assert any(p.name.startswith("journal.sqlite") for p in written) and home / "sheet.html" in written
    for name, canary in CANARIES.items():
        for path, data in written.items():
            assert canary.encode() not in data, (name, path)
        for result in outputs:
            assert canary not in result.out + result.err, (name, result)
        for mail in mails:
            assert canary.encode() not in mail.raw, (name, mail.raw[:200])


def test_every_secret_is_registered_by_a_command_that_loads_no_inventory(lab_home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the root callback registers, checked directly: each canary is scrubbed from a text."""
    from netchange import redact
    from netchange.config import Settings, register_every_secret

    monkeypatch.setattr(redact, "_values", set())  # the process's registrations so far: none
    monkeypatch.setattr(redact, "_pattern", None)
    cfg = Settings.resolve(nornir_config=lab_home / "lab" / "nornir.yaml")
    register_every_secret(cfg)
    for name, canary in CANARIES.items():
        assert redact.scrub(f"x {canary} y") == f"x {redact.MASK} y", name
