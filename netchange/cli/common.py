"""What the journal-only commands share: the policy, the journal (with its in-progress warning),
the clock and the console. These commands read the policy and the journal only (never the
inventory or a device), so they work from any machine that has the journal file.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from netchange.cli._lazy import LazyConsole
from netchange.cli.main import err, settings

if TYPE_CHECKING:  # the policy and the journal load when a command asks for them (start-up)
    from netchange.journal import Journal
    from netchange.policy import Policy

out = LazyConsole(highlight=False)


def policy() -> Policy:
    from netchange.policy import load_policy

    return load_policy(settings().policy_file())


def open_journal(*, warn: bool = True) -> Journal:
    from netchange.journal import Journal

    journal = Journal(settings().journal)
    if warn:
        stuck = journal.in_progress()
        if stuck:
            err.print(
                f"[yellow]warning:[/] left in progress (crash?): {', '.join(stuck)}; "
                "run 'netchange recover CHANGE-ID'",
                highlight=False,
            )
    return journal


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

