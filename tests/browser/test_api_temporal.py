"""The service starts an apply as the Temporal workflow (issue 25): ``POST /api/changes/ID/apply``.

With NETCHANGE_RUNNER=temporal the service starts ``apply:<change id>`` as the token's owner and
answers 202 with the workflow's id; the control worker (its own process) runs the guard, and the
journal records its decision under that person. Without the setting: 409, nothing started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError

from netchange.journal.testing import make_plan
from netchange.vocabulary import Category
from netchange.workflow import DevServer
from tests.browser.support import journal_of, make_home, netchange, server, store
from tests.mockdev import SWITCH_RUNNING, MockDevice, write_inventory


def test_the_service_starts_the_apply_workflow_as_the_token_s_owner(tmp_path: Path,
                                                                     temporal_server: DevServer) -> None:
    home, policy, env = make_home(tmp_path)
    env["NETCHANGE_NORNIR_CONFIG"] = str(write_inventory(tmp_path / "inventory", [MockDevice("sw-doif-1",
                                                                                             SWITCH_RUNNING)]))
    plan = make_plan("CHG-2026-0451", category=Category.MEDIUM, requester="crenard",
                     hosts=(("sw-doif-1", "doif"),), policy_digest=policy.digest)
    store(home, policy, plan)
    token = netchange(env, "users", "token", "amoreau", "--label", "tests").stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    with server(env) as base, httpx.Client(base_url=base, headers=headers, timeout=30) as api:
        refused = api.post("/api/changes/CHG-2026-0451/apply", json={})
        assert refused.status_code == 409 and "NETCHANGE_RUNNER=temporal" in refused.json()["error"]
    env = {**env, "NETCHANGE_RUNNER": "temporal", "NETCHANGE_TEMPORAL_ADDRESS": temporal_server.address}
    control = subprocess.Popen([sys.executable, "-m", "netchange", "worker", "--control"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with journal_of(home) as journal:
        last = journal.events("CHG-2026-0451")[-1].seq
    try:
        assert control.stderr is not None and "worker on" in control.stderr.readline()
        with server(env) as base, httpx.Client(base_url=base, headers=headers, timeout=30) as api:
            started = api.post("/api/changes/CHG-2026-0451/apply", json={})
            assert started.status_code == 202, started.text
            # ``after``: the change's last event before the start, where following the run begins.
            assert started.json() == {"change_id": "CHG-2026-0451", "workflow_id": "apply:CHG-2026-0451",
                                      "after": last}

        async def outcome() -> BaseException:
            client = await Client.connect(temporal_server.address)
            with pytest.raises(WorkflowFailureError) as failed:
                await client.get_workflow_handle("apply:CHG-2026-0451").result()
            return failed.value

        failure = asyncio.run(outcome())
    finally:
        os.kill(control.pid, signal.SIGTERM)
        control.wait(30)
    # Not approved: the guard refused it, on the control worker, as amoreau (the token's owner).
    assert "netchange.errors" in str(getattr(failure.cause, "type", "")), failure.cause
    with journal_of(home) as journal:
        guards = [e for e in journal.events("CHG-2026-0451") if e.kind == "guard"]
    assert [(e.actor, e.data["allowed"]) for e in guards] == [("amoreau", False)]
