"""Machine-wide reservation of lab instance numbers, and the per-home lab lock.

A lab's namespaces, management links and subnet carry its instance number ``k`` (``nc<k>-…``,
``10.250.<k>.0/24``). Choosing ``k`` used to be check-then-create: two labs starting together both
saw ``k = 0`` free and collided (one lab's firewall sshd died while the other was being
re-created). The same holds for the TCP/UDP ports the kernel picks and a lab server binds
later. Now the choice and its record happen under one ``flock`` shared by every lab on the
machine, and the record (the registry) keeps ``k`` taken until that lab is taken down, however
long its namespaces take to appear. A reservation whose lab is gone (its state file no longer
exists) is taken back, so a crash cannot leak numbers forever.

The lock is not ``/tmp/netchange-lab.lock``: that one is held by whoever runs the lab test suite
around the whole run, and the lab taking it too would deadlock them.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STATE_FILE = "state.json"
"""A lab's state file under its root: present from the first moment of ``up`` until ``down`` ends."""
MAX_INSTANCES = 64


def _lock_dir() -> Path:
    run_lock = Path("/run/lock")
    return run_lock if run_lock.is_dir() and os.access(run_lock, os.W_OK) else Path("/tmp")  # noqa: S108


LOCK_FILE = _lock_dir() / "netchange-lab-instances.lock"
REGISTRY = _lock_dir() / "netchange-lab-instances.json"


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created 0600, never through a symlink)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _read(registry: Path) -> dict[str, str]:
    try:
        data = json.loads(registry.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(registry: Path, reservations: dict[str, str]) -> None:
    tmp = registry.with_name(f"{registry.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(reservations, fh, indent=1, sort_keys=True)
    tmp.replace(registry)


def _owner_alive(root: str) -> bool:
    return (Path(root) / STATE_FILE).exists()


def reserve_instance(root: Path, used: Callable[[], set[int]], *, lock: Path | None = None,
                     registry: Path | None = None) -> int:
    """The lowest instance number neither reserved by another live lab nor in use on the machine.

    The registry maps ``"<k>"`` (instances) and ``"port:<n>"`` (ports, :func:`reserve_port`) to
    the lab root that holds them. ``used`` reports the numbers seen in use right now (namespaces,
    addresses); it is called under the lock, after every earlier reservation was recorded, so two
    labs never get the same number.
    The lab at ``root`` gives up whatever it held before (a re-created lab gets fresh ones).
    """
    lock, registry = lock or LOCK_FILE, registry or REGISTRY
    with file_lock(lock):
        mine = str(root)
        held = {k: owner for k, owner in _read(registry).items() if owner != mine and _owner_alive(owner)}
        busy = used()
        for k in range(MAX_INSTANCES):
            if str(k) not in held and k not in busy:
                held[str(k)] = mine
                _write(registry, held)
                return k
    raise RuntimeError(f"no free lab instance number ({MAX_INSTANCES} labs running?)")


def reserve_port(root: Path, pick: Callable[[], int], *, lock: Path | None = None,
                 registry: Path | None = None, attempts: int = 50) -> int:
    """A port from ``pick`` (the kernel's choice) that no other live lab has reserved; reserved for ``root``.

    The kernel hands out a free port but does not keep it: until the lab's server binds it, the
    same port can be handed to another lab starting at the same moment. The registry remembers it
    until this lab is taken down (or is gone).
    """
    lock, registry = lock or LOCK_FILE, registry or REGISTRY
    with file_lock(lock):
        held = {k: owner for k, owner in _read(registry).items() if _owner_alive(owner)}
        for _ in range(attempts):
            port = pick()
            if f"port:{port}" not in held:
                held[f"port:{port}"] = str(root)
                _write(registry, held)
                return port
    raise RuntimeError(f"no port that another lab has not reserved after {attempts} tries")


def release_instance(root: Path, *, lock: Path | None = None, registry: Path | None = None) -> None:
    """Forget every reservation of the lab at ``root``, instance and ports (once it is down)."""
    lock, registry = lock or LOCK_FILE, registry or REGISTRY
    with file_lock(lock):
        before = _read(registry)
        after = {k: owner for k, owner in before.items() if owner != str(root)}
        if after != before:
            _write(registry, after)
