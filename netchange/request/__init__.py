"""What the engineer writes: reading a change request file within its bounds.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.request._bounds import MAX_DIFF_BYTES as MAX_DIFF_BYTES
    from netchange.request._bounds import MAX_HOSTS as MAX_HOSTS
    from netchange.request._bounds import MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
    from netchange.request._bounds import MAX_SNIPPET_LINES as MAX_SNIPPET_LINES
    from netchange.request._bounds import MAX_STEPS as MAX_STEPS
    from netchange.request._bounds import MAX_STORED_CONFIG_BYTES as MAX_STORED_CONFIG_BYTES
    from netchange.request._bounds import MAX_YAML_DEPTH as MAX_YAML_DEPTH
    from netchange.request._bounds import check_host_count as check_host_count
    from netchange.request._bounds import decode as decode
    from netchange.request._bounds import read_bounded_stream as read_bounded_stream
    from netchange.request._bounds import read_regular_file as read_regular_file
    from netchange.request._read import load_request as load_request

_WHERE = {
    "MAX_DIFF_BYTES": "_bounds",
    "MAX_HOSTS": "_bounds",
    "MAX_REQUEST_BYTES": "_bounds",
    "MAX_SNIPPET_LINES": "_bounds",
    "MAX_STEPS": "_bounds",
    "MAX_STORED_CONFIG_BYTES": "_bounds",
    "MAX_YAML_DEPTH": "_bounds",
    "check_host_count": "_bounds",
    "decode": "_bounds",
    "load_request": "_read",
    "read_bounded_stream": "_bounds",
    "read_regular_file": "_bounds",
}

__all__ = [
    "MAX_DIFF_BYTES",
    "MAX_HOSTS",
    "MAX_REQUEST_BYTES",
    "MAX_SNIPPET_LINES",
    "MAX_STEPS",
    "MAX_STORED_CONFIG_BYTES",
    "MAX_YAML_DEPTH",
    "check_host_count",
    "decode",
    "load_request",
    "read_bounded_stream",
    "read_regular_file",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
