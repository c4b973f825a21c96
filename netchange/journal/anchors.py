"""Heads kept outside the state directory: what makes a rewrite by the directory's owner visible.

The chain's key lives where netchange can read it, so whoever holds the state directory (its
owner, a backup, a shared mount) holds the key too and can recompute the whole chain (issue 21
item 7). What they cannot do is change what was written somewhere else: after each durable write
transaction the writer appends the journal's new head (``SEQ HASH``) to a heads file in another
directory (``Settings.journal_anchors``: ``$XDG_STATE_HOME/netchange/journal-heads`` by default),
and ``journal verify`` compares the journal with every head kept there. A rewritten event changes
its hash and every hash after it, so the last head kept no longer matches; a truncated tail misses
heads that were kept. Why this rather than moving the key or sealing: ``docs/journal.md``.

One heads file per journal path (its name is a digest of the resolved path; its first line says
which journal). A journal created anew at the same path (a state directory deleted and started
again, as ``make demo`` does) writes a ``new`` line with its first event: only the heads after
the last such line are its own; the earlier ones are counted, not compared.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from netchange.privatefile import FILE_MODE, private_dir

SUFFIX = ".heads"
_LINE = re.compile(r"^(\d+) ([0-9a-f]{64})(?: (new))?$")
_log = logging.getLogger("netchange.journal")


def anchor_file(directory: Path, journal: Path) -> Path:
    """The heads file of ``journal`` in ``directory``."""
    return directory / (hashlib.sha256(str(journal.resolve()).encode()).hexdigest()[:32] + SUFFIX)


def record(directory: Path, journal: Path, heads: list[tuple[int, str, bool]]) -> None:
    """Append ``(seq, hash, new)`` heads to ``journal``'s heads file, in one ``write``.

    One write on a file opened for appending: lines of processes writing at once never mix.
    Never raises: the events are committed already; a head not kept only means one anchor fewer,
    and ``journal verify`` says how many it compared (the failure is logged).
    """
    path = anchor_file(directory, journal)
    text = "".join(f"{seq} {digest}{' new' if new else ''}\n" for seq, digest, new in heads)
    try:
        private_dir(directory)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
        try:
            if os.fstat(fd).st_size == 0:
                text = f"# netchange journal heads of {journal.resolve()}\n{text}"
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    except OSError as exc:
        _log.warning("journal %s: head not kept in %s: %s", journal, path, exc.strerror)


@dataclass(frozen=True)
class Anchors:
    """What a heads file holds for the journal now at its path."""

    file: Path
    heads: tuple[tuple[int, str], ...] = ()
    """The heads of this journal (after the last ``new`` line), in file order."""
    earlier: int = 0
    """Heads of journals that were at this path before it (before the last ``new`` line)."""
    unreadable: tuple[int, ...] = ()
    """Line numbers that are not ``SEQ HASH [new]`` (netchange never writes those)."""
    exists: bool = False

    @property
    def first(self) -> int | None:
        """The lowest event anchored (events before it were written before heads were kept)."""
        return min((seq for seq, _ in self.heads), default=None)


def read(directory: Path, journal: Path) -> Anchors:
    path = anchor_file(directory, journal)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return Anchors(path)
    except OSError as exc:
        _log.warning("journal %s: cannot read its heads in %s: %s", journal, path, exc.strerror)
        return Anchors(path, unreadable=(0,), exists=True)
    heads: list[tuple[int, str]] = []
    earlier = 0
    unreadable: list[int] = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        found = _LINE.match(line.strip())
        if found is None:
            unreadable.append(number)
            continue
        if found.group(3):
            earlier += len(heads)
            heads = []
        heads.append((int(found.group(1)), found.group(2)))
    return Anchors(path, tuple(heads), earlier, tuple(unreadable), exists=True)
