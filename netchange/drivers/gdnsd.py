"""gdnsd as a global load balancer: its ``weighted`` resources and its administrative drains.

Why two files: gdnsd keeps the policy (which centre, which weight) in its ``config``, which a new
daemon reads when ``gdnsdctl replace`` hands it the sockets (no query lost), and an operator's
temporary decision ("DOSO is out for maintenance") in ``state_dir/admin_state``, which the running
daemon watches and applies within about two seconds, no replace needed (gdnsd(8), "ADMIN STATE
FILE"). A drain is therefore an ``ADDRESS/SERVICE_TYPE => DOWN`` line, not a weight: gdnsd refuses
a weight of 0, and a forced DOWN keeps the centre's weight for its return.

The driver runs where the configuration directory is (optional arg ``config_dir``); the DNS
listener is ``hostname:port``.

**Managed state** (``get_config()["running"]``): each resource of the ``weighted`` plugin, its
centres sorted by name, with the administrative state from ``admin_state``::

    resource www
        member doif 127.0.1.80 weight 1 state up
        member doso 127.0.2.80 weight 1 state drain

``state`` is ``up`` (the monitor decides) or ``drain`` (forced DOWN). Health, which moves on its
own, is read with ``cli(["states"])``.

**Candidate** (``load_merge_candidate``)::

    resource www
        member doso 127.0.2.80 weight 2        # add (address required) or update
        member doso state drain                # update only what is given
        no member doso                         # remove

``load_replace_candidate`` takes a whole managed-state text (a snapshot). Both are checked by
``gdnsd checkconf`` on the resulting configuration (in a scratch directory beside the zones) before
anything is kept. A commit writes each file whole (a temporary file renamed over it), then
``gdnsdctl replace`` when ``config`` changed, then waits until ``gdnsdctl states`` shows every
forced state, and reads both back. A rollback writes back the two files exactly as they were read
before the commit, byte for byte.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from napalm.base.exceptions import ConnectionException

from netchange.drivers.base import DriverOptions, NetchangeDriver, NoCommitConfirm, check_read_only
from netchange.drivers.diffformat import diff_text
from netchange.drivers.errors import CommitRefused, MergeRejected, OpenFailed, ReplaceRejected
from netchange.platforms import load_profile

STATES = ("up", "drain")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
_MEMBER_LINE = re.compile(r"^(?P<indent>\s+)(?P<name>[A-Za-z][A-Za-z0-9_-]*)\s*=>?\s*\[\s*(?P<addr>[0-9.]+)\s*,"
                          r"\s*(?P<weight>\d+)\s*\]\s*$")
_BLOCK_OPEN = re.compile(r"^\s*(?P<name>[A-Za-z][A-Za-z0-9_-]*)\s*=>?\s*\{\s*$")
_SERVICE_TYPES = re.compile(r"^\s*service_types\s*=>?\s*(?P<types>[A-Za-z0-9_]+)\s*$")
_ADMIN_LINE = re.compile(r"^(?P<addr>[0-9.]+)/(?P<stype>[A-Za-z0-9_*]+)\s*=>\s*DOWN\s*(#.*)?$")
_DATACENTERS = re.compile(r"^(?P<indent>\s*)datacenters\s*=>?\s*\[(?P<names>[^\]]*)\]\s*$")
_DCMAP_LINE = re.compile(r"^(?P<indent>\s+)(?P<name>[A-Za-z][A-Za-z0-9_-]*)\s*=>?\s*(?P<addr>[0-9.]+)\s*$")
MAX_WEIGHT = 1048575
"""gdnsd's own bound (plugin_weighted: 1 - 1048575)."""
MAX_PRIORITY = 64
WEIGHTED, FAILOVER = "weighted", "failover"
"""The two kinds of resource: ``weighted`` (gdnsd's weighted plugin: shares by weight) and
``failover`` (its metafo plugin: the first centre in priority order that is up answers alone)."""
SETTLE = 6.0
"""Seconds a commit waits for gdnsd to show the forced states (its admin_state watch: ~2 s)."""


@dataclass(frozen=True)
class Member:
    name: str
    address: str
    weight: int = 1
    state: str = "up"
    priority: int = 0
    """A failover resource's order (1 first); 0 in a weighted resource."""

    def line(self) -> str:
        rank = f"priority {self.priority}" if self.priority else f"weight {self.weight}"
        return f"member {self.name} {self.address} {rank} state {self.state}"


@dataclass
class Resource:
    name: str
    service_type: str
    members: dict[str, Member] = field(default_factory=dict)
    kind: str = WEIGHTED


def ordered(res: Resource) -> list[Member]:
    """A resource's members in the order they are printed: by priority (failover), else by name."""
    return sorted(res.members.values(), key=lambda m: (m.priority, m.name))


State = dict[str, Resource]


def render_state(state: State) -> str:
    blocks = [
        "\n".join([f"resource {res.name}", *(f"    {m.line()}" for m in ordered(res))])
        for res in state.values()
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _weight(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_WEIGHT:
        raise ValueError(f"weight {text!r} is not an integer from 1 to {MAX_WEIGHT}")
    return int(text)


def _priority(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_PRIORITY:
        raise ValueError(f"priority {text!r} is not an integer from 1 to {MAX_PRIORITY}")
    return int(text)


def _ipv4(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def parse_member(tokens: list[str], current: Member | None) -> Member:
    """``member NAME [ADDRESS] [weight N | priority N] [state up|drain]`` over ``current`` (None: a
    new one)."""
    if len(tokens) < 2 or not _NAME.fullmatch(tokens[1]):
        raise ValueError(f"bad member line: {' '.join(tokens)!r}")
    name, rest = tokens[1], tokens[2:]
    address, weight, state = (current.address, current.weight, current.state) if current else ("", 1, "up")
    priority = current.priority if current else 0
    if rest and rest[0] not in ("weight", "state", "priority"):
        address, rest = _ipv4(rest[0]), rest[1:]
    if len(rest) % 2:
        raise ValueError(f"member {name}: options come in pairs: {' '.join(rest)!r}")
    for key, value in zip(rest[::2], rest[1::2], strict=True):
        if key == "weight":
            weight = _weight(value)
        elif key == "priority":
            priority = _priority(value)
        elif key == "state" and value in STATES:
            state = value
        else:
            raise ValueError(f"member {name}: unknown option {key} {value!r}")
    if not address:
        raise ValueError(f"member {name} is new: give its address")
    return Member(name, address, weight, state, priority)


def parse_state(text: str) -> State:
    """A managed-state text (what :func:`render_state` prints) back into a state."""
    state: State = {}
    current: Resource | None = None
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "resource" and len(words) == 2 and _NAME.fullmatch(words[1]):
            current = state.setdefault(words[1], Resource(words[1], ""))
        elif current is not None and words[0] == "member":
            member = parse_member(words, None)
            current.members[member.name] = member
            if member.priority:
                current.kind = FAILOVER
        else:
            raise ValueError(f"unexpected line: {raw.strip()!r}")
    return state


def _place(res: Resource, member: Member, position: int | None) -> None:
    """Put ``member`` in a failover resource at ``position`` (1 first; None: where it was, or last)
    and number every member from 1 again."""
    others = [m for m in ordered(res) if m.name != member.name]
    if position is None:
        old = res.members.get(member.name)
        position = old.priority if old is not None else len(others) + 1
    others.insert(max(0, min(position, len(others) + 1) - 1), member)
    res.members = {m.name: replace(m, priority=i) for i, m in enumerate(others, start=1)}


def _update(res: Resource, words: list[str]) -> None:
    """One ``member`` line applied to ``res``, by its kind."""
    current = res.members.get(words[1]) if len(words) > 1 else None
    given = set(words[2::2]) | set(words[3::2])
    member = parse_member(words, current)
    if res.kind == WEIGHTED:
        if "priority" in given:
            raise ValueError(f"resource {res.name} is weighted: its members have a weight, not a priority")
        res.members[member.name] = member
        return
    if "weight" in given:
        raise ValueError(f"resource {res.name} is a failover: its members have a priority, not a weight")
    _place(res, replace(member, weight=1), member.priority if "priority" in given else None)


def merge(running: State, candidate: str) -> State:
    """``running`` with the candidate's member lines applied (add/update/``no member``).

    A drain is gdnsd's override of one address for one service type: it drains that address in
    every resource monitoring it the same way, so the merge shows it there too."""
    desired = {key: Resource(r.name, r.service_type, dict(r.members), r.kind) for key, r in running.items()}
    current: Resource | None = None
    for raw in candidate.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "resource" and len(words) == 2:
            if words[1] not in desired:
                raise ValueError(f"no weighted resource {words[1]!r} (resources are added in gdnsd's config)")
            current = desired[words[1]]
        elif current is None:
            raise ValueError(f"line outside any resource: {raw.strip()!r}")
        elif words[:2] == ["no", "member"] and len(words) == 3:
            _remove(current, words[2])
        elif words[0] == "member":
            _update(current, words)
        else:
            raise ValueError(f"unexpected line: {raw.strip()!r}")
    _share_drains(running, desired)
    _check_resources(desired)
    return desired


def _remove(res: Resource, name: str) -> None:
    if res.members.pop(name, None) is None:
        raise ValueError(f"resource {res.name}: no member {name!r} to remove")
    if res.kind == FAILOVER:
        res.members = {m.name: replace(m, priority=i) for i, m in enumerate(ordered(res), start=1)}


def _check_resources(state: State) -> None:
    for res in state.values():
        if not res.members:
            raise ValueError(f"resource {res.name} would have no member (gdnsd refuses an empty resource)")
        addresses = [m.address for m in res.members.values()]
        if len(set(addresses)) != len(addresses):
            raise ValueError(f"resource {res.name}: one address given to two members")


def _share_drains(running: State, desired: State) -> None:
    """A state changed for one (address, service type) applies to every member with the same."""
    changed = {(m.address, res.service_type): m.state for key, res in desired.items() for m in res.members.values()
               if (old := running.get(key)) is not None and (was := old.members.get(m.name)) is not None
               and was.state != m.state}
    for res in desired.values():
        for name, m in list(res.members.items()):
            state = changed.get((m.address, res.service_type))
            if state is not None and m.state != state:
                res.members[name] = replace(m, state=state)


def inverse_candidate(before: State, after: State) -> str:
    """The merge candidate that takes ``after`` back to ``before`` (the plan's rollback preview)."""
    out: list[str] = []
    for key, res in before.items():
        lines = [f"    no member {name}" for name in sorted(set(after[key].members) - set(res.members))]
        lines += [f"    {m.line()}" for m in ordered(res) if after[key].members.get(m.name) != m]
        if lines:
            out += [f"resource {key}", *lines]
    return "\n".join(out) + "\n" if out else ""


# -- gdnsd's files -------------------------------------------------------------------------------


def _weighted_blocks(config: str) -> list[tuple[str, int, int]]:
    """(resource name, first line, closing line) of each resource of the ``weighted`` plugin."""
    return _blocks(config, ["plugins", "weighted"])


def _blocks(config: str, parents: list[str]) -> list[tuple[str, int, int]]:
    """(name, first line, closing line) of each ``NAME => {`` block whose enclosing blocks are
    ``parents``, outermost first (``["plugins", "metafo", "resources"]``)."""
    lines = config.splitlines()
    found: list[tuple[str, int, int]] = []
    stack: list[tuple[str, int]] = []
    for number, raw in enumerate(lines):
        code = raw.split("#", 1)[0]
        opened = _BLOCK_OPEN.match(code)
        if opened:
            stack.append((opened.group("name"), number))
            continue
        code_opens, code_closes = code.count("{"), code.count("}")
        for _ in range(code_opens):
            stack.append(("", number))
        for _ in range(code_closes):
            if not stack:
                raise ValueError(f"config line {number + 1}: unbalanced '}}'")
            name, start = stack.pop()
            if [s[0] for s in stack] == parents:
                found.append((name, start, number))
    if stack:
        raise ValueError("config: unbalanced '{'")
    return found


def parse_files(config: str, admin: str) -> State:
    """The managed state from gdnsd's ``config`` and ``admin_state`` texts."""
    drained = {(m.group("addr"), m.group("stype")) for m in map(_ADMIN_LINE.match, admin.splitlines()) if m}
    lines = config.splitlines()
    state: State = {}
    for name, start, end in _weighted_blocks(config):
        stype = "up"
        members: dict[str, Member] = {}
        for raw in lines[start + 1:end]:
            code = raw.split("#", 1)[0].rstrip()
            if (types := _SERVICE_TYPES.match(code)) is not None:
                stype = types.group("types")
            elif (m := _MEMBER_LINE.match(code)) is not None:
                addr = m.group("addr")
                down = (addr, stype) in drained or (addr, "*") in drained
                members[m.group("name")] = Member(m.group("name"), addr, int(m.group("weight")),
                                                  "drain" if down else "up")
        state[name] = Resource(name, stype, members)
    for block in _blocks(config, ["plugins", "metafo", "resources"]):
        state[block[0]] = _failover(lines, block, stype=_metafo_service_type(config), drained=drained)
    return state


def _metafo_service_type(config: str) -> str:
    """The ``service_types`` given to every metafo resource (at the plugin's level), else ``up``."""
    lines = config.splitlines()
    for _, start, end in _blocks(config, ["plugins"]):
        if lines[start].split()[0] != "metafo":
            continue
        inner = {n for _, s, e in _blocks(config, ["plugins", "metafo"]) for n in range(s, e + 1)}
        for number in range(start + 1, end):
            if number not in inner and (m := _SERVICE_TYPES.match(lines[number].split("#", 1)[0].rstrip())):
                return m.group("types")
    return "up"


def _failover(lines: list[str], block: tuple[str, int, int], *, stype: str,
              drained: set[tuple[str, str]]) -> Resource:
    """A metafo resource: ``datacenters => [ … ]`` gives the order, ``dcmap`` each one's address."""
    name, start, end = block
    order: list[str] = []
    addresses: dict[str, str] = {}
    for raw in lines[start + 1:end]:
        code = raw.split("#", 1)[0].rstrip()
        if (types := _SERVICE_TYPES.match(code)) is not None:
            stype = types.group("types")
        elif (dcs := _DATACENTERS.match(code)) is not None:
            order = [n.strip() for n in dcs.group("names").split(",") if n.strip()]
        elif (m := _DCMAP_LINE.match(code)) is not None:
            addresses[m.group("name")] = m.group("addr")
    if set(order) != set(addresses):
        raise ValueError(f"metafo resource {name}: datacenters {order} and dcmap {sorted(addresses)} differ")
    members = {}
    for rank, dc in enumerate(order, start=1):
        addr = addresses[dc]
        down = (addr, stype) in drained or (addr, "*") in drained
        members[dc] = Member(dc, addr, 1, "drain" if down else "up", rank)
    return Resource(name, stype, members, FAILOVER)


def render_config(config: str, desired: State) -> str:
    """``config`` with each resource's members replaced by ``desired``'s (the rest kept): a weighted
    resource's ``NAME = [ ADDRESS, WEIGHT ]`` lines, a failover's ``datacenters`` order and ``dcmap``."""
    lines = config.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []
    for name, start, end in _weighted_blocks(config):
        if name not in desired:
            continue
        body = lines[start + 1:end]
        indents = [m.group("indent") for m in (_MEMBER_LINE.match(raw.rstrip("\n")) for raw in body) if m]
        indent = indents[0] if indents else " " * (len(lines[start]) - len(lines[start].lstrip()) + 2)
        kept = [raw for raw in body if not _MEMBER_LINE.match(raw.split("#", 1)[0].rstrip())]
        new = [f"{indent}{m.name} = [ {m.address}, {m.weight} ]\n" for m in ordered(desired[name])]
        edits.append((start + 1, end, kept + new))
    for block in _blocks(config, ["plugins", "metafo", "resources"]):
        if block[0] in desired:
            edits += _failover_edits(config, lines, block, ordered(desired[block[0]]))
    for start, end, new in sorted(edits, key=lambda e: -e[0]):
        lines[start:end] = new
    return "".join(lines)


def _failover_edits(config: str, lines: list[str], block: tuple[str, int, int],
                    members: list[Member]) -> list[tuple[int, int, list[str]]]:
    """The ``datacenters`` line in the new order and the ``dcmap`` body, of one metafo resource."""
    name, start, end = block
    edits = []
    for number in range(start + 1, end):
        if (dcs := _DATACENTERS.match(lines[number].rstrip("\n"))) is not None:
            names = ", ".join(m.name for m in members)
            edits.append((number, number + 1, [f"{dcs.group('indent')}datacenters => [ {names} ]\n"]))
    for _, dstart, dend in _blocks(config, ["plugins", "metafo", "resources", name]):
        if lines[dstart].split()[0] != "dcmap":
            continue
        body = lines[dstart + 1:dend]
        indents = [m.group("indent") for m in (_DCMAP_LINE.match(raw.rstrip("\n")) for raw in body) if m]
        indent = indents[0] if indents else " " * (len(lines[dstart]) - len(lines[dstart].lstrip()) + 2)
        kept = [raw for raw in body if not _DCMAP_LINE.match(raw.split("#", 1)[0].rstrip())]
        edits.append((dstart + 1, dend, kept + [f"{indent}{m.name} => {m.address}\n" for m in members]))
    return edits


def render_admin(admin: str, desired: State, managed: set[str]) -> str:
    """``admin_state`` with the drains of ``desired``: lines about the ``managed`` addresses are
    rewritten (one ``ADDRESS/SERVICE_TYPE => DOWN`` per drained member, in order), others kept."""
    kept = [raw for raw in admin.splitlines(keepends=True)
            if not ((m := _ADMIN_LINE.match(raw.strip())) and m.group("addr") in managed)]
    drains = sorted({f"{m.address}/{res.service_type} => DOWN\n"
                     for res in desired.values() for m in res.members.values() if m.state == "drain"})
    return "".join(kept + drains)


class GdnsdOptions(DriverOptions):
    """``optional_args`` of the gdnsd driver."""

    config_dir: str | None = None
    """gdnsd's configuration directory (``config``, ``zones/``); required to open."""
    state_dir: str | None = None
    """Where ``admin_state`` lives; default: ``state/`` of ``config_dir`` as the lab lays it out
    (Debian's own is ``/var/lib/gdnsd``)."""
    gdnsd_bin: str = "gdnsd"
    gdnsdctl_bin: str = "gdnsdctl"


class GdnsdDriver(NoCommitConfirm, NetchangeDriver):
    """NAPALM-contract driver for gdnsd's weighted resources and drains (files + gdnsdctl)."""

    Options = GdnsdOptions
    default_port = 53

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname or "127.0.0.1", username, password, timeout, optional_args)
        options: GdnsdOptions = self.options
        self.config_dir = Path(options.config_dir) if options.config_dir else None
        state_dir = options.state_dir or (str(self.config_dir / "state") if self.config_dir else None)
        self.admin_path = Path(state_dir) / "admin_state" if state_dir else None
        self.gdnsd_bin, self.gdnsdctl_bin = options.gdnsd_bin, options.gdnsdctl_bin
        self._desired: State | None = None
        self._base = ""
        self._pre_commit: tuple[str, str] | None = None
        """The two files' texts before the last commit, byte for byte (what a rollback writes)."""

    # --- session -------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        if self.config_dir is None:
            raise OpenFailed("gdnsd driver needs optional_args.config_dir (gdnsd's configuration directory)")
        return self.config_dir / "config"

    def _ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.gdnsdctl_bin, "-c", str(self.config_dir), "-o", "-t", "5", *args],
                              capture_output=True, text=True, timeout=timeout, check=False)

    def open(self) -> None:
        if not self.config_path.is_file():
            raise OpenFailed(f"gdnsd config {self.config_path} not found")
        status = self._ctl("status")
        if status.returncode != 0:
            raise OpenFailed(f"gdnsdctl status: {(status.stderr or status.stdout).strip()[-200:]}")

    def close(self) -> None:
        self._desired = None

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": self.config_dir is not None and self._ctl("status").returncode == 0}

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """gdnsdctl's reading actions (``states``, ``stats``, ``status``); anything else is refused."""
        check_read_only(load_profile("gdnsd"), commands)
        out = {}
        for command in commands:
            done = self._ctl(command)
            out[command] = done.stdout if done.returncode == 0 else done.stdout + done.stderr
        return out

    def monitor_states(self) -> dict[str, dict[str, str]]:
        """``gdnsdctl states``: ``ADDRESS/SERVICE_TYPE`` → ``{"state", "real_state"}``."""
        done = self._ctl("states")
        if done.returncode != 0:
            raise ConnectionException(f"gdnsdctl states: {done.stderr.strip()[-200:]}")
        states: dict[str, dict[str, str]] = json.loads(done.stdout)
        return states

    # --- state ---------------------------------------------------------------------------------

    def _files(self) -> tuple[str, str]:
        assert self.admin_path is not None
        admin = self.admin_path.read_text() if self.admin_path.exists() else ""
        return self.config_path.read_text(), admin

    def _running(self) -> State:
        try:
            return parse_files(*self._files())
        except (OSError, ValueError) as exc:
            raise OpenFailed(f"{self.config_dir}: {exc}") from exc

    def running_config(self) -> str:
        return render_state(self._running())

    def candidate_config(self) -> str | None:
        return render_state(self._desired) if self._desired is not None else None

    def startup_config(self) -> str:
        """The two files the next start reads (they are the running state: no save step)."""
        config, admin = self._files()
        return config + "\n# admin_state\n" + admin

    def normalize_config(self, text: str) -> str:
        return render_state(parse_state(text))

    # --- candidate -----------------------------------------------------------------------------

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        running = self._running()
        try:
            desired = merge(running, _read(filename, config))
            self._check(desired)
        except (OSError, ValueError) as exc:
            self.discard_config()
            raise MergeRejected(f"{self._device_name}: candidate refused: {exc}") from None
        self._desired, self._base = desired, render_state(running)
        self._checked_state = self._base

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        running = self._running()
        try:
            desired = parse_state(_read(filename, config))
            if set(desired) != set(running):
                raise ValueError(f"resources are changed in gdnsd's config: candidate has {sorted(desired)}, "
                                 f"running has {sorted(running)}")
            desired = {k: replace_members(running[k], r) for k, r in desired.items()}
            desired = merge(desired, "")
            self._check(desired)
        except (OSError, ValueError) as exc:
            self.discard_config()
            raise ReplaceRejected(f"{self._device_name}: candidate refused: {exc}") from None
        self._desired, self._base = desired, render_state(running)
        self._checked_state = self._base

    def _check(self, desired: State) -> None:
        """``gdnsd checkconf`` on the configuration ``desired`` makes, beside the real zones."""
        config, _ = self._files()
        text = render_config(config, desired)
        assert self.config_dir is not None
        with tempfile.TemporaryDirectory(prefix="netchange-gdnsd-") as scratch:
            Path(scratch, "config").write_text(text)
            os.symlink(self.config_dir / "zones", Path(scratch, "zones"))
            done = subprocess.run([self.gdnsd_bin, "-c", scratch, "checkconf"], capture_output=True, text=True,
                                  timeout=30, check=False)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith(("fatal", "error"))]
            raise ValueError(f"gdnsd checkconf refused it: {' | '.join(errors)[-300:]}")

    def compare_config(self) -> str:
        if self._desired is None:
            return ""
        # Every member is shown as context: draining one of two centres and draining the last
        # one up differ only by the others' lines, which the classifier must see.
        return diff_text(self._read_running(), render_state(self._desired),
                         keep=lambda line: line.lstrip().startswith("member "))

    def rollback_preview(self) -> str:
        if self._desired is None:
            return ""
        return inverse_candidate(self._running(), self._desired)

    def discard_config(self) -> None:
        self._desired = None

    # --- commit --------------------------------------------------------------------------------

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("gdnsd has no confirmed commit; roll back with rollback()")
        if self._desired is None:
            raise CommitRefused("no candidate loaded")
        self._reread_and_compare("commit", base=self._base)
        before = self._files()
        config, admin = before
        running = parse_files(config, admin)
        managed = {m.address for res in (*running.values(), *self._desired.values()) for m in res.members.values()}
        target = (render_config(config, self._desired), render_admin(admin, self._desired, managed))
        desired = self._desired
        self._writing()
        self._desired = None
        problem = self._install(target, before)
        if problem is None and render_state(self._running()) != render_state(desired):
            problem = "the state read back differs from the candidate"
        if problem:
            undo = self._install(before, target)
            raise CommitRefused(f"{self._device_name}: {problem}; files "
                                + ("restored" if undo is None else f"NOT restored ({undo})"))
        self._pre_commit = before
        self._read_running()  # the state this commit left: what a rollback is checked against

    def rollback(self) -> None:
        """Write back the two files read before the last commit, byte for byte, and replace."""
        if self._pre_commit is None:
            raise CommitRefused("nothing to roll back: no commit in this session")
        self._reread_and_compare("rollback")
        now = self._files()
        self._writing()
        problem = self._install(self._pre_commit, now)
        if problem:
            raise CommitRefused(f"{self._device_name}: snapshot restore failed: {problem}")
        self._pre_commit = None

    def _install(self, target: tuple[str, str], current: tuple[str, str]) -> str | None:
        """Write the files of ``target`` that differ from ``current``; ``replace`` when the config
        changed; wait until gdnsd shows the forced states. What went wrong, or ``None``."""
        assert self.admin_path is not None
        if target[0] != current[0]:
            _write(self.config_path, target[0])
            done = self._ctl("replace", timeout=60)
            if done.returncode != 0:
                return f"gdnsdctl replace failed: {(done.stderr or done.stdout).strip()[-300:]}"
        if target[1] != current[1]:
            _write(self.admin_path, target[1])
        return self._settled(parse_files(*target))

    def _settled(self, desired: State) -> str | None:
        """Wait until gdnsd's forced states are those of ``desired`` (DOWN where drained)."""
        want = {f"{m.address}/{res.service_type}": m.state == "drain"
                for res in desired.values() for m in res.members.values() if res.service_type != "up"}
        deadline = time.monotonic() + SETTLE
        while True:
            try:
                states = self.monitor_states()
            except (ConnectionException, ValueError) as exc:
                states, error = {}, str(exc)
            else:
                error = ""
            wrong = [key for key, drained in want.items()
                     if key not in states or _forced(states[key]) != drained]
            if not wrong and not error:
                return None
            if time.monotonic() > deadline:
                return f"gdnsd does not show the intended states of {', '.join(wrong) or error}"
            time.sleep(0.2)


def _forced(state: dict[str, str]) -> bool:
    """Whether gdnsd shows a state forced DOWN by ``admin_state`` (it prints ``DOWN!``)."""
    return state.get("state", "") == "DOWN!"


def replace_members(running: Resource, wanted: Resource) -> Resource:
    """``wanted``'s members in ``running``'s resource (its service type kept)."""
    return replace(running, members=dict(wanted.members))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".netchange")
    tmp.write_text(text)
    if path.exists():
        shutil.copymode(path, tmp)
    os.replace(tmp, path)


def _read(filename: str | None, config: str | None) -> str:
    if config is not None:
        return config
    if filename is None:
        raise ValueError("give a filename or a config text")
    return Path(filename).read_text()
