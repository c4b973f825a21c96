"""``netchange worker``: a Temporal worker of the team set-up (issue 25, docs/team-setup.md "Temporal").

``--control``: the workflows and the central activities (the journal's appends: this machine holds
the journal's key, the policy and the database's URL). ``--site SITE``: that site's device
activities, run near its devices with that site's credentials only. It runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest


@app.command()
def worker(
    site: Annotated[list[str] | None, typer.Option("--site", help="Run this site's device activities.")] = None,
    control: Annotated[bool, typer.Option("--control", help="Run the workflows and central activities.")] = False,
) -> None:
    """Run a Temporal worker (NETCHANGE_TEMPORAL_ADDRESS) for the control queue or a site's queue."""
    from netchange.workflow import WorkerThread, site_queue

    if not control and not site:
        raise BadRequest("worker: say --control, --site SITE, or both")
    cfg = settings()
    running = WorkerThread(lambda: cfg, address=cfg.temporal_address, namespace=cfg.temporal_namespace,
                           control=control, sites=site or []).start()
    queues = (["netchange-control"] if control else []) + [site_queue(s) for s in site or []]
    err.print(f"worker on {cfg.temporal_address}: {', '.join(queues)}" + (f" (own queue {running.queue})"
                                                                          if running.queue else ""))
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda signum, frame: running.stop())
    running.wait()
