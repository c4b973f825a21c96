"""Bring a host back to its snapshot, then prove it by reading the device again.

Strategy per driver, most precise first:

1. ``inverse`` — the driver's own ``rollback()`` of the last commit (NAPALM semantics): precise
   inverse lines for CLI devices (hier_config), the inverse DNS update, the saved runtime state.
   Only used within the session that made the commit, where the driver knows what it did.
2. ``snapshot`` — ``load_replace_candidate(snapshot)`` + ``commit_config()``: the full running
   state as it was. Used after a lost session, a crash, or when the inverse did not verify.

Either way the device is read again and compared with the snapshot; only equality counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from netchange.drivers.base import DriverProtocol


def normalize(driver: Any, text: str) -> str:
    """The driver's canonical form of a config (drops volatile lines), or the text stripped."""
    fn = getattr(driver, "normalize_config", None)
    return str(fn(text)) if callable(fn) else text.strip()


def same_state(driver: Any, a: str, b: str) -> bool:
    return normalize(driver, a) == normalize(driver, b)


def verify_host(driver: DriverProtocol, snapshot: str) -> bool:
    running = driver.get_config(retrieve="running")["running"]
    return same_state(driver, running, snapshot)


@dataclass
class RestoreReport:
    verified: bool
    strategies: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def restore_host(driver: DriverProtocol, snapshot: str, *, inverse_first: bool = True) -> RestoreReport:
    """Restore ``driver``'s device to ``snapshot`` and verify. Never raises: the report says."""
    start = time.monotonic()
    report = RestoreReport(verified=False)
    attempts = (["inverse"] if inverse_first else []) + ["snapshot"]
    for strategy in attempts:
        report.strategies.append(strategy)
        try:
            if strategy == "inverse":
                driver.rollback()
            else:
                driver.load_replace_candidate(config=snapshot)
                driver.commit_config()
            if verify_host(driver, snapshot):
                report.verified = True
                break
            report.errors.append(f"{strategy}: the device does not match its snapshot")
        except Exception as exc:  # every failure is reported; the next strategy still runs
            report.errors.append(f"{strategy}: {type(exc).__name__}: {exc}")
    report.seconds = time.monotonic() - start
    return report
