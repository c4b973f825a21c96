"""NAPALM's package body, run when a NAPALM driver is first needed, not when its base class is.

netchange's drivers subclass ``napalm.base.NetworkDriver`` and raise ``napalm.base.exceptions``;
importing either runs ``napalm/__init__.py`` first, and that body imports every bundled driver
(EOS with pyeapi, Junos with PyEZ, IOS-XR, NX-OS...: 100-160 ms of each process, the largest
single import of a plan against IOS switches or firewalls, which use none of them). Its comment
says why it does: two threads calling ``get_network_driver`` at once could deadlock importing
driver modules.

:func:`defer` puts NAPALM's package into ``sys.modules`` with its ``__path__`` but without its
body, so that ``napalm.base.*`` imports as usual; the body runs, once and under a lock, the first
time anything reads an attribute of ``napalm`` itself (``from napalm import get_network_driver``,
as :func:`netchange.drivers.contract.driver_class` and nornir_napalm do), which is before any
NAPALM driver is looked up: the deadlock NAPALM guards against stays guarded. When NAPALM was
imported before (by a plugin, a test), :func:`defer` does nothing.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

_LOCK = threading.RLock()
_DEFERRED = "__netchange_deferred_body__"


def defer() -> None:
    """Register NAPALM's package without running its body (idempotent; a no-op once imported)."""
    with _LOCK:
        if "napalm" in sys.modules:
            return
        spec = importlib.util.find_spec("napalm")
        if spec is None or spec.loader is None:
            return  # not installed: the first import will say so, as it would have
        package = importlib.util.module_from_spec(spec)

        def run_body(name: str) -> object:
            # Another thread running the body holds the lock: this one waits for the whole body.
            load(package)
            try:
                return package.__dict__[name]
            except KeyError:
                raise AttributeError(f"module 'napalm' has no attribute {name!r}") from None

        package.__dict__["__getattr__"] = run_body
        package.__dict__[_DEFERRED] = True
        sys.modules["napalm"] = package


def load(package: ModuleType | None = None) -> None:
    """Run NAPALM's package body now if :func:`defer` held it back."""
    with _LOCK:
        package = package or sys.modules.get("napalm")
        if package is None or not package.__dict__.pop(_DEFERRED, False):
            return
        spec = package.__spec__
        assert spec is not None
        assert spec.loader is not None
        try:
            spec.loader.exec_module(package)
        finally:
            # Only now: a thread reading an attribute meanwhile waited on the lock in ``run_body``.
            package.__dict__.pop("__getattr__", None)


def deferred() -> bool:
    """Whether NAPALM's package body has not run yet (the test of this module reads it)."""
    package = sys.modules.get("napalm")
    return package is not None and bool(package.__dict__.get(_DEFERRED, False))
