"""The HAProxy diff keeps the servers that stay as context, so one removal reads as minor."""

from __future__ import annotations

from netchange.classifiers import classify_diff
from netchange.drivers.diffformat import diff_text
from netchange.vocabulary import Category, Role

BEFORE = (
    "backend be_web\n    balance roundrobin\n"
    "    server web1 10.0.0.1:80 weight 1\n    server web2 10.0.0.2:80 weight 1\n"
)


def servers(line: str) -> bool:
    return line.lstrip().startswith("server ")


def test_removing_one_of_two_servers_is_minor() -> None:
    after = BEFORE.replace("    server web1 10.0.0.1:80 weight 1\n", "")
    diff = diff_text(BEFORE, after, keep=servers)
    assert diff.splitlines() == [" backend be_web", "     server web2 10.0.0.2:80 weight 1",
                                 "-    server web1 10.0.0.1:80 weight 1"]
    assert classify_diff(diff, platform="haproxy", role=Role.LOAD_BALANCER).category is Category.MINOR


def test_removing_the_last_servers_is_major() -> None:
    after = "backend be_web\n    balance roundrobin\n"
    diff = diff_text(BEFORE, after, keep=servers)
    assert classify_diff(diff, platform="haproxy", role=Role.LOAD_BALANCER).category is Category.MAJOR


def test_without_keep_no_sibling_context() -> None:
    after = BEFORE.replace("    server web1 10.0.0.1:80 weight 1\n", "")
    assert diff_text(BEFORE, after).splitlines() == [" backend be_web", "-    server web1 10.0.0.1:80 weight 1"]
