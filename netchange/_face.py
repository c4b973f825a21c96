"""The public face of a package whose names load on first use (PEP 562).

Why: every stage package (``netchange.plan``, ``netchange.apply``...) exports its names from one
place, as httpx does, but an eager face would import nornir and NAPALM for commands that never
touch a device (``netchange version`` must start in 0.2 s) and would tie the stages into import
cycles that their modules do not have. A face lists where each name lives; the name is imported
from its private module the first time someone asks for it, then kept in the package's namespace.
Type checkers read the same names from the face's ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``where`` maps each public name to its module."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        vars(sys.modules[package])[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
