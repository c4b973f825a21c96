"""Live per-host progress of an apply: a Rich table on a terminal, plain lines otherwise, JSON lines for CI.

Workers call from many threads; each reporter serialises its own output.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table

from netchange import redact

_STYLE = {
    "waiting": "dim", "checking": "cyan", "committing": "yellow", "post-checks": "yellow",
    "done": "green", "no change": "dim", "failed": "bold red", "rolling back": "magenta",
    "restored": "green", "ALARM": "bold white on red", "skipped": "dim",
}


class Progress(Protocol):
    def host(self, host: str, status: str, detail: str = "") -> None: ...
    def message(self, text: str) -> None: ...
    def close(self) -> None: ...


class PlainProgress:
    """One line per state change: readable in a log, a pipe or CI."""

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(f"[{time.monotonic() - self._start:7.2f}s] {redact.scrub(text)}\n")
            self._stream.flush()

    def host(self, host: str, status: str, detail: str = "") -> None:
        self._write(f"{host}: {status}{' — ' + detail if detail else ''}")

    def message(self, text: str) -> None:
        self._write(text)

    def close(self) -> None:
        return None


class JsonProgress(PlainProgress):
    """JSON lines (``{"t", "host", "status", "detail"}``) for pipelines."""

    def host(self, host: str, status: str, detail: str = "") -> None:
        record = {"t": round(time.monotonic() - self._start, 3), "host": host, "status": status, "detail": detail}
        with self._lock:
            self._stream.write(redact.scrub(json.dumps(record)) + "\n")
            self._stream.flush()

    def message(self, text: str) -> None:
        self.host("", "message", text)


class RichProgress:
    """A live table, one row per host, redrawn as states change."""

    def __init__(self, hosts: list[str], console: Console) -> None:
        self._rows: dict[str, tuple[str, str]] = dict.fromkeys(hosts, ("waiting", ""))
        self._messages: list[str] = []
        self._lock = threading.Lock()
        self._console = console
        self._live = Live(self._table(), console=console, refresh_per_second=8, transient=False)
        self._live.start()

    def _table(self) -> Table:
        table = Table("host", "status", "detail", title="apply", title_justify="left")
        for host, (status, detail) in self._rows.items():
            style = _STYLE.get(status, "")
            table.add_row(host, f"[{style}]{status}[/]" if style else status, redact.scrub(detail))
        return table

    def host(self, host: str, status: str, detail: str = "") -> None:
        with self._lock:
            self._rows[host] = (status, detail)
            self._live.update(self._table())

    def message(self, text: str) -> None:
        with self._lock:
            self._console.print(redact.scrub(text))

    def close(self) -> None:
        self._live.stop()


def make_progress(hosts: list[str], *, as_json: bool, console: Console) -> Progress:
    if as_json:
        return JsonProgress()
    if console.is_terminal:
        return RichProgress(hosts, console)
    return PlainProgress()
