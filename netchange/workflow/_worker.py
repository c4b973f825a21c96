"""The workers: ``netchange worker --control`` (the workflows and the central activities) and
``netchange worker --site SITE`` (that site's device activities, on its queue and on one of its own).

:class:`WorkerThread` runs them on an event loop of their own in a thread of this process: what
the command's process does (its main thread waits for a signal), and what the tests do beside the
pipeline they drive.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from netchange.workflow._types import CONTROL_QUEUE, site_queue

if TYPE_CHECKING:
    from temporalio.client import Client

    from netchange.config import Settings

DEVICE_THREADS = 64
"""Device activities running at once on one worker (each holds a thread for its driver's calls)."""


async def connect(address: str, namespace: str = "default") -> Client:
    """A client of the Temporal frontend at ``address`` (host:port); unreachable: ``DatabaseUnavailable``-like
    refusal (exit 3, one line)."""
    from temporalio.client import Client

    from netchange.errors import EngineUnavailable

    try:
        return await Client.connect(address, namespace=namespace)
    except Exception as exc:  # the SDK's connection errors are RuntimeErrors of its core
        raise EngineUnavailable(f"Temporal at {address} is unreachable ({str(exc).splitlines()[0][:200]})") from None


def _workflow_runner() -> Any:
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

    # netchange's modules the workflows import are pure (types, names): passed through the sandbox.
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("netchange"))


class WorkerThread:
    """Control and/or site workers, run on their own event loop in a daemon thread until :meth:`stop`."""

    def __init__(self, settings: Callable[[], Settings], *, address: str, namespace: str = "default",
                 control: bool = False, sites: Sequence[str] = ()) -> None:
        if not control and not sites:
            raise ValueError("a worker runs the control queue, a site's queue, or both")
        self.settings = settings
        self.address = address
        self.namespace = namespace
        self.control = control
        self.sites = list(sites)
        self.queue = f"{site_queue('-'.join(self.sites))}-{uuid.uuid4().hex[:12]}" if self.sites else ""
        """This worker's own queue (session affinity: a host's later steps come back here)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="netchange-temporal-worker", daemon=True)
        self._site: Any = None

    def start(self, timeout: float = 30.0) -> WorkerThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the Temporal worker did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def wait(self) -> None:
        """Until the workers stop (a signal's :meth:`stop`)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(); after it, the thread just ends
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        from temporalio.worker import Worker

        from netchange.workflow._control import ControlActivities
        from netchange.workflow._site import SiteActivities
        from netchange.workflow._workflows import ApplyWorkflow, PlanWorkflow, RestoreWorkflow

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        client = await connect(self.address, self.namespace)
        loop = self._loop
        workers = []
        with ThreadPoolExecutor(DEVICE_THREADS, thread_name_prefix="netchange-activity") as executor:
            if self.control:
                control = ControlActivities(self.settings)
                workers.append(Worker(client, task_queue=CONTROL_QUEUE,
                                      workflows=[ApplyWorkflow, PlanWorkflow, RestoreWorkflow],
                                      activities=control.all(), activity_executor=executor,
                                      workflow_runner=_workflow_runner(), max_concurrent_activities=DEVICE_THREADS))
            if self.sites:
                site = self._site = SiteActivities(self.settings, sites=self.sites, queue=self.queue,
                                                   client=lambda: client, loop=lambda: loop)
                for queue in [*(site_queue(s) for s in self.sites), self.queue]:
                    workers.append(Worker(client, task_queue=queue, activities=site.all(), activity_executor=executor,
                                          max_concurrent_activities=DEVICE_THREADS))
            tasks = [asyncio.create_task(w.run()) for w in workers]
            self._ready.set()
            stopping = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
            for w in workers:
                await w.shutdown()
            for t in tasks:
                if t in done and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
            if self._site is not None:
                self._site.close_all()


__all__ = ["DEVICE_THREADS", "WorkerThread", "connect"]
