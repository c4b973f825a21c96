"""HAProxy through its runtime API, with the configuration file kept in step.

Why both: runtime-API changes take effect without a reload (no connection is dropped), but they
vanish at the next reload; so every commit also rewrites the backends' ``server`` lines in
``haproxy.cfg`` (checked with ``haproxy -c`` first). The driver therefore runs where the config
file is (optional arg ``config_path``); the runtime API is reached on ``hostname:port`` (TCP,
``level admin``) or on the unix socket ``optional_args["socket"]``.

**Managed state** (``get_config()["running"]``): the config's ``frontend``/``backend``/``listen``
sections, with each backend's servers as the runtime sees them, sorted by name::

    backend be_web
        balance roundrobin
        server web1 127.0.0.1:8001 weight 1 state ready

``state`` is ``ready``, ``drain`` or ``maint``: the administrative state, not the health (which
moves on its own and is read with ``cli(["show servers state BACKEND"])``).

**Candidate** (``load_merge_candidate``): haproxy.cfg-style sections holding only server lines::

    backend be_web
        server web3 127.0.0.1:8003 weight 2        # add (address required), or update
        server web1 state drain                    # update only what is given
        no server web2                             # remove

``load_replace_candidate`` takes a full managed-state text (a snapshot): each backend then holds
exactly the servers listed. Frontends and non-server lines cannot change at runtime; a candidate
that changes them is refused.

A drained server is written to the file without its drain (HAProxy has no such keyword); a server
in maintenance is written ``disabled``.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from napalm.base.exceptions import (
    CommitError,
    ConnectionException,
)

from netchange.drivers.base import DriverOptions, NetchangeDriver, NoCommitConfirm, check_read_only
from netchange.drivers.diffformat import diff_text
from netchange.drivers.errors import CommitRefused, MergeRejected, OpenFailed, ReplaceRejected
from netchange.platforms import load_profile

STATES = ("ready", "drain", "maint")
_SECTION_KINDS = ("frontend", "backend", "listen")
_SERVER_SECTIONS = ("backend", "listen")
_HEALTH_FLAGS = {"check"}
_HEALTH_OPTIONS = {"inter", "fall", "rise", "port"}
# Answers of the runtime API that mean success; anything else is the error text.
_OK_ANSWERS = {"", "New server registered.", "Server deleted."}
# Administrative-state bits of ``show servers state`` (HAProxy's enum srv_admin).
_ADMF_MAINT = 0x01 | 0x02 | 0x04 | 0x20
_ADMF_DRAIN = 0x08 | 0x10
_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


@dataclass(frozen=True)
class Server:
    name: str
    address: str
    port: int
    weight: int = 1
    state: str = "ready"

    def line(self) -> str:
        return f"server {self.name} {self.address}:{self.port} weight {self.weight} state {self.state}"


@dataclass
class Section:
    kind: str
    name: str
    lines: list[str] = field(default_factory=list)
    """Non-server lines, stripped, in file order."""
    servers: dict[str, Server] = field(default_factory=dict)

    @property
    def header(self) -> str:
        return f"{self.kind} {self.name}"

    def copy(self) -> Section:
        return Section(self.kind, self.name, list(self.lines), dict(self.servers))


State = dict[str, Section]
"""``"backend be_web"`` → section, in config order."""


def render_state(state: State) -> str:
    """The canonical managed-state text (what ``get_config`` returns)."""
    blocks = []
    for section in state.values():
        body = [f"    {line}" for line in section.lines]
        body += [f"    {srv.line()}" for _, srv in sorted(section.servers.items())]
        blocks.append("\n".join([section.header, *body]))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _split_sections(text: str) -> list[tuple[str, list[str]]]:
    """(header, body lines) per section; comments and blank lines dropped."""
    sections: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[:1].isspace():
            sections.append((" ".join(line.split()), []))
        elif sections:
            sections[-1][1].append(" ".join(line.split()))
        else:
            raise ValueError(f"line outside any section: {line.strip()!r}")
    return sections


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not ADDRESS:PORT")
    return host, int(port)


def parse_server(tokens: list[str], current: Server | None) -> Server:
    """``server NAME [ADDR:PORT] [weight N] [state S]`` applied over ``current`` (None: a new server)."""
    if len(tokens) < 2 or not _NAME.fullmatch(tokens[1]):
        raise ValueError(f"bad server line: {' '.join(tokens)!r}")
    name, rest = tokens[1], tokens[2:]
    address, port = (current.address, current.port) if current else ("", 0)
    if rest and rest[0] not in ("weight", "state"):
        address, port = _address(rest.pop(0))
    if not address:
        raise ValueError(f"new server {name!r} needs ADDRESS:PORT")
    weight = current.weight if current else 1
    state = current.state if current else "ready"
    while rest:
        if len(rest) < 2:
            raise ValueError(f"server {name}: {rest[0]!r} needs a value")
        key, value, rest = rest[0], rest[1], rest[2:]
        if key == "weight" and value.isdigit() and 0 <= int(value) <= 256:
            weight = int(value)
        elif key == "state" and value in STATES:
            state = value
        else:
            raise ValueError(
                f"server {name}: unsupported {key} {value!r} (weight 0-256, state {'|'.join(STATES)})"
            )
    return Server(name, address, port, weight, state)


def parse_state(text: str) -> State:
    """A managed-state text (a snapshot) back into sections."""
    state: State = {}
    for header, body in _split_sections(text):
        kind, _, name = header.partition(" ")
        if kind not in _SECTION_KINDS or not name:
            raise ValueError(f"unsupported section {header!r} (frontend, backend, listen)")
        section = Section(kind, name)
        for line in body:
            tokens = line.split()
            if tokens[0] == "server" and kind in _SERVER_SECTIONS:
                srv = parse_server(tokens, None)
                section.servers[srv.name] = srv
            else:
                section.lines.append(line)
        state[section.header] = section
    return state


def merge(running: State, candidate: str) -> State:
    """The state after applying a merge candidate (see the module docstring) to ``running``."""
    desired = {key: sec.copy() for key, sec in running.items()}
    for header, body in _split_sections(candidate):
        section = desired.get(header)
        if section is None or section.kind not in _SERVER_SECTIONS:
            raise ValueError(f"{header!r}: not a backend of this load balancer")
        for line in body:
            tokens = line.split()
            if tokens[:2] == ["no", "server"] and len(tokens) == 3:
                if tokens[2] not in section.servers:
                    raise ValueError(f"{header}: no server {tokens[2]!r} to remove")
                del section.servers[tokens[2]]
            elif tokens[0] == "server":
                srv = parse_server(tokens, section.servers.get(tokens[1]) if len(tokens) > 1 else None)
                section.servers[srv.name] = srv
            else:
                raise ValueError(
                    f"{header}: only 'server' and 'no server' lines change at runtime, got {line!r}"
                )
    return desired


def inverse_candidate(before: State, after: State) -> str:
    """Merge lines that bring ``after`` back to ``before`` (the rollback preview)."""
    blocks = []
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            continue
        lines = [f"    no server {name}" for name in sorted(set(new.servers) - set(old.servers))]
        lines += [
            f"    {srv.line()}" for name, srv in sorted(old.servers.items()) if new.servers.get(name) != srv
        ]
        if lines:
            blocks.append("\n".join([key, *lines]))
    return "\n".join(blocks) + "\n" if blocks else ""


def rewrite_config(text: str, desired: State) -> str:
    """``haproxy.cfg`` with each managed backend's server lines set to ``desired``.

    Existing server lines keep their position and their other options (``check``, ``inter`` …);
    new servers go after them, with the backend's health-check options; removed ones disappear.
    """
    out: list[str] = []
    section: Section | None = None
    pending: list[str] = []  # blank/comment lines held until we know the section goes on
    emitted: set[str] = set()
    health: list[str] = []

    def flush_new() -> None:
        if section is None:
            return
        for name, srv in sorted(section.servers.items()):
            if name not in emitted:
                out.append(_file_line(srv, health, "    "))
                emitted.add(name)

    for raw in text.splitlines():
        stripped = raw.strip()
        if raw[:1].strip() and not stripped.startswith("#"):  # a new section header
            flush_new()
            out.extend(pending)
            pending = []
            section, emitted, health = desired.get(" ".join(raw.split()[:2])), set(), []
            if section is not None and section.kind not in _SERVER_SECTIONS:
                section = None
            out.append(raw)
            continue
        if not stripped or stripped.startswith("#"):
            pending.append(raw)
            continue
        out.extend(pending)
        pending = []
        tokens = stripped.split()
        if section is not None and tokens[0] == "server" and len(tokens) >= 3:
            indent = raw[: len(raw) - len(raw.lstrip())]
            extra = _strip_managed(tokens[3:])
            if not health:
                health = _health_options(extra)
            srv = section.servers.get(tokens[1])
            if srv is not None:
                out.append(_file_line(srv, extra, indent))
                emitted.add(srv.name)
            continue
        out.append(raw)
    flush_new()
    out.extend(pending)
    return "\n".join(out) + "\n"


def _strip_managed(options: list[str]) -> list[str]:
    """Options of a server line without those the driver owns (weight, disabled/enabled)."""
    kept: list[str] = []
    skip = False
    for i, word in enumerate(options):
        if skip:
            skip = False
            continue
        if word == "weight" and i + 1 < len(options):
            skip = True
            continue
        if word in ("disabled", "enabled"):
            continue
        kept.append(word)
    return kept


def _health_options(options: list[str]) -> list[str]:
    kept: list[str] = []
    for i, token in enumerate(options):
        if token in _HEALTH_FLAGS:
            kept.append(token)
        elif token in _HEALTH_OPTIONS and i + 1 < len(options):
            kept += [token, options[i + 1]]
    return kept


def _file_line(srv: Server, options: list[str], indent: str) -> str:
    tail = " ".join(options)
    line = f"{indent}server {srv.name} {srv.address}:{srv.port} weight {srv.weight}"
    line += f" {tail}" if tail else ""
    return line + (" disabled" if srv.state == "maint" else "")


def parse_servers_state(text: str) -> dict[str, Server]:
    """``show servers state BACKEND`` (format 1) → servers by name."""
    servers: dict[str, Server] = {}
    for line in text.splitlines()[1:]:
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split()
        admin = int(f[6])
        state = "maint" if admin & _ADMF_MAINT else "drain" if admin & _ADMF_DRAIN else "ready"
        servers[f[3]] = Server(f[3], f[4], int(f[18]), int(f[7]), state)
    return servers


class HaproxyOptions(DriverOptions):
    """``optional_args`` of the HAProxy driver."""

    socket: str | None = None
    """The runtime API's unix socket (else TCP ``hostname:port``, port 9999 by default)."""
    config_path: str | None = None
    """The haproxy.cfg the driver keeps in step with the runtime state (required to open)."""
    haproxy_bin: str = "haproxy"
    """The binary that checks a configuration file (``haproxy -c``)."""
    master_socket: str | None = None
    """The master CLI socket, given by the lab's inventory; the driver does not use it."""


class HaproxyDriver(NoCommitConfirm, NetchangeDriver):
    """NAPALM-contract driver for HAProxy (runtime API + config file)."""

    Options = HaproxyOptions
    default_port = 9999

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(hostname or "127.0.0.1", username, password, timeout, optional_args)
        options: HaproxyOptions = self.options
        self.socket_path: str | None = options.socket
        self.config_path = Path(options.config_path) if options.config_path else None
        self.haproxy_bin = options.haproxy_bin
        self._desired: State | None = None
        self._base = ""
        """Managed state the candidate was computed from; a commit refuses if it moved since."""
        self._pre_commit: State | None = None

    # --- session -------------------------------------------------------------------------------

    def _command(self, command: str) -> str:
        """One runtime-API command; the API closes the connection after each answer."""
        family, address = (
            (socket.AF_UNIX, self.socket_path)
            if self.socket_path
            else (socket.AF_INET, (self.hostname, self.port))
        )
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(min(self.timeout, 10))
                sock.connect(address)
                sock.sendall(command.encode() + b"\n")
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
        except OSError as exc:
            raise OpenFailed(f"haproxy runtime API {address}: {exc}") from exc
        return b"".join(chunks).decode(errors="replace")

    def open(self) -> None:
        if self.config_path is None:
            raise OpenFailed(
                "haproxy driver needs optional_args.config_path (the haproxy.cfg it keeps in step)"
            )
        if not self.config_path.is_file():
            raise OpenFailed(f"haproxy config {self.config_path} not found")
        if "Name: HAProxy" not in self._command("show info"):
            raise OpenFailed("the runtime API did not answer 'show info' like HAProxy")

    def close(self) -> None:
        self._desired = None

    def is_alive(self) -> dict[str, bool]:
        try:
            self._command("show info")
        except ConnectionException:
            return {"is_alive": False}
        return {"is_alive": True}

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """Read-only runtime-API commands (``show …``); anything else is refused."""
        check_read_only(load_profile("haproxy"), commands)
        out = {}
        for command in commands:
            out[command] = self._command(command)
        return out

    # --- state ---------------------------------------------------------------------------------

    def _running(self) -> State:
        assert self.config_path is not None
        try:
            state = parse_state(_managed_sections(self.config_path.read_text()))
        except ValueError as exc:
            raise OpenFailed(f"{self.config_path}: {exc}") from exc
        for section in state.values():
            if section.kind in _SERVER_SECTIONS:
                answer = self._command(f"show servers state {section.name}")
                if not answer.startswith("1\n"):
                    raise OpenFailed(f"show servers state {section.name}: {answer.strip()}")
                section.servers = parse_servers_state(answer)
        return state

    def running_config(self) -> str:
        return render_state(self._running())

    def candidate_config(self) -> str | None:
        return render_state(self._desired) if self._desired is not None else None

    def startup_config(self) -> str:
        """The configuration file HAProxy starts from (servers added at runtime are written back)."""
        assert self.config_path is not None
        return self.config_path.read_text()

    def normalize_config(self, text: str) -> str:
        return render_state(parse_state(text))

    # --- candidate -----------------------------------------------------------------------------

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        text = _read(filename, config)
        running = self._running()
        try:
            desired = merge(running, text)
            self._check_file(desired)
        except ValueError as exc:
            raise MergeRejected(str(exc)) from None
        self._desired, self._base = desired, render_state(running)
        self._checked_state = self._base

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        text = _read(filename, config)
        running = self._running()
        try:
            desired = parse_state(text)
            if set(desired) != set(running):
                raise ValueError(
                    "sections cannot be added or removed at runtime: "
                    f"candidate has {sorted(desired)}, running has {sorted(running)}"
                )
            for key, section in desired.items():
                if section.lines != running[key].lines:
                    raise ValueError(f"{key}: only server lines change at runtime")
            self._check_file(desired)
        except ValueError as exc:
            raise ReplaceRejected(str(exc)) from None
        self._desired, self._base = desired, render_state(running)
        self._checked_state = self._base

    def compare_config(self) -> str:
        if self._desired is None:
            return ""
        # The servers that stay are shown as context: removing one of several is minor, removing
        # the last one empties the backend (major); the classifier can only tell them apart so.
        return diff_text(self._read_running(), render_state(self._desired),
                         keep=lambda line: line.lstrip().startswith("server "))

    def rollback_preview(self) -> str:
        if self._desired is None:
            return ""
        return inverse_candidate(self._running(), self._desired)

    def discard_config(self) -> None:
        self._desired = None

    def _check_file(self, desired: State) -> str:
        """The config file as it will be after the commit, checked by ``haproxy -c``."""
        assert self.config_path is not None
        text = rewrite_config(self.config_path.read_text(), desired)
        candidate = self.config_path.with_name(self.config_path.name + ".candidate")
        candidate.write_text(text)
        try:
            proc = subprocess.run(
                [self.haproxy_bin, "-c", "-q", "-f", str(candidate)],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        finally:
            candidate.unlink(missing_ok=True)
        if proc.returncode != 0:
            detail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise ValueError(f"haproxy -c refused the new config: {detail}")
        return text

    # --- commit --------------------------------------------------------------------------------

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("haproxy has no confirmed commit; roll back with rollback()")
        if self._desired is None:
            raise CommitRefused("no candidate loaded")
        # Another hand: read again last; the runtime commands go from this reading to the
        # desired state, which was computed from the reading at load (``base``): both must hold.
        # HAProxy's runtime API has no lock or transaction to hold meanwhile.
        before = parse_state(self._reread_and_compare("commit", base=self._base))
        self._writing()
        try:
            self._apply(before, self._desired)
        except CommitError:
            # Leave the device as it was found, then report the first error.
            with contextlib.suppress(CommitError, ConnectionException, ValueError):
                self._apply(self._running(), before)
            raise
        self._pre_commit = before
        self._desired = None
        self._read_running()  # the state this commit left: what a rollback is checked against

    def rollback(self) -> None:
        if self._pre_commit is None:
            raise CommitRefused("nothing to roll back: no commit in this session")
        running = parse_state(self._reread_and_compare("rollback"))
        self._writing()
        self._apply(running, self._pre_commit)
        self._pre_commit = None



    def _admin(self, command: str) -> None:
        answer = self._command(command).strip()
        if answer not in _OK_ANSWERS:
            raise CommitRefused(f"haproxy refused {command!r}: {answer}")

    def _apply(self, running: State, desired: State) -> None:
        """Runtime commands from ``running`` to ``desired``, then the file. Adds first, removals last,
        so that a backend never has fewer servers than at either end."""
        assert self.config_path is not None
        try:
            text = self._check_file(desired)
        except ValueError as exc:
            raise CommitRefused(str(exc)) from None
        for key, want in desired.items():
            have = running[key].servers
            health = _health_options(_backend_options(self.config_path.read_text(), key))
            for name, srv in sorted(want.servers.items()):
                old = have.get(name)
                bs = f"{want.name}/{name}"
                if old is not None and (old.address, old.port) != (srv.address, srv.port):
                    self._remove(bs)
                    old = None
                if old is None:
                    spec = f"{srv.address}:{srv.port} weight {srv.weight} {' '.join(health)}"
                    self._admin(f"add server {bs} {spec.rstrip()}")
                    if "check" in health:
                        self._admin(f"enable health {bs}")
                    old = replace(srv, state="maint")
                if old.weight != srv.weight:
                    self._admin(f"set server {bs} weight {srv.weight}")
                if old.state != srv.state:
                    self._admin(f"set server {bs} state {srv.state}")
        for key, want in desired.items():
            for name in sorted(set(running[key].servers) - set(want.servers)):
                self._remove(f"{want.name}/{name}")
        tmp = self.config_path.with_name(self.config_path.name + ".new")
        tmp.write_text(text)
        os.replace(tmp, self.config_path)

    def _remove(self, bs: str) -> None:
        self._admin(f"set server {bs} state maint")
        self._admin(f"shutdown sessions server {bs}")
        deadline = time.monotonic() + 2.0
        while True:
            answer = self._command(f"del server {bs}").strip()
            if answer == "Server deleted.":
                return
            # Idle connections are released asynchronously; give them a moment.
            if time.monotonic() > deadline:
                raise CommitRefused(f"haproxy refused 'del server {bs}': {answer}")
            time.sleep(0.05)


def _managed_sections(text: str) -> str:
    """The frontend/backend/listen sections of a config file, server lines left out."""
    keep: list[str] = []
    on = False
    for raw in text.splitlines():
        if raw[:1].strip() and not raw.lstrip().startswith("#"):
            on = raw.split()[0] in _SECTION_KINDS
        if on and raw.split()[:1] != ["server"]:
            keep.append(raw)
    return "\n".join(keep)


def _backend_options(text: str, header: str) -> list[str]:
    """The options of the first server line of section ``header`` in the file (health-check template)."""
    current = ""
    for raw in text.splitlines():
        if raw[:1].strip() and not raw.lstrip().startswith("#"):
            current = " ".join(raw.split()[:2])
        elif current == header and raw.split()[:1] == ["server"]:
            return _strip_managed(raw.split()[3:])
    return []


def _read(filename: str | None, config: str | None) -> str:
    if config is not None:
        return config
    if filename is None:
        raise MergeRejected("give a filename or a config text")
    return Path(filename).read_text()
