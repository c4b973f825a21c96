"""The lab's delaying relay (netchange.lab.latency, issue 27 item 3): each exchange through it
waits the round trip it adds, bytes arrive whole and in order, and it is stopped by its PID."""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import threading
import time
from pathlib import Path

from netchange.lab import latency
from netchange.lab.component import LabContext


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


def _exchange(sock: socket.socket, payload: bytes) -> float:
    started = time.perf_counter()
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        got += sock.recv(65536)
    assert got == payload
    return time.perf_counter() - started


def test_each_exchange_waits_the_added_round_trip_and_bytes_keep_their_order(tmp_path: Path) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ctx = LabContext(root=tmp_path)
    try:
        ports = latency.relay(ctx, tmp_path, pid_key="relay", targets={"echo": server.server_address[1]},
                              public={}, rtt_ms=40)
        with socket.create_connection(("127.0.0.1", ports["echo"]), timeout=5) as sock:
            times = [_exchange(sock, bytes([i]) * 1000 * (i + 1)) for i in range(5)]
        # A lower bound only (the relay holds each chunk 20 ms each way; the machine may add more).
        assert all(t >= 0.040 for t in times), times
        payload = os.urandom(300_000)  # several chunks each way: whole and in order
        with socket.create_connection(("127.0.0.1", ports["echo"]), timeout=5) as sock:
            _exchange(sock, payload)
    finally:
        pid = ctx.pids.get("relay")
        if pid:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        server.shutdown()
        server.server_close()
