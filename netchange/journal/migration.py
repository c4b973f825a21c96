"""Copy a SQLite journal into PostgreSQL with its chain intact (issue 24 item 4).

``netchange journal migrate --to postgresql://...``: the journal is verified first (a journal that
does not verify is refused: copying it would launder a rewritten history into a new home), its rows
are copied as they are (events with their sequence numbers, hashes and HMACs; plans, approvals with
their numbers, changes in the order they were recorded, blobs, locks) in one transaction into a
database holding no events yet, then the copy is opened with the same key and verified, and its
head compared with the source's. The key is not copied anywhere: it stays where it was (the
appending processes' ``NETCHANGE_JOURNAL_KEY`` or key file).

The connecting role creates the schema when the database has none (it then owns the tables:
use the owner's URL, and ``app_role`` to grant the application its rights, docs/team-setup.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netchange.errors import BadRequest, GuardRefused
from netchange.journal.database import connect, where
from netchange.journal.pgstore import _has_journal, create_schema

if TYPE_CHECKING:
    from netchange.journal.store import Journal

_TABLES: tuple[tuple[str, str, str], ...] = (
    # table, columns, order: parents before children (plans and approvals name their change).
    ("changes", "id, title, ticket, requester, category, sites, hosts, state, outcome, plan_hash, emergency,"
                " created_at, updated_at", "rowid"),
    ("plans", "hash, change_id, category, created_at, created_by, recorded_by, policy_version, rules_version,"
              " json", "rowid"),
    ("approvals", "id, change_id, plan_hash, approver, organisation, roles, decision, comment, at", "id"),
    ("events", "seq, change_id, at, kind, actor, host, data, prev_hash, hash", "seq"),
    ("blobs", "sha, kind, change_id, host, text, at", "rowid"),
    ("locks", "host, change_id, actor, at", "host"),
)


@dataclass(frozen=True)
class Copied:
    """What was copied, and the head both journals end at."""

    events: int
    head: tuple[int, str]
    rows: dict[str, int]


def copy_to_postgresql(source: Journal, url: str, *, app_role: str | None = None) -> Copied:
    """Copy ``source`` (a SQLite journal) into the database at ``url``; verify before and after."""
    if source.database is not None:
        raise BadRequest("journal migrate --to: the journal to copy is already in PostgreSQL")
    problems = source.verify()
    if problems:
        raise GuardRefused(f"{source.path}: the journal does not verify, it is not copied: {problems[0]}"
                           " (run 'netchange journal verify')")
    head = source.head()
    with connect(url) as conn:
        if not _has_journal(conn):
            create_schema(url, app_role=app_role)
        row = conn.execute("SELECT count(*) FROM events").fetchone()
        if row is not None and int(row[0]):
            raise GuardRefused(f"{where(url)}: the database already holds a journal of {row[0]} events:"
                               " a journal is copied into an empty one only")
        rows = _copy_rows(source, conn, head)
    copied = Copied(events=head[0], head=head, rows=rows)
    _verify_copy(source, url, head)
    return copied


def _copy_rows(source: Journal, conn: Any, head: tuple[int, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with conn.transaction(), conn.cursor() as cur:
        for table, columns, order in _TABLES:
            data = [tuple(r) for r in source._read(f"SELECT {columns} FROM {table} ORDER BY {order}")]  # noqa: S608 - fixed names
            marks = ", ".join(["%s"] * len(columns.split(",")))
            if data:
                cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", data)  # noqa: S608 - fixed names
            counts[table] = len(data)
        cur.execute("SELECT setval('approvals_id_seq', greatest((SELECT max(id) FROM approvals), 1))")
        cur.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", head)
    return counts


def _verify_copy(source: Journal, url: str, head: tuple[int, str]) -> None:
    from netchange.journal import anchors
    from netchange.journal.store import Journal

    key = source._key.material  # the same key, handed from one journal to its copy
    with Journal(source.path, database=url, key=key) as copy:
        problems = copy.verify()
        if problems or copy.head() != head:
            raise GuardRefused(f"{where(url)}: the copy does not verify: "
                               + (problems[0] if problems else f"its head is {copy.head()}, not {head}"))
        if copy._anchors is not None and head[0]:
            first = copy.events_after(0, 1)
            kept = [(1, first[0].hash, True)] if first else []
            anchors.record(copy._anchors, copy.path, [*kept, (head[0], head[1], False)])
