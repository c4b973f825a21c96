"""Reading a change request file: every problem becomes one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from netchange import redact
from netchange.errors import BadRequest
from netchange.models import ChangeRequest


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys: the second value would silently win otherwise."""


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadRequest(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise BadRequest(f"{path}:{where}: invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"{path}: a change request is a mapping (id, title, ticket, requester, steps)")
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
