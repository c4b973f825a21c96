"""Named fail points: where a test may kill, stop or break the process, one step at a time.

Why: the safety net (apply, rollback, recover, save) must hold whichever step a crash lands on,
not only at the steps someone thought of. Every step that journals an event or talks to a device
calls :func:`fail_point` with a literal name (``"apply.commit_started"``). The crash-matrix tests
find every such call in the source (so a new step is covered without editing a list), arm one
point at a time through ``NETCHANGE_FAILPOINT``, and check the devices and the journal after
``recover`` (the method of SQLite's crash tests at every I/O and FoundationDB's simulation).

``NETCHANGE_FAILPOINT=NAME[@HOST][:ACTION][#N]`` arms one point (``HOST``: only for that host;
``N``: at its N-th hit, default the first). Actions:

- ``kill`` (default): SIGKILL this process at once (a power cut: no handler, no ``finally``);
- ``term``: SIGTERM (Ctrl-C's cousin: handlers run, the rollout stops and rolls back);
- ``raise``: raise :class:`InjectedFault` here (a lost session or a failing device call);
- ``stop``: SIGSTOP this process, every thread of it (a pause: a long GC, a suspended VM, a
  partition), until a SIGCONT: a lease holder that sleeps through its lease (issue 24 item 3).

Unarmed (the variable unset, as everywhere but in tests) a call is one global read and a
comparison: measured in ``bench/failpoints.py``.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass

ENV = "NETCHANGE_FAILPOINT"
ACTIONS = ("kill", "term", "raise", "stop")


class InjectedFault(ConnectionError):
    """A fault injected at a fail point armed with ``:raise`` (reads as a lost session)."""


@dataclass(frozen=True)
class Armed:
    """The one armed point: where, for which host, what to do, at which hit."""

    name: str
    host: str | None = None
    action: str = "kill"
    nth: int = 1

    @classmethod
    def parse(cls, text: str) -> Armed:
        """``NAME[@HOST][:ACTION][#N]``; a malformed value is an error, never a silent no-op."""
        spec, _, nth = text.strip().partition("#")
        spec, _, action = spec.partition(":")
        name, _, host = spec.partition("@")
        action = action or "kill"
        if not name or action not in ACTIONS or (nth and not nth.isdigit()):
            raise ValueError(f"{ENV}={text!r}: expected NAME[@HOST][:{'|'.join(ACTIONS)}][#N]")
        return cls(name=name, host=host or None, action=action, nth=int(nth or 1))


def _armed_from_environment() -> Armed | None:
    value = os.environ.get(ENV, "")  # test-only fault injection: read once, at import
    return Armed.parse(value) if value else None


_ARMED: Armed | None = _armed_from_environment()
_hits = 0
_lock = threading.Lock()


def fail_point(name: str, *, host: str | None = None) -> None:
    """Do what the armed point says if it is this one (see the module); else nothing."""
    armed = _ARMED
    if armed is None or armed.name != name or (armed.host is not None and armed.host != host):
        return
    global _hits  # noqa: PLW0603 - one counter per process, under the lock
    with _lock:
        _hits += 1
        if _hits != armed.nth:
            return
    if armed.action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif armed.action == "term":
        os.kill(os.getpid(), signal.SIGTERM)
    elif armed.action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    else:
        raise InjectedFault(f"fault injected at {name}" + (f" on {host}" if host else ""))


def arm(value: str | None) -> None:
    """Arm (or, with ``None``, disarm) a point in this process: for in-process unit tests."""
    global _ARMED, _hits  # noqa: PLW0603 - the module's one switch
    with _lock:
        _ARMED = Armed.parse(value) if value else None
        _hits = 0


__all__ = ["ACTIONS", "ENV", "Armed", "InjectedFault", "arm", "fail_point"]
