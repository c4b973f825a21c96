"""The session half of the drivers for Linux-based devices reached over SSH exec channels.

nftables, FRR and keepalived are programs on a Linux host: their drivers run commands over one
exec channel each (decisions depend on exit codes, which only an exec channel returns) and have
no confirmed commit of their own (the engine's rollback applies). What differs is what they run;
logging in, the session's life and ``is_alive`` are the same, and live here once.
"""

from __future__ import annotations

from typing import Any

from netchange.drivers.base import NetchangeDriver, NoCommitConfirm
from netchange.drivers.sshexec import SshExec, SshOptions


class SshExecDriver(NoCommitConfirm, NetchangeDriver):
    """NAPALM-contract driver base: one :class:`SshExec` session, root by default."""

    Options = SshOptions

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname, username or "root", password, timeout, optional_args)
        self.ssh = SshExec(hostname, self.port, username=self.username, password=password, timeout=timeout,
                           options=self.options)
        self.name = self.ssh.name

    def open(self) -> None:
        self.ssh.open()

    def close(self) -> None:
        self.ssh.close()

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": self.ssh.is_alive()}
