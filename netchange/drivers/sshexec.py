"""Commands on a Linux device over SSH, one exec channel each: the shared part of the drivers of
Linux-hosted network daemons (nftables, FRR, keepalived).

An exec channel, not an interactive shell (netmiko's ``linux`` device type): these drivers decide on
the exit status of ``nft -c``, ``vtysh -C``, ``frr-reload.py`` and ``keepalived -t``, which only
an exec channel reports; there is no prompt to match and nothing to strip.

paramiko with key (or password) login; host keys are checked against ``known_hosts`` (written at
``lab up`` for the lab) or the user's own file, never accepted blindly.
"""

from __future__ import annotations

import paramiko

from netchange.drivers.base import DriverOptions
from netchange.drivers.errors import OpenFailed, SessionClosed


class SshOptions(DriverOptions):
    """``optional_args`` of an SSH-exec driver."""

    key_file: str | None = None
    """SSH private key (else the password)."""
    known_hosts: str | None = None
    """Host keys are verified against this file, else the user's own known_hosts."""
    alt_key_file: str | None = None
    """netmiko's name for ``known_hosts``."""


class SshExec:
    """One SSH session to ``hostname:port``; :meth:`run` gives (exit status, stdout, stderr)."""

    def __init__(self, hostname: str, port: int, *, username: str, password: str, timeout: int,
                 options: SshOptions) -> None:
        self.hostname, self.port, self.username, self.password = hostname, port, username, password
        self.timeout = timeout
        self.name = f"{hostname}:{port}"
        self.key_file = options.key_file or None
        self.known_hosts = options.known_hosts or options.alt_key_file or None
        self.client: paramiko.SSHClient | None = None

    def open(self) -> None:
        client = paramiko.SSHClient()
        try:
            if self.known_hosts:
                client.load_host_keys(self.known_hosts)
            else:
                client.load_system_host_keys()
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            client.connect(
                self.hostname, port=self.port, username=self.username, password=self.password or None,
                key_filename=self.key_file, look_for_keys=False, allow_agent=False,
                timeout=self.timeout, banner_timeout=self.timeout, auth_timeout=self.timeout,
            )
        except (paramiko.SSHException, OSError) as exc:
            client.close()
            raise OpenFailed(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        self.client = client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def is_alive(self) -> bool:
        transport = self.client.get_transport() if self.client else None
        return bool(transport and transport.is_active())

    def run(self, command: str, stdin: str | None = None) -> tuple[int, str, str]:
        """Run ``command`` (a shell line), ``stdin`` fed to it; (exit status, stdout, stderr)."""
        if self.client is None:
            raise SessionClosed(f"{self.name}: not connected (call open())")
        try:
            chan_in, chan_out, chan_err = self.client.exec_command(command, timeout=self.timeout)
            if stdin is not None:
                chan_in.write(stdin)
            chan_in.channel.shutdown_write()
            out = chan_out.read().decode()
            err = chan_err.read().decode()
            return chan_out.channel.recv_exit_status(), out, err
        except (paramiko.SSHException, OSError) as exc:
            raise SessionClosed(f"{self.name}: session lost: {exc}") from exc
