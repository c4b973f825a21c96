"""The four diff writers and the parser share one module and one format (issue 12 item 4): what
each writer prints, the parser reads back without a malformed line, each change under its parent."""

from __future__ import annotations

from netchange.drivers import diffformat
from netchange.drivers.bind import Record, diff_records
from netchange.drivers.ios_cli import IOS, diff_configs, parse
from netchange.drivers.nftables import ruleset_diff


def _changes(diff: str) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    parsed = diffformat.parse_diff(diff)
    assert parsed.malformed == ()
    return [(line.sign, line.body, line.ancestors) for line in parsed.changed]


def test_hier_writer() -> None:
    old = parse("interface Vlan10\n description a\n", IOS)
    new = parse("interface Vlan10\n description b\nvlan 20\n", IOS)
    assert _changes(diff_configs(old, new)) == [
        ("-", "description a", ((" ", "interface Vlan10"),)),
        ("+", "description b", ((" ", "interface Vlan10"),)),
        ("+", "vlan 20", ()),
    ]


def test_tree_writer() -> None:
    diff = diffformat.diff_text("backend b\n  server s1 10.0.0.1:80\n", "backend b\n  server s2 10.0.0.2:80\n")
    assert _changes(diff) == [("-", "server s1 10.0.0.1:80", ((" ", "backend b"),)),
                              ("+", "server s2 10.0.0.2:80", ((" ", "backend b"),))]


def test_block_writer() -> None:
    old = "table inet filter {\n\tchain input {\n\t\ttcp dport 22 accept\n\t}\n}\n"
    new = "table inet filter {\n\tchain input {\n\t\ttcp dport 2222 accept\n\t}\n}\n"
    assert _changes(ruleset_diff(old, new)) == [
        (sign, rule, ((" ", "chain input {"), (" ", "table inet filter {")))
        for sign, rule in (("-", "tcp dport 22 accept"), ("+", "tcp dport 2222 accept"))]


def test_set_writer() -> None:
    a = Record("www.example.org.", "A", "192.0.2.1", 300)
    b = Record("www.example.org.", "A", "192.0.2.2", 300)
    assert [(s, body.split()[-1]) for s, body, _ in _changes(diff_records(frozenset({a}), frozenset({b})))] == [
        ("-", "192.0.2.1"), ("+", "192.0.2.2")]
