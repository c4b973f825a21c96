"""Devices behind a delaying TCP relay: round trips that cost what a WAN costs (issue 27 item 3).

On 127.0.0.1 a device answers in microseconds, so a benchmark measures local CPU, not the round
trips a change makes; over a WAN or a jump host each round trip costs milliseconds. The kernel's
netem would delay a veth's packets, but this machine's kernel is built without it
(``CONFIG_NET_SCH_NETEM`` is not set: ``tc qdisc add ... netem`` answers "Specified qdisc kind
is unknown"). So the delay is added where Toxiproxy's ``latency`` toxic adds it: a relay in front
of each device's port holds every chunk of bytes for half the round trip in each direction,
keeping their order. What it cannot model is loss or a congestion window; what it does model is
the one figure a change's speed depends on: each exchange waits a round trip.

``python -m netchange.lab.latency SPEC`` serves the relay (one process, one port per device),
writing ``{"ports": {name: port}}`` to the spec's ready file once every port listens;
:func:`relay` starts it for a lab component and records its PID (``lab down`` stops it).
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from netchange.lab import keys
from netchange.lab.component import LabContext

CHUNK = 65536
READY_TIMEOUT = 30.0


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk written ``delay`` seconds after it was read."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def later() -> None:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(later())
    try:
        while data := await reader.read(CHUNK):
            queue.put_nowait((time.monotonic() + delay, data))
    except OSError:
        pass
    queue.put_nowait((time.monotonic() + delay, b""))
    try:
        await sender
    except OSError:
        writer.close()


async def _relay(host: str, port: int, delay: float,
                 client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    """One client connection relayed to the device's ``port``, delayed both ways."""
    try:
        device_r, device_w = await asyncio.open_connection(host, port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(_pump(client_r, device_w, delay), _pump(device_r, client_w, delay))


async def _serve(spec: dict[str, Any]) -> None:
    host = str(spec["listen_host"])
    delay = float(spec["rtt_ms"]) / 2000
    targets: dict[str, int] = spec["targets"]
    ports: dict[str, int] = {}
    servers = []
    for name, port in targets.items():
        server = await asyncio.start_server(functools.partial(_relay, host, port, delay), host, 0)
        servers.append(server)
        ports[name] = server.sockets[0].getsockname()[1]
    ready = Path(str(spec["ready_file"]))
    tmp = ready.with_suffix(".tmp")
    tmp.write_text(json.dumps({"ports": ports}))
    tmp.replace(ready)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def relay(ctx: LabContext, workdir: Path, *, pid_key: str, targets: dict[str, int], public: dict[str, str],
          rtt_ms: float, listen_host: str = "127.0.0.1") -> dict[str, int]:
    """Start a relay adding ``rtt_ms`` of round trip in front of each ``targets`` port; trust the
    devices' host keys on the relay's ports too (SSH names a host by address and port). Returns
    the relay's port by device name."""
    ready = workdir / "latency-ready.json"
    ready.unlink(missing_ok=True)
    spec = workdir / "latency-spec.json"
    spec.write_text(json.dumps({"listen_host": listen_host, "rtt_ms": rtt_ms, "targets": targets,
                                "ready_file": str(ready)}))
    log = (workdir / "latency.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "netchange.lab.latency", str(spec)], cwd=workdir,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    ctx.pids[pid_key] = proc.pid
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the latency relay did not start: see {workdir / 'latency.log'}")
        time.sleep(0.05)
    ports: dict[str, int] = json.loads(ready.read_text())["ports"]
    with ctx.known_hosts.open("a") as fh:
        for name, key in public.items():
            fh.write(keys.known_hosts_line(listen_host, ports[name], key) + "\n")
    return ports


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(Path(sys.argv[1]).read_text())))
