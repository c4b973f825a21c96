"""The task-plugin contract: change types, their registry and description, show parsing, probes.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.changetype._contract import CHANGE_TYPES as CHANGE_TYPES
    from netchange.changetype._contract import ChangeType as ChangeType
    from netchange.changetype._contract import Context as Context
    from netchange.changetype._contract import change_type_names as change_type_names
    from netchange.changetype._contract import get_change_type as get_change_type
    from netchange.changetype._contract import render_template as render_template
    from netchange.changetype._contract import text_hash as text_hash
    from netchange.changetype._devicetext import refused_device_text as refused_device_text
    from netchange.changetype._parsing import parse_show as parse_show
    from netchange.changetype._typeinfo import change_request_reference as change_request_reference
    from netchange.changetype._typeinfo import change_request_schema as change_request_schema
    from netchange.changetype._typeinfo import describe_types as describe_types

_WHERE = {
    "CHANGE_TYPES": "_contract",
    "ChangeType": "_contract",
    "Context": "_contract",
    "change_request_reference": "_typeinfo",
    "change_request_schema": "_typeinfo",
    "change_type_names": "_contract",
    "describe_types": "_typeinfo",
    "get_change_type": "_contract",
    "parse_show": "_parsing",
    "refused_device_text": "_devicetext",
    "render_template": "_contract",
    "text_hash": "_contract",
}

__all__ = [
    "CHANGE_TYPES",
    "ChangeType",
    "Context",
    "change_request_reference",
    "change_request_schema",
    "change_type_names",
    "describe_types",
    "get_change_type",
    "parse_show",
    "refused_device_text",
    "render_template",
    "text_hash",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
