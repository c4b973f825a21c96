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
from netchange.service.throttle import FREE, FREE_PER_ADDRESS, GUESSING, MAX_WAIT, WINDOW, Throttle

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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_sign_ins_are_slowed_per_login_and_address_never_per_login_alone() -> None:
    throttle = Throttle()
    for _ in range(FREE - 1):
        throttle.failed("amoreau", "10.0.0.1")
        assert throttle.wait("amoreau", "10.0.0.1") == 0
    for _ in range(10 - FREE + 1):
        throttle.failed("amoreau", "10.0.0.1")
    assert throttle.wait("amoreau", "10.0.0.1") > 0  # the guessing address is slowed
    assert throttle.wait("amoreau", "10.0.0.2") == 0  # the owner elsewhere is not (the old lock-out)
    assert throttle.wait("bleroy", "10.0.0.1") == 0  # an address has more tries than a pair
    throttle.succeeded("amoreau", "10.0.0.2")
    assert throttle.wait("amoreau", "10.0.0.1") > 0  # a success elsewhere clears only its own pair
    throttle.succeeded("amoreau", "10.0.0.1")
    assert throttle.wait("amoreau", "10.0.0.1") == 0
    # Spraying many accounts from one address slows the address, for every login.
    for n in range(FREE_PER_ADDRESS):
        throttle.failed(f"user{n}", "10.0.0.9")
    assert throttle.wait("amoreau", "10.0.0.9") > 0
    throttle.succeeded("amoreau", "10.0.0.9")
    assert throttle.wait("amoreau", "10.0.0.9") > 0  # a good password does not clear the address


def test_waits_are_bounded_and_forgotten_after_the_window() -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
    for _ in range(FREE_PER_ADDRESS - 1):  # 2 ** 17 s uncapped
        throttle.failed("amoreau", "10.0.0.1")
    assert throttle.wait("amoreau", "10.0.0.1") == MAX_WAIT  # a person who mistyped waits a minute at most
    throttle.failed("bleroy", "10.0.0.1")
    assert throttle.wait("bleroy", "10.0.0.1") == 2  # the address's own wait begins (at most MAX_WAIT_ADDRESS)
    clock.now += WINDOW + 1
    assert throttle.wait("amoreau", "10.0.0.1") == 0
    failures, _ = throttle.failed("amoreau", "10.0.0.1")
    assert failures == 1  # a new window starts the count again


def test_guessing_is_reported_once_per_window_with_the_addresses() -> None:
    clock = Clock()
    throttle = Throttle(clock=clock)
    reports = []
    for n in range(GUESSING - 1):
        reports.append(throttle.failed("amoreau", f"10.0.0.{n % 2 + 1}")[1])
    reports.append(throttle.refused("amoreau", "10.0.0.7"))  # refused while slowed: part of the pattern
    for _ in range(10):
        reports.append(throttle.failed("amoreau", "10.0.0.1")[1])
    found = [r for r in reports if r is not None]
    assert len(found) == 1
    assert found[0].login == "amoreau"
    assert found[0].failures == GUESSING
    assert set(found[0].addresses) == {"10.0.0.1", "10.0.0.2", "10.0.0.7"}
    clock.now += WINDOW + 1
    again = [throttle.failed("amoreau", "10.0.0.3")[1] for _ in range(GUESSING)]
    assert [r.addresses for r in again if r is not None] == [("10.0.0.3",)]
