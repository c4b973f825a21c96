"""The approval service's accounts, sessions and sign-in throttle, without a server."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from netchange.errors import BadRequest
from netchange.policy import load_policy
from netchange.service.accounts import Accounts
from netchange.service.sessions import Sessions
from netchange.service.throttle import FREE, FREE_PER_ADDRESS, Throttle

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policy.yaml")


def test_password_is_argon2_hashed_in_a_private_file(tmp_path: Path) -> None:
    accounts = Accounts.load(tmp_path)
    accounts.set_password(POLICY, "amoreau", "a long enough secret")
    accounts.save()
    text = accounts.path.read_text()
    assert "a long enough secret" not in text
    assert json.loads(text)["accounts"]["amoreau"]["password"].startswith("$argon2id$")
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(accounts.path.parent.stat().st_mode) == 0o700
    again = Accounts.load(tmp_path)
    assert again.check_password("amoreau", "a long enough secret")
    assert not again.check_password("amoreau", "a long enough secreT")
    assert not again.check_password("bleroy", "a long enough secret")  # no account
    assert not again.check_password("nobody", "a long enough secret")


def test_only_people_of_the_policy_and_no_short_password(tmp_path: Path) -> None:
    accounts = Accounts.load(tmp_path)
    with pytest.raises(BadRequest, match="not a person of the policy"):
        accounts.set_password(POLICY, "mallory", "a long enough secret")
    with pytest.raises(BadRequest, match="at least"):
        accounts.set_password(POLICY, "amoreau", "short")


def test_tokens_are_kept_hashed_and_revocable(tmp_path: Path) -> None:
    accounts = Accounts.load(tmp_path)
    token = accounts.new_token(POLICY, "gperrin")
    accounts.save()
    assert token not in accounts.path.read_text()
    again = Accounts.load(tmp_path)
    assert again.token_owner(token) == "gperrin"
    assert again.token_owner(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert again.revoke_tokens("gperrin") == 1
    assert again.token_owner(token) is None


def test_a_session_ends_on_sign_out_even_with_a_copied_cookie(tmp_path: Path) -> None:
    sessions = Sessions(b"k" * 32)
    session, cookie = sessions.open("amoreau")
    assert sessions.get(cookie) == session
    sessions.close(session)
    assert sessions.get(cookie) is None
    other = Sessions(b"x" * 32)
    _, foreign = other.open("amoreau")
    assert sessions.get(foreign) is None  # signed with another key
    assert sessions.get(cookie[:-2] + "xx") is None


def test_failed_sign_ins_are_slowed_per_account_and_address() -> None:
    throttle = Throttle()
    keys = ("login:amoreau", "ip:127.0.0.1")
    for _ in range(FREE - 1):
        throttle.failed(*keys)
        assert throttle.wait(*keys) == 0
    throttle.failed(*keys)
    assert throttle.wait("login:amoreau") > 0
    assert throttle.wait("ip:127.0.0.1") == 0  # an address has more tries than an account
    assert throttle.wait("login:bleroy", "ip:10.0.0.9") == 0
    throttle.succeeded("login:amoreau")
    assert throttle.wait("login:amoreau") == 0
    # Spraying many accounts from one address slows the address.
    for n in range(FREE_PER_ADDRESS - FREE):
        throttle.failed(f"login:user{n}", "ip:127.0.0.1")
    assert throttle.wait("ip:127.0.0.1") > 0
    throttle.succeeded("login:amoreau")
    assert throttle.wait("ip:127.0.0.1") > 0  # a good password elsewhere does not clear the address
