"""Recover after a crash during an IOS commit (issue 21 items 2 and 5), on the lab's switches.

``apply`` of examples/03 killed (SIGKILL) right after the canary switch committed, nothing more
journaled (its ``commit_started`` is the last word): the switch has VLAN 30, no state after the
commit is on record. ``recover`` used to call the ``!`` closing the change's own block "changed by
someone else" and leave the switch changed; it must restore it. On the way, a recover whose read
of the device fails (a lost session, injected) says so, in the terminal, the journal and the sheet,
and does not blame a person. Devices are read with a plain netmiko session, not the driver.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from netchange.journal import Journal
from netchange.lab.manager import LabManager
from tests.integration.test_crash_matrix import EX03, EXAMPLES, Reader
from tests.integration.test_e2e_apply import MEDIUM_TIME, netchange

pytestmark = pytest.mark.lab
CHANGE = "CHG-2026-2190"
CANARY = "sw-doif-core1"


def _events(change_id: str, host: str) -> list[tuple[str, dict[str, object]]]:
    journal = Journal(Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite")
    try:
        return [(e.kind, e.data) for e in journal.events(change_id) if e.host == host]
    finally:
        journal.close()


def test_recover_after_a_kill_at_the_ios_commit_restores_the_switch(lab: LabManager, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    reader = Reader(lab)
    before = {h: reader.read(h) for h in EX03}
    assert "vlan 30\n" not in before[CANARY]
    request = yaml.safe_load((EXAMPLES / "03-vlan-and-rule-postcheck-fails.yaml").read_text())
    request["id"] = CHANGE
    change = tmp_path / "c.yaml"
    change.write_text(yaml.safe_dump(request))
    assert netchange(lab, "plan", str(change)).returncode == 0
    assert netchange(lab, "approve", CHANGE, actor="amoreau").returncode == 0

    monkeypatch.setenv("NETCHANGE_FAILPOINT", f"apply.committed@{CANARY}:kill")
    killed = netchange(lab, "apply", CHANGE, now=MEDIUM_TIME)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert "vlan 30\n" in reader.read(CANARY)  # committed on the device ...
    assert [k for k, _ in _events(CHANGE, CANARY)][-1] == "commit_started"  # ... and nothing after on record

    # A recover that cannot read the switch: a lost session, said as such, never "someone else".
    monkeypatch.setenv("NETCHANGE_FAILPOINT", f"restore.read@{CANARY}:raise")
    lost = netchange(lab, "recover", CHANGE)
    assert lost.returncode == 1
    said = lost.stdout + lost.stderr
    assert "the session to the device was lost" in said and "someone else" not in said, said
    failed = [d for k, d in _events(CHANGE, CANARY) if k == "rollback_failed"]
    assert failed[-1]["cause"] == "session_lost"
    sheet = netchange(lab, "report", CHANGE, "--format", "md")
    assert "ALARM — the session to the device was lost" in sheet.stdout, sheet.stdout + sheet.stderr

    monkeypatch.delenv("NETCHANGE_FAILPOINT")
    recovered = netchange(lab, "recover", CHANGE)
    said = recovered.stdout + recovered.stderr
    assert recovered.returncode == 0, said
    assert "someone else" not in said
    after = {h: reader.read(h) for h in EX03}
    assert "vlan 30\n" not in after[CANARY]
    assert after == before  # byte-equal to the snapshots, read by a plain netmiko session
    shown = json.loads(netchange(lab, "show", CHANGE, "--json").stdout)
    assert shown["state"] == "rolled_back"
    # The next plan of the same request starts from a switch as it was: its pre-checks pass.
    request["id"] = "CHG-2026-2191"
    change.write_text(yaml.safe_dump(request))
    replanned = netchange(lab, "plan", str(change))
    assert replanned.returncode == 0, replanned.stdout + replanned.stderr
