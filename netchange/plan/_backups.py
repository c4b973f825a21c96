"""Stored configurations: where backup tools keep each host's running configuration.

An offline plan (``netchange plan --offline``) reads a host's running configuration from the
backups a team already keeps instead of from the device. Two sources, one lookup:

- a directory (:class:`BackupDirectory`), as Oxidized's file output or RANCID writes it;
- a git repository at a revision (:class:`GitRevision`), as Oxidized's git output, RANCID's
  own repository or any hand-kept repository holds it; read with the ``git`` command (already
  on every CI runner) through ``git ls-tree`` and ``git cat-file``, never checked out.

A host's file is found under any of its names (its inventory name, its ``hostname`` attribute,
that name's first label: Oxidized names files by the name it knows the device by) in these
layouts, relative to the directory or the repository's root::

    NAME                 Oxidized, no groups
    GROUP/NAME           Oxidized with groups (one folder per group; git ``single_repo``)
    configs/NAME         a RANCID group directory given directly
    GROUP/configs/NAME   a RANCID base directory (``$BASEDIR/<group>/configs/<host>``)

Two different files for one host is an error (which one was meant is not guessed), as is a host
with none. A file is bounded in size before it is read.

The text is returned as the backup tool wrote it, except RANCID's own header (a leading run of
``!``-comment lines, opening with ``!RANCID-CONTENT-TYPE:``, holding ``show version``-like
output): that header is not configuration. Banner lines of ``show running-config``
("Building configuration...", "Current configuration : N bytes") stay: the driver strips them the
way the live driver does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from netchange.errors import BadRequest
from netchange.request import MAX_STORED_CONFIG_BYTES, decode, read_regular_file

LAYOUTS: tuple[tuple[str, ...], ...] = (("{name}",), ("*", "{name}"), ("configs", "{name}"), ("*", "configs", "{name}"))
"""Relative locations of a host's file, as path parts; ``*`` is any one folder (a group)."""

RANCID_MARK = "!RANCID-CONTENT-TYPE:"
GIT_TIMEOUT = 60


def host_names(name: str, hostname: str | None) -> list[str]:
    """The names a backup tool may file a host under, most specific first, without duplicates."""
    names = [name]
    if hostname:
        names += [hostname, hostname.split(".", 1)[0]]
    return [n for n in dict.fromkeys(names) if n and "/" not in n and n not in (".", "..")]


_HOSTNAME = re.compile(r"^hostname\s+(\S+)\s*$", re.MULTILINE)


def configured_hostname(text: str) -> str | None:
    """The name a configuration gives its device (a top-level ``hostname NAME`` line: IOS, ASA,
    NX-OS, EOS, FRR), or ``None`` when it names none (nftables, HAProxy…)."""
    found = _HOSTNAME.search(text)
    return found.group(1) if found else None


def check_hostname(host: str, names: Sequence[str], text: str, source: str) -> None:
    """Refuse a backup whose ``hostname`` line names another device than ``host`` (issue 22 item 4).

    A backup filed under the wrong name (a copy, a renamed device, a tool's mix-up) would plan
    someone else's configuration without a word. The name is compared, case aside, with every name
    the host is filed under (its inventory name, its ``hostname`` attribute, that name's first
    label) and their first labels: a device's ``hostname sw1`` matches an inventory ``sw1.example.net``.
    """
    configured = configured_hostname(text)
    if configured is None:
        return
    known = {n.lower() for name in names for n in (name, name.split(".", 1)[0])}
    if configured.lower() not in known and configured.split(".", 1)[0].lower() not in known:
        raise BadRequest(f"{host}: the stored configuration {source} is of device {configured!r} (its hostname "
                         f"line), not of {host!r} (the inventory's name{'s' if len(names) > 1 else ''}: "
                         f"{', '.join(names)}): a backup of another device")


def strip_rancid_header(text: str) -> str:
    """``text`` without RANCID's leading ``!`` comment block, if it is a RANCID file."""
    if not text.startswith(RANCID_MARK):
        return text
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith("!"):
        start += 1
    return "".join(lines[start:])


def _matches(parts: Sequence[str], layout: Sequence[str], name: str) -> bool:
    if len(parts) != len(layout):
        return False
    return all(want == "*" or part == want.format(name=name) for part, want in zip(parts, layout, strict=True))


@dataclass(frozen=True)
class StoredConfig:
    """One host's stored running configuration and where it was read."""

    host: str
    source: str
    text: str


class BackupSource(ABC):
    """Where stored configurations are read from."""

    @abstractmethod
    def describe(self) -> str:
        """One line naming the source (a directory, a repository at a commit)."""

    @abstractmethod
    def paths(self, names: Sequence[str]) -> list[str]:
        """The relative paths (POSIX) of the files that may hold a host known by ``names``."""

    @abstractmethod
    def read(self, path: str) -> str:
        """The text of the file at ``path`` (relative), bounded in size."""

    def locate(self, host: str, names: Sequence[str]) -> str:
        found = self.paths(names)
        if not found:
            raise BadRequest(f"{host}: no stored configuration in {self.describe()} "
                             f"(looked for {', '.join(names)} as NAME, GROUP/NAME, configs/NAME, GROUP/configs/NAME)")
        if len(found) > 1:
            raise BadRequest(f"{host}: several stored configurations in {self.describe()}: {', '.join(found)}")
        return found[0]

    def load(self, host: str, names: Sequence[str]) -> StoredConfig:
        path = self.locate(host, names)
        text = strip_rancid_header(self.read(path))
        check_hostname(host, names, text, f"{self.describe()}:{path}")
        return StoredConfig(host=host, source=f"{self.describe()}:{path}", text=text)


class BackupDirectory(BackupSource):
    """A directory of backups (Oxidized's file output, a RANCID base or group directory)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise BadRequest(f"{root}: not a directory of stored configurations")
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def paths(self, names: Sequence[str]) -> list[str]:
        found: dict[str, None] = {}
        for name in names:
            for layout in LAYOUTS:
                pattern = "/".join(part.format(name=name) for part in layout)
                # glob's "*" never crosses a folder; the name itself is matched literally.
                for path in sorted(self.root.glob(_escape_glob(pattern))):
                    if path.is_file() and not any(p.startswith(".") for p in path.relative_to(self.root).parts):
                        found[path.relative_to(self.root).as_posix()] = None
        return _distinct_files(self.root, found)

    def read(self, path: str) -> str:
        return read_regular_file(self.root / path, limit=MAX_STORED_CONFIG_BYTES, what="stored configuration")


def _escape_glob(pattern: str) -> str:
    """Escape glob characters in names, keeping the layouts' own ``*`` folders."""
    return "/".join(part if part == "*" else "".join(f"[{c}]" if c in "*?[]" else c for c in part)
                    for part in pattern.split("/"))


def _distinct_files(root: Path, found: dict[str, None]) -> list[str]:
    """One path per file: a host filed twice through a symlink (Oxidized's "default" group) is one file."""
    seen: dict[tuple[int, int], str] = {}
    for rel in found:
        st = os.stat(root / rel)
        seen.setdefault((st.st_dev, st.st_ino), rel)
    return sorted(seen.values())


class GitRevision(BackupSource):
    """A git repository of backups at one revision (a branch, a tag, a commit)."""

    def __init__(self, repo: Path, rev: str) -> None:
        self.git = shutil.which("git")
        if self.git is None:
            raise BadRequest("reading backups at a revision needs the git command, which is not installed")
        if rev.startswith("-") or not rev.strip():
            raise BadRequest(f"{rev!r}: not a git revision")
        self.repo = repo
        self.commit = self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}",
                                what=f"{repo}: no commit {rev!r}").strip()
        self.rev = rev
        listing = self._run("ls-tree", "-r", "-z", "--name-only", self.commit, what=f"{repo}: cannot list {rev}")
        self.files = [p for p in listing.split("\0") if p]

    def _run(self, *args: str, what: str) -> str:
        assert self.git is not None
        try:
            proc = subprocess.run([self.git, "-C", str(self.repo), *args], capture_output=True,
                                  timeout=GIT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BadRequest(f"{what}: {exc}") from None
        if proc.returncode != 0:
            detail = proc.stderr.decode(errors="replace").strip().splitlines()
            raise BadRequest(what + (f" ({detail[-1]})" if detail else ""))
        return decode(proc.stdout, f"git {args[0]}")

    def describe(self) -> str:
        return f"{self.repo}@{self.rev} ({self.commit[:12]})"

    def paths(self, names: Sequence[str]) -> list[str]:
        return sorted({f for f in self.files for name in names for layout in LAYOUTS
                       if _matches(PurePosixPath(f).parts, layout, name)
                       and not any(p.startswith(".") for p in PurePosixPath(f).parts)})

    def read(self, path: str) -> str:
        size = self._run("cat-file", "-s", f"{self.commit}:{path}", what=f"{self.describe()}: {path}").strip()
        if not size.isdigit() or int(size) > MAX_STORED_CONFIG_BYTES:
            raise BadRequest(f"{self.describe()}:{path}: {size} bytes, over the {MAX_STORED_CONFIG_BYTES} "
                             "bytes limit for a stored configuration")
        return self._run("cat-file", "blob", f"{self.commit}:{path}", what=f"{self.describe()}: {path}")


def open_source(directory: Path | None, rev: str | None, git: str | None) -> BackupSource:
    """The backup source the command line names: ``--offline DIR [--rev REV]`` or ``--offline-git REPO@REV``."""
    if git is not None:
        if directory is not None or rev is not None:
            raise BadRequest("--offline-git REPO@REV and --offline DIR [--rev REV] are exclusive")
        repo, sep, revision = git.rpartition("@")
        if not sep or not repo or not revision:
            raise BadRequest(f"--offline-git {git!r}: expected REPO@REV (e.g. backups@main)")
        return GitRevision(Path(repo), revision)
    if directory is None:
        raise BadRequest("--rev needs --offline DIR (a git repository)")
    if rev is not None:
        return GitRevision(directory, rev)
    return BackupDirectory(directory)


def load_all(source: BackupSource, hosts: Iterable[tuple[str, str | None]]) -> dict[str, StoredConfig]:
    """Every host's stored configuration; every host lacking one is named in one error."""
    found: dict[str, StoredConfig] = {}
    problems: list[str] = []
    for name, hostname in hosts:
        try:
            found[name] = source.load(name, host_names(name, hostname))
        except BadRequest as exc:
            problems.append(str(exc))
    if problems:
        raise BadRequest("; ".join(problems))
    return found


__all__ = [
    "LAYOUTS",
    "BackupDirectory",
    "BackupSource",
    "GitRevision",
    "StoredConfig",
    "check_hostname",
    "configured_hostname",
    "host_names",
    "load_all",
    "open_source",
    "strip_rancid_header",
]
