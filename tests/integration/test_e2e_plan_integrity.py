"""Issue 11 item 1 on the lab: an edited stored plan and a laxer policy file never reach a device.

The attack of the issue, replayed: plan a medium VLAN change, have it approved, lower its category
to minor in ``plans/<id>/*.json`` and apply at 10:00 on a Tuesday (the minor window). The device
is read independently before and after: it must be byte for byte unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.lab.manager import LabManager
from tests.integration.test_e2e_apply import MEDIUM_TIME, MINOR_TIME, REPO, netchange, running, write

pytestmark = pytest.mark.lab
CHG = "CHG-2026-0951"


def test_an_edited_plan_and_a_lax_policy_are_refused_and_the_switch_is_untouched(
    lab: LabManager, tmp_path: Path, open_driver: Callable[[str], Any]
) -> None:
    host = "sw-doif-core1"
    before = running(open_driver, host)
    change = write(tmp_path, "c.yaml", {
        "id": CHG, "title": "VLAN 351", "ticket": "T-951", "requester": "crenard",
        "steps": [{"type": "vlan", "targets": {"hosts": [host]}, "params": {"vlan_id": 351, "name": "tamper"}}]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["category"] == "medium"
    assert netchange(lab, "approve", CHG, actor="amoreau").returncode == 0

    stored = next((Path(os.environ["NETCHANGE_HOME"]) / "plans" / CHG).glob("*.json"))
    original = stored.read_text()
    data = json.loads(original)
    data["category"] = "minor"
    for h in data["hosts"]:
        h["category"] = "minor"
    stored.write_text(json.dumps(data, indent=2))
    refused = netchange(lab, "apply", CHG, now=MINOR_TIME)
    assert refused.returncode == 3, refused.stderr
    assert "does not match its content" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert running(open_driver, host) == before

    # The plan back as it was, but a policy file where medium needs no approval and runs at 10:00.
    stored.write_text(original)
    lax = yaml.safe_load((REPO / "policy.yaml").read_text())
    lax["categories"]["medium"]["approvals"] = []
    lax["categories"]["medium"]["windows"] = [{"days": ["mon", "tue", "wed", "thu", "fri"],
                                               "start": "08:00", "end": "20:00"}]
    lax_path = tmp_path / "lax.yaml"
    lax_path.write_text(yaml.safe_dump(lax, allow_unicode=True))
    env_policy = os.environ.get("NETCHANGE_POLICY")
    refused = netchange(lab, "--policy", str(lax_path), "apply", CHG, now=MINOR_TIME)
    assert refused.returncode == 3, refused.stderr
    assert "is not the policy in force" in refused.stderr
    assert running(open_driver, host) == before
    assert env_policy == os.environ.get("NETCHANGE_POLICY")

    # The untouched plan under the pinned policy still runs in its own window: the refusals above
    # were the edit and the policy, nothing else. Then it is undone so the lab stays as it was.
    applied = netchange(lab, "apply", CHG, now=MEDIUM_TIME)
    assert applied.returncode == 0, applied.stderr + applied.stdout
    assert "vlan 351" in running(open_driver, host)[host]
    undone = netchange(lab, "rollback", CHG, now=MEDIUM_TIME)
    assert undone.returncode == 0, undone.stderr + undone.stdout
    assert running(open_driver, host) == before
    assert netchange(lab, "journal", "verify").returncode == 0
