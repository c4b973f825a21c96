"""The journal: the tracking sheet of every change, in one SQLite file.

Why SQLite: one file, transactions, and a lock that several processes respect, so that two
``netchange apply`` runs cannot both take the same device. WAL mode lets readers (``show``,
``report``) work while an apply writes.

A team on several machines keeps it in PostgreSQL instead (``NETCHANGE_DATABASE_URL``; issue 24,
docs/team-setup.md): the same class over another connection (:mod:`netchange.journal.pgstore`), the
write lock being a row lock on the chain head.

``Journal`` is the one public class; each concern lives in its own module of this package and
is mixed in here: ``chain`` (connection, transactions, the keyed hash chain of events),
``changes`` (changes, plans, states), ``approvals``, ``locks`` (device locks), ``verify``
(the chain and every table against it), ``worklist`` (open changes filtered, sorted, paged) and
``tallies`` (the reports' counts, by SQLite).
``encoding`` holds how values are written and rows read.
"""

from __future__ import annotations

from netchange.journal.approvals import Approvals
from netchange.journal.changes import Changes, StateError
from netchange.journal.locks import Locks
from netchange.journal.tallies import Tallies
from netchange.journal.verify import Verify
from netchange.journal.worklist import Worklist

__all__ = ["Journal", "StateError"]


class Journal(Changes, Approvals, Locks, Verify, Worklist, Tallies):
    """Open (and create or migrate) the journal at ``path``. Use it as a context manager.

    One connection, behind one re-entrant lock, shared by every part: each write is one
    ``BEGIN IMMEDIATE`` transaction (see ``JournalBase``).
    """
