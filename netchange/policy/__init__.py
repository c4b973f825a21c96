"""The quality plan as data: the policy model, its pin in the journal, windows, identity, the clock.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.policy._directory import directory_person as directory_person
    from netchange.policy._directory import seen_by_directory as seen_by_directory
    from netchange.policy._identity import Actor as Actor
    from netchange.policy._identity import actor_for as actor_for
    from netchange.policy._identity import current_actor as current_actor
    from netchange.policy._model import ApprovalRule as ApprovalRule
    from netchange.policy._model import CategoryPolicy as CategoryPolicy
    from netchange.policy._model import Freeze as Freeze
    from netchange.policy._model import Person as Person
    from netchange.policy._model import Policy as Policy
    from netchange.policy._model import RequestRules as RequestRules
    from netchange.policy._model import format_duration as format_duration
    from netchange.policy._model import load_policy as load_policy
    from netchange.policy._window import Verdict as Verdict
    from netchange.policy._window import evaluate as evaluate
    from netchange.policy._window import fits as fits
    from netchange.policy._window import next_open as next_open
    from netchange.policy._window import open_intervals as open_intervals
    from netchange.policy._window import parse_at as parse_at
    from netchange.policy._window import parse_duration as parse_duration
    from netchange.policy._windowtable import Opening as Opening
    from netchange.policy._windowtable import WindowTable as WindowTable

_WHERE = {
    "Actor": "_identity",
    "ApprovalRule": "_model",
    "CategoryPolicy": "_model",
    "Freeze": "_model",
    "Person": "_model",
    "Policy": "_model",
    "RequestRules": "_model",
    "Verdict": "_window",
    "actor_for": "_identity",
    "current_actor": "_identity",
    "directory_person": "_directory",
    "seen_by_directory": "_directory",
    "evaluate": "_window",
    "fits": "_window",
    "format_duration": "_model",
    "load_policy": "_model",
    "next_open": "_window",
    "open_intervals": "_window",
    "parse_at": "_window",
    "parse_duration": "_window",
    "Opening": "_windowtable",
    "WindowTable": "_windowtable",
}

__all__ = [
    "Actor",
    "ApprovalRule",
    "CategoryPolicy",
    "Freeze",
    "Opening",
    "Person",
    "Policy",
    "RequestRules",
    "Verdict",
    "WindowTable",
    "actor_for",
    "current_actor",
    "directory_person",
    "evaluate",
    "fits",
    "format_duration",
    "load_policy",
    "next_open",
    "open_intervals",
    "parse_at",
    "parse_duration",
    "seen_by_directory",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
