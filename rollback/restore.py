"""Bring a host back to its snapshot, then prove it by reading the device again.

Strategy per driver, most precise first:

1. ``inverse`` — the driver's own ``rollback()`` of the last commit (NAPALM semantics): precise
   inverse lines for CLI devices (hier_config), the inverse DNS update, the saved runtime state.
   Only used within the session that made the commit, where the driver knows what it did.
2. ``snapshot`` — ``load_replace_candidate(snapshot)`` + ``commit_config()``: the full running
   state as it was. Used after a lost session, a crash, or when the inverse did not verify.

Either way the device is read again and compared with the snapshot; only equality counts.

Before either, when the caller says what the change left (``after``: the state read once the
change was committed) or what it did (``diff``: the plan's diff), the device is read and
compared with that: a line someone else added or removed since would be erased (or brought
back) by the restore. Then nothing is sent: the report is an alarm naming those lines
(``foreign``), so that a restore never deletes configuration the change did not add.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, field
from typing import Any

from netchange.drivers.contract import DriverProtocol, normalize
from netchange.failpoints import fail_point


def same_state(driver: Any, a: str, b: str) -> bool:
    return normalize(driver, a) == normalize(driver, b)


def verify_host(driver: DriverProtocol, snapshot: str) -> bool:
    running = driver.get_config(retrieve="running")["running"]
    return same_state(driver, running, snapshot)


def changed_lines(before: str, after: str) -> list[str]:
    """The lines added (``+``) and removed (``-``) from ``before`` to ``after``, without context."""
    return [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not line.startswith(("+++", "---", "@@")) and line[1:].strip()
    ]


def foreign_lines(driver: Any, current: str, snapshot: str, *, after: str | None = None,
                  diff: str = "") -> list[str]:
    """What changed on the device that the change did not do (``+`` added, ``-`` removed).

    With ``after`` (the state the change left, read after its commit) the answer is exact:
    every difference from it. Without it (a crash between the commit and that reading), a
    difference from the snapshot is the change's own when the plan's diff adds (or removes) the
    same line; any other is foreign.
    """
    now = normalize(driver, current)
    if after is not None:
        return changed_lines(normalize(driver, after), now)
    own = {(line[0], line[1:].strip()) for line in diff.splitlines() if line[:1] in ("+", "-")}
    return [line for line in changed_lines(normalize(driver, snapshot), now)
            if (line[0], line[1:].strip()) not in own]


def brief_lines(lines: list[str], limit: int = 6) -> str:
    """A few diff lines on one line, for a message or an alarm."""
    shown = " | ".join(line.rstrip() for line in lines[:limit])
    return shown + (f" | … ({len(lines) - limit} more)" if len(lines) > limit else "")


@dataclass
class RestoreReport:
    verified: bool
    strategies: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    foreign: list[str] = field(default_factory=list)
    """Lines changed on the device by someone else since the change: the restore refused."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    """The change types' restored checks (the network back, not only the configuration)."""
    saved: dict[str, Any] | None = None
    """After a verified restore, the save of the restored state (the event ``saved``'s data:
    ``startup_equals_running``, ``seconds``, ``error``); ``None``: nothing saved (no startup
    apart on the platform, or nothing was sent)."""


def restore_host(driver: DriverProtocol, snapshot: str, *, inverse_first: bool = True,
                 after: str | None = None, diff: str | None = None, host: str | None = None) -> RestoreReport:
    """Restore ``driver``'s device to ``snapshot`` and verify. Never raises: the report says.

    With ``after`` or ``diff`` (see the module docstring), a device changed by someone else
    since the change is not touched: the report is not verified and names the ``foreign`` lines.
    ``host``: the host's name, for the fail points (:mod:`netchange.failpoints`).
    """
    start = time.monotonic()
    report = RestoreReport(verified=False)
    if after is not None or diff is not None:
        try:
            fail_point("restore.read", host=host)  # about to read the device before restoring it
            current = driver.get_config(retrieve="running")["running"]
        except Exception as exc:
            report.errors.append(f"read before restore: {type(exc).__name__}: {exc}")
            report.seconds = time.monotonic() - start
            return report
        if same_state(driver, current, snapshot):
            report.verified, report.strategies = True, ["none"]
            report.seconds = time.monotonic() - start
            return report
        report.foreign = foreign_lines(driver, current, snapshot, after=after, diff=diff or "")
        if report.foreign:
            report.errors.append(
                f"changed by someone else since the change, not restored (a restore would undo it): "
                f"{brief_lines(report.foreign)}")
            report.seconds = time.monotonic() - start
            return report
    attempts = (["inverse"] if inverse_first else []) + ["snapshot"]
    for strategy in attempts:
        report.strategies.append(strategy)
        try:
            fail_point("restore.write", host=host)  # about to write (the inverse, else the snapshot)
            if strategy == "inverse":
                driver.rollback()
            else:
                driver.load_replace_candidate(config=snapshot)
                driver.commit_config()
            fail_point("restore.verify", host=host)  # written, about to read it back
            if verify_host(driver, snapshot):
                report.verified = True
                break
            report.errors.append(f"{strategy}: the device does not match its snapshot")
        except Exception as exc:  # every failure is reported; the next strategy still runs
            report.errors.append(f"{strategy}: {type(exc).__name__}: {exc}")
    report.seconds = time.monotonic() - start
    return report
    causes: list[FailureCause] = field(default_factory=list)
    """The cause of each of :attr:`errors`, in the same order."""
    who: list[str] = field(default_factory=list)
    """Who changed the ``foreign`` lines (and when), where the device records it; else why not known."""
    saved: dict[str, Any] | None = None
    """After a verified restore, the save of the restored state (the event ``saved``'s data:
    ``startup_equals_running``, ``seconds``, ``error``); ``None``: nothing saved (no startup
    apart on the platform, or nothing was sent)."""

    def fail(self, cause: FailureCause, detail: str) -> None:
        """Record a failure: its sentence begins with what its cause says (terminal, journal, mail)."""
        self.causes.append(cause)
        self.errors.append(f"{cause.says}: {detail}")

    def fail_on(self, exc: BaseException, step: str) -> None:
        """Record an exception raised by ``step``, with its cause read from its class."""
        self.fail(cause_of(exc), f"{step}: {type(exc).__name__}: {exc}")

    @property
    def cause(self) -> FailureCause | None:
        """Why the restore did not verify: the cause of the last failure (what ended it)."""
        if self.verified:
            return None
        return self.causes[-1] if self.causes else (FailureCause.FAILED if self.errors else None)
