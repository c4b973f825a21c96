"""A source of truth's inventory (NetBox, Nautobot) read as netchange's, by a declared mapping.

Teams keep their devices in NetBox or Nautobot and read them with the Nornir inventory plugins
they already use (``NetBoxInventory2`` from nornir_netbox, ``NautobotInventory`` from
nornir_nautobot). Those plugins hand over the source's own records: role, site and platform are
objects (``{"name": "Access switch", ...}``), a platform is a slug or a Netmiko driver name. netchange
selects and classifies by ``data.role`` (one of :class:`~netchange.vocabulary.Role`), ``data.site``,
``platform`` (one of its platform profiles) and ``data.syntax``; without a translation a step's
``targets: {site: doif}`` selects no host. This module is that translation, declared in YAML rather
than written as a transform function by each team:

.. code-block:: yaml

    role: {from: role.name, values: {Access switch: switch, Edge firewall: firewall}}
    site: {from: location.name, values: {DOIF: doif}}
    platform: {from: platform.network_driver, values: {cisco_ios: ios_cli, cisco_asa: asa_cli}}
    syntax: custom_fields.syntax          # optional
    data:                                 # optional: more host data, copied as found
      criticality: custom_fields.criticality

A rule is a dotted path into the device's record (a list on the way is walked element by
element: ``tags.name`` is the names of the tags) or a mapping with ``from`` (the path),
``values`` (source value → netchange value; a value outside it is an error) and ``default`` (when
the record has none). A value that is not netchange's (a role outside the vocabulary, an unknown
platform) is an error naming the device and the value: one line, exit 2, before any device is
contacted. ``role``, ``site`` and a platform are required (without a ``platform`` rule, the one the
plugin set, which must then be netchange's); ``syntax`` is the platform's unless given.

It runs as the Nornir transform function ``netchange_sot`` (``inventory.transform_function`` in
``nornir.yaml``, the mapping in ``transform_function_options.mapping``: a file, relative to
``nornir.yaml``, or the mapping itself), and then fills the credentials exactly as
``netchange_credentials`` does: the two are chained, the mapping first.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netchange.errors import BadRequest
from netchange.vocabulary import Role

if TYPE_CHECKING:
    from nornir.core.inventory import Host

    from netchange.config import Logins

TRANSFORM_NAME = "netchange_sot"
_FIELDS = ("role", "site", "platform", "syntax")
_RULE_KEYS = {"from", "values", "default"}
_MISSING: Any = object()


@dataclass(frozen=True)
class Rule:
    """Where one netchange field comes from in the source's record, and how its values translate."""

    name: str
    path: tuple[str, ...]
    values: dict[str, Any] | None = None
    default: Any = None

    @property
    def where(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Mapping:
    """The declared mapping: one rule per netchange field, plus extra host data."""

    source: str
    rules: dict[str, Rule]
    data: dict[str, Rule] = field(default_factory=dict)


def _rule(source: str, name: str, spec: Any) -> Rule:
    if isinstance(spec, str) and spec.strip():
        return Rule(name, tuple(spec.strip().split(".")))
    if not isinstance(spec, dict) or not isinstance(spec.get("from"), str) or not spec["from"].strip():
        raise BadRequest(f"{source}: {name}: give a dotted path, or a mapping with 'from' (a dotted path), "
                         "'values' and 'default'")
    unknown = sorted(set(spec) - _RULE_KEYS)
    if unknown:
        raise BadRequest(f"{source}: {name}: unknown key {unknown[0]!r} (known: from, values, default)")
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        raise BadRequest(f"{source}: {name}.values: a mapping of source value to netchange value")
    return Rule(name, tuple(spec["from"].strip().split(".")),
                {str(k): v for k, v in values.items()} if values is not None else None, spec.get("default"))


def parse_mapping(spec: Any, source: str = "mapping") -> Mapping:
    """The mapping declared by ``spec`` (the YAML's content); bad declarations are bad input."""
    if not isinstance(spec, dict):
        raise BadRequest(f"{source}: the mapping must be a YAML mapping of {', '.join(_FIELDS)} and data")
    unknown = sorted(set(spec) - {*_FIELDS, "data"})
    if unknown:
        raise BadRequest(f"{source}: unknown field {unknown[0]!r} (known: {', '.join(_FIELDS)}, data)")
    for required in ("role", "site"):
        if required not in spec:
            raise BadRequest(f"{source}: no rule for {required!r}: netchange selects hosts by it")
    rules = {name: _rule(source, name, spec[name]) for name in _FIELDS if name in spec}
    extra = spec.get("data") or {}
    if not isinstance(extra, dict):
        raise BadRequest(f"{source}: data: a mapping of host data name to rule")
    clash = sorted(set(extra) & set(_FIELDS))
    if clash:
        raise BadRequest(f"{source}: data.{clash[0]}: give it as the top-level rule {clash[0]!r}")
    return Mapping(source, rules, {str(k): _rule(source, f"data.{k}", v) for k, v in extra.items()})


@functools.lru_cache(maxsize=8)
def _mapping_file(path: str, mtime_ns: int, size: int) -> Mapping:
    import yaml

    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read the inventory mapping: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise BadRequest(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    return parse_mapping(spec, path)


def load_mapping(spec: Any) -> Mapping:
    """The mapping of ``transform_function_options.mapping``: a file name or the mapping itself."""
    if isinstance(spec, str | Path):
        path = Path(spec)
        try:
            mtime = path.stat()
        except OSError:
            raise BadRequest(f"{path}: inventory mapping not found (transform_function_options.mapping)") from None
        return _mapping_file(str(path), mtime.st_mtime_ns, mtime.st_size)
    if spec is None:
        raise BadRequest(f"{TRANSFORM_NAME}: no mapping: set inventory.transform_function_options.mapping "
                         "in nornir.yaml (a file, or the mapping itself)")
    return parse_mapping(spec, "nornir.yaml: inventory.transform_function_options.mapping")


# -- reading a record --------------------------------------------------------------------------


def record_of(host: Host) -> dict[str, Any]:
    """The source's record of ``host``: what the mapping's paths read.

    nornir_netbox puts the device's JSON in ``host.data`` itself; nornir_nautobot puts it under
    ``pynautobot_dictionary`` (or only the pynautobot object, with ``pynautobot_dict: false``).
    """
    data = dict(host.data)
    if isinstance(data.get("pynautobot_dictionary"), dict):
        return dict(data["pynautobot_dictionary"])
    if data.get("pynautobot_object") is not None:
        return dict(data["pynautobot_object"])
    return data


def _walk(node: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` under ``node``; a list on the way is walked element by element."""
    if not path:
        return node
    if isinstance(node, list | tuple):
        found = [_walk(item, path) for item in node]
        return [v for v in found if v is not _MISSING and v is not None]
    if isinstance(node, dict) and path[0] in node:
        return _walk(node[path[0]], path[1:])
    return _MISSING


def _empty(value: Any) -> bool:
    return value is _MISSING or value is None or value in ("", [])


def _translate(host: str, rule: Rule, value: Any) -> Any:
    """``value`` read by ``rule`` for ``host``, through its ``values`` table."""
    if rule.values is None:
        return value
    candidates = value if isinstance(value, list) else [value]
    known = [rule.values[str(v)] for v in candidates if str(v) in rule.values]
    if isinstance(value, list):  # a list (tags): the one that the table names
        distinct = list(dict.fromkeys(str(k) for k in known))
        if len(distinct) > 1:
            raise BadRequest(f"host {host}: {rule.name}: {rule.where} gives {', '.join(distinct)}: "
                             "the mapping must select one")
        if not known:
            if rule.default is not None:
                return rule.default
            raise BadRequest(f"host {host}: {rule.name}: none of {value} ({rule.where}) is in the mapping's values "
                             f"({', '.join(rule.values)})")
        return known[0]
    if not known:
        raise BadRequest(f"host {host}: {rule.name} {value!r} ({rule.where}) is not in the mapping's values "
                         f"({', '.join(rule.values)})")
    return known[0]


def read(host: str, rule: Rule, record: dict[str, Any], *, required: bool) -> Any:
    """What ``rule`` gives for ``host``'s ``record``: translated, or its default; ``None`` if neither."""
    value = _walk(record, rule.path)
    if _empty(value):
        if rule.default is not None:
            return rule.default
        if required:
            raise BadRequest(f"host {host}: no {rule.name}: {rule.where} is empty in the source of truth "
                             "(give the device one, filter it out, or set a default in the mapping)")
        return None
    return _translate(host, rule, value)


# -- netchange's own checks on the result ------------------------------------------------------


def _check(host: str, name: str, value: Any, rule: Rule) -> str:
    from netchange.platforms import PLATFORMS, profiles

    text = str(value)
    if name == "role" and text not in {r.value for r in Role}:
        raise BadRequest(f"host {host}: role {text!r} ({rule.where}) is not one of netchange's roles "
                         f"({', '.join(r.value for r in Role)}): map it with role.values")
    if name == "platform" and PLATFORMS.find(text) is None:
        raise BadRequest(f"host {host}: platform {text!r} ({rule.where}) is not a netchange platform "
                         f"({', '.join(PLATFORMS.names())}): map it with platform.values")
    if name == "syntax":
        syntaxes = sorted({p.syntax for p in profiles() if p.syntax})
        if text not in syntaxes:
            raise BadRequest(f"host {host}: syntax {text!r} ({rule.where}) is not one of {', '.join(syntaxes)}")
    if name == "site" and not text.strip():
        raise BadRequest(f"host {host}: empty site ({rule.where})")
    return text


def apply_mapping(host: Host, mapping: Mapping) -> None:
    """Set ``host``'s role, site, platform, syntax and extra data from its record, by ``mapping``.

    Everything is read before anything is written: the source's own ``role``/``site`` keys (NetBox's
    device JSON) are read as the source gave them, then replaced by netchange's values.
    """
    record = record_of(host)
    found: dict[str, Any] = {}
    for name, rule in mapping.rules.items():
        value = read(host.name, rule, record, required=name != "syntax")
        if value is not None:
            found[name] = _check(host.name, name, value, rule)
    extra = {name: read(host.name, rule, record, required=False) for name, rule in mapping.data.items()}
    platform = found.pop("platform", None)
    if platform is None:  # no rule: the plugin's own platform, which must be netchange's
        if not host.platform:
            raise BadRequest(f"host {host.name}: no platform in the source of truth (give the device one, "
                             "filter it out, or map one with a platform rule)")
        _check(host.name, "platform", host.platform, Rule("platform", ("platform",)))
    else:
        host.platform = platform
        for options in host.connection_options.values():
            options.platform = None  # the host's platform applies to every connection
    host.data.update(found)
    host.data.update({k: v for k, v in extra.items() if v is not None})


def map_source_of_truth(host: Host, mapping: Any = None, secrets_file: str | None = None,
                        logins: Logins | None = None, **_: Any) -> None:
    """Nornir transform function ``netchange_sot``: the mapping, then the credentials."""
    from netchange.config import inject_credentials

    apply_mapping(host, load_mapping(mapping))
    inject_credentials(host, secrets_file=secrets_file, logins=logins)
