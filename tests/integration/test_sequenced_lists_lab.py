"""Sequenced lists on the lab's FRR routers (issue 22 item 2): the number typed is the one planned.

FRR is the lab's stand-in that keeps numbered lists (prefix-lists, route-maps); the IOS-style
switches (fake-switches) have no access-lists, so ``acl_entries`` is tested on real stored
configurations (tests/unit/test_sequenced_lists.py). Here, on ``rtr-doso-a``:

- a prefix-list entry without ``seq``, asked first in the list, is planned with the free number that
  puts it there (2, before seq 5), applied, read back from the router at that place, and rolled back
  byte for byte;
- an entry asking for a ``seq`` the list has (FRR would overwrite that entry) is a failed pre-check:
  exit 1, nothing sent, the router unchanged;
- a route-map entry without ``seq`` is planned after the last one (the map has no final deny).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.lab.manager import LabManager
from tests.integration.test_e2e_apply import MINOR_TIME, netchange, running, write

pytestmark = pytest.mark.lab
ROUTER = "rtr-doso-a"
NEW_PREFIX = "192.0.2.0/24"  # announced by the upstream, filtered by FROM-UPSTREAM until the change


def _change(tmp_path: Path, change_id: str, type_name: str, params: dict[str, Any]) -> str:
    return write(tmp_path, f"{change_id}.yaml", {
        "id": change_id, "title": "Sequenced list entry", "ticket": "T-2202", "requester": "bleroy",
        "steps": [{"type": type_name, "targets": {"hosts": [ROUTER]}, "params": params}]})


def _prefix_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("ip prefix-list FROM-UPSTREAM ")]


def test_an_entry_without_seq_is_typed_with_the_number_planned_and_lands_there(
        lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, ROUTER)
    assert _prefix_lines(before[ROUTER])[0].startswith("ip prefix-list FROM-UPSTREAM seq 5 ")
    change = _change(tmp_path, "CHG-2026-2202", "prefix_list",
                     {"name": "FROM-UPSTREAM", "add": [{"action": "permit", "prefix": NEW_PREFIX, "position": 1}]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    host = {h["name"]: h for h in json.loads(planned.stdout)["hosts"]}[ROUTER]
    assert f"+ip prefix-list FROM-UPSTREAM seq 2 permit {NEW_PREFIX}" in host["diff"].splitlines(), host["diff"]
    applied = netchange(lab, "apply", "CHG-2026-2202", now=MINOR_TIME)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = _prefix_lines(running(open_driver, ROUTER)[ROUTER])
    assert after[0] == f"ip prefix-list FROM-UPSTREAM seq 2 permit {NEW_PREFIX}", after
    rolled = netchange(lab, "rollback", "CHG-2026-2202", now=MINOR_TIME)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert running(open_driver, ROUTER) == before


def test_a_seq_frr_would_overwrite_is_refused_before_anything_is_sent(
        lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, ROUTER)
    change = _change(tmp_path, "CHG-2026-2203", "prefix_list",
                     {"name": "FROM-UPSTREAM", "add": [{"seq": 5, "action": "permit", "prefix": NEW_PREFIX}]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 1, planned.stdout + planned.stderr
    host = {h["name"]: h for h in json.loads(planned.stdout)["hosts"]}[ROUTER]
    failed = [c for c in host["pre_checks"] if not c["passed"] and not c.get("not_run")]
    first = _prefix_lines(before[ROUTER])[0].removeprefix("ip prefix-list FROM-UPSTREAM ")  # seq 5 permit …
    assert [c["detail"] for c in failed] == [f"seq 5 is taken ({first})"]
    assert running(open_driver, ROUTER) == before


def test_a_route_map_entry_without_seq_goes_after_the_last(lab: LabManager, tmp_path: Path) -> None:
    change = _change(tmp_path, "CHG-2026-2204", "route_map",
                     {"name": "FROM-UPSTREAM", "add": [{"action": "permit", "match_prefix_list": "FROM-UPSTREAM",
                                                        "set_local_preference": 150}]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    host = {h["name"]: h for h in json.loads(planned.stdout)["hosts"]}[ROUTER]
    assert "+route-map FROM-UPSTREAM permit 20" in host["diff"].splitlines(), host["diff"]
