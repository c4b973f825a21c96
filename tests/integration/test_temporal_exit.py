"""A command that used Temporal ends with its own exit code (netchange.cli.main.entry).

temporalio's client leaves a Rust (tokio) runtime whose threads race the interpreter's teardown:
a process that connected to a Temporal server and then exited normally died of SIGSEGV about
once in forty (a ``recover`` through Temporal failed CI on it after printing "verified"). Here
processes run through ``netchange``'s entry a command that connects a client to the session's dev
server, prints and exits 3: every one must exit 3 with its output whole, whatever the runtime's
threads do at exit (a process exiting that way by itself failed 10 times in 150).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from netchange.workflow._server import DevServer

RUNS = 30

CHILD = """
import asyncio, sys
from temporalio.client import Client
from netchange.cli import main as cli

async def connected() -> None:
    client = await Client.connect(sys.argv[1])
    await client.count_workflows()


def command() -> None:
    # A command that ends as soon as its Temporal call returned (a recover that printed its end):
    # the runtime's threads are still busy when the interpreter goes down.
    asyncio.run(connected())
    print("verified")
    sys.exit(3)


cli.main = command
cli.entry()
"""


def test_a_command_that_used_temporal_exits_with_its_own_code(temporal_server: DevServer) -> None:
    def one(_: int) -> tuple[int, str]:
        ran = subprocess.run([sys.executable, "-c", CHILD, temporal_server.address], capture_output=True,
                             text=True, timeout=120, check=False)
        return ran.returncode, ran.stdout

    with ThreadPoolExecutor(max_workers=3) as pool:
        ends = list(pool.map(one, range(RUNS)))
    assert Counter(code for code, _ in ends) == Counter({3: RUNS}), ends
    assert all(out == "verified\n" for _, out in ends), ends
