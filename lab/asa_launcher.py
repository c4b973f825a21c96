"""Run the lab's ASA stand-ins in one process: fake-switches' SSH framework, an ASA's CLI.

Started by :mod:`netchange.lab.asa_firewalls` as ``python -m netchange.lab.asa_launcher SPEC.json``
(the spec, mode 0600, holds the generated passwords). Like the switches' launcher, every SSH
service binds 127.0.0.1 on a port the kernel picks and the ``{name: port}`` map is written to
the spec's ``ready_file`` once all listen.

The SSH side is fake-switches' (``SSHDemoRealm``, its ``SwitchSSHShell``: echo, line editing,
hidden input for a password); the CLI is an ASA's, written here (fake-switches has no ASA): what
netmiko's ``cisco_asa`` driver needs to open a session (``show curpriv``, ``enable`` and its
``Password:``, ``terminal pager 0``, ``terminal width 511`` in configuration mode), the prompts
``host>``, ``host#``, ``host(config)#`` and each sub-mode's (``host(config-network-object-group)#``),
``exit``, ``end``, ``show running-config``, ``show startup-config``, ``write memory``. The
configuration itself is :class:`netchange.lab.asa_config.AsaConfig`, the stand-in's own model.

As on an ASA, exec commands (``show``, ``write``) also run from configuration mode. A command the
stand-in does not know is refused as an ASA refuses it (caret line, ``ERROR: % Invalid input
detected at '^' marker.``), never by dropping the session.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from fake_switches.switch_core import SwitchCore

from netchange.lab.asa_config import INVALID, AsaConfig, Node, Refused
from netchange.lab.fakeswitch_launcher import listen, serve

log = logging.getLogger("netchange.lab.asa_launcher")

CONFIGURE = ("configure terminal", "config terminal", "conf terminal", "conf t", "config t", "configure t",
             "config term", "conf term", "configure term")
WRITE = ("write memory", "write mem", "wr mem", "write", "wr")
PRIVILEGE = {1: "P_UNPR", 15: "P_PRIV"}


class AsaSession:
    """One SSH session's CLI: its privilege, its mode (the sections it is in) and the prompt.

    Plays both parts fake-switches' shell asks of a session: ``receive(line)`` (False closes the
    session) and the ``command_processor`` whose ``replace_input`` hides what is typed (the
    enable password) and whose ``sub_processor`` is None.
    """

    def __init__(self, device: AsaDevice, terminal: Any) -> None:
        self.device = device
        self.terminal = terminal
        self.command_processor = self
        self.sub_processor = None
        self.replace_input: str | bool = False
        self.privilege = 1
        self.config_mode = False
        self.stack: list[tuple[Node, str]] = []
        self.awaiting_password = False
        self.terminal.write(self.prompt())

    @property
    def config(self) -> AsaConfig:
        return self.device.config

    def prompt(self) -> str:
        host = self.config.hostname()
        if self.stack:
            return f"{host}({self.stack[-1][1]})# "
        if self.config_mode:
            return f"{host}(config)# "
        return f"{host}# " if self.privilege == 15 else f"{host}> "

    def write_lines(self, lines: list[str]) -> None:
        if lines:
            self.terminal.write("\n".join(lines) + "\n")

    def receive(self, line: str) -> bool:
        try:
            still_open = self._receive(line)
        except Exception:  # a gap of the model: refused as input, never a dropped session
            log.exception("%s: command failed in the stand-in: %r", self.device.name, line)
            self.write_lines([INVALID])
            still_open = True
        if still_open:
            self.terminal.write(self.prompt())
        return still_open

    def _receive(self, line: str) -> bool:
        if self.awaiting_password:
            self.awaiting_password, self.replace_input = False, False
            if line == self.device.enable_secret:
                self.privilege = 15
            else:
                self.write_lines(["Invalid password"])
            return True
        typed = " ".join(line.split())
        if not typed or typed.startswith("!"):
            return True
        if typed in ("exit", "quit", "logout") and not self.config_mode:
            self.write_lines(["", "Logoff", ""])
            return False
        if self.config_mode and self._configure(typed):
            return True
        return self._exec(typed)

    # -- exec level --------------------------------------------------------------------------

    def _exec(self, typed: str) -> bool:
        words = typed.split()
        if typed == "enable":
            if self.privilege < 15:
                self.terminal.write("Password: ")
                self.replace_input, self.awaiting_password = "", True
        elif typed == "disable":
            self.privilege, self.config_mode, self.stack = 1, False, []
        elif typed == "show curpriv":
            user = self.device.username if self.privilege == 15 else "enable_1"
            self.write_lines([f"Username : {user}", f"Current privilege level : {self.privilege}",
                              f"Current Mode/s : {PRIVILEGE[self.privilege]}"])
        elif words[0] == "terminal" and len(words) == 3 and words[1] in ("pager", "width") and words[2].isdigit():
            pass
        elif self.privilege < 15:
            self.write_lines([_caret(words), INVALID])
        elif typed in CONFIGURE:
            self.config_mode = True
        elif typed in WRITE:
            self.write_lines(self.config.write_memory())
        elif words[0] == "show" and len(words) >= 2 and (shown := self._show(words[1], words[2:])) is not None:
            self.write_lines(shown)
        else:
            self.write_lines([_caret(words), INVALID])
        return True

    def _show(self, what: str, rest: list[str]) -> list[str] | None:
        if len(what) >= 3 and "running-config".startswith(what):
            return self.config.show_running(rest)
        if len(what) >= 3 and "startup-config".startswith(what):
            return self.config.startup
        if what == "version":
            return [f"Cisco Adaptive Security Appliance Software Version {self.config.version}", "",
                    f"{self.config.hostname()} up 1 day 2 hours"]
        return None

    # -- configuration mode --------------------------------------------------------------------

    def _configure(self, typed: str) -> bool:
        """A line in configuration mode; False when it is an exec command for :meth:`_exec`."""
        words = typed.split()
        if typed == "end":
            self.config_mode, self.stack = False, []
            return True
        if typed == "exit":
            if self.stack:
                self.stack.pop()
            else:
                self.config_mode = False
            return True
        if words[0] in ("show", "write", "wr", "terminal", "enable", "disable") or typed in CONFIGURE:
            return typed in CONFIGURE  # exec commands run from here too, as on an ASA
        try:
            self.write_lines(self._type(typed))
        except Refused as refused:
            self.write_lines(refused.lines)
        return True

    def _type(self, typed: str) -> list[str]:
        while self.stack:
            section, mode = self.stack[-1]
            inner = self.config.enter_child(section, mode, typed)
            if inner is not None:
                self.stack.append(inner)
                return []
            if self.config.takes(mode, typed):
                return self.config.type_child(section, mode, typed)
            self.stack.pop()  # a line of an outer mode: the ASA leaves this one for it
        entered = self.config.enter(typed)
        if entered is not None:
            self.stack.append(entered)
            return []
        return self.config.type_top(typed)


def _caret(words: list[str]) -> str:
    """Under the word an ASA stops at: the second one of a command it knows the first of."""
    return " " * (len(words[0]) + 1) + "^" if len(words) > 1 and words[0] in ("show", "write") else "^"


class AsaDevice(SwitchCore):  # type: ignore[misc]
    """One firewall: its configuration and credentials, and the sessions fake-switches' SSH opens."""

    def __init__(self, name: str, config: AsaConfig, username: str, enable_secret: str) -> None:
        super().__init__(switch_configuration=None)
        self.name = name
        self.config = config
        self.username = username
        self.enable_secret = enable_secret

    def launch(self, protocol: str, terminal_controller: Any) -> AsaSession:
        return AsaSession(self, terminal_controller)

    def get_netconf_protocol(self) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(logging.INFO)

    listen_host = spec.get("listen_host", "127.0.0.1")
    ports: dict[str, int] = {}
    for fw in spec["firewalls"]:
        config = AsaConfig()
        config.load(fw["seed"])
        device = AsaDevice(fw["name"], config, fw["username"], fw["enable_secret"])
        ports[fw["name"]] = listen(device, fw, listen_host)
    return serve(Path(spec["ready_file"]), ports)


if __name__ == "__main__":
    sys.exit(main())
