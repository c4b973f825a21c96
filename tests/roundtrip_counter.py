"""``netchange`` with every exchange with a device counted: ``python -m tests.roundtrip_counter apply ID``.

A round trip is one command the device answers before netchange goes on: a ``send_command`` or a
``send_config_set`` of netmiko (the IOS and ASA CLI drivers' session), one SSH exec of
:class:`netchange.drivers.sshexec.SshExec` (nftables, FRR, keepalived). Opening the session (the
login, ``enable``) is not counted: the hand-written floor opens one too. The counts go, by
``host:port``, as JSON to the file named by ``NETCHANGE_ROUNDTRIPS`` when the process ends, each
with the commands in their order (what the test prints when a count regresses).

The wrapper sits at the session layer, below the drivers: what a driver sends is what is
counted, however it sends it (issue 27 item 1).
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netmiko.base_connection import BaseConnection

from netchange.cli.main import main
from netchange.drivers.sshexec import SshExec

_LOCK = threading.Lock()
SENT: dict[str, list[str]] = defaultdict(list)


def _note(where: str, what: str) -> None:
    with _LOCK:
        SENT[where].append(what)


def _counted(method: Callable[..., Any], describe: Callable[..., str]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        _note(f"{self.host}:{self.port}", describe(*args, **kwargs))
        return method(self, *args, **kwargs)

    return wrapper


def _command(command_string: str = "", *args: Any, **kwargs: Any) -> str:
    return str(kwargs.get("command_string", command_string))


def _config(config_commands: Any = None, *args: Any, **kwargs: Any) -> str:
    lines = kwargs.get("config_commands", config_commands) or []
    lines = [lines] if isinstance(lines, str) else list(lines)
    return "config: " + " | ".join(str(line) for line in lines)


def _exec(command: str, stdin: str | None = None) -> str:
    return "exec: " + command.split("\n", 1)[0][:120]


def install() -> None:
    """Wrap netmiko's and SshExec's senders (this process only)."""
    BaseConnection.send_command = _counted(BaseConnection.send_command, _command)  # type: ignore[method-assign]
    BaseConnection.send_command_timing = _counted(  # type: ignore[method-assign]
        BaseConnection.send_command_timing, _command)
    BaseConnection.send_config_set = _counted(BaseConnection.send_config_set, _config)  # type: ignore[method-assign]
    original_run = SshExec.run

    def run(self: SshExec, command: str, stdin: str | None = None) -> tuple[int, str, str]:
        _note(f"{self.hostname}:{self.port}", _exec(command, stdin))
        return original_run(self, command, stdin)

    SshExec.run = run  # type: ignore[method-assign]


def _dump() -> None:
    target = os.environ.get("NETCHANGE_ROUNDTRIPS")
    if target:
        with _LOCK:
            Path(target).write_text(json.dumps(dict(SENT), indent=1))


if __name__ == "__main__":
    install()
    atexit.register(_dump)
    main()
