"""keepalived (VRRP) over SSH: its configuration file, checked, written, reloaded with SIGHUP.

keepalived has no management API and no configuration transaction: its configuration is a file
it reads at start and again on SIGHUP. So:

- ``get_config``: the configuration file, as it is on the device (``optional_args.config_path``).
- candidate: a full file (replace), or top-level blocks (merge) each replacing the block with the
  same header (``vrrp_instance SRV_DOIF {`` … ``}``) or added after the others (:func:`merge_blocks`).
- ``load_*_candidate`` checks the resulting file with ``keepalived --config-test`` (2.2's ``-t``)
  on the device, in the device's network namespace (interfaces are checked too); exit status 0
  or the candidate is refused with keepalived's own message.
- ``compare_config``: the unified diff of the file (hunk headers dropped: netchange's diff format).
- ``commit_config``: the file is written next to the old one, then in the same remote shell
  command the current file's sha256 is checked against the reading that was checked (the
  target's base), and only then the new file is renamed over it (never half written) and
  keepalived's main process (``optional_args.pid_file``) gets SIGHUP: another hand's edit is
  refused up to the device's own step from the hash to the rename (``ChangedMeanwhile``, the
  lines named from a new reading). **SIGHUP, not a restart**: a restart releases the virtual
  addresses and makes the peer master for a moment (a failover on every change); SIGHUP
  re-reads the file in place, and a VRRP instance whose settings did not change keeps its
  state. Then the file is read back (byte for byte the target) and the process must still be
  alive.
- ``rollback``: the pre-commit file is written back the same way, SIGHUP, read back byte-equal.

No confirmed commit: the engine rolls back itself.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import time
from pathlib import Path
from typing import Any, Literal

from napalm.base.exceptions import CommandErrorException

from netchange.drivers.base import check_read_only
from netchange.drivers.diffformat import block_diff
from netchange.drivers.errors import ChangedMeanwhile, CommitRefused, MergeRejected, ReplaceRejected
from netchange.drivers.sshdriver import SshExecDriver
from netchange.drivers.sshexec import SshOptions
from netchange.platforms import load_profile

Mode = Literal["merge", "replace"]
_MAX_CANDIDATE = 200_000
_HEADER = re.compile(r"^(\S[^{]*?)\s*\{\s*$")
_CHANGED = 5
"""The exit status of the install command when the file is no longer the one checked."""
RELOAD_SETTLE = 0.3
"""Seconds to wait after SIGHUP before checking that keepalived is still running."""
SWAP = ("python3 -c 'import ctypes,os,sys;l=ctypes.CDLL(None,use_errno=True);"
        "sys.exit(l.renameat2(-100,os.fsencode(sys.argv[1]),-100,os.fsencode(sys.argv[2]),2)"
        " and os.strerror(ctypes.get_errno()))'")
"""The device's atomic exchange of two names (Linux ``renameat2(RENAME_EXCHANGE)``, through the
device's python3: coreutils gains ``mv --exchange`` only in 9.5). After it, the old name holds
exactly what the path held at that instant, so an edit that landed after the hash — in place or
by an editor's rename — is seen, and put back, instead of being overwritten."""
BEFORE_SWAP = ""
"""Shell run on the device just before the exchange: empty; tests put a colleague's edit there,
in the very window the exchange closes."""


# -- pure helpers --------------------------------------------------------------------------------


def check_text(text: str) -> str:
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise ValueError("empty candidate")
    if len(text) > _MAX_CANDIDATE:
        raise ValueError(f"candidate larger than {_MAX_CANDIDATE} characters")
    bad = sorted({f"{ord(c):#04x}" for c in text if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127})
    if bad:
        raise ValueError(f"control characters in candidate: {', '.join(bad)}")
    if re.search(r"^\s*(include|@)", text, re.M):
        raise ValueError("'include' and '@' lines are not allowed in a candidate (they read device files)")
    return text if text.endswith("\n") else text + "\n"


def split_blocks(text: str) -> list[tuple[str | None, list[str]]]:
    """Top-level blocks as (header, lines); lines outside any block come as (None, [line])."""
    blocks: list[tuple[str | None, list[str]]] = []
    depth = 0
    for line in text.splitlines():
        code = line.split("#", 1)[0].split("!", 1)[0]
        if depth == 0:
            match = _HEADER.match(code.rstrip())
            if match:
                blocks.append((" ".join(match.group(1).split()), [line]))
            else:
                blocks.append((None, [line]))
        else:
            blocks[-1][1].append(line)
        depth += code.count("{") - code.count("}")
        if depth < 0:
            raise ValueError("unbalanced '}'")
    if depth:
        raise ValueError("unbalanced '{'")
    return blocks


def merge_blocks(current: str, snippet: str) -> str:
    """``current`` with each block of ``snippet`` replacing the block of the same header (or
    appended after the others, separated by a blank line); loose snippet lines are refused."""
    new = [(h, lines) for h, lines in split_blocks(snippet) if h is not None or "".join(lines).strip()]
    loose = [lines[0] for h, lines in new if h is None]
    if loose:
        raise ValueError(f"lines outside any block: {loose[0].strip()!r}")
    replacements = {h: lines for h, lines in new if h is not None}
    out: list[str] = []
    used: set[str] = set()
    for header, lines in split_blocks(current):
        if header is not None and header in replacements:
            out.extend(replacements[header])
            used.add(header)
        else:
            out.extend(lines)
    for header, lines in new:
        if header not in used:
            if out and out[-1].strip():
                out.append("")
            out.extend(lines)
    return "\n".join(out) + "\n"


def file_diff(old: str, new: str) -> str:
    """The file's changed lines, each under the blocks it sits in (``vrrp_instance X {``).

    Not a unified diff's few lines of context: a ``priority`` line must name its instance, or the
    classifier and a recover (which tells the change's own lines from someone else's by their place,
    rollback/restore.py) cannot know which instance it belongs to.
    """
    return block_diff(old, new, by_braces=True)


# -- the driver --------------------------------------------------------------------------------


class KeepalivedOptions(SshOptions):
    """``optional_args`` of the keepalived driver."""

    config_path: str = "/etc/keepalived/keepalived.conf"
    pid_file: str = "/run/keepalived.pid"
    """keepalived's main process (``-p``): the one that re-reads the file on SIGHUP."""
    keepalived: str = "keepalived"


class KeepalivedDriver(SshExecDriver):
    """NAPALM-contract driver for keepalived's configuration, reached over SSH."""

    Options = KeepalivedOptions
    write_window_closed: bool | None = None
    """After a write: whether the device swapped the names atomically (no window left), or had
    no python3 and renamed (a window of :attr:`write_window_ms`)."""

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname, username, password, timeout, optional_args)
        options: KeepalivedOptions = self.options
        self.path = options.config_path
        self.pid_file = options.pid_file
        self.binary = options.keepalived
        self._candidate: str | None = None
        self._mode: Mode | None = None
        self._snapshot: str | None = None
        self._base: str | None = None
        """The file a merge's target was computed from (its blocks replaced or added)."""

    # -- reading ---------------------------------------------------------------------------

    def running_config(self) -> str:
        rc, out, err = self.ssh.run(f"cat {shlex.quote(self.path)}")
        if rc != 0:
            raise CommandErrorException(f"{self.name}: cannot read {self.path}: {err.strip()}")
        return out

    def candidate_config(self) -> str | None:
        return self._candidate

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        if encoding != "text":
            raise NotImplementedError("only text output")
        check_read_only(load_profile("keepalived"), commands)
        out: dict[str, str] = {}
        for command in commands:
            rc, stdout, stderr = self.ssh.run(command)
            out[command] = stdout if rc == 0 else stdout + stderr
        return out

    def daemon_pid(self) -> int | None:
        """keepalived's main PID when it runs, else ``None``."""
        pid_file = shlex.quote(self.pid_file)
        rc, out, _ = self.ssh.run(f'p=$(cat {pid_file}) && kill -0 "$p" && echo "$p"')
        return int(out.strip()) if rc == 0 and out.strip().isdigit() else None

    # -- candidate -------------------------------------------------------------------------

    def _load(self, mode: Mode, filename: str | None, config: str | None, exc: type[Exception]) -> None:
        try:
            text = check_text(Path(filename).read_text() if filename else (config or ""))
            target = merge_blocks(self._read_running(), text) if mode == "merge" else text
            base = self._checked_state if mode == "merge" else None
        except (OSError, ValueError) as bad:
            self.discard_config()
            raise exc(f"{self.name}: candidate refused: {bad}") from bad
        script = ('d=$(mktemp -d /tmp/netchange-keepalived.XXXXXX) || exit 99; trap \'rm -rf "$d"\' EXIT; '
                  f'cat > "$d/keepalived.conf" && {shlex.quote(self.binary)} --config-test -f "$d/keepalived.conf"')
        rc, out, err = self.ssh.run(script, stdin=target)
        if rc != 0:
            self.discard_config()
            detail = " | ".join(line.strip() for line in (out + err).splitlines() if line.strip())[:500]
            raise exc(f"{self.name}: keepalived --config-test refused the candidate ({rc}): {detail}")
        self._candidate, self._mode, self._base = target, mode, base

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold top-level blocks replacing (or added beside) the file's blocks of the same header."""
        self._load("merge", filename, config, MergeRejected)

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold a full configuration file."""
        self._load("replace", filename, config, ReplaceRejected)

    def discard_config(self) -> None:
        self._candidate, self._mode, self._base = None, None, None

    def compare_config(self) -> str:
        if self._candidate is None:
            return ""
        return file_diff(self._read_running(), self._candidate)

    # -- commit and rollback ---------------------------------------------------------------

    def _install(self, text: str, expected: str, what: str) -> str | None:
        """Write ``text`` beside the file, then in the same remote shell command check that the
        file is still ``expected`` (its sha256), swap the two names atomically (:data:`SWAP`) and
        check that what the swap took out is still ``expected``, else swap back; then SIGHUP
        keepalived. What went wrong, or ``None``. No window is left to another hand: an edit
        landing between the hash and the swap, in place or by rename, is what the swap takes out,
        so it is put back and refused. A device without python3 gets a plain rename, and the
        device's own step from the hash to it is a window (:attr:`write_window_ms`, measured
        there; ``write_window_closed`` False).

        :raise ChangedMeanwhile: the file is no longer ``expected``: nothing left renamed, nothing
            reloaded, the lines named from a new reading of the file.
        """
        path = shlex.quote(self.path)
        pid_file = shlex.quote(self.pid_file)
        digest = hashlib.sha256(expected.encode()).hexdigest()
        same = f'[ "$(sha256sum < "$1" | cut -d" " -f1)" = {digest} ]'
        refuse = f'{{ rm -f "$t"; echo "changed meanwhile" >&2; exit {_CHANGED}; }}'
        script = (f'p=$(cat {pid_file}) && kill -0 "$p" || {{ echo "keepalived is not running" >&2; exit 3; }}; '
                  # made private (it may hold VRRP auth_pass), then given the file's own mode
                  f't={path}.netchange.$$; (umask 077 && cat > "$t") || {{ rm -f "$t"; exit 4; }}; '
                  f'chmod --reference={path} "$t" 2>/dev/null; '
                  f'same() {{ {same}; }}; same {path} || {refuse}; t0=$(date +%s%N); '
                  f'if command -v {SWAP.split(maxsplit=1)[0]} >/dev/null; then {BEFORE_SWAP}'
                  # the exchange, then what it took out must be what was checked, else put back
                  f'{SWAP} "$t" {path} || {{ rm -f "$t"; exit 6; }}; t1=$(date +%s%N); '
                  f'same "$t" || {{ {SWAP} "$t" {path}; {refuse}; }}; rm -f "$t"; '
                  f'else {BEFORE_SWAP}mv -f "$t" {path}; t1=$(date +%s%N); echo "swap none"; fi; '
                  f'kill -HUP "$p" && echo "window_ns $((t1 - t0))"')
        self._writing()
        rc, out, err = self.ssh.run(script, stdin=text)
        if rc == _CHANGED:
            # Named from a new reading (compared with the state checked, which is kept).
            self._checked_state = expected
            self._reread_and_compare(what)
            raise ChangedMeanwhile(f"{self._device_name}: changed by another hand since it was read, {what} "
                                   "refused, nothing written: (the file changed, then changed back)")
        if rc != 0:
            return f"write and reload failed ({rc}): {err.strip()[:300]}"
        window = out.split()[-1] if "window_ns " in out else ""
        if window.isdigit():
            # With the exchange, an edit inside this window is caught after it (nothing lost);
            # without python3 on the device (``swap none``), one landing in it is overwritten.
            self.write_window_ms = int(window) / 1e6
            self.write_window_closed = "swap none" not in out
        time.sleep(RELOAD_SETTLE)
        if self.daemon_pid() is None:
            return "keepalived is no longer running after the reload"
        if self._read_running() != text:
            return "the file read back differs from what was written"
        return None

    def _state_to_replace(self, what: str, base: str | None = None) -> str:
        """The state checked (read now when none is kept): what the file must still be when the
        rename happens (:meth:`_install`). A merge's target must have been built from it."""
        checked = self._checked_state if self._checked_state is not None else self._read_running()
        if base is not None and self.normalize_config(base) != self.normalize_config(checked):
            self._checked_state = base
            self._reread_and_compare(what)  # names the lines; the file changed since the load
        return checked

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("keepalived: no commit-confirm timer; the engine rolls back")
        if self._candidate is None:
            raise CommitRefused(f"{self.name}: no candidate loaded")
        rejected = ReplaceRejected if self._mode == "replace" else MergeRejected
        candidate = self._candidate
        # Another hand: the file is replaced whole, so it must still be the one the target was
        # built from and the one checked, at the rename itself (checked on the device, in the
        # same command); else refused, nothing written.
        try:
            snapshot = self._state_to_replace("commit", base=self._base)
            problem = self._install(candidate, snapshot, "commit")
        except ChangedMeanwhile:
            self.discard_config()
            raise
        self.discard_config()
        if problem:
            state = self._put_back(snapshot, candidate)
            raise rejected(f"{self.name}: {problem}; configuration {state}")
        self._snapshot = snapshot

    def _put_back(self, snapshot: str, candidate: str) -> str:
        """After a failed install: the file read again and, when it is either what was there or
        what was written (never a third hand's), the old one put back the same way."""
        try:
            current = self.running_config()
        except CommandErrorException as exc:
            return f"NOT restored ({exc})"
        if current not in (snapshot, candidate):
            return "NOT restored (changed by another hand meanwhile)"
        try:
            back = self._install(snapshot, current, "commit's undo")
        except ChangedMeanwhile as exc:
            back = str(exc)
        return "restored" if back is None else f"NOT restored ({back})"

    def rollback(self) -> None:
        """Put back the file read before the last commit (SIGHUP), verified byte for byte."""
        if self._snapshot is None:
            return
        checked = self._state_to_replace("rollback")
        problem = self._install(self._snapshot, checked, "rollback")
        if problem:
            raise CommitRefused(f"{self.name}: snapshot restore failed: {problem}")
        self._snapshot = None
