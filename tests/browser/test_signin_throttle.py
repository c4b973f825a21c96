"""Sign-in throttling that cannot lock a person out (issue 23 item 2), over real HTTP.

A real `netchange serve` on 127.0.0.1; each client comes from its own loopback address (127.0.0.2,
127.0.0.3, …: the source address of its socket, what the service sees), so "an attacker at A"
and "the manager at B" are two addresses as they would be on a network. Mail goes to a real SMTP
server (aiosmtpd on 127.0.0.1) through the service's notifier.

On main at 7dfdd60 the lock-out test fails: after ten wrong passwords from A, the right one from
B was refused 429 (the count was per login).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from netchange.service.throttle import FREE, FREE_PER_ADDRESS, GUESSING
from tests.browser.support import PASSWORD, journal_of, make_home, server, set_passwords
from tests.smtpsink import SmtpServer

WRONG = "Tr0ub4dor&3-not-it"
ALICE = "alice.moreau@aquilon.test"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database: str | None) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("throttle")
    home, _policy, env = make_home(tmp, database)
    smtp = SmtpServer().start()
    (home / "settings.yaml").write_text(yaml.safe_dump({"mail": {"interval": 0.5}}))
    env = {**env, "NETCHANGE_SMTP_HOST": "127.0.0.1", "NETCHANGE_SMTP_PORT": str(smtp.port),
           "NETCHANGE_SMTP_SECURITY": "none", "NETCHANGE_MAIL_FROM": "netchange@ops.example.test",
           "NETCHANGE_BASE_URL": "https://netchange.example.test/"}
    set_passwords(env, "amoreau", "bleroy")
    try:
        with server(env) as base:
            yield {"base": base, "home": home, "smtp": smtp}
    finally:
        smtp.stop()


def sign_in(base: str, address: str, login: str, password: str) -> int:
    """One sign-in from ``address`` (the form, its cookie-bound token, the POST); the answer's status."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=base, transport=transport, timeout=30) as client:
        page = client.get("/signin")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        return client.post("/signin", data={"login": login, "password": password, "csrf": csrf}).status_code


def events(home: Any, kind: str) -> list[Any]:
    with journal_of(home) as journal:
        return [e for e in journal.events() if e.kind == kind]


def mails_to(world: dict[str, Any], address: str, *, wait: float = 20.0) -> list[Any]:
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in world["smtp"].sink.received if address in m.rcpt_tos]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_wrong_passwords_from_one_address_do_not_lock_the_manager_out(world):
    base = world["base"]
    attacker, manager = "127.0.0.2", "127.0.0.3"
    statuses = [sign_in(base, attacker, "amoreau", WRONG) for _ in range(10)]
    # Three are heard; then that address is slowed for that login, before any password check (a
    # wait of 2 s, then 4, 8…: one heard now and then, most refused).
    assert statuses[: FREE + 1] == [401] * FREE + [429]
    assert statuses.count(429) >= 5
    # The manager, from an address that did not fail, signs in at once (the old code: 429 here).
    assert sign_in(base, manager, "amoreau", PASSWORD) == 303
    # From the guessing address, just after a wrong password was heard, even the right one waits.
    while sign_in(base, attacker, "amoreau", WRONG) != 401:
        time.sleep(0.5)
    assert sign_in(base, attacker, "amoreau", PASSWORD) == 429

    # The pattern is journaled once, with the login and the address, never a password.
    guessing = events(world["home"], "signin_guessing")
    assert len(guessing) == 1
    assert guessing[0].data["login"] == "amoreau"
    assert guessing[0].data["addresses"] == [attacker]
    assert guessing[0].data["failures"] == GUESSING
    failed = events(world["home"], "signin_failed")
    assert all(WRONG not in str(e.data) and PASSWORD not in str(e.data) for e in [*guessing, *failed])

    # And Alice is told, once, by mail: the addresses, that her own sign-in still works; no password.
    mails = mails_to(world, ALICE)
    assert len(mails) == 1
    mail = mails[0]
    assert "failed sign-ins for your login amoreau" in mail.subject
    assert attacker in mail.text
    assert "Your own sign-in is not blocked" in mail.text
    assert WRONG not in mail.raw.decode(errors="replace")
    assert attacker in mail.html
    assert "withheld" not in mail.text + mail.html
    with journal_of(world["home"]) as journal:
        sent = [e for e in journal.events() if e.kind == "notification_sent" and e.data.get("to") == ["amoreau"]]
    assert len(sent) == 1
    assert sent[0].change_id is None

    # Guessing goes on from another address in the same window: slowed there too, not told again.
    for _ in range(FREE + 1):
        sign_in(base, "127.0.0.5", "amoreau", WRONG)
    time.sleep(2)  # four turns of the notifier
    assert len(events(world["home"], "signin_guessing")) == 1
    assert len(mails_to(world, ALICE, wait=0)) == 1


def test_one_address_spraying_many_logins_is_slowed_for_every_login(world):
    base = world["base"]
    sprayer = "127.0.0.4"
    statuses = [sign_in(base, sprayer, f"nobody{n}", WRONG) for n in range(FREE_PER_ADDRESS)]
    assert statuses == [401] * FREE_PER_ADDRESS
    # That address is now slowed whatever the login, even with the right password...
    assert sign_in(base, sprayer, "bleroy", PASSWORD) == 429
    # ...and nobody else is: bleroy from elsewhere signs in.
    assert sign_in(base, "127.0.0.6", "bleroy", PASSWORD) == 303
    # One wrong password per login is no pattern on any of them: nobody was mailed for it.
    assert not [e for e in events(world["home"], "signin_guessing") if e.data["login"].startswith("nobody")]
