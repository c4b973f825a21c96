"""Files only their owner can read, private from the moment they exist.

The state directory holds running configurations (snapshots), plans with diffs, the journal and
the secrets: the quality plan's written record is also a map of the perimeter. Everything in it is
created with mode 0600 (directories 0700) by ``os.open``/``os.mkdir`` with that mode, so there is
no moment when a file is readable by others before a ``chmod`` narrows it. The CLI also sets a
umask of 077 for the whole process (files created by libraries such as SQLite follow it).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700; an existing directory is left alone.

    (It may be a directory the user chose, such as /tmp; :func:`narrow_state_dir` narrows the
    state directory itself.)
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(directory, DIR_MODE)
    return path


def narrow_state_dir(path: Path) -> None:
    """Narrow an existing state directory to 0700 (one made 0755 by an older release).

    Only a directory this user owns and that is not a shared one (sticky bit, like /tmp).
    """
    with contextlib.suppress(OSError):
        st = path.stat()
        if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_ISVTX:
            _narrow(path)


def _narrow(path: Path) -> None:
    with contextlib.suppress(OSError):
        st = path.stat()
        if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.geteuid():
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)


def narrow_file(path: Path) -> None:
    """Take group and other bits off an existing file (files of an older release)."""
    _narrow(path)


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (e.g. before SQLite opens it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        narrow_file(path)
        return
    os.close(fd)


def write_private(path: Path, data: bytes | str, *, durable: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically, the file created 0600; its directory made 0700.

    Written to a temporary file (created 0600, unique per writer) and renamed over ``path``: a
    crash never leaves half a file, and a reader never sees one. ``durable`` syncs before the
    rename (snapshots: a rollback depends on them).
    """
    payload = data.encode() if isinstance(data, str) else data
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_new_file(path: Path, data: bytes | str) -> Path:
    """Write a file at a path the user chose: a new file is created 0600, an existing one keeps its mode.

    For ``--output`` documents: they carry diffs and the journal's record, so they start private;
    if the user prepared the file with wider rights (to share it), that choice is theirs.
    """
    payload = data.encode() if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
    return path
