"""The ``asa_cli`` driver against the lab's ASA stand-in, over SSH (issue 22 item 12).

The firewall ``asa-doif`` is the stand-in of :mod:`netchange.lab.asa_firewalls`: fake-switches' SSH
framework with an ASA's prompts and a configuration model of its own, seeded with a real ASA 9.0
configuration from the corpus. netchange drives it through its real ``asa_cli`` driver (netmiko
``cisco_asa``: ``show curpriv``, ``enable``, ``terminal pager 0``, ``terminal width 511``); the
device is read by its own means, a plain netmiko session's ``show running-config``
(:class:`tests.integration.test_crash_matrix.Reader`), never through the code under test.

- plan → apply → the device shows the entry at the line planned and the new group member, its
  startup configuration saved → rollback → the device byte for byte as before;
- a line the ASA refuses in the middle of a commit (an access-list entry naming an object-group it
  lacks; an entry it already has, its "found duplicate element") stops the commit, and the lines
  already typed are undone;
- recover: tests/integration/test_crash_matrix.py kills this change's apply (and recover) at each
  point of the firewall's commit, save and restore (scenario ``asa_cli``), then checks the firewall
  is back as it was, read the same way. Its first run found the ASA's checksum line in the driver's
  reading, called "changed by someone else" by recover (the driver drops it now).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from napalm.base.exceptions import MergeConfigException

from netchange.lab.manager import LabManager
from tests.integration.test_crash_matrix import Reader
from tests.integration.test_e2e_apply import MINOR_TIME, netchange, write

pytestmark = pytest.mark.lab
FIREWALL = "asa-doif"
PLATFORM = "asa_cli"
ENTRY = "access-list INSIDE_in extended permit tcp 198.51.100.0 255.255.255.0 host 192.0.2.80 eq 8443"
MEMBER = " network-object host 198.51.100.10"


def request(change_id: str) -> dict[str, Any]:
    """An ACL entry placed first in INSIDE_in and a new member of the group ``Inside``."""
    return {
        "id": change_id, "title": "Partner access to the reporting server", "ticket": "T-2212",
        "requester": "crenard",
        "steps": [
            {"type": "fw_object_group", "targets": {"hosts": [FIREWALL]},
             "params": {"group": "Inside", "add": ["198.51.100.10/32"]}},
            {"type": "acl_entries", "targets": {"hosts": [FIREWALL]},
             "params": {"acl": "INSIDE_in", "add": [
                 {"action": "permit", "protocol": "tcp", "source": "198.51.100.0/24",
                  "destination": "192.0.2.80/32", "port": 8443, "position": 1}]}},
        ],
    }


def _section(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return lines[start + 1:end]


def _acl(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"access-list {name} ")]


def test_plan_apply_rollback_read_back_by_the_firewall_itself(lab: LabManager, tmp_path: Path) -> None:
    reader = Reader(lab)
    before = reader.read(FIREWALL)
    assert before.startswith(": Saved") and before.rstrip().endswith(": end")  # an ASA's own printing
    change = write(tmp_path, "c.yaml", request("CHG-2026-2212"))
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    host = {h["name"]: h for h in json.loads(planned.stdout)["hosts"]}[FIREWALL]
    assert host["platform"] == PLATFORM
    diff = host["diff"].splitlines()
    assert f"+{ENTRY.replace('INSIDE_in ', 'INSIDE_in line 1 ')}" in diff, host["diff"]
    assert f"+{MEMBER}" in diff, host["diff"]

    applied = netchange(lab, "apply", "CHG-2026-2212", now=MINOR_TIME)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = reader.read(FIREWALL)
    assert _acl(after, "INSIDE_in")[0] == ENTRY  # typed at line 1, before the rest, as planned
    assert _acl(after, "INSIDE_in")[1:] == _acl(before, "INSIDE_in")
    assert _section(after, "object-group network Inside") == [*_section(before, "object-group network Inside"),
                                                                MEMBER]
    startup = reader.startup(FIREWALL)  # apply saved it: `write memory`, read back by `show startup-config`
    assert startup == after

    rolled = netchange(lab, "rollback", "CHG-2026-2212", now=MINOR_TIME)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert reader.read(FIREWALL) == before  # checksum included: the same configuration


@pytest.mark.parametrize(("refused", "says"), [
    # an object-group the firewall does not have
    ("access-list INSIDE_in extended permit tcp object-group PARTNERS any4 eq 8443", "ERROR:"),
    # an entry it already has, placed again: ASA keeps it where it was and says so
    ("access-list INSIDE_in line 1 extended deny ip any4 any4 log", "found duplicate element"),
])
def test_a_line_the_firewall_refuses_mid_commit_is_undone(
        lab: LabManager, open_driver: Callable[[str], Any], refused: str, says: str) -> None:
    reader = Reader(lab)
    before = reader.read(FIREWALL)
    dev = open_driver(FIREWALL)
    dev.load_merge_candidate(config=(
        "object-group network REPORTING\n network-object host 192.0.2.80\n"
        "access-list INSIDE_in line 1 extended permit tcp any4 object-group REPORTING eq 8443\n"
        f"{refused}\n"))
    with pytest.raises(MergeConfigException, match=says) as raised:
        dev.commit_config()
    assert "lines already sent were undone" in str(raised.value)
    assert reader.read(FIREWALL) == before
