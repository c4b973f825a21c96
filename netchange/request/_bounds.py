"""The bounds on what netchange reads from its users, and the one way to read a file within them.

Every input is bounded before it is parsed (docs/design.md): a change request or a diff that is not a
regular file, or is larger, deeper or longer than the limits below, is refused with one line
naming the file and the limit (:class:`BadRequest`, exit 2) before any device is contacted. The
README's "Input limits" section lists the same figures; change them here, and only here.

Why these figures: the largest example request is under 2 KiB with 6 levels of YAML nesting and
one step; the largest lab configuration diffs are a few KiB. The limits are far above real use
and far below what exhausts memory or time (a 50 MB diff took the classifier over 50 s and 2 GB).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from netchange.errors import BadRequest

MAX_REQUEST_BYTES = 1 << 20
"""A change request file (YAML): 1 MiB."""
MAX_DIFF_BYTES = 8 << 20
"""A diff (or a running configuration) given to ``netchange classify``: 8 MiB."""
MAX_YAML_DEPTH = 32
"""Nesting levels of a change request (a real one has 6: request, steps, step, params, list, item)."""
MAX_YAML_NODES = 200_000
"""YAML nodes in a change request, an alias counting as the nodes it repeats (no "billion laughs")."""
MAX_STEPS = 100
"""Steps in one change request."""
MAX_HOSTS = 500
"""Hosts one change may target, after its targets are resolved against the inventory."""
MAX_SNIPPET_LINES = 500
"""Lines in one ``config_snippet`` step."""
MAX_STORED_CONFIG_BYTES = 8 << 20
"""One host's stored configuration read by an offline plan (a backup file): 8 MiB."""


def check_host_count(hosts: int) -> None:
    """Refuse a change whose resolved targets exceed :data:`MAX_HOSTS` (a role or site can be large)."""
    if hosts > MAX_HOSTS:
        raise BadRequest(f"the change targets {hosts} hosts, over the limit of {MAX_HOSTS} per change")


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and not n % (1 << 20) else f"{n} bytes"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def read_regular_file(path: Path, *, limit: int, what: str) -> str:
    """The UTF-8 text of ``path``, which must be a regular file of at most ``limit`` bytes.

    Never blocks and never reads past the limit: the path is checked with ``stat`` before it is
    opened (a FIFO, a device, a directory or a socket is refused unopened), opened with
    ``O_NONBLOCK`` (so a FIFO swapped in meanwhile cannot hang the open), checked again with
    ``fstat`` on the open descriptor, and read for at most ``limit + 1`` bytes, so that a file
    growing while it is read is refused too.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadRequest(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise BadRequest(f"{path}: {_kind(st.st_mode)}; a {what} must be a regular file")
    if st.st_size > limit:
        raise BadRequest(f"{path}: {st.st_size} bytes, over the {_size(limit)} limit for a {what}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadRequest(f"{path}: {_kind(st.st_mode)}; a {what} must be a regular file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise BadRequest(f"{path}: over the {_size(limit)} limit for a {what} (it grew while read)")
    return decode(data, path)


def read_bounded_stream(stream: object, *, limit: int, what: str, name: str = "standard input") -> str:
    """At most ``limit`` bytes from a binary stream (e.g. ``sys.stdin.buffer``), as UTF-8 text."""
    read = getattr(stream, "read", None)
    if read is None:
        raise BadRequest(f"{name}: cannot read")
    data = read(limit + 1)
    if not isinstance(data, bytes):
        raise BadRequest(f"{name}: cannot read bytes")
    if len(data) > limit:
        raise BadRequest(f"{name}: over the {_size(limit)} limit for a {what}")
    return decode(data, name)


def decode(data: bytes, where: object) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{where}: not UTF-8 text (byte {exc.start})") from None
