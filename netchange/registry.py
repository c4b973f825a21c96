"""One registry per extension kind (platforms, drivers, change types), filled by entry points.

Each kind has one :class:`Registry` instance (``netchange.platforms.PLATFORMS``,
``netchange.drivers.base.DRIVERS``, ``netchange.changetype.CHANGE_TYPES``). Installed packages
fill it through their entry-point group the first time it is read; code and tests add to it with
:meth:`Registry.register`, so a test registers a fake driver or change type under a name instead
of monkeypatching a module function (and :meth:`Registry.registered` takes it back out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import PurePath
from threading import Lock
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Names → objects of one kind. Entry points are listed lazily and loaded on first ``get``.

    ``defaults`` (optional) returns the entries shipped with netchange itself (the packaged
    platform profiles, as paths read on first use); an entry point or a :meth:`register` call of
    the same name wins over them.
    """

    def __init__(self, kind: str, group: str, *, defaults: Callable[[], dict[str, T]] | None = None,
                 convert: Callable[[str, Any], T] | None = None) -> None:
        self.kind = kind
        self.group = group
        self._defaults = defaults
        self._convert = convert
        self._entries: dict[str, Any] | None = None
        """name → a loaded object, or an ``EntryPoint`` not yet loaded."""
        self._lock = Lock()

    def _all(self) -> dict[str, Any]:
        with self._lock:
            if self._entries is None:
                entries: dict[str, Any] = dict(self._defaults() if self._defaults else {})
                entries.update({ep.name: ep for ep in entry_points(group=self.group)})
                self._entries = entries
            return self._entries

    def register(self, name: str, obj: T, *, replace: bool = False) -> T:
        """Add ``obj`` under ``name``; a name already taken is an error unless ``replace``."""
        entries = self._all()
        if name in entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        entries[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        self._all().pop(name, None)

    @contextmanager
    def registered(self, name: str, obj: T) -> Iterator[T]:
        """``obj`` under ``name`` for the ``with`` block, the previous entry back afterwards."""
        entries = self._all()
        missing = object()
        before = entries.get(name, missing)
        entries[name] = obj
        try:
            yield obj
        finally:
            if before is missing:
                entries.pop(name, None)
            else:
                entries[name] = before

    def find(self, name: str) -> T | None:
        """The entry ``name`` (an entry point is loaded once), or ``None``."""
        entries = self._all()
        value = entries.get(name)
        if value is None:
            return None
        if hasattr(value, "load") and hasattr(value, "group"):  # an importlib EntryPoint
            loaded = value.load()
            value = self._convert(name, loaded) if self._convert else loaded
            entries[name] = value
        elif isinstance(value, PurePath) and self._convert:  # a packaged file, read when first asked for
            value = self._convert(name, value)
            entries[name] = value
        return value

    def get(self, name: str) -> T:
        value = self.find(name)
        if value is None:
            raise KeyError(f"unknown {self.kind} {name!r} (known: {', '.join(self.names())})")
        return value

    def names(self) -> list[str]:
        return sorted(self._all())

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def reset(self) -> None:
        """Forget every registration; the next read lists the entry points again."""
        with self._lock:
            self._entries = None
