"""Run many fake-switches IOS-style switches in one process: one Twisted reactor, one SSH port each.

Started by :mod:`netchange.lab.switches` as ``python -m netchange.lab.fakeswitch_launcher SPEC.json``. The spec (mode
0600, it holds the lab's generated passwords) lists the switches; every SSH service binds
127.0.0.1 on a port the kernel picks, and the launcher writes ``{name: port}`` to the spec's
``ready_file`` once every port listens, so the manager never races for a free port.

fake-switches 1.5.0 needs these adjustments, made here rather than in its installed code:

1. the enable secret is handed to the switch as text (its own launcher encodes it to bytes, so
   ``enable`` with a non-empty secret is always denied);
2. config mode learns ``end`` (netmiko leaves config mode with it);
3. a command that raises inside the server (``show ip route``…) answers
   ``% Invalid input detected at '^' marker.`` instead of dropping the SSH session;
4. VLANs, VLAN interfaces and static routes are kept sorted as real IOS shows them, so that
   removing and re-adding an item gives back the same ``show running-config`` byte for byte
   (the circular test of the driver depends on it).
5. ``write memory`` keeps a copy of the running configuration and ``show startup-config`` prints
   it (``Using N out of 65536 bytes`` first, as IOS does; ``startup-config is not present``
   before the first save). fake-switches' own ``write`` only prints OK, and it has no
   ``show startup-config``. The copy lives in the process: a restart of the launcher starts every
   switch from its seed, not from this copy (docs/safety.md, "Saving").
6. ``vtp mode server`` (or ``client``) keeps the VLANs out of ``show running-config``, as a
   Catalyst in those modes keeps its normal-range VLANs in vlan.dat: ``show vlan brief`` still
   lists them, the running configuration no longer does (issue 22, finding 1: a check that reads
   VLANs from the text fails there). ``vtp mode transparent`` (or ``off``) brings them back;
   unlike IOS, the stand-in prints no ``vtp`` line in any mode, so a switch put back in
   transparent mode shows the running configuration it had before, byte for byte.
7. banners (``banner motd #`` … ``#``, printed between ``^C``), macros (``macro name M`` … ``@``)
   and certificate chains (``certificate …`` hex lines up to ``quit``; ``no certificate …``
   asks ``[yes/no]``), as IOS types and prints them (:mod:`netchange.lab.fakeswitch_blocks`;
   issue 22 item 5: the driver types them as whole blocks).

Each switch also gets its own SSH host key (generated at ``lab up``) instead of the key that
fake-switches ships to everyone, so that clients can verify it against the lab's known_hosts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from fake_switches import switch_factory
from fake_switches.cisco import cisco_core
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
from fake_switches.switch_configuration import SwitchConfiguration, VlanPort
from fake_switches.terminal import NoopTerminalController
from fake_switches.transports.ssh_service import SSHDemoRealm
from twisted.conch.ssh import factory as ssh_factories
from twisted.conch.ssh import keys as ssh_keys
from twisted.cred import checkers, portal
from twisted.internet import reactor as _reactor

from netchange.lab import fakeswitch_blocks

# Twisted's partial annotations do not describe these objects' dynamic attributes.
reactor: Any = _reactor
SSHKey: Any = ssh_keys.Key

log = logging.getLogger("netchange.lab.fakeswitch_launcher")

# Seeding types dozens of lines per switch: its mode changes are not worth a log line each.
_seed_log = logging.getLogger("netchange.lab.fakeswitch_launcher.seed")
_seed_log.setLevel(logging.WARNING)

INVALID_INPUT = "% Invalid input detected at '^' marker.\n"


def _patch_fake_switches() -> None:
    """Apply adjustments 2 to 4 (see the module docstring) to the cisco core classes."""
    def do_end(self: Any) -> None:
        # Sub-modes (interface, vlan) fall back to their parent for lines they do not know, so
        # one ``end`` here leaves config mode from any depth.
        self.is_done = True

    ConfigCommandProcessor.do_end = do_end

    original_receive = cisco_core.CiscoShellSession.receive

    def receive(self: Any, line: str) -> bool:
        try:
            return bool(original_receive(self, line))
        except Exception:  # the switch model has no code for this command
            log.info("%s: unsupported command answered as invalid input: %r",
                     self.command_processor.switch_configuration.name, line)
            processor = self.command_processor
            processor.terminal_controller.write(INVALID_INPUT)
            processor.finish_piping()
            processor.continue_to(None)
            processor.show_prompt()
            return not processor.is_done

    cisco_core.CiscoShellSession.receive = receive

    def _vlan_port_key(port: Any) -> tuple[int, int]:
        return (1, int(port.vlan_id)) if isinstance(port, VlanPort) else (0, 0)

    original_add_vlan = SwitchConfiguration.add_vlan
    original_add_route = SwitchConfiguration.add_static_route
    original_add_port = SwitchConfiguration.add_port

    def add_vlan(self: Any, vlan: Any) -> None:
        original_add_vlan(self, vlan)
        self.vlans.sort(key=lambda v: int(v.number))

    def add_static_route(self: Any, route: Any) -> None:
        original_add_route(self, route)
        self.static_routes.sort(key=lambda r: (int(r.dest.ip), int(r.dest.prefixlen), int(r.next_hop)))

    def add_port(self: Any, port: Any) -> None:
        original_add_port(self, port)
        # Physical ports keep their order; VLAN interfaces sort by number after them (stable sort).
        if isinstance(port, VlanPort):
            self.ports.sort(key=_vlan_port_key)

    SwitchConfiguration.add_vlan = add_vlan
    SwitchConfiguration.add_static_route = add_static_route
    SwitchConfiguration.add_port = add_port
    _patch_startup_config()
    _patch_vtp_mode()
    fakeswitch_blocks.patch()


STARTUP_ATTRIBUTE = "netchange_startup"
"""Where adjustment 5 keeps a switch's saved configuration (on its ``SwitchConfiguration``)."""


def _patch_startup_config() -> None:
    """Adjustment 5 (see the module docstring): ``write memory`` and ``show startup-config``."""
    original_show = EnabledCommandProcessor.do_show

    def running_lines(self: Any) -> list[str]:
        captured: list[str] = []
        self.write_line = captured.append  # show_run writes line by line: catch them
        try:
            self.show_run()
        finally:
            del self.write_line
        return [line for line in captured
                if line and line != "Building configuration..." and not line.startswith("Current configuration")]

    def do_write(self: Any, *args: str) -> None:
        if args and not "memory".startswith(args[0]):
            self.write_line(INVALID_INPUT.rstrip("\n"))
            return
        setattr(self.switch_configuration, STARTUP_ATTRIBUTE, running_lines(self))
        self.write_line("Building configuration...")
        self.write_line("[OK]")

    def do_show(self: Any, *args: str) -> None:
        if args and len(args[0]) >= 3 and "startup-config".startswith(args[0]):
            lines = getattr(self.switch_configuration, STARTUP_ATTRIBUTE, None)
            if lines is None:
                self.write_line("startup-config is not present")
                return
            self.write_line(f"Using {len(chr(10).join(lines)) + 1} out of 65536 bytes")
            for line in lines:
                self.write_line(line)
            return
        original_show(self, *args)

    EnabledCommandProcessor.do_write = do_write
    EnabledCommandProcessor.do_show = do_show


VTP_ATTRIBUTE = "netchange_vtp_mode"
"""Where adjustment 6 keeps a switch's VTP mode (on its ``SwitchConfiguration``; unset: transparent)."""
VTP_MODES = ("server", "client", "transparent", "off")
VLAN_DATABASE_MODES = ("server", "client")


def _patch_vtp_mode() -> None:
    """Adjustment 6 (see the module docstring): ``vtp mode X`` and the VLANs it hides."""
    def do_vtp(self: Any, *args: str) -> None:
        if len(args) == 2 and args[0] == "mode" and args[1] in VTP_MODES:
            setattr(self.switch_configuration, VTP_ATTRIBUTE, args[1])
            return
        self.write_line(INVALID_INPUT.rstrip("\n"))

    original_show_run = EnabledCommandProcessor.show_run

    def show_run(self: Any) -> None:
        config = self.switch_configuration
        if getattr(config, VTP_ATTRIBUTE, None) not in VLAN_DATABASE_MODES:
            original_show_run(self)
            return
        vlans, config.vlans = config.vlans, []  # one reactor thread: nothing else reads them meanwhile
        try:
            original_show_run(self)
        finally:
            config.vlans = vlans

    ConfigCommandProcessor.do_vtp = do_vtp
    EnabledCommandProcessor.show_run = show_run


def _seed(core: Any, lines: list[str]) -> None:
    """Type the seed configuration into the switch as an operator would, without a session."""
    processor = core.new_command_processor()
    processor.init(core.switch_configuration, NoopTerminalController(), _seed_log, _NoPiping())
    processor.process_command("configure terminal")
    for line in lines:
        processor.process_command(line)
    processor.process_command("end")


class _NoPiping:
    """The piping processor contract, doing nothing (seeding never pipes)."""

    def start_listening(self, _command: str) -> bool:
        return False

    def is_listening(self) -> bool:
        return False

    def pipe(self, data: str) -> str:
        return data

    def stop_listening(self) -> None:
        return None


def ssh_factory(core: Any, username: str, password: str, host_key: Path) -> Any:
    """fake-switches' SSH server for ``core`` (a switch core, or the ASA stand-in's device): one
    login, the lab's host key."""
    ssh_factory: Any = ssh_factories.SSHFactory()
    ssh_factory.portal = portal.Portal(SSHDemoRealm(core))
    ssh_factory.portal.registerChecker(
        checkers.InMemoryUsernamePasswordDatabaseDontUse(**{username: password.encode()}))
    private = SSHKey.fromFile(str(host_key))
    ssh_factory.privateKeys = {private.sshType(): private}
    ssh_factory.publicKeys = {private.sshType(): private.public()}
    return ssh_factory


def listen(core: Any, entry: dict[str, Any], listen_host: str) -> int:
    """SSH for ``core`` with the login and host key of its spec ``entry``: the port it listens on."""
    listening = reactor.listenTCP(
        entry.get("port", 0), ssh_factory(core, entry["username"], entry["password"], Path(entry["host_key"])),
        interface=listen_host)
    port = int(listening.getHost().port)
    log.info("%s listening on %s:%d", entry["name"], listen_host, port)
    return port


def serve(ready: Path, ports: dict[str, int]) -> int:
    """Say this process's PID and ports in ``ready`` (written whole: the lab waits for it), then serve."""
    tmp = ready.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "ports": ports}))
    tmp.replace(ready)
    reactor.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text())

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # fake-switches sets DEBUG on import in places; keep the whole process at INFO.
    logging.getLogger().setLevel(logging.INFO)

    _patch_fake_switches()
    factory = switch_factory.SwitchFactory()
    listen_host = spec.get("listen_host", "127.0.0.1")
    ports: dict[str, int] = {}
    for sw in spec["switches"]:
        # Adjustment 1: the enable secret stays text, as the command processor compares text.
        core = factory.get(sw.get("model", "cisco_generic"), sw["name"], sw["enable_secret"])
        _seed(core, sw.get("seed", []))
        ports[sw["name"]] = listen(core, sw, listen_host)
    return serve(Path(spec["ready_file"]), ports)


if __name__ == "__main__":
    sys.exit(main())
