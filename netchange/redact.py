"""Scrub secret values from any text netchange prints, stores or reports.

Secrets are registered before any command writes or prints anything (the CLI's root callback
registers every credential of the invocation, inventory loaded or not:
:func:`netchange.config.register_every_secret`, the secrets files, the lab's, the inventory's and
the secret environment variables; credentials injection and the lab's key generation add theirs);
every writer (journal, plan store, reports, logs) passes its text through
:func:`scrub`. Registering a value is idempotent; values shorter than four characters are
ignored, since scrubbing them would mangle ordinary text.
"""

from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None

MASK = "********"


def register(value: str) -> None:
    global _pattern  # noqa: PLW0603 - the process-wide set of secrets is the point
    if len(value) < 4:
        return
    with _lock:
        if value not in _values:
            _values.add(value)
            # Compiled on the next scrub, not here: registering each of a fleet's secrets used to
            # recompile the whole alternation every time (quadratic; seconds for 200 hosts).
            _pattern = None


def _compiled() -> re.Pattern[str] | None:
    global _pattern  # noqa: PLW0603
    with _lock:
        if _pattern is None and _values:
            _pattern = re.compile("|".join(re.escape(v) for v in sorted(_values, key=len, reverse=True)))
        return _pattern


def contains_secret(text: str) -> bool:
    """Whether ``text`` holds a registered secret (to refuse it rather than store it scrubbed)."""
    pattern = _pattern if _pattern is not None else _compiled()
    return bool(pattern and pattern.search(text))


def scrub(text: str) -> str:
    pattern = _pattern if _pattern is not None else _compiled()
    return pattern.sub(MASK, text) if pattern else text
