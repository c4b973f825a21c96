"""Reading a change request file: every problem becomes one line naming the file and the field.

The file is bounded before it is parsed (size, nesting depth, node count, then steps and hosts):
the limits are declared in :mod:`netchange.request._bounds`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from netchange import redact
from netchange.errors import BadRequest
from netchange.models import ChangeRequest
from netchange.request._bounds import (
    MAX_HOSTS,
    MAX_REQUEST_BYTES,
    MAX_STEPS,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    read_regular_file,
)


class _TooLarge(yaml.composer.ComposerError):
    """A bound of :mod:`netchange.request._bounds` is exceeded while composing (reported as such, not as bad YAML)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (the second value would silently win otherwise),
    and bounds what it builds: nesting depth and node count, an alias counting as the nodes it
    repeats. The composer is recursive, so the depth is checked there, before Python's own
    recursion limit is reached (a 2 KB file nested 1,000 levels ended in a RecursionError)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[str, int] = {}

    def _count(self, n: int, mark: Any) -> None:
        self._nodes += n
        if self._nodes > MAX_YAML_NODES:
            raise _TooLarge(None, None, f"more than {MAX_YAML_NODES} YAML nodes (aliases expanded)", mark)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            size = self._sizes.get(str(event.anchor))
            if size is None and event.anchor in self.anchors:
                raise _TooLarge(None, None, f"alias *{event.anchor} inside its own anchor", mark)
            self._count(size or 0, mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise _TooLarge(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        before = self._nodes
        self._count(1, event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._sizes[str(anchor)] = self._nodes - before
        return node


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _secret_field(node: object, where: str = "") -> str | None:
    """The path of the first key or value holding a registered secret, or None."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if redact.contains_secret(str(key)):
                return f"{where or '(top)'} (a key)"
            found = _secret_field(value, here)
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _secret_field(value, f"{where}.{index}")
            if found is not None:
                return found
    elif node is not None and redact.contains_secret(str(node)):
        return where or "(top)"
    return None


def load_request(path: Path) -> ChangeRequest:
    """Read, bound and validate a change request file; :class:`BadRequest` (one line) if anything is wrong."""
    text = read_regular_file(path, limit=MAX_REQUEST_BYTES, what="change request")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooLarge as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}:" if mark is not None else ""
        raise BadRequest(f"{path}:{where} {exc.problem} (the limit for a change request)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadRequest(f"{path}:{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"{path}: a change request is a mapping (id, title, ticket, requester, steps)")
    _check_counts(path, data)  # before anything walks the whole document
    secret_at = _secret_field(data)
    if secret_at is not None:
        # Refused, not scrubbed: a scrubbed request is not the request that was planned, and its
        # stored plan would no longer validate. The value is never echoed.
        raise BadRequest(f"{path}: {secret_at}: holds a secret value (a password or key netchange knows);"
                         " a change request must not carry secrets")
    try:
        return ChangeRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"]) or "(top)"
        msg = str(error["msg"]).removeprefix("Value error, ")
        raise BadRequest(f"{path}: {loc}: {msg}") from None


def _check_counts(path: Path, data: dict[Any, Any]) -> None:
    """Steps and listed hosts, counted before pydantic builds a model of each."""
    steps = data.get("steps")
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        raise BadRequest(f"{path}: steps: {len(steps)} steps, over the limit of {MAX_STEPS} per change request")
    for index, step in enumerate(steps if isinstance(steps, list) else ()):
        targets = step.get("targets") if isinstance(step, dict) else None
        hosts = targets.get("hosts") if isinstance(targets, dict) else None
        if isinstance(hosts, list) and len(hosts) > MAX_HOSTS:
            raise BadRequest(f"{path}: steps.{index}.targets.hosts: {len(hosts)} hosts, "
                             f"over the limit of {MAX_HOSTS} per change")

