"""Repeated failed sign-ins are slowed: per account and per client address, doubling waits.

After ``FREE`` failures in a row on an account (``FREE_PER_ADDRESS`` on a client address), the next attempt on that key
is refused without checking the password until a wait has passed: 2 s, then 4, 8, … up to
``MAX_WAIT``. A success clears the account's count (not the address's: one good password
must not reset a guesser spraying other accounts). Every failure is journaled by the caller.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

FREE = 3
FREE_PER_ADDRESS = 20
"""An address (maybe a whole office behind NAT) gets more tries before it is slowed than an account."""
MAX_WAIT = 300.0


@dataclass
class _Count:
    failures: int = 0
    until: float = 0.0


class Throttle:
    def __init__(self) -> None:
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds before an attempt on any of ``keys`` is heard again (0: now)."""
        now = time.monotonic()
        with self._lock:
            return max((max(0.0, c.until - now) for k in keys if (c := self._counts.get(k))), default=0.0)

    def failed(self, *keys: str) -> int:
        """Count a failure on each key; returns the highest count."""
        now = time.monotonic()
        worst = 0
        with self._lock:
            if len(self._counts) > 100_000:  # bounded: forget the oldest waits first
                for k in sorted(self._counts, key=lambda k: self._counts[k].until)[:50_000]:
                    del self._counts[k]
            for key in keys:
                c = self._counts.setdefault(key, _Count())
                c.failures += 1
                free = FREE_PER_ADDRESS if key.startswith("ip:") else FREE
                if c.failures >= free:
                    c.until = now + min(MAX_WAIT, 2.0 ** (c.failures - free + 1))
                worst = max(worst, c.failures)
        return worst

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
