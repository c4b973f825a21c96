"""The pytest plugin (entry point ``pytest11``: ``netchange = netchange.testing.plugin``).

Fixtures (each a factory; netchange is imported only when a test asks for one of them, so a pytest
run that does not use them pays nothing):

``netchange_device(name, config=None, *, path=None, **facts)``
    A :class:`netchange.testing.StoredDevice`: from a configuration text or a backup file.
``netchange_plan(change, devices, **options)``
    The sealed plan of a change request (a model, a mapping or a YAML file) on those devices,
    through the real pipeline (:func:`netchange.testing.plan_change`); nothing recorded unless
    ``record=`` names a directory (the test's ``tmp_path`` is a good one).
``netchange_plan_step(change_type, params, devices, targets=None, **options)``
    The plan of a single step (:func:`netchange.testing.plan_step`).

The assertions (``assert_diff``, ``assert_category``, ``assert_reasons``, ``assert_pre_checks``…)
are plain functions of :mod:`netchange.testing`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def netchange_device() -> Callable[..., Any]:
    """Build a device from a stored configuration (text or file)."""

    def make(name: str, config: str | None = None, *, path: Any = None, **facts: Any) -> Any:
        from netchange.testing.device import StoredDevice

        if (config is None) == (path is None):
            raise TypeError("give the configuration text or the path of a stored configuration, not both")
        if path is not None:
            return StoredDevice.from_file(path, name=name, **facts)
        return StoredDevice(name=name, config=str(config), **facts)

    return make


@pytest.fixture
def netchange_plan() -> Callable[..., Any]:
    """Plan a change request against stored devices (see :func:`netchange.testing.plan_change`)."""

    def plan(change: Any, devices: Any, **options: Any) -> Any:
        from netchange.testing.planning import plan_change

        return plan_change(change, devices, **options)

    return plan


@pytest.fixture
def netchange_plan_step() -> Callable[..., Any]:
    """Plan one step of a change type against stored devices (see :func:`netchange.testing.plan_step`)."""

    def plan(change_type: str, params: Any, devices: Any, targets: Any = None, **options: Any) -> Any:
        from netchange.testing.planning import plan_step

        return plan_step(change_type, params, devices, targets=targets, **options)

    return plan
