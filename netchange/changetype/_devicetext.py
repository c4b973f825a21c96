"""Free text that reaches a device, checked against the platform it is sent to (issue 22 item 7).

A change type's params say which of their values are a person's free text kept by the device
(a description, a comment) by typing them :class:`netchange.models.DeviceText`; nothing else is
declared. When the plan binds a step to its hosts, every such value, at any depth of the params,
is checked against each host's platform profile (``free_text``: character set, length, quoting):
the value a template prints is then one the device takes as it is. Text for people only (titles,
descriptions of the request, comments) is prose and never comes here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from netchange.models import DeviceText


def device_texts(value: Any, path: str = "") -> Iterator[tuple[str, DeviceText]]:
    """Every :class:`DeviceText` in ``value`` (a params model), with its dotted path."""
    if isinstance(value, DeviceText):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from device_texts(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from device_texts(item, f"{path}.{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from device_texts(item, f"{path}.{key}")


def refused_device_text(params: Any, platform: str, syntax: str) -> str | None:
    """Why a host of ``platform`` (speaking ``syntax``) cannot take the free text of ``params``
    (``field: why``, naming the platform whose rules refused it), or ``None`` when it can."""
    from netchange.platforms import free_text_of

    texts = list(device_texts(params))
    if not texts:
        return None
    judge, rules = free_text_of(platform, syntax)
    for path, text in texts:
        if rules is None:
            return f"{path}: platform {judge} takes no free text (its profile has no free_text)"
        why = rules.refusal(text)
        if why:
            return f"{path}: {text!r} {why} (platform {judge})"
    return None

