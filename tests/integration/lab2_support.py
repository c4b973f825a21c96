"""Helpers of the lab-2 integration tests: run a change type against an open driver."""

from __future__ import annotations

from typing import Any

from netchange.changetype import ChangeType, Context, get_change_type
from netchange.platforms import syntax_of
from netchange.vocabulary import Role


def context(nornir: Any, name: str, driver: Any, change_type: str, params: dict[str, Any]) -> tuple[Any, Any]:
    """(change type, context) for ``name`` as the engine builds them at plan time."""
    host = nornir.inventory.hosts[name]
    ct: ChangeType[Any] = get_change_type(change_type)
    ctx: Context[Any] = Context(
        host=name,
        platform=host.platform,
        syntax=syntax_of(host.platform),
        role=Role(host.data["role"]),
        site=host.data["site"],
        data=dict(host.data),
        params=ct.validate(params),
        driver=driver,
        running=driver.get_config(retrieve="running")["running"],
    )
    return ct, ctx


def failed(checks: list[Any]) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in checks if not c.passed]
