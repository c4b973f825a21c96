"""The configuration of the lab's ASA stand-in: its own model, not netchange's.

The stand-in must read back what it was told by its own means (issue 22 item 12): if it held its
configuration with hier_config or netchange's parsers, a mistake there would be made on both sides
and never seen. So the configuration is kept here as an ASA keeps it, a list of top-level lines,
each with the lines of its sub-mode, changed one typed command at a time:

- a line already there is not added again; a single-valued setting (``hostname``, ``nameif``,
  ``ip address``, an object's ``host``/``subnet``/``range``…, :data:`SINGLE_VALUED`) replaces the
  old value in place;
- ``access-list NAME [line N] …`` lines are one ordered list per name: ``line N`` inserts before
  the N-th line of the list (remarks count), without it the line goes last; a line the list
  already has is refused with ``WARNING: NAME found duplicate element`` and nothing is added;
  ``no access-list NAME [line N] …`` removes the line by its text, ``no access-list NAME`` the list;
- an access-list entry that names an object or object-group the configuration lacks, an address
  or mask that is not one, or a keyword out of place is refused with the caret line and
  ``ERROR: % Invalid input detected at '^' marker.`` (as a real ASA prints it: see below);
- ``no X`` removes the line ``X`` (or the section it heads), or the lines ``X …`` it is the start
  of; with nothing to remove it is kept as a line of its own (``no logging message 302021``).
- a new top-level line goes after the last line of its kind (its first word), or where ASA prints
  its kind (:data:`KIND_ORDER`); a new sub-mode line goes last in its section.

``show running-config`` prints the lines between ASA's header (``: Saved``, serial number,
hardware, ``ASA Version``) and ``Cryptochecksum:<md5 of the lines>`` then ``: end``.

Strings taken from Cisco's recorded ASA sessions (unicon.plugins, ``src/unicon/plugins/tests/
mock_data/asa/asa_mock_data.yaml`` at c42313050f64636a3a5482ecb42594add6686789): ``Removing
object-group (NAME) failed; it does not exist`` and ``WARNING: Adding obj (LINE) to grp (NAME)
failed; object already exists``. ``ERROR: % Invalid input detected at '^' marker.`` below a caret
line is as ASA transcripts print it (FWSM/ASA captures quoted in public tooling, e.g. netdisco's
and oxidized's test data); ``WARNING: NAME found duplicate element`` is Cisco's documented
message for a duplicate access-list entry (the profile's ``cli.error_strings`` expects it).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

INVALID = "ERROR: % Invalid input detected at '^' marker."
INCOMPLETE = "ERROR: % Incomplete command"


@dataclass
class Node:
    """One configuration line and the lines of its sub-mode, as printed (one space per level)."""

    text: str
    children: list[Node] = field(default_factory=list)

    def lines(self, depth: int = 0) -> list[str]:
        return [" " * depth + self.text, *(line for c in self.children for line in c.lines(depth + 1))]


class Refused(Exception):
    """A command the device refuses: its output lines (a caret line, an ``ERROR:``)."""

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


# Where an ASA prints each kind of top-level line (the first word), in `show running-config` order:
# a new line of a kind the configuration lacks goes before the first line of a later kind.
KIND_ORDER = (
    ": ASA", "command-alias", "terminal", "hostname", "domain-name", "enable", "xlate", "passwd", "names", "name",
    "ip", "interface", "banner", "boot", "ftp", "clock", "dns", "same-security-traffic", "object", "object-group",
    "access-list", "pager", "logging", "mtu", "failover", "icmp", "asdm", "arp", "nat", "access-group", "route",
    "timeout", "dynamic-access-policy-record", "user-identity", "aaa", "aaa-server", "filter", "http", "snmp-server",
    "crypto", "telnet", "ssh", "console", "vpn-addr-assign", "dhcpd", "threat-detection", "ntp", "webvpn",
    "group-policy", "username", "tunnel-group", "class-map", "policy-map", "service-policy", "prompt", "call-home",
)

# Settings that hold one value: typing one replaces the line that starts with the same words.
# Keyed by the section's first word ("" for the top level). ``mtu IFACE`` is keyed with its interface.
SINGLE_VALUED: dict[str, tuple[str, ...]] = {
    "": ("hostname", "domain-name", "enable password", "passwd", "pager lines", "clock timezone", "ssh timeout",
         "ssh version", "console timeout", "telnet timeout", "logging trap", "logging buffered", "logging asdm",
         "logging facility", "logging buffer-size", "snmp-server location", "snmp-server contact", "asdm image",
         "arp timeout", "ftp mode", "mtu", "timeout xlate", "timeout pat-xlate", "timeout conn"),
    "interface": ("nameif", "security-level", "ip address", "description", "speed", "duplex", "vlan",
                  "mac-address", "switchport access vlan", "shutdown", "mtu"),
    "object": ("description",),
    "object-group": ("description",),
}
ADDRESS_FORMS = ("host", "subnet", "range", "fqdn")
"""A network object's address: one of these, the last typed replaces the others."""

# Sections an ASA enters a sub-mode for: header pattern → the mode's name in the prompt.
SUB_MODES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), m) for p, m in (
    (r"^interface \S+$", "config-if"),
    (r"^object network \S+$", "config-network-object"),
    (r"^object service \S+$", "config-service-object"),
    (r"^object-group network \S+$", "config-network-object-group"),
    (r"^object-group service \S+( (tcp|udp|tcp-udp))?$", "config-service-object-group"),
    (r"^object-group protocol \S+$", "config-protocol-object-group"),
    (r"^object-group icmp-type \S+$", "config-icmp-object-group"),
    (r"^dns server-group \S+$", "config-dns-server-group"),
    (r"^crypto ca trustpoint \S+$", "config-ca-trustpoint"),
    (r"^group-policy \S+ attributes$", "config-group-policy"),
    (r"^tunnel-group \S+ general-attributes$", "config-tunnel-general"),
    (r"^tunnel-group \S+ ipsec-attributes$", "config-tunnel-ipsec"),
    (r"^username \S+ attributes$", "config-username"),
    (r"^class-map .+$", "config-cmap"),
    (r"^policy-map .+$", "config-pmap"),
    (r"^router (ospf|bgp|eigrp) .+$", "config-router"),
    (r"^call-home$", "cfg-call-home"),
    (r"^webvpn$", "config-webvpn"),
    (r"^dynamic-access-policy-record \S+$", "config-dynamic-access-policy-record"),
))

# Sections inside a section: (the outer mode, the header pattern) → the inner mode's name.
NESTED_MODES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple((o, re.compile(p), m) for o, p, m in (
    ("config-pmap", r"^class \S+$", "config-pmap-c"),
    ("config-pmap", r"^parameters$", "config-pmap-p"),
    ("config-group-policy", r"^webvpn$", "config-group-webvpn"),
    ("cfg-call-home", r"^profile \S+$", "cfg-call-home-profile"),
))

# The lines each sub-mode takes (their first word); another known top-level command typed there
# leaves the sub-mode and runs at the top, as on ASA. A mode not listed takes any line.
MODE_WORDS: dict[str, frozenset[str]] = {
    "config-if": frozenset({"description", "nameif", "security-level", "ip", "ipv6", "shutdown", "speed", "duplex",
                            "vlan", "mtu", "mac-address", "switchport", "management-only", "channel-group", "delay",
                            "no"}),
    "config-network-object": frozenset({"host", "subnet", "range", "fqdn", "description", "nat", "no"}),
    "config-service-object": frozenset({"service", "description", "no"}),
    "config-network-object-group": frozenset({"network-object", "group-object", "description", "no"}),
    "config-service-object-group": frozenset({"service-object", "port-object", "group-object", "description", "no"}),
    "config-protocol-object-group": frozenset({"protocol-object", "group-object", "description", "no"}),
    "config-icmp-object-group": frozenset({"icmp-object", "group-object", "description", "no"}),
    "config-dns-server-group": frozenset({"name-server", "domain-name", "timeout", "retries", "no"}),
}
TOP_WORDS = frozenset(k.split()[0] for k in KIND_ORDER if not k.startswith(":")) | frozenset(
    {"no", "access-list", "object", "object-group", "route", "static", "global", "nat", "monitor-interface",
     "sysopt", "service", "fragment", "vpdn", "smtp-server", "privilege", "management-access", "mac-address",
     "firewall", "mode", "tls-proxy", "wccp", "ipv6", "multicast-routing", "router", "class-map", "time-range"})

PROTOCOLS = frozenset({"ip", "tcp", "udp", "icmp", "icmp6", "esp", "ah", "gre", "sctp", "igmp", "ospf", "pim",
                       "eigrp", "ipinip", "ipsec", "nos", "pcp", "pptp", "snp", "igrp", "object-group", "object"})
PORT_OPERATORS = frozenset({"eq", "neq", "lt", "gt"})
OPTIONS = frozenset({"log", "inactive", "time-range", "interval", "disable", "default"})
LOG_LEVELS = frozenset({"emergencies", "alerts", "critical", "errors", "warnings", "notifications",
                        "informational", "debugging", *map(str, range(8))})


def _caret(typed: str, word_index: int) -> str:
    """The caret line under the ``word_index``-th word of ``typed`` (the prompt is not counted)."""
    words = typed.split()
    col = 0 if word_index == 0 else len(" ".join(words[:word_index])) + 1
    return " " * col + "^"


class AsaConfig:
    """One ASA's running configuration (see the module docstring)."""

    def __init__(self, version: str = "9.8(2)", serial: str = "9AVLAB0001") -> None:
        self.top: list[Node] = []
        self.version = version
        self.serial = serial
        self.startup: list[str] = []

    # -- loading and printing --------------------------------------------------------------------

    def load(self, text: str) -> None:
        """Read a configuration as the firewall reads its startup configuration at boot: by its
        indentation (a seed holds sections whose modes this model need not know)."""
        self.top = []
        stack: list[tuple[int, Node]] = []
        for raw in text.replace("\r\n", "\n").split("\n"):
            line = raw.rstrip()
            if line.startswith((":", "Cryptochecksum:")):
                continue
            if line.startswith("ASA Version "):
                self.version = line.removeprefix("ASA Version ").strip()
                continue
            depth = len(line) - len(line.lstrip(" "))
            node = Node(line.strip())
            while stack and stack[-1][0] >= depth:
                stack.pop()
            (stack[-1][1].children if stack and line else self.top).append(node)
            if line:
                stack.append((depth, node))
        while self.top and self.top[0].text in ("", "!"):
            self.top.pop(0)
        while self.top and self.top[-1].text == "":
            self.top.pop()
        self.startup = self.printed()

    def body(self) -> list[str]:
        return [line for node in self.top for line in node.lines()]

    def printed(self) -> list[str]:
        """``show running-config`` as an ASA prints it."""
        body = self.body()
        checksum = hashlib.md5("\n".join(body).encode(), usedforsecurity=False).hexdigest()
        return [": Saved", ":", f": Serial Number: {self.serial}",
                ": Hardware:   ASAv, 2048 MB RAM, CPU Xeon 4100/6100/8100 series 2200 MHz", ":",
                f"ASA Version {self.version}", "!", *body, f"Cryptochecksum:{checksum}", ": end"]

    def hostname(self) -> str:
        return next((n.text.split()[1] for n in self.top if n.text.startswith("hostname ")), "ciscoasa")

    def write_memory(self) -> list[str]:
        self.startup = self.printed()
        checksum = self.startup[-2].removeprefix("Cryptochecksum:")
        size = len("\n".join(self.startup)) + 1
        return ["Building configuration...",
                "Cryptochecksum: " + " ".join(checksum[i:i + 8] for i in range(0, 32, 8)), "",
                f"{size} bytes copied in 0.110 secs", "[OK]"]

    def show_running(self, words: list[str]) -> list[str]:
        """``show running-config [KIND [NAME…]]``: the whole configuration, or the top-level
        lines (and their sections) that start with the words given, without the header."""
        if not words:
            return self.printed()
        prefix = " ".join(words)
        return [line for node in self.top if node.text == prefix or node.text.startswith(prefix + " ")
                for line in node.lines()]

    # -- typing -----------------------------------------------------------------------------------

    def section(self, header: str) -> Node | None:
        return next((n for n in self.top if n.text == header), None)

    def enter(self, header: str) -> tuple[Node, str] | None:
        """The section ``header`` opens (made if new) and its mode's name; ``None`` for a line."""
        mode = next((m for pattern, m in SUB_MODES if pattern.match(header)), None)
        existing = self.section(header)
        if mode is None and (existing is None or not existing.children):
            return None
        if existing is None:
            existing = Node(header)
            self._insert_top(existing)
        return existing, mode or "config-" + header.split(maxsplit=1)[0]

    @staticmethod
    def enter_child(section: Node, mode: str, header: str) -> tuple[Node, str] | None:
        """The section ``header`` opens inside ``section`` (made if new), or ``None`` for a line."""
        inner = next((m for outer, pattern, m in NESTED_MODES if outer == mode and pattern.match(header)), None)
        existing = next((c for c in section.children if c.text == header), None)
        if inner is None and (existing is None or not existing.children):
            return None
        if existing is None:
            existing = Node(header)
            section.children.append(existing)
        return existing, inner or f"{mode}-{header.split(maxsplit=1)[0]}"

    def takes(self, mode: str, line: str) -> bool:
        """Whether the sub-mode ``mode`` takes ``line`` as one of its own (else it leaves the mode)."""
        allowed = MODE_WORDS.get(mode)
        word = line.split(maxsplit=1)[0]
        return word in allowed if allowed is not None else not (word in TOP_WORDS and word not in ("no", "ip"))

    def type_top(self, line: str) -> list[str]:
        """A top-level line typed in config mode (not a section header). Output lines; raises :class:`Refused`."""
        words = line.split()
        if words[0] not in TOP_WORDS:
            raise Refused(_caret(line, 0), INVALID)
        if words[0] == "access-list":
            return self._access_list(line, words)
        if words[0] == "no":
            if len(words) == 1:
                raise Refused(INCOMPLETE)
            if words[1] == "access-list":
                return self._no_access_list(line, words)
            return self._no(self.top, " ".join(words[1:]), top=True)
        self._add(self.top, line, "", top=True)
        return []

    def type_child(self, section: Node, mode: str, line: str) -> list[str]:
        """A line typed in the sub-mode of ``section``."""
        words = line.split()
        allowed = MODE_WORDS.get(mode)
        if allowed is not None and words[0] not in allowed:
            raise Refused(_caret(line, 0), INVALID)
        if words[0] == "no":
            if len(words) == 1:
                raise Refused(INCOMPLETE)
            return self._no(section.children, " ".join(words[1:]), top=False, section=section)
        if mode == "config-network-object-group":
            self._check_group_member(line, words)
            if any(c.text == line for c in section.children):  # unicon's recorded answer
                return [f"WARNING: Adding obj ({line}) to grp ({section.text.split()[-1]}) failed; "
                        "object already exists"]
        kind = section.text.split()[0]
        if mode == "config-network-object" and words[0] in ADDRESS_FORMS:
            section.children = _replace_address(section.children, line)
            return []
        self._add(section.children, line, kind, top=False)
        return []

    # -- the rules ------------------------------------------------------------------------------

    def _add(self, siblings: list[Node], line: str, kind: str, *, top: bool) -> None:
        if any(n.text == line for n in siblings):
            return
        negated = next((i for i, n in enumerate(siblings) if n.text == f"no {line}"), None)
        if negated is not None:  # `logging message 302021` over `no logging message 302021`
            del siblings[negated]
            return
        key = _single_key(line, kind)
        if key is not None:
            for i, n in enumerate(siblings):
                if _single_key(n.text.removeprefix("no "), kind) == key:
                    siblings[i] = Node(line, n.children)
                    return
        if top:
            self._insert_top(Node(line))
        else:
            siblings.append(Node(line))

    def _no(self, siblings: list[Node], what: str, *, top: bool, section: Node | None = None) -> list[str]:
        gone = [n for n in siblings if n.text == what or n.text.startswith(what + " ")]
        if not gone and top and what.startswith("object-group "):
            # unicon's recorded answer for a group that is not there
            return [f"Removing object-group ({what.rsplit(maxsplit=1)[-1]}) failed; it does not exist"]
        if not gone and section is not None and section.text.startswith("object-group "):
            return [f"Removing obj ({what}) from grp ({section.text.split()[-1]}) failed; object doesn't exist"]
        if not gone:
            if top:
                self._insert_top(Node(f"no {what}"))
            else:
                siblings.append(Node(f"no {what}"))
            return []
        siblings[:] = [n for n in siblings if n not in gone]
        return []

    def _insert_top(self, node: Node) -> None:
        kind = _kind(node.text)
        same = [i for i, n in enumerate(self.top) if _kind(n.text) == kind]
        if same:
            self.top.insert(same[-1] + 1, node)
            return
        rank = _rank(kind)
        later = next((i for i, n in enumerate(self.top) if n.text and _rank(_kind(n.text)) > rank), None)
        self.top.insert(len(self.top) if later is None else later, node)

    def _acl_lines(self, name: str) -> list[int]:
        return [i for i, n in enumerate(self.top) if n.text.startswith(f"access-list {name} ")]

    def _access_list(self, line: str, words: list[str]) -> list[str]:
        if len(words) < 3:
            raise Refused(INCOMPLETE)
        name, rest, at = words[1], words[2:], None
        if rest[0] == "line":
            if len(rest) < 3 or not rest[1].isdigit() or int(rest[1]) < 1:
                raise Refused(_caret(line, 3), INVALID)
            at, rest = int(rest[1]), rest[2:]
        offset = len(words) - len(rest)
        self._check_entry(line, rest, offset)
        text = f"access-list {name} " + " ".join(rest)
        existing = self._acl_lines(name)
        if rest[0] != "remark" and any(self.top[i].text == text for i in existing):
            return [f"WARNING: {name} found duplicate element"]
        if not existing:
            self._insert_top(Node(text))
        elif at is not None and at <= len(existing):
            self.top.insert(existing[at - 1], Node(text))
        else:
            self.top.insert(existing[-1] + 1, Node(text))
        return []

    def _no_access_list(self, line: str, words: list[str]) -> list[str]:
        if len(words) < 3:
            raise Refused(INCOMPLETE)
        name, rest = words[2], words[3:]
        existing = self._acl_lines(name)
        if not existing:
            raise Refused(f"ERROR: access-list <{name}> does not exist")
        if not rest:
            self.top = [n for i, n in enumerate(self.top) if i not in existing]
            return []
        if rest[0] == "line" and len(rest) >= 3 and rest[1].isdigit():
            rest = rest[2:]
        text = f"access-list {name} " + " ".join(rest)
        found = next((i for i in existing if self.top[i].text == text), None)
        if found is None:
            raise Refused(f"ERROR: {name}: specified access-list entry does not exist")
        del self.top[found]
        return []

    # -- validation of what a line names ------------------------------------------------------------

    def _defined(self, kind: str, name: str) -> bool:
        return any(re.match(rf"^{kind} \S+ {re.escape(name)}( |$)", n.text) for n in self.top)

    def _check_group_member(self, line: str, words: list[str]) -> None:
        if words[0] == "network-object":
            self._address(line, words, 1, end=len(words))
        elif words[0] == "group-object" and (len(words) != 2 or not self._defined("object-group", words[1])):
            raise Refused(_caret(line, 1), INVALID)

    def _address(self, line: str, words: list[str], i: int, end: int | None = None) -> int:
        """Check the address at ``words[i]``; the index after it."""
        if i >= len(words):
            raise Refused(INCOMPLETE)
        word = words[i]
        if word in ("any", "any4", "any6"):
            nxt = i + 1
        elif word in ("host", "object", "object-group", "interface"):
            if i + 1 >= len(words):
                raise Refused(INCOMPLETE)
            value = words[i + 1]
            ok = (_ipv4(value) if word == "host" else
                  self._defined("object", value) if word == "object" else
                  self._defined("object-group", value) if word == "object-group" else True)
            if not ok:
                raise Refused(_caret(line, i + 1), INVALID)
            nxt = i + 2
        elif "/" in word:
            try:
                ipaddress.IPv6Network(word, strict=False)
            except ValueError:
                raise Refused(_caret(line, i), INVALID) from None
            nxt = i + 1
        elif _ipv4(word) or self._defined("name", word):
            if i + 1 >= len(words):
                raise Refused(INCOMPLETE)
            if not _mask(words[i + 1]):
                raise Refused(_caret(line, i + 1), INVALID)
            nxt = i + 2
        else:
            raise Refused(_caret(line, i), INVALID)
        if end is not None and nxt != end:
            raise Refused(_caret(line, nxt), INVALID)
        return nxt

    def _ports(self, line: str, words: list[str], i: int) -> int:
        if i < len(words) and words[i] in PORT_OPERATORS:
            if i + 1 >= len(words):
                raise Refused(INCOMPLETE)
            return i + 2
        if i < len(words) and words[i] == "range":
            if i + 2 >= len(words):
                raise Refused(INCOMPLETE)
            return i + 3
        return i

    def _protocol(self, line: str, words: list[str], i: int) -> int:
        """Check the protocol at ``words[i]`` (a name, a number, an object or a group); the index after it."""
        if i >= len(words):
            raise Refused(INCOMPLETE)
        protocol = words[i]
        if protocol in ("object-group", "object"):
            if i + 1 >= len(words) or not self._defined(protocol, words[i + 1]):
                raise Refused(_caret(line, i + 1), INVALID)
            return i + 2
        if protocol in PROTOCOLS or (protocol.isdigit() and int(protocol) <= 255):
            return i + 1
        raise Refused(_caret(line, i), INVALID)

    def _check_entry(self, line: str, rest: list[str], offset: int) -> None:
        """An access-list entry after its name (and ``line N``): its words checked as ASA parses them."""
        words = line.split()
        kind = rest[0]
        if kind == "remark":
            if len(rest) < 2:
                raise Refused(INCOMPLETE)
            return
        if kind not in ("extended", "standard"):
            raise Refused(_caret(line, offset), INVALID)
        i = offset + 1
        if i >= len(words):
            raise Refused(INCOMPLETE)
        if words[i] not in ("permit", "deny"):
            raise Refused(_caret(line, i), INVALID)
        i += 1
        if kind == "standard":
            self._address(line, words, i, end=len(words))
            return
        protocol = words[i] if i < len(words) else ""
        i = self._protocol(line, words, i)
        i = self._address(line, words, i)
        i = self._ports(line, words, i)
        i = self._address(line, words, i)
        i = self._ports(line, words, i)
        if i < len(words) and protocol.startswith("icmp") and words[i] not in OPTIONS:
            i += 1  # an ICMP type
        _check_options(line, words, i)


def _check_options(line: str, words: list[str], i: int) -> None:
    """What may follow an entry's addresses and ports: ``log [level] [interval N] [disable]``,
    ``inactive``, ``time-range NAME``."""
    while i < len(words):
        word, before = words[i], words[i - 1]
        taken = (word in OPTIONS or word in LOG_LEVELS or before == "time-range"
                 or (word.isdigit() and before == "interval"))
        if not taken:
            raise Refused(_caret(line, i), INVALID)
        i += 1


def _replace_address(children: list[Node], line: str) -> list[Node]:
    """A network object's address typed again: in place of the old one, whatever its form."""
    out, placed = [], False
    for c in children:
        if c.text.split()[0] in ADDRESS_FORMS:
            if not placed:
                out.append(Node(line))
                placed = True
            continue
        out.append(c)
    return out if placed else [Node(line), *out]


def _single_key(line: str, kind: str) -> str | None:
    words = line.split()
    for prefix in SINGLE_VALUED.get(kind, ()):
        size = len(prefix.split()) + (1 if (kind, prefix) == ("", "mtu") else 0)
        if words[:len(prefix.split())] == prefix.split() and len(words) >= size:
            return " ".join(words[:size])
    return None


def _kind(text: str) -> str:
    words = text.split()
    return words[0] if words else ""


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _mask(text: str) -> bool:
    if not _ipv4(text):
        return False
    wildcard = ~int(ipaddress.IPv4Address(text)) & 0xFFFFFFFF
    return wildcard & (wildcard + 1) == 0  # ones then zeros: 255.255.255.0, never 0.0.0.255
