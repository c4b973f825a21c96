"""Pure helpers of the nftables driver: the ruleset diff, normalisation, script checks."""

from __future__ import annotations

import pytest

from netchange.drivers.nftables import check_script, normalize_ruleset, ruleset_diff

BASE = """table inet filter {
\tset allowed_clients {
\t\ttype ipv4_addr
\t\telements = { 10.201.1.50 }
\t}

\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t}
}
"""


def test_added_rule_shows_its_table_and_chain() -> None:
    new = BASE.replace(
        "established,related accept\n", "established,related accept\n\t\ttcp dport 22 accept\n"
    )
    assert ruleset_diff(BASE, new).splitlines() == [
        " table inet filter {",
        " \tchain forward {",
        "+\t\ttcp dport 22 accept",
    ]


def test_changed_set_element_line() -> None:
    new = BASE.replace("{ 10.201.1.50 }", "{ 10.201.1.10, 10.201.1.50 }")
    assert ruleset_diff(BASE, new).splitlines() == [
        " table inet filter {",
        " \tset allowed_clients {",
        "-\t\telements = { 10.201.1.50 }",
        "+\t\telements = { 10.201.1.10, 10.201.1.50 }",
    ]


def test_removed_block_and_context_not_repeated() -> None:
    new = BASE.replace(
        "\tset allowed_clients {\n\t\ttype ipv4_addr\n\t\telements = { 10.201.1.50 }\n\t}\n\n", ""
    )
    new = new.replace("policy drop", "policy accept")
    diff = ruleset_diff(BASE, new).splitlines()
    assert diff.count(" table inet filter {") == 1
    assert "-\tset allowed_clients {" in diff
    assert "+\t\ttype filter hook forward priority filter; policy accept;" in diff
    assert not any(line.strip() in {"-", "+"} for line in diff)  # blank lines are not shown


def test_no_change_no_diff() -> None:
    assert ruleset_diff(BASE, BASE) == ""


def test_new_table_is_all_added() -> None:
    diff = ruleset_diff("", "table ip nat {\n\tchain post {\n\t}\n}\n").splitlines()
    assert diff == ["+table ip nat {", "+\tchain post {", "+\t}", "+}"]


def test_normalize_ruleset_zeroes_volatile_values() -> None:
    a = "\t\ttcp dport 22 counter packets 12 bytes 720 accept\n\t\telements = { 10.0.0.1 expires 9s }\n"
    b = "\t\ttcp dport 22 counter packets 99 bytes 5000 accept\n\t\telements = { 10.0.0.1 expires 3s }\n"
    assert normalize_ruleset(a) == normalize_ruleset(b)


@pytest.mark.parametrize("bad", ["", "\n\n", "flush ruleset\x00\n", 'include "/etc/passwd"\n'])
def test_check_script_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        check_script(bad)


def test_check_script_adds_final_newline() -> None:
    assert check_script("flush ruleset") == "flush ruleset\n"
