"""An FRR router over SSH: ``vtysh`` to read, check and send, FRR's own ``frr-reload.py`` to diff.

- ``get_config``: ``vtysh -c 'show running-config'``, exactly as vtysh prints it (header included).
- candidate: the **target configuration**, a full FRR configuration. Replace: the text given
  (a snapshot's ``Building configuration...``/``Current configuration:`` header is dropped, see
  below). Merge: the running configuration with the snippet's lines added (frr-reload.py merges
  repeated sections such as a second ``router ospf`` block); a snippet line ``no X`` whose
  positive ``X`` is in the running configuration at the same place removes it from the target
  (:func:`merge_target`), any other ``no`` line is kept as a statement (``no ipv6 forwarding``).
- ``load_*_candidate`` checks the target with ``vtysh -C -f`` on the device (FRR's own parser).
- ``compare_config``: ``frr-reload.py --test --input`` of the reading just made, its exit status
  checked, its "lines to delete / lines to add" turned into netchange's diff format
  (:func:`reload_diff`). frr-reload.py has a trap: a target it cannot parse (even only the header
  vtysh itself prints) makes it answer "delete everything" with exit status 1. Such an answer is
  refused, never shown as a diff and never applied.
- ``commit_config``: the commands are frr-reload.py's (``--test --input``) computed from **the
  reading that was checked**, never from a reading of its own (``--reload`` reads the router
  again itself, and would delete a line typed by hand in between without a word); the router is
  read again and must still be that reading, then netchange sends exactly those commands through
  vtysh (:func:`send_script`: each delete as frr-reload.py sends it, the adds in one
  ``vtysh -f``), reads the router back and checks with ``--test --input`` that nothing is left
  to do. A line typed during the send is in no command: it stays, and is named
  (:class:`ChangedDuringWrite`: written, unlike :class:`ChangedMeanwhile`). On failure the
  pre-commit configuration is put back the same way before the error is raised (the commands
  are sent line by line, not atomically).
- ``rollback``: the same way to the pre-commit snapshot, then ``show running-config`` must be
  byte for byte what it was; no normalisation was needed (FRR prints no counters or timestamps
  there, and the header lines are constant).
- reading: ``show running-config`` comes with ``show daemons`` in the same vtysh call; a daemon
  that answered when the session opened and no longer does (or whose pid file names a dead
  process) raises :class:`NotAnswering` — vtysh would print the configuration without that
  daemon's part, which is not a change anyone made. A ``show … json`` answer that is not JSON
  raises :class:`AnswerUnreadable`.

No confirmed commit (FRR has none): the engine rolls back itself. Commands run over SSH, one exec
channel each (:mod:`netchange.drivers.sshexec`), as the user the inventory gives (root in the lab).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any, Literal

from napalm.base.exceptions import CommandErrorException

from netchange.drivers.base import check_read_only
from netchange.drivers.errors import (
    AnswerUnreadable,
    ChangedDuringWrite,
    ChangedMeanwhile,
    CommitRefused,
    MergeRejected,
    NotAnswering,
    ReplaceRejected,
)
from netchange.drivers.sshdriver import SshExecDriver
from netchange.drivers.sshexec import SshOptions
from netchange.platforms import SaveSteps, load_profile

Mode = Literal["merge", "replace"]

HEADER = ("Building configuration...", "Current configuration:")
"""What vtysh prints before the configuration; frr-reload.py cannot parse it (see the module)."""
DEFAULT_SOCKET_DIR = "/var/run/frr"
"""Where FRR's daemons keep their vty sockets and pid files unless ``vty_socket`` says otherwise."""
_SPLIT = "NETCHANGE-RUNNING-END"
_DELETE_BANNER = "Lines To Delete"
_ADD_BANNER = "Lines To Add"
_MAX_CANDIDATE = 1_000_000


# -- pure helpers (unit-tested without a device) -----------------------------------------------


def strip_header(text: str) -> str:
    """``text`` without vtysh's header lines (and the blank lines around them); newline-terminated."""
    lines = text.replace("\r\n", "\n").splitlines()
    while lines and (not lines[0].strip() or lines[0].strip() in HEADER):
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""


def check_text(text: str) -> str:
    """Refuse what cannot be an FRR configuration (empty, control characters, too large)."""
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise ValueError("empty candidate")
    if len(text) > _MAX_CANDIDATE:
        raise ValueError(f"candidate larger than {_MAX_CANDIDATE} characters")
    bad = sorted({f"{ord(c):#04x}" for c in text if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127})
    if bad:
        raise ValueError(f"control characters in candidate: {', '.join(bad)}")
    return text if text.endswith("\n") else text + "\n"


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _chains(lines: list[str]) -> list[tuple[str, ...]]:
    """For each line, its ancestors' texts (stripped) then its own: where it lives."""
    out: list[tuple[str, ...]] = []
    stack: list[tuple[int, str]] = []
    for line in lines:
        if not line.strip() or line.strip() == "!":
            out.append(())
            continue
        depth = _depth(line)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        out.append((*[text for _, text in stack], line.strip()))
        if line.strip() not in ("exit", "exit-address-family", "exit-vrf", "exit-vnc", "end"):
            stack.append((depth, line.strip()))
    return out


def merge_target(running: str, snippet: str) -> str:
    """The target configuration of a merge: ``running`` (header dropped) plus ``snippet``.

    A snippet line ``no X`` whose ``X`` sits in the running configuration under the same parents
    removes that line (and its children) from the target instead of being appended: frr-reload.py
    computes the difference to a target, it does not run commands. Every other snippet line is
    appended under its parents (frr-reload.py merges a repeated section into the first one).
    """
    base = strip_header(running).splitlines()
    if base and base[-1].strip() == "end":
        base.pop()
    chains = _chains(base)
    drop: set[int] = set()
    kept: list[str] = []
    snippet_lines = snippet.splitlines()
    for line, chain in zip(snippet_lines, _chains(snippet_lines), strict=True):
        text = line.strip()
        if chain and text.startswith("no "):
            positive = (*chain[:-1], text[3:].strip())
            found = [i for i, c in enumerate(chains) if c == positive and i not in drop]
            if found:
                for i in found:
                    drop.add(i)
                    # and its children: the following lines that are deeper
                    j = i + 1
                    while j < len(base) and (not base[j].strip() or _depth(base[j]) > _depth(base[i])):
                        drop.add(j)
                        j += 1
                # keep the parents of a removed nested line: they are in the target anyway
                continue
        kept.append(line)
    target = [line for i, line in enumerate(base) if i not in drop]
    # parent lines of removed nested lines are still in `kept` as context: harmless (merged)
    return "\n".join([*target, "!", *kept, "end"]) + "\n"


def parse_reload_output(text: str) -> tuple[list[str], list[str]] | None:
    """(commands to delete, commands to add) from ``frr-reload.py --test`` output.

    Each banner is printed only when its list is not empty (nothing to do prints nothing); ``None``
    for text outside the banners (not an answer frr-reload.py gives when it worked).
    """
    parts: dict[str, list[str]] = {_DELETE_BANNER: [], _ADD_BANNER: []}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.strip() in parts:
            current = parts[line.strip()]
        elif not line.strip() or set(line.strip()) <= {"="}:
            continue
        elif current is None:
            return None
        else:
            current.append(line)
    return parts[_DELETE_BANNER], parts[_ADD_BANNER]


def _commands(lines: list[str]) -> list[tuple[list[str], str]]:
    """frr-reload.py prints each command after its parents: (parents, command) pairs."""
    out: list[tuple[list[str], str]] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is not None and _depth(nxt) > _depth(line):
            continue  # a parent of the next line
        parents: list[str] = []
        depth = _depth(line)
        for prev in reversed(lines[:i]):
            if _depth(prev) < depth:
                parents.insert(0, prev)
                depth = _depth(prev)
                if depth == 0:
                    break
        out.append((parents, line))
    return out


def reload_diff(deletes: list[str], adds: list[str], running: str) -> str:
    """frr-reload.py's commands as netchange's diff (``-`` removed line, ``+`` added, `` `` parent).

    ``no X`` (to delete or to add) removes ``X``; a plain line to delete is itself the negation of
    a ``no X`` line of the running configuration (``ipv6 forwarding`` undoes ``no ipv6 forwarding``);
    a plain line to add is added. A parent that the running configuration lacks is added too.
    """
    present = {line.rstrip() for line in strip_header(running).splitlines()}
    out: list[str] = []
    shown: list[str] = []
    for section, lines in (("delete", deletes), ("add", adds)):
        for parents, command in _commands(lines):
            if parents != shown:
                # print only the parents that differ from the ones printed just before
                common = 0
                while common < min(len(parents), len(shown)) and parents[common] == shown[common]:
                    common += 1
                for parent in parents[common:]:
                    out.append((" " if parent in present else "+") + parent)
                shown = parents
            pad = command[: _depth(command)]
            text = command.strip()
            if text.startswith("no "):
                out.append(f"-{pad}{text[3:]}")
            elif section == "delete":
                out.append(f"-{pad}no {text}")
            else:
                out.append(f"+{pad}{text}")
        shown = []
    return "\n".join(out) + "\n" if out else ""


def send_script(vtysh: str, deletes: list[str], workdir: str = '"$d"') -> str:
    """The shell lines that send frr-reload.py's commands through ``vtysh`` (the adds in the file
    ``$d/target.conf``, written by :meth:`FrrDriver._with_target`): each delete in its own ``vtysh -c configure -c …``
    (parents first), its last word dropped and tried again while it has more than two words, as
    ``frr-reload.py --reload`` does (``no ip ospf authentication message-digest 1.1.1.1`` is
    refused, ``no ip ospf authentication`` is not); then every add in one ``vtysh -f``. What no
    attempt deleted is printed on stderr and the script exits 1; nothing else is sent."""
    out = ['fail=0',
           'del() { last=$1; shift; orig=$last; '
           f'until {vtysh} -c configure "$@" -c "$last" >{workdir}/del.out 2>&1; do '
           'case "$last" in *" "*" "*) last=${last% *} ;; '
           '*) echo "not deleted: $orig: $(tr "\\n" " " <' + workdir + '/del.out | head -c 300)" >&2; '
           'fail=1; break ;; esac; done; }']
    for parents, command in _commands(deletes):
        args = " ".join(f"-c {shlex.quote(parent)}" for parent in parents)
        out.append(f"del {shlex.quote(command.strip())} {args}".rstrip())
    out.append(f'if [ -s {workdir}/target.conf ]; then {vtysh} -f {workdir}/target.conf >{workdir}/add.out 2>&1 '
               f'|| {{ echo "adds refused: $(tr "\\n" " " <{workdir}/add.out | head -c 300)" >&2; fail=1; }}; fi')
    out.append('exit $fail')
    return "\n".join(out) + "\n"


def foreign_lines(checked: str, now: str, target: str, to_delete: list[str]) -> list[str]:
    """Lines of ``now`` (read after our write) that neither the reading our commands were
    computed from (``checked``) nor the ``target`` holds, when frr-reload.py would delete one of
    them to reach the target (``to_delete``: its commands from ``now``, a ``no X`` deletes ``X``
    whether listed to delete or to add): another hand's,
    typed during the write. A line that only prints differently from the target (FRR's own
    spelling of a line) is not in ``to_delete`` and is not taken for one. ``+line`` each."""
    known = {line.strip() for line in (*strip_header(checked).splitlines(), *strip_header(target).splitlines())}
    found = [line for line in strip_header(now).splitlines()
             if line.strip() not in known and line.strip() not in ("!", "exit", "end")]
    deleted = {line.strip() for line in to_delete}
    named = [line for line in found if f"no {line.strip()}" in deleted
             or (line.strip().startswith("no ") and line.strip()[3:] in deleted)]
    return [f"+{line}" for line in found] if named else []


FRR_DAEMONS = frozenset({"zebra", "staticd", "bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd",
                         "pim6d", "ldpd", "nhrpd", "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd",
                         "vrrpd", "pathd"})
"""The routing daemons FRR's ``daemons`` file can enable (``bgpd=yes``): its other keys
(``vtysh_enable``, ``zebra_options``...) are not daemons."""


def enabled_daemons(daemons_file: str) -> frozenset[str]:
    """The daemons FRR's ``daemons`` file (``/etc/frr/daemons``: what ``frrinit.sh`` starts)
    enables: ``bgpd=yes`` lines, shell syntax (quotes, comments, spaces) allowed."""
    found = set()
    for line in daemons_file.splitlines():
        name, sep, value = line.split("#", 1)[0].strip().partition("=")
        if sep and name.strip() in FRR_DAEMONS and value.strip().strip("\"'").lower() == "yes":
            found.add(name.strip())
    return frozenset(found)


def daemon_trouble(answering: frozenset[str], at_open: frozenset[str], dead: frozenset[str],
                   enabled: frozenset[str] = frozenset()) -> list[str]:
    """The daemons that do not answer vtysh although they should: those that answered when the
    session opened, those whose pid file names a process that no longer exists (a daemon that
    crashed before this session, which ``show daemons`` alone would not reveal), and those the
    router's ``daemons`` file enables (one stopped before the session, its pid file removed)."""
    return sorted((at_open | dead | enabled) - answering)


# -- the driver --------------------------------------------------------------------------------


class FrrOptions(SshOptions):
    """``optional_args`` of the FRR driver."""

    vty_socket: str | None = None
    """vtysh's ``--vty_socket`` (the daemons' socket directory) when it is not FRR's default."""
    vtysh: str = "vtysh"
    frr_reload: str = "/usr/lib/frr/frr-reload.py"
    config_dir: str = "/etc/frr"
    """Where the daemons' integrated ``frr.conf`` is (vtysh's ``--config_dir``): what
    ``write memory`` writes and the next start reads."""
    running_reuse_seconds: float = 2.0
    """How long the engine's ``get_config`` serves the load, the compare and the commit without
    reading the router again, nothing read or written since (0: never; issue 27 item 1)."""


class FrrDriver(SshExecDriver):
    """NAPALM-contract driver for an FRR router (vtysh, frr-reload.py) reached over SSH."""

    Options = FrrOptions

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname, username, password, timeout, optional_args)
        options: FrrOptions = self.options
        socket = f" --vty_socket {shlex.quote(options.vty_socket)}" if options.vty_socket else ""
        self._vtysh = shlex.quote(options.vtysh) + socket
        self._reload_cmd = f"{shlex.quote(options.frr_reload)} --stdout{socket}"
        self.config_dir = options.config_dir
        self._candidate: str | None = None
        self._mode: Mode | None = None
        self._snapshot: str | None = None
        self._base: str | None = None
        """The reading a merge's target was computed from (the target is that reading + the snippet)."""
        self.running_reuse_seconds = options.running_reuse_seconds
        self._tested: tuple[str, str, tuple[list[str], list[str]]] | None = None
        """The last ``frr-reload.py --test`` (target, reading, answer): the commit's, computed from
        the same target and reading as the compare's, is that answer (one exec less)."""
        self._daemons_at_open: frozenset[str] = frozenset()
        """The daemons that answered vtysh when the session opened."""
        self._enabled: frozenset[str] = frozenset()
        """The daemons the router's ``daemons`` file enables (read with every check)."""

    # -- session ---------------------------------------------------------------------------

    def open(self) -> None:
        """Open the session and note the daemons that answer vtysh now (:meth:`_daemons`): a
        reading without one of them later is a daemon down, never a configuration someone changed."""
        super().open()
        answering, dead = self._daemons()
        self._daemons_at_open = answering - dead

    def _with_target(self, target: str, command: str, *, running: str | None = None) -> tuple[int, str, str]:
        """Run ``command`` with ``$d/target.conf`` holding ``target`` (and ``$d/running.conf``
        holding ``running``, when given: frr-reload.py's ``--input``) and ``$d`` a private scratch
        directory (frr-reload.py's ``--rundir``), deleted afterwards whatever happens."""
        prologue = 'd=$(mktemp -d /tmp/netchange-frr.XXXXXX) || exit 99; trap \'rm -rf "$d"\' EXIT; '
        if running is None:
            return self.ssh.run(f'{prologue}cat > "$d/target.conf" && {command}', stdin=target)
        split = ('awk -v d="$d" \'$0 == "' + _SPLIT + '" {f = 1; next} '
                 '{print > (f ? d "/target.conf" : d "/running.conf")}\'')
        return self.ssh.run(f'{prologue}: > "$d/running.conf"; : > "$d/target.conf"; {split} && {command}',
                            stdin=f"{strip_header(running)}{_SPLIT}\n{target}")

    # -- reading ---------------------------------------------------------------------------

    def _dead_pids(self) -> str:
        """A shell line printing, on one line, the daemons whose pid file (in the socket
        directory) names a process that no longer exists (a daemon that died), then the daemons
        the ``daemons`` file of :attr:`config_dir` enables, each after a ``+``."""
        directory = shlex.quote(self.options.vty_socket or DEFAULT_SOCKET_DIR)
        dead = '{ [ ! -d "/proc/$p" ] || grep -q "^State:.*Z" "/proc/$p/status" 2>/dev/null; }'  # gone, or a zombie
        names = "|".join(sorted(FRR_DAEMONS))
        enabled = (f"grep -E '^[[:space:]]*({names})[[:space:]]*=' {shlex.quote(self.config_dir)}/daemons "
                   "2>/dev/null | tr -d \" \\t\\\"'\" | sed 's/^/+/' | tr '\\n' ' '")
        return (f'( cd {directory} 2>/dev/null && for f in *.pid; do [ -f "$f" ] && p=$(cat "$f") && '
                f'[ -n "$p" ] && {dead} && printf \'%s \' "${{f%.pid}}"; done ); {enabled}; echo')

    @staticmethod
    def _split_first_line(line: str) -> tuple[frozenset[str], frozenset[str]]:
        """(the dead daemons, the enabled daemons) from :meth:`_dead_pids`'s line: names, then
        ``+name=value`` settings of the ``daemons`` file."""
        words = line.split()
        dead = frozenset(w for w in words if not w.startswith("+"))
        return dead, enabled_daemons("\n".join(w[1:] for w in words if w.startswith("+")))

    def _daemons(self) -> tuple[frozenset[str], frozenset[str]]:
        """(the daemons vtysh's ``show daemons`` lists, the daemons whose pid file names a dead
        process), in one exec; the daemons the ``daemons`` file enables are kept."""
        rc, out, _ = self.ssh.run(f"{self._dead_pids()}; {self._vtysh} -c 'show daemons'")
        first, _, listed = out.partition("\n")
        dead, self._enabled = self._split_first_line(first)
        return frozenset(listed.split() if rc == 0 else ()), dead

    def _check_daemons(self, answering: frozenset[str], dead: frozenset[str], what: str) -> None:
        """Raise :class:`NotAnswering` when a daemon that should answer does not (:func:`daemon_trouble`)."""
        missing = daemon_trouble(answering, self._daemons_at_open, dead, self._enabled)
        if missing:
            them = "them" if len(missing) > 1 else "it"
            raise NotAnswering(
                f"{self.name}: FRR daemon not answering: {', '.join(missing)} (answering now: "
                f"{' '.join(sorted(answering)) or 'none'}); {what} without {them} is not the router's")

    def running_config(self) -> str:
        """``show running-config`` as vtysh prints it, read with ``show daemons`` in the same
        vtysh call: vtysh leaves out, without a word, the part of a daemon that does not answer,
        so a reading without a daemon that answered when the session opened (or whose process
        died) raises :class:`NotAnswering` rather than show its configuration as removed."""
        rc, out, err = self.ssh.run(f"{self._dead_pids()}; {self._vtysh} -c 'show daemons' -c 'show running-config'")
        first, _, rest = out.partition("\n")
        dead, self._enabled = self._split_first_line(first)
        listed, _, config = rest.partition("\n")
        if listed.strip() in HEADER:  # no daemons line at all: vtysh reached none
            listed, config = "", rest
        self._check_daemons(frozenset(listed.split()), dead, "show running-config")
        if rc != 0 or "Current configuration" not in config:
            raise CommandErrorException(f"{self.name}: vtysh show running-config failed ({rc}): {err.strip()}")
        return config

    def candidate_config(self) -> str | None:
        return self._candidate

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """Read-only vtysh commands (``show …``) and the profile's read-only shell commands.

        A vtysh command that fails while a daemon is down raises :class:`NotAnswering` (vtysh
        answers ``bgpd is not running``, which is no answer of bgpd's); a ``show … json`` whose
        answer is not JSON raises :class:`AnswerUnreadable`."""
        if encoding != "text":
            raise NotImplementedError("only text output")
        check_read_only(load_profile("frr"), commands)
        out: dict[str, str] = {}
        for command in commands:
            vtysh = command.strip().startswith("show ")
            if vtysh:
                rc, stdout, stderr = self.ssh.run(f"{self._vtysh} -c {shlex.quote(command.strip())}")
            else:
                rc, stdout, stderr = self.ssh.run(command)
            if vtysh and rc != 0:
                answering, dead = self._daemons()
                self._check_daemons(answering, dead, repr(command))
            text = stdout if rc == 0 else stdout + stderr
            if vtysh and command.strip().endswith(" json") and text.strip():
                try:
                    json.loads(text)
                except ValueError as exc:
                    raise AnswerUnreadable(f"{self.name}: {command!r}: not JSON ({exc}): "
                                           f"{' '.join(text.split())[:120]!r}") from exc
            out[command] = text
        return out

    # -- saving (the steps are the profile's ``save``; NetchangeDriver.save_config runs them) --

    def send_save(self, save: SaveSteps) -> None:
        """``write memory`` through vtysh, into :attr:`config_dir`'s frr.conf."""
        rc, out, err = self.ssh.run(f"{self._vtysh} --config_dir {shlex.quote(self.config_dir)} "
                                    f"-c {shlex.quote(save.command)}")
        if rc != 0:
            detail = " | ".join(line.strip() for line in (out + err).splitlines() if line.strip())[:300]
            raise CommitRefused(f"{self.name}: vtysh {save.command!r} failed ({rc}): {detail}")

    def read_startup(self, save: SaveSteps) -> str:
        """The file the daemons start from (``save.startup`` is a shell line on ``{config_dir}``)."""
        rc, out, err = self.ssh.run(save.startup.format(config_dir=shlex.quote(self.config_dir)))
        if rc != 0:
            raise CommandErrorException(f"{self.name}: reading the startup configuration failed ({rc}): "
                                        f"{err.strip()[:300]}")
        return out

    # -- candidate -------------------------------------------------------------------------

    def _load(self, mode: Mode, filename: str | None, config: str | None, exc: type[Exception]) -> None:
        try:
            text = check_text(Path(filename).read_text() if filename else (config or ""))
        except (OSError, ValueError) as bad:
            self.discard_config()
            raise exc(f"{self.name}: candidate refused: {bad}") from bad
        target = merge_target(self._reading(), text) if mode == "merge" else strip_header(text)
        base = self._checked_state if mode == "merge" else None
        rc, out, err = self._with_target(target, f'{self._vtysh} -C -f "$d/target.conf"')
        if rc != 0:
            self.discard_config()
            detail = " | ".join(line.strip() for line in (out + err).splitlines() if line.strip())[:500]
            raise exc(f"{self.name}: vtysh -C refused the candidate ({rc}): {detail}")
        self._candidate, self._mode, self._base = target, mode, base

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold lines to add to the running configuration (``no X`` removes ``X``)."""
        self._load("merge", filename, config, MergeRejected)

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold a full configuration to replace the running one (a snapshot restores this way)."""
        self._load("replace", filename, config, ReplaceRejected)

    def discard_config(self) -> None:
        self._candidate, self._mode, self._base = None, None, None
        self._tested = None

    def _reading(self) -> str:
        """The engine's reading at the host's turn if it is fresh (``_fresh_engine_reading``: the
        state checked, at most ``running_reuse_seconds`` old), else the router read now."""
        fresh = self._fresh_engine_reading()
        return fresh if fresh is not None else self._read_running()

    def _test(self, target: str, running: str | None = None) -> tuple[list[str], list[str]]:
        """``frr-reload.py --test`` of ``target``: (commands to delete, commands to add), checked.

        ``running``: the reading to compute them from (``--input``), else frr-reload.py reads the
        router itself. A target it cannot parse is refused (see the module), never an answer."""
        source = ' --input "$d/running.conf"' if running is not None else ""
        rc, out, err = self._with_target(
            target, f'{self._reload_cmd} --test{source} --rundir "$d" "$d/target.conf"', running=running)
        parsed = parse_reload_output(out)
        problem = None
        if rc != 0:
            problem = f"frr-reload.py --test exited with status {rc}"
        elif "failed to process new configuration" in err or parsed is None:
            problem = "frr-reload.py --test could not parse the target"
        if problem:
            lines = [line for line in err.splitlines() if "ERROR" in line or "% " in line or "line " in line][:5]
            detail = " | ".join(line.strip() for line in lines)
            detail = f": {detail}" if detail else ""
            raise CommandErrorException(f"{self.name}: {problem}; its answer is refused{detail}")
        assert parsed is not None
        return parsed

    def compare_config(self) -> str:
        if self._candidate is None:
            return ""
        running = self._reading()
        deletes, adds = self._test(self._candidate, running)
        self._tested = (self._candidate, running, (deletes, adds))
        return reload_diff(deletes, adds, running)

    # -- commit and rollback ---------------------------------------------------------------

    def _send(self, deletes: list[str], adds: list[str]) -> str | None:
        """Send exactly these commands through vtysh (:func:`send_script`), in one exec; what
        went wrong, or ``None``."""
        rc, _, err = self._with_target("".join(f"{line}\n" for line in adds), send_script(self._vtysh, deletes))
        if rc != 0:
            detail = " | ".join(line.strip() for line in err.splitlines() if line.strip())[:300]
            return f"vtysh refused ({rc}): {detail}"
        return None

    def _write(self, target: str, checked: str, what: str) -> tuple[str, list[str]]:
        """Bring the router from ``checked`` (the reading just compared with the router) to
        ``target`` by frr-reload.py's commands computed **from that reading** and sent by
        netchange: a line typed by hand meanwhile is not in the reading, so no command names it.
        Then the router is read back (:meth:`_read_running`: the state a next write is checked
        against) and compared with the target.

        The commands are computed before the re-read (:meth:`_reread_and_compare`, called here:
        the window is the re-read's end to the send), and the re-read must equal ``checked``. A
        commit on the engine's fresh reading (``_commit_check``: apply's reading at the host's
        turn, at most ``running_reuse_seconds`` old) reads nothing again, and takes the compare's
        commands when they were computed from that very target and reading (issue 27 item 1).
        As ``frr-reload.py --reload``'s second pass, the lines of the target still missing after
        the deletes (a ``no neighbor X remote-as`` takes the neighbour's other lines with it) are
        added once more; nothing is deleted after the first pass (no ``no`` line either:
        frr-reload.py lists the delete of a prefix-list entry as the add of its ``no`` form). Returns (what the router
        reads now, what is still to do: ``-`` lines the router has that the target lacks, ``+``
        lines it lacks; empty when it took).

        :raise ChangedMeanwhile: the re-read differs (nothing written).
        :raise ChangedDuringWrite: lines appeared during the write that neither ``checked`` nor
            ``target`` holds (another hand's, typed then: written, those lines kept, the state
            checked left without them so that no later write of this session erases them
            before the router is read again).
        :raise CommandErrorException: frr-reload.py refused the target (nothing written).
        """
        tested = self._tested
        if what == "commit" and tested is not None and tested[0] is target and tested[1] is checked:
            deletes, adds = tested[2]  # the compare's answer: the same target, from the same reading
        else:
            deletes, adds = self._test(target, checked)
        if what == "commit":  # the engine's reading at the host's turn if fresh, else read again
            self._commit_check(base=self._base)
        else:
            self._reread_and_compare(what)
        self._tested = None
        self._writing()
        problem = self._send(deletes, adds)
        after = self._read_running()
        left_del, left_add = self._test(target, after)
        # frr-reload.py lists some deletes as adds of a ``no`` line (a prefix-list entry): both count.
        hand = foreign_lines(checked, after, target, left_del + left_add)
        again = [line for line in left_add if not line.strip().startswith("no ")]  # never a delete now
        if again and not hand:
            self._send([], again)
            after = self._read_running()
            left_del, left_add = self._test(target, after)
            hand = foreign_lines(checked, after, target, left_del + left_add)
        if hand:
            # The state checked: the router as this write meant to leave it (the reading without
            # those lines), so that any later write of this session is refused over them too.
            self._checked_state = "".join(line for line in after.splitlines(keepends=True)
                                          if f"+{line.rstrip(chr(10))}" not in hand)
            raise ChangedDuringWrite(
                f"{self._device_name}: changed by another hand during the {what}'s write: written, but these "
                f"lines typed meanwhile are kept, not erased (the router is not as expected): "
                f"{' | '.join(hand[:6])}", tuple(hand))
        left = [f"-{line}" for line in left_del] + [f"+{line}" for line in left_add]
        if problem and not left:
            left = [f"({problem})"]
        return after, left

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("frr: no commit-confirm timer; the engine rolls back")
        if self._candidate is None:
            raise CommitRefused(f"{self.name}: no candidate loaded")
        rejected = ReplaceRejected if self._mode == "replace" else MergeRejected
        target = self._candidate
        # Another hand: the commands are computed from the reading that was checked, the router
        # is read again just before they are sent (else refused, unwritten), and only those
        # commands are sent: a line typed after the re-read is named, never deleted.
        checked = self._checked_state if self._checked_state is not None else self._read_running()
        try:
            after, left = self._write(target, checked, "commit")
        except CommandErrorException as exc:
            # An answer frr-reload.py cannot be trusted with (a target it cannot parse) is
            # refused before anything is sent.
            self.discard_config()
            raise rejected(f"{exc}; nothing applied") from exc
        except (ChangedMeanwhile, ChangedDuringWrite):
            self.discard_config()
            raise
        if left:
            # Sent line by line: put the reading from before back, the same way, before saying so.
            self.discard_config()
            try:
                _, back = self._write(strip_header(checked), after, "commit's undo")
                state = "restored" if not back and self.running_config() == checked else \
                    "NOT restored (differs from the snapshot)"
            except (CommandErrorException, ChangedMeanwhile, ChangedDuringWrite) as exc:
                state = f"NOT restored ({exc})"
            raise rejected(f"{self.name}: the reload did not take ({'; '.join(left[:5])}); "
                           f"running configuration {state}")
        self._snapshot = checked
        self.discard_config()

    def rollback(self) -> None:
        """Restore the running configuration read before the last commit, verified byte for byte
        (its commands computed from the restore's own reading, as a commit's)."""
        if self._snapshot is None:
            return
        checked = self._checked_state if self._checked_state is not None else self._read_running()
        try:
            after, _ = self._write(strip_header(self._snapshot), checked, "rollback")
        except CommandErrorException as exc:
            raise CommitRefused(f"{self.name}: snapshot restore refused: {exc}") from exc
        if after != self._snapshot:
            changed = [line for line in after.splitlines() if line not in self._snapshot.splitlines()][:5]
            raise CommitRefused(f"{self.name}: snapshot restore left the configuration different: {changed}")
        self._snapshot = None
