"""Journal event kinds: one enum, every writer uses it, the journal refuses any other (issue 20).

The source scan reads every call that hands the journal an event kind (``Journal.event``,
``event_batch``, ``event_if_latest``, ``_append``, the applier's ``RunEvent`` and ``_report``) and
resolves its kind argument: an ``EventKind.X`` member, a choice between members (``a if c else b``),
a module-level table of members indexed (``_STARTED[mode]``), a local name bound to one of those;
anything else (a parameter passed on, ``e.kind``) is forwarded from a call site scanned in its turn.
A bare string (``"note"``, ``f"{verb}_started"``) anywhere in that argument fails the scan.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from netchange.journal import EventKind, Journal
from netchange.journal.chain import event_hash
from netchange.journal.encoding import canonical
from netchange.journal.testing import make_plan

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("netchange", "rollback", "tasks", "classifiers", "lab")
"""The code that ships (netchange's own packages, some at the top level: pyproject's package-dir)."""
SCANNED = (*PRODUCT, "bench")

WRITERS = {"event": 1, "event_if_latest": 2, "_append": 2, "RunEvent": 0, "_report": 0}
"""Callable name -> the position of its kind argument (also accepted by keyword, ``kind=``)."""
BATCHES = {"event_batch": 1}
"""Callable name -> the position of its ``(kind, host, data)`` items."""


@dataclass
class Scan:
    written: dict[str, list[str]] = field(default_factory=dict)
    """Member name -> the call sites that write it."""
    bare: list[str] = field(default_factory=list)
    """Call sites whose kind is a string, not a member."""
    named: set[str] = field(default_factory=set)
    """Every ``EventKind.X`` in the code, writer or reader."""
    sites: int = 0


def _bindings(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value bound to a plain name anywhere in the module (module tables and locals alike)."""
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            bound.setdefault(node.target.id, []).append(node.value)
    return bound


def _kinds(expr: ast.expr, bound: dict[str, list[ast.expr]], seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """The members ``expr`` can be; ``"<bare>"`` for a string in their place (see the module)."""
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "EventKind":
        yield expr.attr
    elif isinstance(expr, ast.JoinedStr) or (isinstance(expr, ast.Constant) and isinstance(expr.value, str)):
        yield "<bare>"
    elif isinstance(expr, ast.IfExp):
        yield from _kinds(expr.body, bound, seen)
        yield from _kinds(expr.orelse, bound, seen)
    elif isinstance(expr, ast.BinOp):  # "rollback" + "_started"
        yield "<bare>"
    elif isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        for table in bound.get(expr.value.id, []):
            if isinstance(table, ast.Dict):
                for value in table.values:
                    yield from _kinds(value, bound, seen)
    elif isinstance(expr, ast.Name) and expr.id not in seen:
        for value in bound.get(expr.id, []):
            yield from _kinds(value, bound, seen | {expr.id})


def _items(expr: ast.expr, bound: dict[str, list[ast.expr]]) -> Iterator[ast.expr]:
    """The kinds of an ``event_batch``'s items: a list or tuple of tuples, or a comprehension of one."""
    if isinstance(expr, ast.List | ast.Tuple):
        for element in expr.elts:
            if isinstance(element, ast.Tuple) and element.elts:
                yield element.elts[0]
    elif isinstance(expr, ast.ListComp) and isinstance(expr.elt, ast.Tuple) and expr.elt.elts:
        yield expr.elt.elts[0]
    elif isinstance(expr, ast.Name):
        for value in bound.get(expr.id, []):
            yield from _items(value, bound)


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def scan_source(source: str, where: str, scan: Scan) -> Scan:
    tree = ast.parse(source)
    bound = _bindings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "EventKind":
            scan.named.add(node.attr)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in WRITERS:
            kind_args = [a for a in [_argument(node, WRITERS[name], "kind")] if a is not None]
        elif name in BATCHES:
            items = _argument(node, BATCHES[name], "items")
            kind_args = list(_items(items, bound)) if items is not None else []
        else:
            continue
        site = f"{where}:{node.lineno}"
        scan.sites += 1
        for arg in kind_args:
            for kind in _kinds(arg, bound):
                if kind == "<bare>":
                    scan.bare.append(f"{site}: {ast.unparse(arg)}")
                else:
                    scan.written.setdefault(kind, []).append(site)
    return scan


def scan_tree(roots: tuple[str, ...]) -> Scan:
    scan = Scan()
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), scan)
    return scan


# --- the scan itself can fail --------------------------------------------------------------------------


@pytest.mark.parametrize("code", [
    'journal.event(None, "note", actor="x")',
    'journal.event(cid, f"{mode.value}_started", actor="x")',
    'journal.event(cid, EventKind.SIGNIN if ok else "signin_failed", actor="x")',
    'self._append(conn, cid, "state", actor="x")',
    'journal.event_if_latest(KINDS, 0, kind="policy_pinned", actor="x", data={})',
    'RunEvent("committed", host)',
    'self._report("apply_started", hosts=[])',
    'journal.event_batch(cid, [("committed", h, None) for h in hosts], actor="x")',
    'batch = [(EventKind.COMMITTED, "h", None), ("note", "h", None)]\njournal.event_batch(cid, batch, actor="x")',
    '_K = {1: EventKind.SIGNIN, 2: "note"}\njournal.event(None, _K[n], actor="x")',
    'kind = "note"\njournal.event(None, kind, actor="x")',
])
def test_the_scan_finds_a_bare_kind(code):
    assert scan_source(code, "snippet", Scan()).bare


def test_the_scan_resolves_members_through_choices_tables_and_names():
    code = (
        "_STARTED = {1: EventKind.ROLLBACK_STARTED, 2: EventKind.RECOVER_STARTED}\n"
        "journal.event(cid, _STARTED[mode], actor='x')\n"
        "journal.event(None, EventKind.PASSWORD_RESET if had else EventKind.PASSWORD_SET, actor='x')\n"
        "closing = EventKind.CLOSE_VALIDATION\n"
        "journal.event(cid, closing, actor='x')\n"
        "self._report(kind, host)\n"  # forwarded: its callers are scanned
    )
    scan = scan_source(code, "snippet", Scan())
    assert not scan.bare
    assert set(scan.written) == {"ROLLBACK_STARTED", "RECOVER_STARTED", "PASSWORD_RESET", "PASSWORD_SET",
                                 "CLOSE_VALIDATION"}


# --- the code --------------------------------------------------------------------------------------------


def test_no_writer_passes_a_bare_string_as_an_event_kind():
    scan = scan_tree(SCANNED)
    assert scan.sites > 40  # the scan found the writers (a renamed method would silently find none)
    assert scan.bare == []


def test_every_kind_named_in_the_code_is_a_member():
    scan = scan_tree(SCANNED)
    assert scan.named - set(EventKind.__members__) == set()
    assert set(scan.written) - set(EventKind.__members__) == set()


def test_every_member_is_written_by_the_product():
    """No dead member: each kind is written somewhere in the code that ships (bench/ does not count)."""
    written = scan_tree(PRODUCT).written
    assert set(EventKind.__members__) - set(written) == set()


def test_docs_journal_lists_every_kind():
    text = (ROOT / "docs" / "journal.md").read_text(encoding="utf-8")
    section = text.split("## The events it records", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert listed == [k.value for k in EventKind]  # the enum's order: grouped by what writes them


# --- the journal ---------------------------------------------------------------------------------------


def test_an_unknown_kind_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal(path) as j:
        with pytest.raises(ValueError, match=r"'note' is not a journal event kind"):
            j.event(None, "note", actor="x")  # type: ignore[arg-type]
        assert j.events() == [] and j.head()[0] == 0
    assert not (tmp_path / "journal.key").exists()  # not even the key of a new journal


def test_a_batch_with_one_unknown_kind_writes_none_of_it(tmp_path):
    with Journal(tmp_path / "journal.sqlite") as j:
        plan = make_plan()
        j.record_plan(plan, "dnguyen")
        head = j.head()
        items = [(EventKind.COMMITTED, "sw-doif-1", None), ("comitted", "sw-doif-1", None)]
        with pytest.raises(ValueError, match=r"'comitted' is not a journal event kind"):
            j.event_batch(plan.change.id, items, actor="dnguyen")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"'pinned' is not a journal event kind"):
            j.event_if_latest([EventKind.POLICY_PINNED], 0, "pinned", actor="x", data={})  # type: ignore[arg-type]
        assert j.head() == head
        assert j.verify() == []
        j.event(plan.change.id, EventKind.COMMITTED, actor="dnguyen", host="sw-doif-1")  # the journal goes on
        assert j.events()[-1].kind == "committed" and j.verify() == []


def test_a_known_kind_given_as_its_string_is_written_as_the_member(tmp_path):
    with Journal(tmp_path / "journal.sqlite") as j:
        j.event(None, "signin", actor="x")  # type: ignore[arg-type]
        event = j.events()[-1]
        assert event.kind == EventKind.SIGNIN and type(event.kind) is str
        assert j.verify() == []


def test_reading_refuses_no_kind_an_older_release_wrote(tmp_path):
    """Only writing is checked: a kind no longer (or never) a member, already on disk, reads and verifies."""
    path = tmp_path / "journal.sqlite"
    with Journal(path) as j:
        j.event(None, EventKind.SIGNIN, actor="x")
        seq, prev = j.head()
        at, data = "2026-12-01T09:00:00.000000+00:00", canonical({"text": "an older release's note"})
        digest = event_hash(prev, seq + 1, change_id=None, at=at, kind="note", actor="old", host=None, data=data,
                            key=j._key.material)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", (seq + 1, None, at, "note", "old", None,
                                                                      data, prev, digest))
        conn.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq + 1, digest))
    conn.close()
    with Journal(path) as j:
        assert [e.kind for e in j.events()][-1] == "note"
        assert j.verify() == []
        j.event(None, EventKind.SIGNIN, actor="x")  # and the journal goes on after it
        assert j.verify() == []
