"""What changed between the plan a manager read and the change's current plan.

Issue 23 item 4: after a re-plan the change page (and the 409 "the plan changed" answer) says
*what* changed, from the two plan documents, both verified against their hashes by the caller:
hosts added or removed, per host the diff lines added or removed, the category, the requirements,
and the request's own fields a manager decides on (planned start, duration, expected outage, title,
description). Device text is scrubbed of registered secrets here and escaped by the template.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from netchange import redact
from netchange.plan import Plan
from netchange.policy import format_duration


@dataclass(frozen=True)
class HostLines:
    """One host's diff lines that the new plan adds to, or drops from, the old plan's diff."""

    host: str
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class PlanDiff:
    old_hash: str
    new_hash: str
    old_created_at: dt.datetime
    old_created_by: str
    hosts_added: tuple[str, ...]
    hosts_removed: tuple[str, ...]
    lines: tuple[HostLines, ...]
    """Hosts in both plans whose diff changed."""
    category: tuple[str, str] | None
    """(old, new) when the category changed."""
    requirements_added: tuple[str, ...]
    requirements_removed: tuple[str, ...]
    request: tuple[tuple[str, str, str], ...]
    """(field, old, new) of the request's fields that changed."""

    @property
    def same(self) -> bool:
        """Nothing a manager reads changed (the hash moved for what the page does not show)."""
        return not (self.hosts_added or self.hosts_removed or self.lines or self.category
                    or self.requirements_added or self.requirements_removed or self.request)


def _lines(diff: str) -> list[str]:
    return [line for line in redact.scrub(diff).splitlines() if line.strip()]


def _minus(a: list[str], b: list[str]) -> tuple[str, ...]:
    """The lines of ``a`` not in ``b``, counted (a line twice in ``a`` and once in ``b`` is once), in order."""
    left = Counter(b)
    out = []
    for line in a:
        if left[line]:
            left[line] -= 1
        else:
            out.append(line)
    return tuple(out)


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else "not set"


def compare(old: Plan, new: Plan) -> PlanDiff:
    """What ``new`` changes against ``old`` (two verified plans of one change)."""
    before = {h.host: h for h in old.hosts}
    after = {h.host: h for h in new.hosts}
    lines = []
    for host in sorted(before.keys() & after.keys()):
        a, b = _lines(before[host].diff), _lines(after[host].diff)
        added, removed = _minus(b, a), _minus(a, b)
        if added or removed:
            lines.append(HostLines(host=host, added=added, removed=removed))
    oc, nc = old.category, new.category
    category = (oc.value if oc else "none", nc.value if nc else "none") if oc != nc else None
    fields = (
        ("title", old.change.title, new.change.title),
        ("description", old.change.description or "", new.change.description or ""),
        ("planned start", _when(old.change.planned_start), _when(new.change.planned_start)),
        ("estimated duration", format_duration(old.change.estimated_duration),
         format_duration(new.change.estimated_duration)),
        ("expected outage", format_duration(old.change.expected_outage), format_duration(new.change.expected_outage)),
    )
    return PlanDiff(
        old_hash=old.plan_hash,
        new_hash=new.plan_hash,
        old_created_at=old.created_at,
        old_created_by=old.created_by,
        hosts_added=tuple(sorted(after.keys() - before.keys())),
        hosts_removed=tuple(sorted(before.keys() - after.keys())),
        lines=tuple(lines),
        category=category,
        requirements_added=tuple(r for r in new.requirements if r not in old.requirements),
        requirements_removed=tuple(r for r in old.requirements if r not in new.requirements),
        request=tuple((name, redact.scrub(a), redact.scrub(b)) for name, a, b in fields if a != b),
    )
