"""A device built from a stored configuration: netchange's real driver over an in-memory session.

A stored configuration is what ``show running-config`` prints (a backup tool's file as it is,
header and banner lines included). :class:`StoredDevice` holds it; :meth:`StoredDevice.driver`
opens the platform's own driver (the one :data:`netchange.drivers.contract.DRIVERS` gives) with a
:class:`MemorySession` in place of the SSH session, so parsing, the merge, the diff, the rollback
lines and the checks run exactly the code they run against a switch. Nothing is canned: the diff
a test sees is the one the driver computes from the configuration and the rendered candidate.

The session answers ``show running-config`` from the stored text, ``show vlan brief`` from the
VLANs of that text (as IOS prints it, for the checks that parse it with ntc-templates),
``show ip access-lists NAME`` from that named ACL (numbered as printed, else 10, 20, … as IOS
numbers a list it loaded) and any other command from :attr:`StoredDevice.show`. It refuses
configuration lines: a stored configuration is only planned against, never changed (a
post-check is tested against a device built from the configuration expected after the change).

Supported: every platform of an IOS-style syntax (``ios_cli``, ``asa_cli``, NAPALM's ``ios``, ``eos``,
``nxos``: diffed with the CLI profile of their syntax, as an offline plan does), and HAProxy and
nftables through the offline engines of :mod:`netchange.drivers.stored` (their checks that need a
live device are reported "not run offline"). BIND and NETCONF compute their diff on the device:
such a host is refused with one line naming the platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from netchange.errors import BadRequest

_INVALID = "% Invalid input detected at '^' marker.\n"


class ReadOnlyDevice(BadRequest):
    """A configuration line was sent to a device built from a stored configuration."""


def show_vlan_brief(config: str) -> str:
    """``show vlan brief`` for the top-level ``vlan N`` sections of ``config``, as IOS prints it."""
    rows = ["", "VLAN Name                             Status    Ports",
            "---- -------------------------------- --------- -------------------------------"]
    vlans: dict[int, str] = {1: "default"}
    lines = config.splitlines()
    for i, line in enumerate(lines):
        words = line.split()
        if len(words) == 2 and words[0] == "vlan" and words[1].isdigit() and not line.startswith(" "):
            vid = int(words[1])
            name = f"VLAN{vid:04d}"
            for child in lines[i + 1:]:
                if not child.startswith(" "):
                    break
                if child.strip().startswith("name "):
                    name = child.strip()[5:]
            vlans[vid] = name
    rows += [f"{vid:<4} {name:<32} active    " for vid, name in sorted(vlans.items())]
    return "\n".join(rows) + "\n"


def show_ip_access_lists(config: str, name: str) -> str:
    """``show ip access-lists NAME`` for ``ip access-list extended NAME`` of ``config``, as IOS
    prints it: the entries with their sequence numbers (those printed, else 10, 20, … in order)."""
    rows: list[str] = []
    inside, implied = False, 10
    for line in config.splitlines():
        if not line.startswith(" "):
            if inside:
                break
            inside = line.strip() == f"ip access-list extended {name}"
            continue
        text = " ".join(line.split())
        if not inside or text.startswith("remark "):
            continue
        first = text.split(" ", 1)[0]
        if first.isdigit():
            rows.append(f"    {text}")
        elif first in ("permit", "deny"):
            rows.append(f"    {implied} {text}")
            implied += 10
    if not inside and not rows:
        return ""
    return "\n".join([f"Extended IP access list {name}", *rows]) + "\n"


class MemorySession:
    """A netmiko-like session over a configuration held in memory (read-only)."""

    def __init__(self, device: StoredDevice) -> None:
        self.stored = device
        self.commands: list[str] = []
        """Every command asked, in order (what the driver read)."""

    def send_command(self, command: str, **_: Any) -> str:
        self.commands.append(command)
        if command in self.stored.show:
            return self.stored.show[command]
        if command == "show running-config":
            return self.stored.running_config_output()
        if command == "show vlan brief":
            return show_vlan_brief(self.stored.config)
        if command.startswith("show ip access-lists ") and len(command.split()) == 4:
            return show_ip_access_lists(self.stored.config, command.split()[3])
        return _INVALID

    def send_config_set(self, lines: list[str], **_: Any) -> str:
        raise ReadOnlyDevice(f"{self.stored.name}: a device built from a stored configuration is planned "
                             f"against, never changed ({len(lines)} configuration line(s) refused)")

    def is_alive(self) -> bool:
        return True

    def disconnect(self) -> None:
        return None

    def check_config_mode(self) -> bool:
        return False

    def exit_config_mode(self) -> str:
        return ""


@dataclass
class StoredDevice:
    """One device of a test or of an offline plan: its inventory facts and its stored configuration."""

    name: str
    config: str
    """What ``show running-config`` prints (a header and a final ``end`` are optional)."""
    platform: str = "ios_cli"
    role: str = "switch"
    site: str = "lab"
    groups: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    """More host data (the inventory's ``data``), seen by change types as ``ctx.data``."""
    show: dict[str, str] = field(default_factory=dict)
    """Output of other read-only commands, by command (``show vlan brief`` is computed otherwise)."""

    @classmethod
    def from_file(cls, path: str | Path, *, name: str | None = None, **facts: Any) -> StoredDevice:
        """A device from a backup file (an Oxidized or RANCID file, ``show running-config`` output),
        read as an offline plan reads it (bounded; RANCID's own header dropped); its name is the
        file's stem unless given."""
        from netchange.plan import strip_rancid_header
        from netchange.request import MAX_STORED_CONFIG_BYTES, read_regular_file

        file = Path(path)
        text = read_regular_file(file, limit=MAX_STORED_CONFIG_BYTES, what="stored configuration")
        return cls(name=name or file.stem, config=strip_rancid_header(text), **facts)

    def running_config_output(self) -> str:
        """The stored text as the device prints it: with IOS's header when the file has none (an
        IOS-syntax device only: an ASA prints none, and its driver would read IOS's as lines of
        configuration)."""
        from netchange.platforms import syntax_of

        text = self.config if self.config.endswith("\n") else self.config + "\n"
        if text.startswith(("Building configuration", "!", "Current configuration")) \
                or syntax_of(self.platform, self.data.get("syntax")) != "ios":
            return text
        return f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n{text}end\n"

    def driver(self, *, reuse_seconds: float = 60.0) -> Any:
        """The driver that plans this device: the platform's own CLI driver over a
        :class:`MemorySession` (IOS-style syntaxes; ``reuse_seconds`` is its
        ``running_reuse_seconds``), else the offline engine of :mod:`netchange.drivers.stored`
        (HAProxy, nftables). Open it (``driver.open()``) before use, as any driver."""
        from netchange.drivers.stored import StoredConfigDriver, cli_profile
        from netchange.platforms import syntax_of

        syntax = syntax_of(self.platform, self.data.get("syntax"))
        profile = cli_profile(self.platform, syntax) if syntax in ("ios", "asa") else None
        if profile is None:
            return StoredConfigDriver(hostname=self.name, username="", password="", optional_args={
                "config": self.config, "source": "stored device", "platform": self.platform,
                "syntax": self.data.get("syntax")})
        driver = _memory_class(profile)(hostname=self.name, username="", password="",
                                        optional_args={"running_reuse_seconds": reuse_seconds})
        driver.session = MemorySession(self)
        return driver


@cache
def _memory_class(profile: Any) -> type[Any]:
    """The CLI driver of ``profile`` whose session is the device's :class:`MemorySession`."""
    from netchange.drivers.ios_cli import CliDriver

    def open_(self: Any) -> None:
        self.device = self.session

    return type(f"Memory{profile.name.title().replace('_', '')}Driver", (CliDriver,),
                {"platform": profile, "open": open_, "__module__": __name__})
