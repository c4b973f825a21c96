"""Plan a change request, or a single step, against devices built from stored configurations.

Everything a plan runs goes through the real pipeline: the change types of the registry (entry
points ``netchange.change_types``, a third-party type included), parameter validation, target
resolution, pre-checks, render, the driver's diff and rollback lines, the classifier with every
installed rule (``netchange.classifier_rules``), the policy's requirements, the sealed plan. What
differs from ``netchange plan`` is only the inventory (the devices given, in memory) and that
nothing is recorded unless asked (``record=`` a directory: the plan store and the journal there).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nornir.core import Nornir

from netchange.models import ChangeRequest
from netchange.plan import Plan
from netchange.testing.device import StoredDevice

TEST_ACTOR = "netchange-test"


def build_inventory(devices: Iterable[StoredDevice], *, workers: int = 4) -> Nornir:
    """A Nornir inventory of ``devices`` (groups: each device's site, role and ``groups``); every host
    connects through its platform's real driver over the device's stored configuration."""
    from nornir.core.configuration import Config
    from nornir.core.inventory import Defaults, Group, Groups, Hosts, Inventory, ParentGroups
    from nornir.core.state import GlobalState
    from nornir.plugins.runners import ThreadedRunner

    devices = list(devices)
    names = [d.name for d in devices]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ValueError(f"two devices named {duplicate!r}")
    groups = Groups({g: Group(name=g) for d in devices for g in (d.site, d.role, *d.groups) if g})
    hosts = Hosts()
    for dev in devices:
        host = _stored_host_class()(
            name=dev.name, hostname=dev.name, platform=dev.platform,
            groups=ParentGroups([groups[g] for g in dict.fromkeys(d for d in (dev.site, dev.role, *dev.groups) if d)]),
            data={**dev.data, "role": dev.role, "site": dev.site},
        )
        host.stored = dev
        hosts[dev.name] = host
    return Nornir(inventory=Inventory(hosts=hosts, groups=groups, defaults=Defaults()),
                  runner=ThreadedRunner(num_workers=workers), config=Config(), data=GlobalState(dry_run=True))


class _Opened:
    """What Nornir keeps in ``host.connections``: the opened driver and how to close it."""

    def __init__(self, driver: Any) -> None:
        self.connection = driver

    def close(self) -> None:
        self.connection.close()


@functools.cache
def _stored_host_class() -> type[Any]:
    """A Nornir host whose netchange connection is its stored device's driver: no connection
    plugin, no registry entry, nothing global changed."""
    from nornir.core.inventory import Host

    from netchange.inventory import CONNECTION_NAME

    class StoredHost(Host):
        stored: StoredDevice

        def get_connection(self, connection: str, configuration: Any) -> Any:
            if connection != CONNECTION_NAME:
                return super().get_connection(connection, configuration)
            if connection not in self.connections:
                driver = self.stored.driver()
                driver.open()
                self.connections[connection] = _Opened(driver)  # type: ignore[assignment]
            return self.connections[connection].connection

    return StoredHost


def change_request(change: ChangeRequest | Mapping[str, Any] | str | Path) -> ChangeRequest:
    """A change request from a model, a mapping, or a YAML file (read by ``netchange plan``'s own reader:
    bounds, secrets, duplicate keys)."""
    if isinstance(change, ChangeRequest):
        return change
    if isinstance(change, str | Path):
        from netchange.request import load_request

        return load_request(Path(change))
    return ChangeRequest.model_validate(dict(change))


def single_step(change_type: str, params: Mapping[str, Any], *, targets: Mapping[str, Any],
                change_id: str = "TEST-0001") -> ChangeRequest:
    """A change request of one step (for a change type's own tests)."""
    return ChangeRequest.model_validate({
        "id": change_id, "title": f"test of {change_type}", "ticket": "TEST", "requester": TEST_ACTOR,
        "steps": [{"type": change_type, "targets": dict(targets), "params": dict(params)}],
    })


def plan_change(
    change: ChangeRequest | Mapping[str, Any] | str | Path,
    devices: Iterable[StoredDevice],
    *,
    policy: str | Path | None = None,
    record: str | Path | None = None,
    actor: str = TEST_ACTOR,
    now: dt.datetime | None = None,
) -> Plan:
    """The sealed plan of ``change`` on ``devices``.

    ``policy``: a policy file whose version and requirements the plan carries (default: none, the
    requirements are empty and the version is ``"test"``). ``record``: a directory where the plan
    is stored and journaled as ``netchange plan`` does (default: nothing is written).
    """
    from netchange.plan import build_plan

    request = change_request(change)
    version, digest = "test", ""
    requirements: Any = lambda _category: ()  # noqa: E731
    if policy is not None:
        from netchange.policy import load_policy

        loaded = load_policy(policy)
        version, digest, requirements = loaded.version, loaded.digest, loaded.requirements
    plan = build_plan(request, build_inventory(devices), actor=actor, policy_version=version,
                      policy_digest=digest, requirements=requirements, now=now)
    if record is not None:
        from netchange.journal import Journal
        from netchange.plan import store as planstore

        home = Path(record)
        home.mkdir(parents=True, exist_ok=True)
        with Journal(home / "journal.sqlite") as journal:
            planstore.record(home / "plans", journal, plan)
    return plan


def plan_step(
    change_type: str,
    params: Mapping[str, Any],
    devices: Iterable[StoredDevice],
    *,
    targets: Mapping[str, Any] | None = None,
    **options: Any,
) -> Plan:
    """The plan of one step of ``change_type`` (default targets: every device given)."""
    devices = list(devices)
    chosen = dict(targets) if targets is not None else {"hosts": [d.name for d in devices]}
    return plan_change(single_step(change_type, params, targets=chosen), devices, **options)


def post_checks(change_type: str, params: Mapping[str, Any], device: StoredDevice) -> list[Any]:
    """The post-checks of ``change_type`` run against ``device`` (built from the configuration
    expected after the change): what apply would conclude once the commit is done."""
    from netchange.changetype import Context, get_change_type
    from netchange.platforms import syntax_of
    from netchange.vocabulary import Role

    kind = get_change_type(change_type)
    driver = device.driver()
    driver.open()
    try:
        running = driver.get_config(retrieve="running")["running"]
        ctx = Context(host=device.name, platform=device.platform, syntax=syntax_of(device.platform, device.data.get(
            "syntax")), role=Role(device.role), site=device.site, data={**device.data, "role": device.role,
            "site": device.site}, params=kind.validate(dict(params)), driver=driver, running=running)
        return list(kind.post_checks(ctx))
    finally:
        driver.close()
