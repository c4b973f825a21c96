"""An FRR router over SSH: ``vtysh`` to read and check, FRR's own ``frr-reload.py`` to diff and apply.

- ``get_config``: ``vtysh -c 'show running-config'``, exactly as vtysh prints it (header included).
- candidate: the **target configuration**, a full FRR configuration. Replace: the text given
  (a snapshot's ``Building configuration...``/``Current configuration:`` header is dropped, see
  below). Merge: the running configuration with the snippet's lines added (frr-reload.py merges
  repeated sections such as a second ``router ospf`` block); a snippet line ``no X`` whose
  positive ``X`` is in the running configuration at the same place removes it from the target
  (:func:`merge_target`), any other ``no`` line is kept as a statement (``no ipv6 forwarding``).
- ``load_*_candidate`` checks the target with ``vtysh -C -f`` on the device (FRR's own parser).
- ``compare_config``: ``frr-reload.py --test`` against the live daemons, its exit status checked,
  its "lines to delete / lines to add" turned into netchange's diff format (:func:`reload_diff`).
  frr-reload.py has a trap: a target it cannot parse (even only the header vtysh itself prints)
  makes it answer "delete everything" with exit status 1. Such an answer is refused, never shown
  as a diff and never applied.
- ``commit_config``: ``frr-reload.py --test`` (refused answers stop here, nothing applied), then
  ``--reload`` (exactly the lines ``--test`` showed), exit status checked, then ``--test`` again
  must show nothing left to do. On failure the pre-commit running
  configuration is reloaded before the error is raised (the reload is line by line, not atomic).
- ``rollback``: reloads the pre-commit snapshot and checks that ``show running-config`` is byte
  for byte what it was; no normalisation was needed (FRR prints no counters or timestamps there,
  and the header lines are constant).

No confirmed commit (FRR has none): the engine rolls back itself. Commands run over SSH, one exec
channel each (:mod:`netchange.drivers.sshexec`), as the user the inventory gives (root in the lab).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Literal

from napalm.base.exceptions import CommandErrorException

from netchange.drivers.base import check_read_only
from netchange.drivers.errors import CommitRefused, MergeRejected, ReplaceRejected
from netchange.drivers.sshdriver import SshExecDriver
from netchange.drivers.sshexec import SshOptions
from netchange.platforms import SaveSteps, load_profile

Mode = Literal["merge", "replace"]

HEADER = ("Building configuration...", "Current configuration:")
"""What vtysh prints before the configuration; frr-reload.py cannot parse it (see the module)."""
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

    # -- session ---------------------------------------------------------------------------

    def _with_target(self, target: str, command: str) -> tuple[int, str, str]:
        """Run ``command`` with ``$d/target.conf`` holding ``target`` and ``$d`` a private
        scratch directory (frr-reload.py's ``--rundir``), deleted afterwards whatever happens."""
        script = ('d=$(mktemp -d /tmp/netchange-frr.XXXXXX) || exit 99; trap \'rm -rf "$d"\' EXIT; '
                  f'cat > "$d/target.conf" && {command}')
        return self.ssh.run(script, stdin=target)

    # -- reading ---------------------------------------------------------------------------

    def running_config(self) -> str:
        rc, out, err = self.ssh.run(f"{self._vtysh} -c 'show running-config'")
        if rc != 0 or "Current configuration" not in out:
            raise CommandErrorException(f"{self.name}: vtysh show running-config failed ({rc}): {err.strip()}")
        return out

    def candidate_config(self) -> str | None:
        return self._candidate

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """Read-only vtysh commands (``show …``) and the profile's read-only shell commands."""
        if encoding != "text":
            raise NotImplementedError("only text output")
        check_read_only(load_profile("frr"), commands)
        out: dict[str, str] = {}
        for command in commands:
            if command.strip().startswith("show "):
                rc, stdout, stderr = self.ssh.run(f"{self._vtysh} -c {shlex.quote(command.strip())}")
            else:
                rc, stdout, stderr = self.ssh.run(command)
            out[command] = stdout if rc == 0 else stdout + stderr
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
        target = merge_target(self._read_running(), text) if mode == "merge" else strip_header(text)
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

    def _reload(self, target: str, *, apply: bool) -> tuple[list[str], list[str]]:
        """frr-reload.py ``--test`` (or ``--reload``) against ``target``; its commands, checked."""
        action = "--reload" if apply else "--test"
        rc, out, err = self._with_target(target, f'{self._reload_cmd} {action} --rundir "$d" "$d/target.conf"')
        parsed = parse_reload_output(out) if not apply else ([], [])
        problem = None
        if rc != 0:
            problem = f"frr-reload.py {action} exited with status {rc}"
        elif "failed to process new configuration" in err or parsed is None:
            problem = f"frr-reload.py {action} could not parse the target"
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
        running = self._read_running()
        deletes, adds = self._reload(self._candidate, apply=False)
        return reload_diff(deletes, adds, running)

    # -- commit and rollback ---------------------------------------------------------------

    def _apply(self, target: str) -> list[str]:
        """Reload ``target``; what is still to do afterwards (empty when it took)."""
        self._reload(target, apply=True)
        deletes, adds = self._reload(target, apply=False)
        return deletes + adds

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("frr: no commit-confirm timer; the engine rolls back")
        if self._candidate is None:
            raise CommitRefused(f"{self.name}: no candidate loaded")
        rejected = ReplaceRejected if self._mode == "replace" else MergeRejected
        target = self._candidate
        try:
            # --test first: an answer frr-reload.py cannot be trusted with (a target it cannot
            # parse) is refused before --reload could act on it.
            self._reload(target, apply=False)
        except CommandErrorException as exc:
            self.discard_config()
            raise rejected(f"{exc}; nothing applied") from exc
        # Another hand: read again last, just before --reload. frr-reload.py reloads a whole
        # target and deletes what it lacks, so the running state must still be the one the
        # target was built from (a merge's base) and the one checked; else refused, unwritten.
        snapshot = self._reread_and_compare("commit", base=self._base)
        self._writing()
        try:
            left = self._apply(target)
        except CommandErrorException as exc:
            left = [f"({exc})"]
        if left:
            # frr-reload.py applies line by line: put the snapshot back before saying so.
            self.discard_config()
            try:
                self._apply(strip_header(snapshot))
                state = "restored" if self.running_config() == snapshot else "NOT restored (differs from the snapshot)"
            except CommandErrorException as exc:
                state = f"NOT restored ({exc})"
            raise rejected(f"{self.name}: the reload did not take ({'; '.join(left[:5])}); "
                           f"running configuration {state}")
        self._snapshot = snapshot
        self.discard_config()
        self._read_running()  # the state this commit left: what a rollback is checked against

    def rollback(self) -> None:
        """Restore the running configuration read before the last commit, verified byte for byte."""
        if self._snapshot is None:
            return
        self._reread_and_compare("rollback")
        self._writing()
        try:
            self._apply(strip_header(self._snapshot))
        except CommandErrorException as exc:
            raise CommitRefused(f"{self.name}: snapshot restore refused: {exc}") from exc
        after = self._read_running()
        if after != self._snapshot:
            changed = [line for line in after.splitlines() if line not in self._snapshot.splitlines()][:5]
            raise CommitRefused(f"{self.name}: snapshot restore left the configuration different: {changed}")
        self._snapshot = None

