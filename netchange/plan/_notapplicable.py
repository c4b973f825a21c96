"""The hosts a step left out, said once per reason (issue 22 item 3).

A step whose targets select a role or a site reaches hosts its change type cannot serve; the plan
records each of them (:attr:`netchange.plan._document.Plan.not_applicable`, one entry per host,
covered by the plan hash). People read them grouped: forty routers left out of a ``vlan`` step
are one line naming the reason and the types that can serve a router, not forty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

MAX_NAMED = 10
"""Hosts named on one line; the rest are counted."""


class _LeftOut(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def step(self) -> int: ...
    @property
    def reason(self) -> str: ...


def not_applicable_lines(left_out: Iterable[_LeftOut]) -> list[str]:
    """``step N: h1, h2, h3: reason`` once per step and reason, in the plan's order."""
    groups: dict[tuple[int, str], list[str]] = {}
    for na in left_out:
        groups.setdefault((na.step, na.reason), []).append(na.host)
    lines = []
    for (step, reason), hosts in groups.items():
        named = ", ".join(hosts[:MAX_NAMED])
        more = f" and {len(hosts) - MAX_NAMED} more" if len(hosts) > MAX_NAMED else ""
        lines.append(f"step {step}: {named}{more}: {reason}")
    return lines
