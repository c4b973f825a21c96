"""A Linux stateful firewall (nftables) over SSH, with NAPALM's lifecycle.

- ``get_config``: ``nft list ruleset``, exactly as the kernel prints it.
- candidate: an nft script. Merge: the script is applied on top of the current ruleset (what
  ``nft -f script`` does). Replace: ``flush ruleset`` followed by the script.
- ``load_*_candidate`` checks the script with ``nft -c -f`` on the device, against the live
  kernel state (kernel-side errors included), so a bad line is refused before any plan shows it.
- ``compare_config`` is a **prediction by the kernel itself**, not by text patching: on the
  device, in a throwaway network namespace (``unshare --net``, so the live ruleset is never
  touched), it loads the current ruleset, applies the candidate, and lists the result. The diff
  is between the two ``nft list ruleset`` texts, in nft's own canonical syntax. Limit: a rule
  that names interfaces by index (``iif``/``oif``) cannot load in an empty namespace; then the
  diff says the prediction is unavailable and shows the script as added lines (the classifier
  treats the unknown line as major, the safe default). Use ``iifname``/``oifname``.
- ``commit_config``: ``nft -f`` — atomic: a script with one bad line applies nothing. Just before
  it, the ruleset is listed again and compared with the state checked (another hand), unless that
  state is the engine's ``get_config`` listing, at most ``running_reuse_seconds`` (2 s) old with
  nothing read or written since: apply's reading at the host's turn, under the device lock, which
  the compare's prediction started from too (issue 27 item 1: read, configure, read back).
- ``rollback``: restores the pre-commit snapshot as one file, ``flush ruleset`` + snapshot,
  which gives back the same listing byte for byte.

SSH is :mod:`netchange.drivers.sshexec` (paramiko, key or password login, host keys checked
against ``known_hosts``, never accepted blindly), shared with the FRR and keepalived drivers.
``commit_config(revert_in=...)`` is not supported: the engine rolls back itself.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, Literal

from napalm.base.exceptions import (
    CommandErrorException,
)

from netchange.drivers.base import check_read_only
from netchange.drivers.diffformat import block_diff
from netchange.drivers.errors import CommitRefused, MergeRejected, ReplaceRejected
from netchange.drivers.sshdriver import SshExecDriver
from netchange.drivers.sshexec import SshOptions
from netchange.platforms import load_profile

Mode = Literal["merge", "replace"]


_COUNTER = re.compile(r"counter packets \d+ bytes \d+")
_EXPIRES = re.compile(r" expires \S+")


# -- pure helpers (unit-tested without a device) -----------------------------------------------


def check_script(text: str) -> str:
    """Refuse input that cannot be an nft script; return it newline-terminated."""
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise ValueError("empty candidate")
    bad = sorted({f"{ord(c):#04x}" for c in text if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127})
    if bad:
        raise ValueError(f"control characters in candidate: {', '.join(bad)}")
    if re.search(r"^\s*include\s", text, re.M):
        raise ValueError("'include' is not allowed in a candidate (it would read device files)")
    return text if text.endswith("\n") else text + "\n"


def normalize_ruleset(text: str) -> str:
    """Ruleset text without volatile values (counter contents, set element expiry times)."""
    return _EXPIRES.sub("", _COUNTER.sub("counter packets 0 bytes 0", text))


def ruleset_diff(old: str, new: str) -> str:
    """``nft list ruleset`` old → new (:func:`netchange.drivers.diffformat.block_diff`)."""
    return block_diff(old, new)


# -- the driver --------------------------------------------------------------------------------


class NftablesOptions(SshOptions):
    """``optional_args`` of the nftables driver (SSH ones from :class:`SshOptions`)."""

    nft: str = "nft"
    """The nft binary on the host."""
    running_reuse_seconds: float = 2.0
    """How long the engine's ``get_config`` serves the compare and the commit without listing the
    ruleset again, nothing written since (0: never; ``NetchangeDriver._fresh_engine_reading``)."""


class NftablesDriver(SshExecDriver):
    """NAPALM-contract driver for an nftables firewall reached over SSH."""

    Options = NftablesOptions
    commit_checks_state = True
    """The commit lists the ruleset again just before ``nft -f`` and refuses unless it is the state
    checked (the compare's listing at apply: checked against the plan's hash by the engine), unless
    that state is the engine's own listing, less than ``running_reuse_seconds`` old: apply's
    reading at the host's turn, under the lock, is then the check (issue 27 item 1)."""

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname, username, password, timeout, optional_args)
        options: NftablesOptions = self.options
        self.nft = options.nft
        self._candidate: str | None = None
        self._mode: Mode | None = None
        self._snapshot: str | None = None
        self.running_reuse_seconds = options.running_reuse_seconds

    # -- session (netchange.drivers.sshexec: one exec channel per command) ---------------------

    def _exec(self, command: str, stdin: str | None = None) -> tuple[int, str, str]:
        return self.ssh.run(command, stdin=stdin)

    def _nft_file(self, script: str, *, check: bool = False) -> tuple[bool, str]:
        """Run ``nft [-c] -f -`` with ``script`` on stdin; (ok, error text)."""
        flags = "-c -f -" if check else "-f -"
        rc, _, err = self._exec(f"{self.nft} {flags}", stdin=script)
        return rc == 0, err.strip().replace("/dev/stdin", "candidate")

    # -- reading ---------------------------------------------------------------------------

    def _ruleset(self) -> str:
        rc, out, err = self._exec(f"{self.nft} list ruleset")
        if rc != 0:
            raise CommandErrorException(f"{self.name}: nft list ruleset failed: {err.strip()}")
        return out

    def running_config(self) -> str:
        return self._ruleset()

    def candidate_config(self) -> str | None:
        return self._candidate

    def normalize_config(self, text: str) -> str:
        return normalize_ruleset(text)

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        if encoding != "text":
            raise NotImplementedError("only text output")
        check_read_only(load_profile("nftables"), commands)
        out: dict[str, str] = {}
        for command in commands:
            rc, stdout, stderr = self._exec(command)
            out[command] = stdout if rc == 0 else stdout + stderr
        return out

    # -- candidate -------------------------------------------------------------------------

    def _script(self) -> str:
        assert self._candidate is not None
        return self._candidate if self._mode == "merge" else "flush ruleset\n" + self._candidate

    def _load(self, mode: Mode, filename: str | None, config: str | None, exc: type[Exception]) -> None:
        try:
            text = check_script(Path(filename).read_text() if filename else (config or ""))
        except (OSError, ValueError) as err:
            self.discard_config()
            raise exc(f"{self.name}: candidate refused: {err}") from err
        self._candidate, self._mode = text, mode
        ok, error = self._nft_file(self._script(), check=True)
        if not ok:
            self.discard_config()
            raise exc(f"{self.name}: nft -c refused the candidate: {error}")

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold an nft script to apply on top of the current ruleset (checked with ``nft -c``)."""
        self._load("merge", filename, config, MergeRejected)

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold a full ruleset to replace the current one (``flush ruleset`` + script)."""
        self._load("replace", filename, config, ReplaceRejected)

    def discard_config(self) -> None:
        self._candidate, self._mode = None, None

    def predicted_ruleset(self, current: str | None = None) -> str:
        """The ruleset the kernel would list after the commit (see the module docstring), from
        ``current`` (a listing just made) or a listing made now."""
        current = self._ruleset() if current is None else current
        base = "flush ruleset\n" + (current if self._mode == "merge" else "")
        script = base + "\n" + self._script()
        inner = f"{self.nft} -f - && {self.nft} list ruleset"
        rc, out, err = self._exec(f"unshare --net -- sh -c {shlex.quote(inner)}", stdin=script)
        if rc != 0:
            raise CommandErrorException(err.strip().replace("/dev/stdin", "prediction"))
        return out

    def compare_config(self) -> str:
        if self._candidate is None:
            return ""
        fresh = self._fresh_engine_reading()
        current = fresh if fresh is not None else self._read_running()
        try:
            future = self.predicted_ruleset(current)  # the same listing: one round trip less
        except CommandErrorException as exc:
            lines = [f"+{line}" for line in self._script().splitlines() if line.strip()]
            reason = str(exc).splitlines()[0] if str(exc) else "unknown error"
            return "\n".join([f"# prediction unavailable: {reason}", *lines]) + "\n"
        return ruleset_diff(current, future)

    def rollback_preview(self) -> str:
        """What ``rollback`` would load after a commit: ``flush ruleset`` + the current ruleset."""
        return "flush ruleset\n" + self._ruleset()

    # -- commit and rollback ---------------------------------------------------------------

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("nftables: no commit-confirm timer; the engine rolls back")
        if self._candidate is None:
            raise CommitRefused(f"{self.name}: no candidate loaded")
        rejected = ReplaceRejected if self._mode == "replace" else MergeRejected
        # Another hand: read again last (a replace flushes the whole ruleset); nft -f itself is
        # atomic, but nftables has no lock between a listing and a load.
        snapshot = self._commit_check()  # the engine's listing if just made, else listed again
        self._writing()
        ok, error = self._nft_file(self._script())
        if not ok:
            # nft -f is atomic: nothing was applied. Say so only after checking.
            unchanged = self._ruleset() == snapshot
            self.discard_config()
            state = "ruleset unchanged" if unchanged else "RULESET CHANGED despite the error"
            raise rejected(f"{self.name}: nft -f refused the candidate ({error}); {state}")
        self._snapshot = snapshot
        self.discard_config()
        self._read_running()  # the state this commit left: what a rollback is checked against

    def rollback(self) -> None:
        """Restore the ruleset listed before the last commit of this session (nothing if none)."""
        if self._snapshot is None:
            return
        self._reread_and_compare("rollback")
        self._writing()
        ok, error = self._nft_file("flush ruleset\n" + self._snapshot)
        if not ok:
            raise CommitRefused(f"{self.name}: snapshot restore refused: {error}")
        self._snapshot = None


