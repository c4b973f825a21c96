"""Verifying the journal: the keyed chain, and every table a report or the guard reads against it.

Plans and approvals are recorded as events carrying a digest of their whole row; the ``changes``
and ``locks`` tables are recomputed from the events; so every table is covered. Truncating the
tail, and a rewrite by whoever can read the key, are only visible against heads kept elsewhere:
those the writer keeps outside the state directory (:mod:`netchange.journal.anchors`) and those
given (``verify(heads=...)``). :meth:`Verify.layout` says what a verify proves in the layout in use.
"""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netchange.journal import anchors
from netchange.journal.chain import GENESIS, KEYED, JournalBase, event_hash
from netchange.journal.encoding import _approval, _approval_content, _as_int, _loads, _plan_row_sha, canonical, sha256
from netchange.journal.records import OUTCOMES, EventKind


class Verify(JournalBase):
    """Verification of the chain and of every table against it."""

    def verify(self, heads: Iterable[tuple[int, str]] = ()) -> list[str]:
        """What is wrong with the journal, the first bad row first; ``[]`` when it is intact.

        Checks the keyed chain (every event, in order, none missing), the head, every plan,
        approval and blob row against its event or digest, recomputes the ``changes`` and
        ``locks`` tables from the events, and compares the chain with ``heads`` collected
        elsewhere (``netchange journal head``): the only way to see a truncated tail.
        """
        with self._lock:
            conn = self._conn
            rows = list(conn.execute("SELECT * FROM events ORDER BY seq"))
            head = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
            seq_row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
            tables = {
                "plans": list(conn.execute("SELECT * FROM plans")),
                "approvals": list(conn.execute("SELECT * FROM approvals")),
                "changes": list(conn.execute("SELECT * FROM changes")),
                "locks": list(conn.execute("SELECT * FROM locks")),
                "blobs": list(conn.execute("SELECT sha, text FROM blobs")),
            }
        found: list[tuple[float, str]] = []
        keyed_from = self._verify_chain(rows, head, seq_row, heads, found)
        kept = self.anchored()
        if kept is not None:
            _verify_anchors(kept, {int(r["seq"]): str(r["hash"]) for r in rows}, found)
        _verify_rows(rows, keyed_from, tables, found)
        found.sort(key=lambda item: item[0])
        return [text for _, text in found]

    def _verify_chain(  # noqa: C901 - the key, then each event's link, hash and seal, then the head: one pass
        self, rows: list[sqlite3.Row], head: sqlite3.Row | None, seq_row: sqlite3.Row | None,
        heads: Iterable[tuple[int, str]], found: list[tuple[float, str]],
    ) -> int | None:
        """Chain checks; returns the seq from which events are keyed (None: never keyed)."""
        keying = next((r for r in rows if r["kind"] == KEYED), None)
        keyed_from = int(keying["seq"]) if keying is not None else None
        key = self._key.material
        if keyed_from is None and rows:
            found.append((0, "the journal is not keyed: written before keyed chains, or rewritten"
                             " without its key ('netchange journal migrate' keys an old journal)"))
        elif keying is not None and key is None:
            found.append((keyed_from or 0, f"cannot verify events {keyed_from} and later: the journal key"
                                           f" is missing ({self._key.where})"))
        elif keying is not None and _loads(keying["data"]).get("key_check") != self._key.check:
            found.append((keyed_from or 0, f"cannot verify events {keyed_from} and later: the journal key"
                                           f" ({self._key.where}) is not this journal's key"))
            key = None
        by_seq: dict[int, str] = {}
        prev_hash, expected = GENESIS, 1
        for r in rows:
            seq = int(r["seq"])
            keyed = keyed_from is not None and seq >= keyed_from
            if seq != expected:
                found.append((expected, f"events {expected}..{seq - 1} are missing (deleted)"))
            if r["prev_hash"] != prev_hash:
                found.append((seq, f"event {seq} ({r['kind']}, {r['change_id']}): does not chain to the"
                                   " event before it (deleted, inserted or swapped rows)"))
            if not keyed or key is not None:
                digest = event_hash(
                    r["prev_hash"], seq, change_id=r["change_id"], at=r["at"], kind=r["kind"],
                    actor=r["actor"], host=r["host"], data=r["data"], key=key if keyed else None,
                )
                if not hmac.compare_digest(digest, str(r["hash"])):
                    found.append((seq, f"event {seq} ({r['kind']}, {r['change_id']}): content modified"
                                       + (" or hash not made with this journal's key" if keyed else "")))
            if keyed_from is not None and seq == keyed_from:
                sealed = _loads(r["data"])
                if sealed.get("sealed_seq") != seq - 1 or sealed.get("sealed_hash") != r["prev_hash"]:
                    found.append((seq, f"event {seq} (journal keyed): does not seal the events before it"))
            by_seq[seq] = str(r["hash"])
            prev_hash, expected = str(r["hash"]), seq + 1
        last = expected - 1
        recorded_last = max(_as_int(head["seq"]) if head else 0, _as_int(seq_row["seq"]) if seq_row else 0)
        if recorded_last > last:
            found.append((last + 1, f"events {last + 1}..{recorded_last} are missing (deleted at the end)"))
        if head is not None and rows and head["seq"] == last and head["hash"] != prev_hash:
            found.append((last, "the chain head does not match the last event"))
        for seq, digest in heads:
            if seq > last:
                found.append((last + 0.5, f"event {seq} was recorded elsewhere but the journal ends at event"
                                          f" {last}: events {last + 1}..{seq} were removed (truncated)"))
            elif seq > 0 and by_seq.get(seq) != digest:
                found.append((seq, f"event {seq}: its hash differs from the head recorded elsewhere"
                                   " (the journal was rewritten)"))
        return keyed_from

    def anchored(self) -> anchors.Anchors | None:
        """The heads kept for this journal outside the state directory (``None``: none are kept)."""
        return anchors.read(self._anchors, self.path) if self._anchors is not None else None

    def layout(self) -> Layout:
        """What a :meth:`verify` of this journal proves, and does not, where its key and heads are."""
        with self._lock:
            last = self.head()[0]
        state = self._state_dir or self.path.parent
        key = self._key.file
        key_inside = key is not None and _inside(key, state)
        kept = self.anchored()
        outside = kept is not None and not _inside(kept.file, state)
        by_key = f"an event changed, inserted or removed by someone without the key ({self._key.where})"
        if kept is not None and outside and kept.first is not None:
            last_kept = max(seq for seq, _ in kept.heads)
            proves = (f"events {kept.first}..{last_kept} are as written: a change, insertion or removal, even by"
                      f" whoever holds the state directory {state} and the key in it, would not match the"
                      f" {len(kept.heads)} heads kept in {kept.file}")
            gaps = [f"events before {kept.first} (written before heads were kept there)"] if kept.first > 1 else []
            if last > last_kept:
                gaps.append(f"a rewrite of events {last_kept + 1}..{last} (no head kept yet)")
            cannot = "; ".join([*gaps, f"a rewrite by someone who can also write {kept.file} (the same account"
                                       " or root): keep heads where that account cannot write, see docs/journal.md"])
        elif not key_inside:
            proves = by_key + " would show" + ("" if kept is None else "; no heads kept yet in "
                                               f"{kept.file}{' (inside the state directory)' if not outside else ''}")
            cannot = ("a truncated tail (no heads kept outside the state directory: NETCHANGE_JOURNAL_ANCHORS),"
                      " nor a rewrite by whoever can read the key")
        else:
            proves = by_key + " would show"
            cannot = (f"a rewrite by whoever can write the state directory {state}: the key is in it and no heads"
                      " are kept outside it (NETCHANGE_JOURNAL_ANCHORS), nor a truncated tail")
        return Layout(key=self._key.where, key_in_state_dir=key_inside,
                      anchors=str(kept.file) if kept is not None else None,
                      anchored_heads=len(kept.heads) if kept is not None else 0,
                      anchored_from=kept.first if kept is not None else None,
                      proves=proves, cannot_prove=cannot)

    def verify_change(self, change_id: str) -> list[str]:
        """``verify`` restricted to one change, cheap enough to run before acting on it.

        Each of the change's events is checked against its key and linked to the event before
        it; the change's ``changes`` row is recomputed from them; its plan and approval rows are
        checked against their events. What the guard decides from is thus what was written, not
        a row or an event added in the file since (a full ``verify`` also finds truncation and
        foreign rows elsewhere).
        """
        with self._lock:
            conn = self._conn
            rows = list(conn.execute("SELECT * FROM events WHERE change_id = ? ORDER BY seq", (change_id,)))
            keying = conn.execute("SELECT * FROM events WHERE kind = ? ORDER BY seq LIMIT 1", (KEYED,)).fetchone()
            wanted = sorted({int(r["seq"]) - 1 for r in rows})
            before: dict[int, str] = {}
            for start in range(0, len(wanted), 500):
                part = wanted[start:start + 500]
                marks = ",".join("?" * len(part))
                before.update(
                    (int(r[0]), str(r[1]))
                    for r in conn.execute(f"SELECT seq, hash FROM events WHERE seq IN ({marks})", part)  # noqa: S608
                )
            tables = {
                "plans": list(conn.execute("SELECT * FROM plans WHERE change_id = ?", (change_id,))),
                "approvals": list(conn.execute("SELECT * FROM approvals WHERE change_id = ?", (change_id,))),
                "changes": list(conn.execute("SELECT * FROM changes WHERE id = ?", (change_id,))),
                "locks": [],
                "blobs": [],
            }
        found: list[tuple[float, str]] = []
        keyed_from = int(keying["seq"]) if keying is not None else None
        key = self._key.material
        # (A journal not keyed yet, from before keys, is checked with its plain hashes; the full
        # verify says it is not keyed, and its next write keys it.)
        if keying is not None and (key is None or _loads(keying["data"]).get("key_check") != self._key.check):
            found.append((0, f"the journal key ({self._key.where}) is missing or not this journal's key"))
            key = None
        for r in rows:
            seq = int(r["seq"])
            keyed = keyed_from is not None and seq >= keyed_from
            if before.get(seq - 1, GENESIS if seq == 1 else None) != r["prev_hash"]:
                found.append((seq, f"event {seq} ({r['kind']}, {change_id}): does not chain to the event before it"))
            if keyed and key is None:
                continue
            digest = event_hash(r["prev_hash"], seq, change_id=r["change_id"], at=r["at"], kind=r["kind"],
                                actor=r["actor"], host=r["host"], data=r["data"], key=key if keyed else None)
            if not hmac.compare_digest(digest, str(r["hash"])):
                found.append((seq, f"event {seq} ({r['kind']}, {change_id}): content modified"
                                   + (" or hash not made with this journal's key" if keyed else "")))
        _verify_rows(rows, keyed_from, tables, found, locks=False)
        found.sort(key=lambda item: item[0])
        return [text for _, text in found]


@dataclass(frozen=True)
class Layout:
    """Where the key and the heads are, and so what ``verify`` can and cannot prove."""

    key: str
    key_in_state_dir: bool
    anchors: str | None
    """The heads file of this journal outside the state directory, or ``None`` (none kept)."""
    anchored_heads: int
    anchored_from: int | None
    proves: str
    cannot_prove: str


def _inside(path: Path, directory: Path) -> bool:
    try:
        return path.resolve().is_relative_to(directory.resolve())
    except OSError:
        return True  # cannot tell: claim nothing


def _verify_anchors(kept: anchors.Anchors, by_seq: dict[int, str], found: list[tuple[float, str]]) -> None:
    """The journal against the heads its writers kept outside the state directory: one line per
    kind of difference (a rewrite at event N breaks every head after it: the first is named)."""
    last = max(by_seq, default=0)
    if kept.unreadable:
        found.append((0, f"{kept.file}: line(s) {', '.join(map(str, kept.unreadable))} are not heads netchange"
                         " wrote (SEQ HASH)"))
    beyond = max((seq for seq, _ in kept.heads if seq > last), default=None)
    if beyond is not None:
        found.append((last + 0.5, f"event {beyond} was kept in {kept.file} but the journal ends at event {last}:"
                                  f" events {last + 1}..{beyond} were removed (truncated)"))
    differ = sorted(seq for seq, digest in set(kept.heads) if seq <= last and by_seq.get(seq) != digest)
    if differ:
        more = f" (and {len(differ) - 1} later heads)" if len(differ) > 1 else ""
        found.append((differ[0], f"event {differ[0]}: its hash differs from the head kept in {kept.file}{more}:"
                                 " the journal was rewritten"))


_UNKNOWN: Any = object()
"""A value the events of an older, unkeyed journal do not carry: not compared."""
_CHANGE_FIELDS = ("title", "ticket", "requester", "category", "sites", "hosts", "state", "outcome",
                  "plan_hash", "emergency", "created_at", "updated_at")



def _verify_rows(  # noqa: C901, PLR0912, PLR0915 - replays the events, then checks each table against them
    rows: list[sqlite3.Row], keyed_from: int | None, tables: dict[str, list[sqlite3.Row]],
    found: list[tuple[float, str]], *, locks: bool = True,
) -> None:
    """Rows of the other tables against the events: digests, and what the events say they hold."""
    plan_sha: dict[str, tuple[int, str, bool]] = {}
    approval_sha: dict[int, tuple[int, str]] = {}
    changes: dict[str, dict[str, Any]] = {}
    held: dict[str, tuple[str, str, Any]] = {}
    for r in rows:
        seq, kind, cid = int(r["seq"]), str(r["kind"]), r["change_id"]
        try:
            keyed = keyed_from is not None and seq >= keyed_from
            data = _loads(r["data"])
            at = r["at"] if keyed else _UNKNOWN
            if kind == EventKind.PLAN_RECORDED:
                plan_sha[str(data.get("plan_hash"))] = (seq, str(data.get("row_sha")), keyed)
            elif kind in {EventKind.APPROVAL, EventKind.REJECTION}:
                approval_sha[int(data.get("approval_id") or 0)] = (seq, str(data.get("row_sha")))
            elif kind == EventKind.LOCKS_ACQUIRED:
                for host in data.get("hosts") or []:
                    held[str(host)] = (str(cid), str(r["actor"]), at)
            elif kind == EventKind.LOCKS_RELEASED:
                for host in data.get("hosts") or []:
                    if held.get(str(host), ("",))[0] == cid:
                        del held[str(host)]
            if cid is None:
                continue
            if kind == EventKind.REQUESTED:
                changes[cid] = {
                    "seq": seq, "title": data.get("title"), "ticket": data.get("ticket"),
                    "requester": data.get("requester"), "category": None, "sites": "", "hosts": "",
                    "state": "requested", "outcome": None, "plan_hash": None, "emergency": None,
                    "created_at": at, "updated_at": at,
                }
            change = changes.get(cid)
            if change is None:
                continue
            change["seq"] = seq
            if kind == EventKind.PLAN_RECORDED:
                change["category"] = data.get("category")
                change["plan_hash"] = data.get("plan_hash")
                change["hosts"] = ",".join(sorted(str(h) for h in data.get("hosts") or []))
                change["sites"] = ",".join(str(x) for x in data["sites"]) if "sites" in data else _UNKNOWN
                change["title"] = data.get("title", _UNKNOWN)
            elif kind == EventKind.STATE:
                change["state"] = data.get("to")
                if data.get("to") in OUTCOMES:
                    change["outcome"] = data.get("to")
                change["updated_at"] = at
            elif kind == EventKind.EMERGENCY:
                change["emergency"] = data.get("reason")
        except (ValueError, TypeError, AttributeError, KeyError):
            # The attacker chose this row: report it, never fail on it.
            found.append((seq, f"event {seq} ({kind}, {cid}): its data is malformed"))
    end = float(len(rows) + 1)
    for p in tables["plans"]:
        seq, digest, keyed = plan_sha.pop(str(p["hash"]), (0, "", True))
        if digest != _plan_row_sha(p) and (keyed or digest != sha256(str(p["json"]))):
            found.append((seq or end, f"plan {str(p['hash'])[:12]} ({p['change_id']}): row does not match"
                                      f" its journal event{'' if seq else ' (it has none)'}"))
    for plan_hash, (seq, _, _) in plan_sha.items():
        found.append((seq, f"plan {plan_hash[:12]}: recorded by event {seq} but its row is missing"))
    for a in tables["approvals"]:
        seq, digest = approval_sha.pop(int(a["id"]), (0, ""))
        try:
            row_sha: str | None = sha256(canonical(_approval_content(_approval(a))))
        except (ValueError, TypeError, AttributeError):
            row_sha = None  # unreadable: never equal to a digest
        if digest != row_sha:
            found.append((seq or end, f"approval {a['id']} ({a['change_id']}): row does not match"
                                      f" its journal event{'' if seq else ' (it has none)'}"))
    for approval_id, (seq, _) in approval_sha.items():
        found.append((seq, f"approval {approval_id}: recorded by event {seq} but its row is missing"))
    for c in tables["changes"]:
        expected = changes.pop(str(c["id"]), None)
        if expected is None:
            found.append((end, f"changes row {c['id']}: no 'requested' event in the journal (inserted)"))
            continue
        wrong = [f for f in _CHANGE_FIELDS if expected[f] is not _UNKNOWN and c[f] != expected[f]]
        if wrong:
            found.append((expected["seq"], f"changes row {c['id']}: {', '.join(wrong)} do not match its events"
                                           f" (up to event {expected['seq']})"))
    for cid, expected in changes.items():
        found.append((expected["seq"], f"changes row {cid}: missing (its events end at {expected['seq']})"))
    for lock in tables["locks"]:
        want = held.pop(str(lock["host"]), None)
        if want is None or want[0] != lock["change_id"] or want[1] != lock["actor"] or (
            want[2] is not _UNKNOWN and want[2] != lock["at"]
        ):
            says = f"held by {want[0]}" if want else "free"
            found.append((end, f"locks row {lock['host']}: held by {lock['change_id']}, the events say {says}"))
    for host, (cid, _, _) in held.items() if locks else ():
        found.append((end, f"locks row {host}: missing, the events say it is held by {cid}"))
    for b in tables["blobs"]:
        if sha256(str(b["text"])) != b["sha"]:
            found.append((end, f"blob {str(b['sha'])[:12]}: content does not match its digest"))
