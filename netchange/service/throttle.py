"""Failed sign-ins are slowed per (login, address) and per address, never per login alone.

OWASP's Authentication Cheat Sheet ("Account Lockout"): a lock-out counted on the account lets
anyone who knows a login keep its owner out. So the waits here fall on where the guesses come
from: after ``FREE`` failures of one login from one address, that pair waits 2 s, 4, 8 … up to
``MAX_WAIT``; after ``FREE_PER_ADDRESS`` failures from one address (whatever the logins: a
guesser spraying many accounts), the address waits likewise up to ``MAX_WAIT_ADDRESS``. A
correct password from an address that did not fail signs in at once, whatever was sent for the
same login from elsewhere. A success clears its own pair only (not the address: one good
password must not reset a sprayer's count). Failures older than ``WINDOW`` are forgotten.

What is counted per login is the pattern, not a wait: ``GUESSING`` failures for one login within
a ``WINDOW`` (from any addresses, refused attempts included) are reported once per window, with
the addresses, for the caller to journal (``signin_guessing``) and mail to the person.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FREE = 3
"""Failures of one login from one address heard before that pair is slowed."""
FREE_PER_ADDRESS = 20
"""An address (maybe a whole office behind NAT) gets more tries, over all logins, than a pair."""
MAX_WAIT = 60.0
"""The longest wait of a pair: a person who mistyped waits a minute at most."""
MAX_WAIT_ADDRESS = 300.0
WINDOW = 900.0
"""Seconds after which a count starts again, and the span in which guessing is reported once."""
GUESSING = 5
"""Failures for one login within a window, from anywhere, that make it "being guessed"."""
MAX_ADDRESSES = 20
"""Addresses kept per guessed login (the first ones, and how many there were)."""
MAX_KEYS = 100_000


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


@dataclass
class _Pattern:
    since: float
    failures: int = 0
    addresses: dict[str, int] = field(default_factory=dict)
    reported: bool = False


@dataclass(frozen=True)
class Guessing:
    """One login being guessed: reported once per window."""

    login: str
    failures: int
    addresses: tuple[str, ...]
    """The addresses the failures came from (at most ``MAX_ADDRESSES``), most failures first."""
    unlisted_failures: int
    """Failures from addresses past the first ``MAX_ADDRESSES``."""
    window: float


class Throttle:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[tuple[str, str], _Count] = {}
        self._patterns: dict[str, _Pattern] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(login: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("pair", f"{login}\n{address}"), ("address", address)

    def wait(self, login: str, address: str) -> float:
        """Seconds before an attempt on ``login`` from ``address`` is heard again (0: now)."""
        now = self._clock()
        with self._lock:
            counts = (self._counts.get(k) for k in self._keys(login, address))
            return max((max(0.0, c.until - now) for c in counts if c is not None), default=0.0)

    def failed(self, login: str, address: str) -> tuple[int, Guessing | None]:
        """Count a wrong password; returns the pair's failures in a row and the guessing to report, if due."""
        now = self._clock()
        with self._lock:
            self._bound()
            pair_key, address_key = self._keys(login, address)
            pair = self._count(pair_key, now, FREE, MAX_WAIT)
            self._count(address_key, now, FREE_PER_ADDRESS, MAX_WAIT_ADDRESS)
            return pair.failures, self._pattern(login, address, now)

    def refused(self, login: str, address: str) -> Guessing | None:
        """An attempt refused while slowed: not heard, but part of the pattern on ``login``."""
        now = self._clock()
        with self._lock:
            self._bound()
            return self._pattern(login, address, now)

    def succeeded(self, login: str, address: str) -> None:
        with self._lock:
            self._counts.pop(self._keys(login, address)[0], None)

    def _count(self, key: tuple[str, str], now: float, free: int, longest: float) -> _Count:
        c = self._counts.get(key)
        if c is None or now - c.last > WINDOW:
            c = self._counts[key] = _Count()
        c.failures += 1
        c.last = now
        if c.failures >= free:
            c.until = now + min(longest, 2.0 ** (c.failures - free + 1))
        return c

    def _pattern(self, login: str, address: str, now: float) -> Guessing | None:
        p = self._patterns.get(login)
        if p is None or now - p.since > WINDOW:
            p = self._patterns[login] = _Pattern(since=now)
        p.failures += 1
        if address in p.addresses or len(p.addresses) < MAX_ADDRESSES:
            p.addresses[address] = p.addresses.get(address, 0) + 1
        else:
            p.addresses.setdefault("(other addresses)", 0)
            p.addresses["(other addresses)"] += 1
        if p.reported or p.failures < GUESSING:
            return None
        p.reported = True
        ranked = sorted(p.addresses, key=lambda a: -p.addresses[a])
        return Guessing(login=login, failures=p.failures, addresses=tuple(a for a in ranked if a[0] != "("),
                        unlisted_failures=p.addresses.get("(other addresses)", 0), window=WINDOW)

    def _bound(self) -> None:
        # Bounded memory whatever is sent: forget the stalest half when full.
        if len(self._counts) > MAX_KEYS:
            for k in sorted(self._counts, key=lambda k: self._counts[k].last)[: MAX_KEYS // 2]:
                del self._counts[k]
        if len(self._patterns) > MAX_KEYS:
            for login in sorted(self._patterns, key=lambda k: self._patterns[k].since)[: MAX_KEYS // 2]:
                del self._patterns[login]
