"""Machine-wide device locks: one apply, rollback or recover per device at a time.

The journal's ``locks`` table lives in one state directory: two shells with two ``--home`` (or
two working directories) never see each other's rows, and a row of a killed process stays
behind. So the lock that decides is an operating-system lock (``flock``, non-blocking) on one
file per device, in a directory shared by every netchange process of the machine:

- ``NETCHANGE_LOCK_DIR`` when set (argument > environment > default, as every setting);
- ``/run/netchange/locks`` for root, else ``$XDG_RUNTIME_DIR/netchange/locks``, else
  ``/tmp/netchange-<uid>/locks``.

That choice is a setting (:attr:`netchange.config._settings.Settings.lock_dir`, resolved once by the
command line); callers pass it in as ``directory``.

The directory is 0700 and each lock file 0600 from its creation. A file is keyed by the device's
identity (the address and port the inventory connects to, not the inventory's name), so two
inventories naming the same device take the same file. The holder writes who it is (change,
action, pid, actor, state directory) into the file, for the refusal message of whoever comes
next. The kernel drops the lock when its process ends, however it ends: a SIGKILL never leaves
a stale lock, and ``recover`` can take the devices at once. Lock files are never deleted
(deleting a file someone else has open and is about to lock would let two holders coexist).

The journal's ``locks`` table stays the record of who held what, and when.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from netchange.errors import BadRequest, LockHeld


class DeviceHold(Protocol):
    """What a command holds on its devices, OS locks (:class:`HeldLocks`) or database leases
    (:class:`netchange.apply.leases.HeldLeases`): the pipeline sees only this."""

    def check(self, conn: Any = None) -> None:
        """Raise :class:`~netchange.errors.LeaseLost` if the hold was lost (fencing: before each write)."""

    def release(self) -> None:
        """Give the devices back, once."""


def lock_dir(arg: str | Path | None = None) -> Path:
    """Where the lock files live: the directory given (the invocation's ``Settings.lock_dir``),
    else as :class:`~netchange.config._settings.Settings` resolves it now (a library caller without
    settings must still meet the command line's processes in the same directory)."""
    if arg is not None:
        return Path(arg)
    from netchange.config import Settings

    return Settings.resolve().lock_dir


def device_identity(hostname: str | None, port: int | None) -> str:
    """The device as the network sees it: address (case-folded) and port, or ``default``."""
    host = (hostname or "").strip().lower().rstrip(".")
    if not host:
        raise BadRequest("a host of the inventory has no hostname: it cannot be locked")
    return f"{host}:{port}" if port else f"{host}:default"


def identities(nr: Any, hosts: list[str]) -> dict[str, str]:
    """Inventory name → device identity, for ``hosts`` of a Nornir inventory.

    The port is the host's own, or the driver's ``port`` optional argument, as the connection
    plugin resolves it (see ``netchange.inventory._connection``).
    """
    found: dict[str, str] = {}
    for name in hosts:
        host = nr.inventory.hosts[name]
        port = host.port
        if not port:
            params = host.get_connection_parameters("netchange")
            extras = params.extras or {}
            optional = extras.get("optional_args") or {}
            port = optional.get("port")
        found[name] = device_identity(host.hostname, int(port) if port else None)
    return found


def _file_name(identity: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9.-]", "_", identity)[:80]
    return f"{readable}.{hashlib.sha256(identity.encode()).hexdigest()[:16]}.lock"


def _secure_dir(path: Path) -> None:
    """Create ``path`` 0700 (and its parents); refuse one that another user could write to."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # In a shared /tmp, the per-user parent too: whoever owns it could swap the directory.
    checked = [path, path.parent] if path.parent.name == f"netchange-{os.getuid()}" else [path]
    for each in checked:
        st = each.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
            raise LockHeld(f"{each}: the lock directory must belong to uid {os.geteuid()} and not be "
                           "group/world-writable; fix it or set NETCHANGE_LOCK_DIR")


@dataclass
class HeldLocks:
    """The locks one command holds; released (unlocked, emptied) by :meth:`release`, once."""

    directory: Path
    files: dict[str, int] = field(default_factory=dict)
    """Inventory name → open file descriptor holding the flock."""
    _released: bool = False

    def check(self, conn: Any = None) -> None:
        """Fencing, as :meth:`netchange.apply.leases.HeldLeases.check` does it for leases: an OS lock
        cannot be lost while its file is open in this process, so there is nothing to check."""

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        for fd in self.files.values():
            try:
                os.ftruncate(fd, 0)  # the holder's note goes with its lock
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        self.files.clear()


def acquire(
    devices: Mapping[str, str],
    *,
    change_id: str,
    action: str,
    actor: str,
    home: Path,
    directory: Path | None = None,
) -> HeldLocks:
    """Lock every device (name → identity) or none, and raise ``LockHeld`` naming the holder.

    Non-blocking: a device held by another command is a refusal now (exit 3), never a wait.
    """
    where = lock_dir(directory)
    _secure_dir(where)
    held = HeldLocks(directory=where)
    note = json.dumps({"change": change_id, "action": action, "pid": os.getpid(), "actor": actor,
                       "home": str(Path(home).resolve())})
    try:
        # Sorted by identity: two commands locking overlapping sets never wait on each other's half.
        for name, identity in sorted(devices.items(), key=lambda item: item[1]):
            if identity in {devices[n] for n in held.files}:
                continue  # two inventory names for one device, in one plan: one lock
            path = where / _file_name(identity)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _holder(fd)
                os.close(fd)
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    raise LockHeld(f"{name} ({identity}) is locked by {holder}") from None
                raise
            held.files[name] = fd
            os.ftruncate(fd, 0)
            os.pwrite(fd, (note + "\n").encode(), 0)
    except BaseException:
        held.release()
        raise
    return held


def _holder(fd: int) -> str:
    """The holder's note, for the refusal message (it may not have written it yet)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        data = {}
    if not data:
        return "another netchange process"
    return (f"{data.get('change', '?')} ({data.get('action', '?')} by {data.get('actor', '?')}, "
            f"pid {data.get('pid', '?')}, home {data.get('home', '?')})")


@contextmanager
def locked(
    devices: Mapping[str, str], *, change_id: str, action: str, actor: str, home: Path,
    directory: Path | None = None,
) -> Iterator[HeldLocks]:
    """:func:`acquire` for a ``with`` block; released on the way out, however it is left."""
    held = acquire(devices, change_id=change_id, action=action, actor=actor, home=home, directory=directory)
    try:
        yield held
    finally:
        held.release()
