"""What the journal-only commands share: the policy, the journal (with its in-progress warning),
the clock and the console. These commands read the policy and the journal only (never the
inventory or a device), so they work from any machine that has the journal file.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from netchange.cli.main import err, settings
from netchange.journal import Journal
from netchange.policy import Policy, load_policy

out = Console(highlight=False)


def policy() -> Policy:
    return load_policy(settings().policy)


def open_journal(*, warn: bool = True) -> Journal:
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

