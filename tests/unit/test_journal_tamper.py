"""The journal against its file's owner: edits, truncation and rewrites, made as an attacker would.

The attacker has the journal file and SQLite (drops the append-only triggers, fixes up
``chain_head`` and ``sqlite_sequence``, recomputes hashes) but not the key, which lives with the
secrets. Each test fails on a plain (unkeyed) chain or on a verify that ignores the other tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from netchange.cli.main import main
from netchange.config import Settings
from netchange.errors import BadRequest
from netchange.journal import EventKind, Journal
from netchange.journal.chain import GENESIS, event_hash
from netchange.journal.encoding import canonical
from netchange.journal.key import JournalSetup, configure
from netchange.journal.schema import MIGRATIONS
from netchange.journal.testing import make_plan

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI looks for the journal key next to the secrets file, in the home: these tests' own
    (a session-wide NETCHANGE_HOME, such as the lab tests', holds another journal's key)."""
    monkeypatch.setenv("NETCHANGE_HOME", str(tmp_path))
    for name in ("NETCHANGE_SECRETS", "NETCHANGE_JOURNAL_KEY", "NETCHANGE_JOURNAL"):
        monkeypatch.delenv(name, raising=False)


def _populate(j: Journal) -> str:
    plan = make_plan()
    cid = plan.change.id
    j.record_plan(plan, "dnguyen")
    j.add_approval(cid, plan.plan_hash, approver="bleroy", organisation="client", roles=("ops_manager",),
                   decision="approved", comment="ok")
    j.set_state(cid, "approved", actor="bleroy")
    j.acquire_locks(cid, ["sw-doif-1", "sw-doif-2"], actor="dnguyen")
    j.set_state(cid, "in_progress", actor="dnguyen")
    j.event(cid, EventKind.COMMITTED, actor="dnguyen", host="sw-doif-1", data={"ok": True})
    j.set_state(cid, "rolled_back", actor="dnguyen", reason="post-check failed")
    j.release_locks(cid, actor="dnguyen")
    j.acquire_locks(cid, ["sw-doif-3"], actor="dnguyen")  # left held: the locks table has a row
    return cid


@pytest.fixture
def path(tmp_path: Path) -> Path:
    p = tmp_path / "journal.sqlite"
    with Journal(p, clock=Clock()) as j:
        _populate(j)
        assert j.verify() == []
    return p


def _sql(path: Path, *statements: str, args: tuple[object, ...] = ()) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
    for s in statements:
        conn.execute(s, args if "?" in s else ())
    conn.commit()
    conn.close()


def _rechain(path: Path, key: bytes | None = None, *, renumber: bool = False) -> None:
    """Recompute every hash (and chain_head, sqlite_sequence) as a thorough attacker would."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
    rows = list(conn.execute("SELECT * FROM events ORDER BY seq"))
    conn.execute("DELETE FROM events")
    prev = GENESIS
    for n, r in enumerate(rows, 1):
        seq = n if renumber else int(r["seq"])
        digest = event_hash(prev, seq, change_id=r["change_id"], at=r["at"], kind=r["kind"], actor=r["actor"],
                            host=r["host"], data=r["data"], key=key)
        conn.execute("INSERT INTO events(seq, change_id, at, kind, actor, host, data, prev_hash, hash)"
                     " VALUES (?,?,?,?,?,?,?,?,?)",
                     (seq, r["change_id"], r["at"], r["kind"], r["actor"], r["host"], r["data"], prev, digest))
        prev = digest
    last = seq if rows else 0
    conn.execute("UPDATE chain_head SET seq = ?, hash = ?", (last, prev))
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (last,))
    conn.commit()
    conn.close()


def _verify(path: Path, heads: list[tuple[int, str]] | None = None) -> list[str]:
    with Journal(path) as j:
        return j.verify(heads=heads or [])


def _seq_of(path: Path, kind: str) -> int:
    conn = sqlite3.connect(path)
    seq = conn.execute("SELECT MIN(seq) FROM events WHERE kind = ?", (kind,)).fetchone()[0]
    conn.close()
    return int(seq)


# --- the chain ------------------------------------------------------------------------------------


def test_edit_and_recompute_without_the_key_is_detected(path):
    commit = _seq_of(path, "committed")
    _sql(path, "UPDATE events SET data = '{\"ok\":false}' WHERE kind = 'committed'")
    _rechain(path)  # plain SHA-256, as the chain was before it had a key
    problems = _verify(path)
    assert problems and problems[0].startswith("event 1 (journal_keyed")
    _rechain(path, key=b"a guess at the key, not the key")
    problems = _verify(path)
    assert problems[0].startswith("event 1 ") and any(p.startswith(f"event {commit} ") for p in problems)


def test_dropping_the_keying_and_rewriting_unkeyed_is_detected(path):
    _sql(path, "DELETE FROM events WHERE kind = 'journal_keyed'")
    _rechain(path, renumber=True)
    problems = _verify(path)
    assert any("not keyed" in p for p in problems)
    with pytest.raises(BadRequest, match="not keyed but a journal key exists"), Journal(path) as j:
        j.event(None, EventKind.SIGNIN, actor="x")  # the rewritten journal is not silently re-keyed


def test_tail_truncation_with_head_and_sequence_fixed_is_caught_by_heads(path):
    with Journal(path, clock=Clock()) as j:
        early = j.head()
        j.event("CHG-2026-0001", EventKind.POST_CHECKS, actor="dnguyen", data={"n": 1})
        late = j.head()
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE seq > ?", (early[0],))
    conn.execute("UPDATE chain_head SET seq = ?, hash = ?", early)
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", (early[0],))
    conn.commit()
    conn.close()
    assert _verify(path) == []  # nothing inside the file can show it: that is what heads are for
    problems = _verify(path, [early, late])
    assert problems == [f"event {late[0]} was recorded elsewhere but the journal ends at event {early[0]}:"
                        f" events {late[0]}..{late[0]} were removed (truncated)"]


def test_rewrite_after_a_head_was_taken_is_caught_by_heads(path):
    with Journal(path) as j:
        seq, digest = j.head()
    _sql(path, "UPDATE events SET hash = (CASE WHEN hash LIKE 'f%' THEN 'e' ELSE 'f' END) || substr(hash, 2)"
               f" WHERE seq = {seq}",
         f"UPDATE chain_head SET hash = (SELECT hash FROM events WHERE seq = {seq})")
    assert any("differs from the head recorded elsewhere" in p for p in _verify(path, [(seq, digest)]))


def test_swapped_rows_are_detected(path):
    conn = sqlite3.connect(path)
    a, b = conn.execute("SELECT seq, data FROM events WHERE kind = 'state' ORDER BY seq LIMIT 2").fetchall()
    conn.close()
    _sql(path, "UPDATE events SET data = ? WHERE seq = " + str(a[0]), args=(b[1],))
    _sql(path, "UPDATE events SET data = ? WHERE seq = " + str(b[0]), args=(a[1],))
    problems = _verify(path)
    assert problems[0].startswith(f"event {a[0]} ")
    assert any(p.startswith(f"event {b[0]} ") for p in problems)


def test_swapped_whole_rows_are_detected(path):
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET seq = -seq WHERE seq IN (4, 5)")
    conn.execute("UPDATE events SET seq = 5 WHERE seq = -4")
    conn.execute("UPDATE events SET seq = 4 WHERE seq = -5")
    conn.commit()
    conn.close()
    assert _verify(path)[0].startswith("event 4 ")


def test_a_deleted_middle_row_is_detected_even_renumbered_and_rechained(path):
    _sql(path, "DELETE FROM events WHERE kind = 'committed'")
    assert _verify(path)[0].startswith("events ")  # a gap
    _rechain(path, renumber=True)
    assert _verify(path)  # renumbering means recomputing, which needs the key


def test_verify_names_the_first_bad_row_on_the_command_line(path, monkeypatch, capsys):
    monkeypatch.setenv("NETCHANGE_JOURNAL", str(path))
    commit = _seq_of(path, "committed")
    _sql(path, f"UPDATE events SET actor = 'mallory' WHERE seq IN ({commit}, {commit + 2})")
    with pytest.raises(SystemExit) as done:
        main(["journal", "verify"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(f"first bad row: event {commit} (committed, CHG-2026-0001)")


def test_heads_file_on_the_command_line(path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NETCHANGE_JOURNAL", str(path))
    heads = tmp_path / "heads"
    with pytest.raises(SystemExit) as printed:
        main(["journal", "head"])
    assert printed.value.code in (0, None)
    line = capsys.readouterr().out
    seq, _ = line.split()
    heads.write_text(f"# collected elsewhere\n{line}")
    with pytest.raises(SystemExit) as fine:
        main(["journal", "verify", "--heads", str(heads)])
    assert fine.value.code in (0, None)
    _sql(path, f"DELETE FROM events WHERE seq = {seq}",
         f"UPDATE chain_head SET seq = {int(seq) - 1}, hash = (SELECT hash FROM events WHERE seq = {int(seq) - 1})",
         f"UPDATE sqlite_sequence SET seq = {int(seq) - 1}")
    capsys.readouterr()
    with pytest.raises(SystemExit) as truncated:
        main(["journal", "verify", "--heads", str(heads)])
    assert truncated.value.code == 1
    assert "truncated" in capsys.readouterr().err
    heads.write_text("12 not-a-hash\n")
    with pytest.raises(SystemExit) as bad:
        main(["journal", "verify", "--heads", str(heads)])
    assert bad.value.code == 2
    assert f"{heads}:1:" in capsys.readouterr().err


# --- the other tables -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "what"),
    [
        ("UPDATE changes SET state = 'completed', outcome = 'completed'", "state, outcome"),
        ("UPDATE changes SET outcome = NULL", "outcome"),
        ("UPDATE changes SET requester = 'gperrin'", "requester"),
        ("UPDATE changes SET category = 'major', emergency = 'no'", "category, emergency"),
        ("UPDATE changes SET created_at = '2026-10-01T09:00:00.000000+00:00'", "created_at"),
        ("UPDATE changes SET sites = 'doso'", "sites"),
    ],
)
def test_edits_of_the_changes_table_are_detected(path, statement, what):
    _sql(path, statement)
    problems = _verify(path)
    assert any(p.startswith("changes row CHG-2026-0001: " + what) for p in problems), problems


def test_an_inserted_or_deleted_change_is_detected(path):
    _sql(path, "INSERT INTO changes(id, title, ticket, requester, state, created_at, updated_at)"
               " VALUES ('CHG-2026-0666', 'x', 'T', 'mallory', 'completed', '2026-12-01', '2026-12-01')")
    assert any("CHG-2026-0666: no 'requested' event" in p for p in _verify(path))
    _sql(path, "PRAGMA foreign_keys=OFF", "DELETE FROM changes WHERE id = 'CHG-2026-0001'")
    assert any("CHG-2026-0001: missing" in p for p in _verify(path))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE locks SET change_id = 'CHG-2026-0002'",
        "DELETE FROM locks",
        "INSERT INTO locks(host, change_id, actor, at) VALUES ('fw-doif-1', 'CHG-2026-0001', 'x', '2026-12-01')",
        "UPDATE locks SET at = '2026-12-01T08:00:00.000000+00:00'",
    ],
)
def test_edits_of_the_locks_table_are_detected(path, statement):
    _sql(path, statement)
    assert any(p.startswith("locks row ") for p in _verify(path))


def test_edits_of_plans_approvals_and_blobs_are_detected(path):
    # No release writes blobs any more; a journal of an older one may hold them, and verify checks them.
    text = "hostname sw-doif-1\n"
    _sql(path, "INSERT INTO blobs(sha, kind, change_id, host, text, at) VALUES (?,?,?,?,?,?)",
         args=(hashlib.sha256(text.encode()).hexdigest(), "snapshot", "CHG-2026-0001", "sw-doif-1", text,
               "2026-01-01T00:00:00+00:00"))
    assert not any(p.startswith("blob ") for p in _verify(path))
    _sql(path, "UPDATE plans SET category = 'minor', created_by = 'bleroy'")
    assert any(p.startswith("plan ") for p in _verify(path))
    _sql(path, "DELETE FROM approvals")
    assert any("approval 1: recorded by event" in p for p in _verify(path))
    _sql(path, "UPDATE blobs SET text = 'hostname evil'")
    assert any(p.startswith("blob ") for p in _verify(path))


# --- the key --------------------------------------------------------------------------------------


def test_without_its_key_a_journal_cannot_be_verified_nor_extended_and_says_so(path):
    key = path.parent / "journal.key"
    key.unlink()
    assert "the journal key is missing" in _verify(path)[0]
    with pytest.raises(BadRequest, match="journal key is missing"), Journal(path) as j:
        j.event(None, EventKind.SIGNIN, actor="x")
    os.environ["NETCHANGE_JOURNAL_KEY"] = "not-the-key-" * 5
    try:
        # The library takes the key as the CLI passes it (from Settings), not from the environment.
        configure(JournalSetup(key_material=Settings.resolve().journal_key))
        assert "is not this journal's key" in _verify(path)[0]
        with pytest.raises(BadRequest, match="not this journal's key"), Journal(path) as j:
            j.event(None, EventKind.SIGNIN, actor="x")
    finally:
        del os.environ["NETCHANGE_JOURNAL_KEY"]
        configure(None)


def test_key_file_is_private_and_never_in_the_journal(path):
    key = path.parent / "journal.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = key.read_text().strip()
    raw = b"".join(p.read_bytes() for p in path.parent.glob("journal.sqlite*"))
    assert text.encode() not in raw and bytes.fromhex(text) not in raw


def test_the_key_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", "k" * 40)
    configure(JournalSetup(key_material=Settings.resolve().journal_key))  # what the CLI does
    try:
        with Journal(tmp_path / "j.sqlite") as j:
            _populate(j)
            assert j.verify() == []
    finally:
        configure(None)
    assert not (tmp_path / "journal.key").exists()
    monkeypatch.delenv("NETCHANGE_JOURNAL_KEY")
    assert "the journal key is missing" in _verify(tmp_path / "j.sqlite")[0]


# --- migration of a journal written before keys --------------------------------------------------------


def _old_journal(path: Path) -> None:
    """A schema-1 journal with three plain-hashed events, as netchange wrote it before keys."""
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    prev = GENESIS
    for seq in (1, 2, 3):
        at = f"2026-11-0{seq}T09:00:00.000000+00:00"
        data = canonical({"n": seq})
        digest = event_hash(prev, seq, change_id=None, at=at, kind="note", actor="old", host=None, data=data)
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
                     (seq, None, at, "note", "old", None, data, prev, digest))
        prev = digest
    conn.execute("INSERT INTO chain_head VALUES (1, 3, ?)", (prev,))
    conn.commit()
    conn.close()


def test_an_unkeyed_journal_is_keyed_on_its_first_write_and_its_past_sealed(tmp_path):
    path = tmp_path / "journal.sqlite"
    _old_journal(path)
    with Journal(path) as j:
        assert j.schema_version == 3
        assert any("not keyed" in p for p in j.verify())
        j.event(None, EventKind.SIGNIN, actor="new")
        kinds = [(e.seq, e.kind) for e in j.events()]
        assert kinds[3] == (4, "journal_keyed") and kinds[4] == (5, "signin")
        assert json.loads(json.dumps(j.events()[3].data))["sealed_seq"] == 3
        assert j.verify() == []
    _sql(path, "UPDATE events SET actor = 'mallory' WHERE seq = 2")
    _rechain(path)  # rewriting the plain past means rewriting the keying event that sealed it
    assert any(p.startswith("event 4 (journal_keyed") for p in _verify(path))


def test_an_unkeyed_journal_next_to_an_existing_key_needs_the_migrate_command(tmp_path, monkeypatch, capsys):
    path = tmp_path / "journal.sqlite"
    _old_journal(path)
    with Journal(tmp_path / "other.sqlite") as other:
        other.event(None, EventKind.SIGNIN, actor="x")  # creates tmp_path/journal.key
    with pytest.raises(BadRequest, match="netchange journal migrate"), Journal(path) as j:
        j.event(None, EventKind.SIGNIN, actor="new")
    monkeypatch.setenv("NETCHANGE_JOURNAL", str(path))
    with pytest.raises(SystemExit) as done:
        main(["journal", "migrate"])
    assert done.value.code in (0, None)
    assert "keyed from event 4" in capsys.readouterr().out
    assert _verify(path) == []


def test_heads_go_to_syslog_when_asked_and_verify_reads_those_lines(tmp_path, monkeypatch, capsys):
    import syslog

    sent: list[str] = []
    monkeypatch.setattr(syslog, "syslog", lambda _prio, message: sent.append(message))
    monkeypatch.setenv("NETCHANGE_JOURNAL_SYSLOG", "1")
    path = tmp_path / "journal.sqlite"
    with Journal(path, clock=Clock(), syslog=Settings.resolve().journal_syslog) as j:
        _populate(j)
        seq, digest = j.head()
    assert sent[-1] == f"journal {path.resolve()} head {seq} {digest}"
    assert len(sent) == 9  # one per transaction (_populate makes nine), its last event's head
    heads = tmp_path / "syslog"
    heads.write_text("".join(f"Dec  1 22:00:0{i} host netchange[42]: {m}\n" for i, m in enumerate(sent)))
    _sql(path, f"DELETE FROM events WHERE seq = {seq}",
         f"UPDATE chain_head SET seq = {seq - 1}, hash = (SELECT hash FROM events WHERE seq = {seq - 1})",
         f"UPDATE sqlite_sequence SET seq = {seq - 1}")
    monkeypatch.setenv("NETCHANGE_JOURNAL", str(path))
    with pytest.raises(SystemExit) as truncated:
        main(["journal", "verify", "--heads", str(heads)])
    assert truncated.value.code == 1
    assert "truncated" in capsys.readouterr().err


def test_verify_change_checks_one_change_before_acting_on_it(path):
    with Journal(path, clock=Clock()) as j:
        other = make_plan("CHG-2026-0002")
        j.record_plan(other, "dnguyen")
        assert j.verify_change("CHG-2026-0001") == [] and j.verify_change("CHG-2026-0002") == []
    # A forged approval: a row and an event chained after the head, hashed without the key.
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    seq, prev = conn.execute("SELECT seq, hash FROM chain_head").fetchone()
    plan_hash = conn.execute("SELECT hash FROM plans WHERE change_id = 'CHG-2026-0002'").fetchone()[0]
    conn.execute("INSERT INTO approvals(change_id, plan_hash, approver, organisation, roles, decision, at)"
                 " VALUES ('CHG-2026-0002', ?, 'bleroy', 'client', 'ops_manager', 'approved', '2026-12-01')",
                 (plan_hash,))
    data = canonical({"approval_id": 2, "plan_hash": plan_hash, "decision": "approved"})
    digest = event_hash(prev, seq + 1, change_id="CHG-2026-0002", at="2026-12-01T10:00:00.000000+00:00",
                        kind="approval", actor="bleroy", host=None, data=data)
    conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
                 (seq + 1, "CHG-2026-0002", "2026-12-01T10:00:00.000000+00:00", "approval", "bleroy", None,
                  data, prev, digest))
    conn.execute("UPDATE chain_head SET seq = ?, hash = ?", (seq + 1, digest))
    conn.commit()
    conn.close()
    with Journal(path) as j:
        problems = j.verify_change("CHG-2026-0002")
        assert problems[0].startswith(f"event {seq + 1} (approval, CHG-2026-0002): content modified")
        assert any(p.startswith("approval 2 ") for p in problems)
        assert j.verify_change("CHG-2026-0001") == []
    _sql(path, "UPDATE changes SET state = 'approved' WHERE id = 'CHG-2026-0001'")
    with Journal(path) as j:
        assert j.verify_change("CHG-2026-0001") == [
            f"changes row CHG-2026-0001: state do not match its events (up to event {_last_of(path)})"]


def _last_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    seq = conn.execute("SELECT MAX(seq) FROM events WHERE change_id = 'CHG-2026-0001'").fetchone()[0]
    conn.close()
    return int(seq)


def test_rows_made_malformed_are_reported_never_a_crash(path, tmp_path, monkeypatch, capsys):
    _sql(path, "UPDATE approvals SET at = '2026-12-01'",  # naive: the journal's own reader refuses it
         "UPDATE events SET data = '{\"approval_id\": \"x\"}' WHERE kind = 'approval'",
         "UPDATE events SET data = '{\"hosts\": 5}' WHERE kind = 'locks_acquired'",
         "UPDATE chain_head SET seq = 'many'")
    problems = _verify(path)
    assert any("approval" in p and "malformed" in p for p in problems)
    assert any(p.startswith("approval 1 ") for p in problems)
    with Journal(path) as j:
        assert j.verify_change("CHG-2026-0001")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    monkeypatch.setenv("NETCHANGE_JOURNAL", str(garbage))
    with pytest.raises(SystemExit) as done:
        main(["journal", "verify"])
    assert done.value.code == 2
    assert "not a netchange journal" in capsys.readouterr().err


def test_apply_refuses_a_change_whose_record_was_forged(workspace, cli, monkeypatch):
    """An approval forged into the journal file (row and event, hashed without the key) is not obeyed."""
    from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

    dev = MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli={"show vlan brief": SHOW_VLAN_BRIEF})
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", [dev])))
    change = workspace / "chg.yaml"
    change.write_text(json.dumps({
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "amoreau",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}]}))
    assert cli("plan", str(change), actor="dnguyen").code == 0
    path = workspace / "home" / "journal.sqlite"
    conn = sqlite3.connect(path)
    seq, prev = conn.execute("SELECT seq, hash FROM chain_head").fetchone()
    plan_hash = conn.execute("SELECT plan_hash FROM changes").fetchone()[0]
    at = "2026-12-01T10:00:00.000000+00:00"
    cur = conn.execute("INSERT INTO approvals(change_id, plan_hash, approver, organisation, roles, decision, at)"
                       " VALUES ('CHG-2026-0042', ?, 'bleroy', 'client', 'ops_manager', 'approved', ?)",
                       (plan_hash, at))
    data = canonical({"approval_id": cur.lastrowid, "plan_hash": plan_hash, "decision": "approved",
                      "organisation": "client", "roles": ["ops_manager"], "comment": ""})
    rows = [(seq + 1, "approval", "bleroy", data),
            (seq + 2, "state", "bleroy", canonical({"from": "planned", "to": "approved", "reason": ""}))]
    for s, kind, actor, d in rows:
        digest = event_hash(prev, s, change_id="CHG-2026-0042", at=at, kind=kind, actor=actor, host=None, data=d)
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)",
                     (s, "CHG-2026-0042", at, kind, actor, None, d, prev, digest))
        prev = digest
    conn.execute("UPDATE chain_head SET seq = ?, hash = ?", (seq + 2, prev))
    conn.execute("UPDATE changes SET state = 'approved', updated_at = ?", (at,))
    conn.commit()
    conn.close()
    applied = cli("apply", "CHG-2026-0042", actor="dnguyen", now="2026-12-01T19:30:00+01:00")
    assert applied.code == 3, applied.out + applied.err
    assert "does not verify: event" in applied.err
    with Journal(path) as j:
        assert not any(e.kind in {"commit_started", "locks_acquired"} for e in j.events("CHG-2026-0042"))


# --- the state directory's owner (issue 21 item 7) ---------------------------------------------------
# This attacker has the whole state directory: the journal, its key, the secrets. With the key they
# recompute every hash: nothing inside the directory can show it. The default layout keeps each
# committed head outside it (NETCHANGE_JOURNAL_ANCHORS; the tests' own directory, see conftest.py).


def _planned(two_switches: Path, cli: Any) -> Path:
    change = two_switches / "chg.yaml"
    change.write_text(json.dumps({
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "crenard",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}]}))
    assert cli("plan", str(change), actor="dnguyen").code == 0
    assert cli("approve", "CHG-2026-0042", "--comment", "fine by me", actor="amoreau").code == 0
    verified = cli("journal", "verify")
    assert verified.code == 0 and "heads kept in" in verified.out, verified.out + verified.err
    return two_switches / "home"


def _verify_cli(cli: Any) -> tuple[int, str, dict[str, Any]]:
    text, document = cli("journal", "verify"), cli("journal", "verify", "--json")
    assert text.code == document.code
    return text.code, text.out + text.err, json.loads(document.out)


def test_the_state_directory_owner_rewrites_with_the_key_and_verify_fails(two_switches, cli, monkeypatch):
    home = _planned(two_switches, cli)
    path = home / "journal.sqlite"
    key = (home / "journal.key").read_text().strip().encode()  # in the state directory: theirs too
    approval = _seq_of(path, "approval")
    _sql(path, f"UPDATE events SET actor = 'mallory' WHERE seq = {approval}")
    _rechain(path, key)
    # A thorough attacker: with no heads kept outside, nothing in the file shows it, and verify says
    # that it cannot prove this.
    kept = os.environ["NETCHANGE_JOURNAL_ANCHORS"]
    monkeypatch.setenv("NETCHANGE_JOURNAL_ANCHORS", "off")
    code, text, document = _verify_cli(cli)
    assert code == 0, text
    assert "cannot prove: a rewrite by whoever can write the state directory" in text
    assert document["key_in_state_dir"] is True and document["anchors"] is None
    # In the default layout, the heads kept outside the state directory no longer match.
    monkeypatch.setenv("NETCHANGE_JOURNAL_ANCHORS", kept)
    code, text, document = _verify_cli(cli)
    assert code == 1
    assert f"first bad row: event {approval}: its hash differs from the head kept in" in text
    assert "the journal was rewritten" in text and "proves: events 1.." in text
    assert document["intact"] is False and str(document["anchors"]).startswith(kept)
    assert "the same account" in document["cannot_prove"]


def test_the_state_directory_owner_truncates_or_replaces_the_journal_and_verify_fails(two_switches, cli):
    home = _planned(two_switches, cli)
    path = home / "journal.sqlite"
    approval = _seq_of(path, "approval")
    conn = sqlite3.connect(path)  # the approval and what follows it, gone
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute(f"DELETE FROM events WHERE seq >= {approval}")
    conn.execute("DELETE FROM approvals")
    conn.execute(f"UPDATE chain_head SET seq = {approval - 1},"
                 f" hash = (SELECT hash FROM events WHERE seq = {approval - 1})")
    conn.execute(f"UPDATE sqlite_sequence SET seq = {approval - 1} WHERE name = 'events'")
    conn.execute("UPDATE changes SET state = 'planned'")
    conn.commit()
    conn.close()
    code, text, _ = _verify_cli(cli)
    assert code == 1 and f"the journal ends at event {approval - 1}" in text and "truncated" in text, text
    # A journal made anew in its place, under a key of the attacker's: its first event is not the
    # one the kept heads say this journal began with.
    for p in home.glob("journal.*"):
        p.unlink()
    with Journal(path) as forged:
        forged.event(None, EventKind.SIGNIN, actor="mallory")
    code, text, _ = _verify_cli(cli)
    assert code == 1 and "event 1: its hash differs from the head kept in" in text, text


def test_a_journal_made_anew_at_its_path_is_not_a_rewrite(two_switches, cli):
    """A state directory deleted and started again (as make demo does): its heads start again."""
    home = _planned(two_switches, cli)
    for p in list(home.iterdir()):
        if p.name.startswith("journal.") or p.name == "plans":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    _planned(two_switches, cli)
    code, text, document = _verify_cli(cli)
    assert code == 0, text
    lines = Path(document["anchors"]).read_text().splitlines()
    assert sum(line.endswith(" new") for line in lines) == 2
    last_new = max(i for i, line in enumerate(lines) if line.endswith(" new"))
    assert document["anchored_heads"] == len(lines) - last_new
