"""The perimeter as a Nornir inventory, and target resolution.

The inventory is Nornir's SimpleInventory (``inventory/``), loaded through ``nornir.yaml``;
credentials are added by the ``netchange_credentials`` transform function. A step's ``targets``
become a Nornir filter: host names, role, site and groups, combined with AND.
"""

from __future__ import annotations

import contextlib
import io
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.inventory import Host, Inventory
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.plugins.inventory import (
    INVENTORY_PLUGIN_PATH,
    TRANSFORM_FUNCTION_PLUGIN_PATH,
    InventoryPluginRegister,
    TransformFunctionRegister,
)
from nornir.core.plugins.register import PluginRegister
from nornir.core.state import GlobalState
from nornir.init_nornir import load_runner

from netchange.errors import BadRequest
from netchange.models import Targets
from netchange.platforms import syntax_of
from netchange.vocabulary import Role

if TYPE_CHECKING:
    from netchange.config import Logins


def _overrides(config_file: Path, secrets: Path | None, overrides: dict[str, Any],
               logins: Logins | None = None) -> dict[str, Any]:
    if not config_file.exists():
        raise BadRequest(f"{config_file}: Nornir configuration not found (set NETCHANGE_NORNIR_CONFIG)")
    if secrets is not None and "inventory" not in overrides:
        from netchange.config import nornir_overrides

        overrides.update(nornir_overrides(config_file, secrets, logins))
    return overrides


def load_nornir(config_file: Path, *, secrets: Path | None = None, logins: Logins | None = None,
                **overrides: Any) -> Nornir:
    """The inventory of ``config_file``; ``secrets``: the invocation's secrets file (``Settings.secrets``),
    used by the credentials transform unless ``nornir.yaml`` names its own; ``logins``: the
    invocation's login variables (``Settings.logins``)."""
    overrides = _overrides(config_file, secrets, overrides, logins)
    try:
        config = Config.from_file(str(config_file), **overrides)
        # What ``InitNornir`` does, but for its first step: it imports every installed connection
        # plugin (nornir_napalm, nornir_netmiko: NAPALM, netmiko, paramiko, ncclient) before it
        # reads a host, where netchange opens every device through its own plugin, whose driver
        # libraries load when a device is first contacted.
        from netchange.inventory._connection import CONNECTION_NAME, NetchangeConnection

        if ConnectionPluginRegister.available.get(CONNECTION_NAME) is not NetchangeConnection:
            ConnectionPluginRegister.register(CONNECTION_NAME, NetchangeConnection)
        config.logging.configure()
        return Nornir(inventory=_read_inventory(config_file, config), runner=load_runner(config), config=config,
                      data=GlobalState(dry_run=False))
    except (OSError, ValueError, TypeError) as exc:
        raise BadRequest(f"{config_file}: cannot load the inventory: {exc}") from None


def load_inventory(config_file: Path, *, secrets: Path | None = None, logins: Logins | None = None,
                   **overrides: Any) -> Inventory:
    """The inventory alone, as :func:`load_nornir` builds it, for commands that contact no device.

    ``InitNornir`` imports every installed connection plugin (nornir_napalm, nornir_netmiko: NAPALM,
    netmiko, paramiko, ncclient...) before it reads a host; listing the hosts needs none of them.
    """
    overrides = _overrides(config_file, secrets, overrides, logins)
    try:
        return _read_inventory(config_file, Config.from_file(str(config_file), **overrides))
    except (OSError, ValueError, TypeError) as exc:
        raise BadRequest(f"{config_file}: cannot load the inventory: {exc}") from None


_P = TypeVar("_P")


def _plugin(register: PluginRegister[_P], group: str, name: str) -> _P:
    """The plugin ``name`` of ``register``, its entry point alone loaded.

    Nornir's own ``load_inventory`` first loads every installed inventory plugin and transform
    function (``auto_register``): nornir_netbox and nornir_nautobot, with requests and pynautobot,
    60-70 ms of every process for an inventory that is a ``SimpleInventory``. A name no entry
    point provides is one line naming the installed ones (Nornir's ``PluginNotRegistered`` was a
    traceback).
    """
    if name not in register.available:
        for entry_point in metadata.entry_points(group=group, name=name):
            register.register(name, entry_point.load())
    if name not in register.available:
        installed = sorted(ep.name for ep in metadata.entry_points(group=group))
        raise BadRequest(f"{group} {name!r} is not installed (installed: {', '.join(installed) or 'none'})")
    return register.get_plugin(name)


def _load_inventory(config: Config) -> Inventory:
    """``nornir.init_nornir.load_inventory``, loading only the plugins ``config`` names."""
    plugin = _plugin(InventoryPluginRegister, INVENTORY_PLUGIN_PATH, config.inventory.plugin)
    inventory = plugin(**config.inventory.options).load()
    if config.inventory.transform_function:
        transform = _plugin(TransformFunctionRegister, TRANSFORM_FUNCTION_PLUGIN_PATH,
                            config.inventory.transform_function)
        for host in inventory.hosts.values():
            transform(host, **(config.inventory.transform_function_options or {}))
    return inventory


def _read_inventory(config_file: Path, config: Config) -> Inventory:
    """The inventory plugin's hosts, its refusals as one line each.

    A source of truth's plugin may refuse in its own way: pynautobot's ``RequestError`` (a bad
    token), or nornir_nautobot's "Error in the query filters" printed on stdout before
    ``sys.exit(1)`` (where it would spoil a ``--json`` document). Its output is kept aside and
    becomes the message of a :class:`BadRequest` (exit 2); an exception of any other library is a
    defect and keeps its traceback.
    """
    if config.inventory.plugin == "SimpleInventory":
        # Files only, and it prints nothing. ``redirect_stdout`` swaps ``sys.stdout`` for the whole
        # process: a thread loading an inventory (a Temporal worker's activity, a service request)
        # would swallow what another thread prints meanwhile (an apply's --json document was lost
        # that way, one run in three, with the workers in the CLI's process).
        return _load_inventory(config)
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            return _load_inventory(config)
    except SystemExit:
        first = said.getvalue().strip().splitlines()[:1] or ["the inventory plugin exited"]
        raise BadRequest(f"{config_file}: the inventory's source refused: {first[0]}") from None
    except (OSError, ValueError, TypeError, BadRequest):
        raise
    except Exception as exc:
        if not type(exc).__module__.startswith(("pynautobot", "requests")):
            raise
        first = str(exc).strip().splitlines()[:1] or [type(exc).__name__]
        raise BadRequest(f"{config_file}: the inventory's source refused: {first[0]}") from None


def host_role(host: Host) -> Role:
    value = host.get("role")
    try:
        return Role(value)
    except ValueError:
        raise BadRequest(f"host {host.name}: data.role {value!r} is not one of {[r.value for r in Role]}") from None


def host_site(host: Host) -> str:
    return str(host.get("site") or "")


def resolve_targets(nr: Nornir, targets: Targets, *, where: str = "targets") -> list[str]:
    """Host names selected by ``targets``; unknown names and empty selections are bad input."""
    inventory = nr.inventory.hosts
    unknown = [name for name in targets.hosts if name not in inventory]
    if unknown:
        raise BadRequest(f"{where}.hosts: unknown host {unknown[0]!r}")
    for group in targets.groups:
        if group not in nr.inventory.groups:
            raise BadRequest(f"{where}.groups: unknown group {group!r}")

    def wanted(host: Host) -> bool:
        if targets.hosts and host.name not in targets.hosts:
            return False
        if targets.role and host.get("role") != targets.role.value:
            return False
        if targets.site and host_site(host) != targets.site:
            return False
        if targets.platform and host.platform != targets.platform:
            return False
        if targets.syntax and syntax_of(host.platform or "", host.get("syntax")) != targets.syntax:
            return False
        return all(host.has_parent_group(g) for g in targets.groups)

    selected = sorted(nr.filter(filter_func=wanted).inventory.hosts)
    if not selected:
        raise BadRequest(f"{where}: selects no host of the inventory")
    return selected
