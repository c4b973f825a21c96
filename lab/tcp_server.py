"""A tiny TCP service for the lab's server namespaces: accept, say which port answered, close.

Run as ``python lab/tcp_server.py ADDRESS PORT[,PORT...] READY_FILE`` inside a server namespace;
it writes ``READY_FILE`` once every port listens. Post-checks only need a new connection to
succeed or fail, so the service does nothing more.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def _serve(address: str, ports: list[int], ready: Path) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        writer.write(f"ok {port}\n".encode())
        await writer.drain()
        writer.close()

    servers = [await asyncio.start_server(answer, address, port) for port in ports]
    ready.write_text("ready\n")
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main(argv: list[str]) -> int:
    address, ports, ready = argv[0], [int(p) for p in argv[1].split(",")], Path(argv[2])
    asyncio.run(_serve(address, ports, ready))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
