"""One place of an ordered list is taken once per change, across its steps.

Each step of a change is rendered against the same running configuration (the device as it is
before the change). Two steps adding entries to one ordered list without a number each work out
the same free place: ``acl_entries`` twice on ``RESTRICT_HOST_TRAFFIC_OUT`` planned ``+ 25 permit …
443`` and ``+ 25 permit … 8443``. On the device the second is refused (IOS: ``% Duplicate sequence
number``), overwrites the first (FRR's ``seq``), merges into it (a route-map's sequence) or lands
before it (ASA's ``line``): not what the plan shows. Within one step the entries are spread over
the gap (``netchange.tasks._sequence``); across steps this check finds the collision in the whole
candidate and fails the plan, saying to put the entries in one step.

The places read are the numbers a device types an entry with:

- an indented entry starting with its number under a list's header (IOS ACL sequence numbers);
- ``ip prefix-list NAME seq N`` / ``ipv6 prefix-list NAME seq N`` (IOS, FRR);
- ``route-map NAME permit|deny N`` (IOS, FRR);
- ``access-list NAME line N`` (ASA).

The same entry added by two steps collides too: typed twice it is one line the configuration
cannot hold twice (hier_config refused the candidate with ``DuplicateChildError``, a host error
that said nothing of the request).
"""

from __future__ import annotations

import re
from collections import defaultdict

from netchange.authoring import check
from netchange.models import CheckResult

CHECK_NAME = "each place of an ordered list is taken once"
"""The pre-check's name in the plan (``pre-check failed: each place of an ordered list is taken once``)."""

_CHILD_NUMBER = re.compile(r"^\s+(\d+)\s+\S")
_TOP_LEVEL = (
    re.compile(r"^(?P<list>(?:ip|ipv6) prefix-list \S+) seq (?P<n>\d+)\s"),
    re.compile(r"^(?P<list>route-map \S+) (?:permit|deny) (?P<n>\d+)\s*$"),
    re.compile(r"^(?P<list>access-list \S+) line (?P<n>\d+)\s"),
)


def places(candidate: str) -> dict[tuple[str, int], list[str]]:
    """Each numbered place the candidate types, with the lines typed at it (in candidate order)."""
    taken: dict[tuple[str, int], list[str]] = defaultdict(list)
    parent = ""
    for raw in candidate.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("!"):
            continue
        if not line[0].isspace():
            parent = line
            for pattern in _TOP_LEVEL:
                top = pattern.match(line)
                if top:
                    taken[(top.group("list"), int(top.group("n")))].append(" ".join(line.split()))
                    break
            continue
        child = _CHILD_NUMBER.match(line)
        if child and parent:
            taken[(parent, int(child.group(1)))].append(" ".join(line.split()))
    return taken


def place_check(candidate: str) -> CheckResult:
    """Passed when no number of any list is given to two different entries in ``candidate``."""
    collisions = sorted((key, lines) for key, lines in places(candidate).items() if len(lines) > 1)
    if not collisions:
        return check(CHECK_NAME, True)
    detail = "; ".join(f"{name}: {number} is given to {len(lines)} entries ({' | '.join(lines)})"
                       for (name, number), lines in collisions[:5])
    more = f"; and {len(collisions) - 5} more" if len(collisions) > 5 else ""
    return check(CHECK_NAME, False, f"{detail}{more} — steps are planned against the same running "
                 "configuration: put these entries in one step, which places them one after the other")
