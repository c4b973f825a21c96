"""netchange's test kit: devices from stored configurations, plans against them, assertions.

For change types written in another package as much as for netchange's own tests::

    from netchange.testing import StoredDevice, plan_step, assert_diff, assert_category

    sw = StoredDevice("sw1", config=Path("backups/sw1.cfg").read_text())
    plan = plan_step("ntp_server", {"servers": ["10.0.0.1"]}, [sw])
    assert_diff(plan, "+ntp server 10.0.0.1")
    assert_category(plan, "minor")

The pytest plugin (:mod:`netchange.testing.plugin`, entry point ``pytest11``) gives the same as
fixtures. Names are imported when first used: loading the plugin costs a pytest run nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netchange.testing.assertions import (
        assert_category,
        assert_diff,
        assert_no_change,
        assert_planned,
        assert_pre_checks,
        assert_reasons,
        assert_unclassified,
        host_plan,
    )
    from netchange.testing.device import MemorySession, StoredDevice, show_vlan_brief
    from netchange.testing.planning import build_inventory, plan_change, plan_step, post_checks, single_step

_WHERE = {
    "assert_category": "assertions", "assert_diff": "assertions", "assert_no_change": "assertions",
    "assert_planned": "assertions",
    "assert_pre_checks": "assertions", "assert_reasons": "assertions", "assert_unclassified": "assertions",
    "host_plan": "assertions",
    "MemorySession": "device", "StoredDevice": "device", "show_vlan_brief": "device",
    "build_inventory": "planning", "plan_change": "planning", "plan_step": "planning", "post_checks": "planning",
    "single_step": "planning",
}

__all__ = [
    "MemorySession",
    "StoredDevice",
    "assert_category",
    "assert_diff",
    "assert_no_change",
    "assert_planned",
    "assert_pre_checks",
    "assert_reasons",
    "assert_unclassified",
    "build_inventory",
    "host_plan",
    "plan_change",
    "plan_step",
    "post_checks",
    "show_vlan_brief",
    "single_step",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
