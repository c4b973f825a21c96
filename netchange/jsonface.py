"""The machine-readable face of the command line: one JSON document per invocation.

Every command's ``--json`` prints exactly one JSON document on stdout (progress, when asked for,
goes to ``--json-lines``). Errors under ``--json`` are documents too (:func:`error_document`).
The same things have the same keys everywhere: ``change_id``, ``plan_hash``, ``hosts`` as a list
of objects each with its ``name``.
"""

from __future__ import annotations

import json


def error_document(kind: str, exit_code: int, message: str) -> str:
    """``{"error": {"type", "exit_code", "message"}}`` as printed under ``--json``."""
    return json.dumps({"error": {"type": kind, "exit_code": exit_code, "message": message}}, indent=2)


__all__ = ["error_document"]
