"""One registry per extension kind (platforms, drivers, change types), filled by entry points.

Each kind has one :class:`Registry` instance (``netchange.platforms.PLATFORMS``,
``netchange.drivers.contract.DRIVERS``, ``netchange.changetype._contract.CHANGE_TYPES``,
``netchange.classifiers.loader.RULE_PLUGINS``). Installed packages
fill it through their entry-point group the first time it is read; code and tests add to it with
:meth:`Registry.register`, so a test registers a fake driver or change type under a name instead
of monkeypatching a module function (and :meth:`Registry.registered` takes it back out).

The registry is the one place that loads an entry point and checks what it gives (``convert``):
a plugin that cannot be imported or gives the wrong thing is a :class:`PluginError` (bad input,
exit 2) naming the kind, the entry point and its distribution, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import PurePath
from threading import Lock
from typing import Any, Generic, TypeVar

from netchange.errors import BadRequest

T = TypeVar("T")


class PluginError(BadRequest):
    """An installed plugin (an entry point) cannot be loaded, or gives what its kind does not take."""


def _is_entry_point(value: object) -> bool:
    return hasattr(value, "load") and hasattr(value, "group")


def _origin(ep: Any) -> str:
    """``distribution-version`` of an entry point (``unknown`` when it has no distribution)."""
    dist = getattr(ep, "dist", None)
    return f"{dist.name}-{dist.version}" if dist is not None else "unknown"


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
        self._origins: dict[str, str] = {}
        """name → where its entry came from (``distribution-version``), for names from entry points."""
        self._code: set[str] = set()
        """Names registered in code: kept when the entry points are listed again (:meth:`refresh`)."""
        self._lock = Lock()

    def _all(self) -> dict[str, Any]:
        with self._lock:
            if self._entries is None:
                entries: dict[str, Any] = dict(self._defaults() if self._defaults else {})
                for ep in entry_points(group=self.group):
                    entries[ep.name] = ep
                    self._origins[ep.name] = _origin(ep)
                self._entries = entries
            return self._entries

    def refresh(self) -> None:
        """List the entry points again (a distribution installed into the running process), keeping
        what code registered."""
        with self._lock:
            kept = {name: self._entries[name] for name in self._code if self._entries and name in self._entries}
            self._entries = None
            self._origins = {}
        entries = self._all()
        entries.update(kept)

    def origin(self, name: str) -> str:
        """Where ``name`` comes from: ``distribution-version`` of its entry point, ``registered``
        (code), or ``netchange`` (shipped with netchange as a default)."""
        self._all()
        if name in self._code:
            return "registered"
        return self._origins.get(name, "netchange")

    def register(self, name: str, obj: T, *, replace: bool = False) -> T:
        """Add ``obj`` under ``name``; a name already taken is an error unless ``replace``."""
        entries = self._all()
        if name in entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        entries[name] = obj
        self._code.add(name)
        return obj

    @contextmanager
    def registered(self, name: str, obj: T) -> Iterator[T]:
        """``obj`` under ``name`` for the ``with`` block, the previous entry back afterwards."""
        missing = object()
        before = self._all().get(name, missing)
        was_code = name in self._code
        self._all()[name] = obj
        self._code.add(name)
        try:
            yield obj
        finally:
            entries = self._all()  # a refresh in the block made a new listing: restore in it
            if not was_code:
                self._code.discard(name)
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
        if _is_entry_point(value):  # an importlib EntryPoint: loaded and checked here, once
            ep: Any = value
            origin = self._origins.get(name) or _origin(ep)
            try:
                loaded = ep.load()
                value = self._convert(name, loaded) if self._convert else loaded
            except PluginError:
                raise
            except Exception as exc:  # a broken plugin is bad input, named, never a traceback
                raise PluginError(f"{self.kind} {name!r} (entry point {ep.value!r} of {origin}): "
                                  f"cannot load: {type(exc).__name__}: {exc}") from None
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
            self._origins = {}
            self._code = set()
