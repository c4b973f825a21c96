"""Load a rules directory into a ``RuleSet``, once per directory.

``ruleset.yaml`` holds what belongs to the whole set: its version (recorded with every plan),
the quality-plan items a rule may quote, the change-wide escalations and the hardware rule.
Every other ``*.yaml`` file is one platform family. Errors name the file, the rule id and the
line, so that whoever edits the rules finds the mistake without reading a traceback.

Rules from other packages: a distribution that ships a change type may ship the rules for its own
lines. It declares an entry point in the group ``netchange.classifier_rules`` naming a package (or
a callable returning a directory); every ``*.yaml`` file there has ``extends: <family>`` and a
``rules:`` list, read like a family file's. Their bytes, the entry point and the distribution's
name and version go into the rule set's digest, and the recorded version becomes
``<version>+ext.<digest prefix>``: every plan records which extra rules judged it. The entry
points are read through one registry (:data:`RULE_PLUGINS`, a :class:`netchange.registry.Registry`
like the drivers' and change types'): it loads each once and checks that it gives a directory; a
broken plugin is one line naming it and its distribution. Tests register a rules directory with
``RULE_PLUGINS.registered(name, path)``.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from pydantic import ValidationError

from netchange.classifiers.model import Rule, RuleFile, RuleSet, SectionCheck
from netchange.errors import BadRequest
from netchange.registry import PluginError, Registry

RULES_DIR = Path(__file__).parent / "rules"
SET_FILE = "ruleset.yaml"
ENTRY_POINT_GROUP = "netchange.classifier_rules"
Plugin = tuple[str, str, Path]  # (entry point name, "distribution-version", rules directory)
# Keys a family file may give once for all its rules (each rule may still say otherwise).
_FILE_DEFAULTS = ("platforms", "perimeter")


def _rules_directory(name: str, target: Any) -> Path:
    """What a ``netchange.classifier_rules`` entry point gives, as its rules directory: a package
    (its folder), a callable returning a directory, or a path."""
    if isinstance(target, ModuleType):
        where = Path(target.__file__ or "").parent
    else:
        where = Path(target() if callable(target) else target)
    if not where.is_dir():
        raise PluginError(f"classifier rules {name!r}: {where} is not a directory")
    return where.resolve()


RULE_PLUGINS: Registry[Path] = Registry("classifier rules", ENTRY_POINT_GROUP, convert=_rules_directory)
"""Rules directories of other distributions by entry-point name (``netchange.classifier_rules``)."""


def load_ruleset(directory: Path | None = None) -> RuleSet:
    """The rule set of ``directory`` (default: the rules shipped with netchange, plus the rules
    installed packages declare in the ``netchange.classifier_rules`` entry point group), cached."""
    if directory is None:
        return _load(RULES_DIR.resolve(), _plugins(tuple(sys.path)))
    return _load(Path(directory).resolve(), ())


_listed_for: tuple[str, ...] | None = None


def _plugins(path: tuple[str, ...]) -> tuple[Plugin, ...]:
    """Rule directories of the registry (its entry points listed again when ``sys.path`` changed:
    a distribution installed into the running process)."""
    global _listed_for  # noqa: PLW0603 - which sys.path the registry's listing is of
    if path != _listed_for:
        RULE_PLUGINS.refresh()
        _listed_for = path
    found = [(name, RULE_PLUGINS.origin(name), RULE_PLUGINS.get(name)) for name in RULE_PLUGINS.names()]
    return tuple(sorted(found))


@functools.lru_cache(maxsize=16)
def _load(directory: Path, plugins: tuple[Plugin, ...] = ()) -> RuleSet:
    if not directory.is_dir():
        raise BadRequest(f"rules directory {directory} does not exist")
    set_path = directory / SET_FILE
    if not set_path.is_file():
        raise BadRequest(f"{set_path}: missing (it holds the rule set's version)")
    digest = hashlib.sha256()
    head = _read(set_path)
    digest.update(set_path.read_bytes())
    if not isinstance(head, dict):
        raise BadRequest(f"{set_path}: expected a mapping")
    families = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name == SET_FILE:
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        families.append(_family(path))
    for name, dist, where in plugins:
        for path in sorted(where.glob("*.yaml")):
            digest.update(f"plugin\0{name}\0{dist}\0{path.name}\0".encode() + path.read_bytes())
            families = _extend(families, path, f"{name} ({dist})")
    if plugins:
        head = {**head, "version": f"{head.get('version')}+ext.{digest.hexdigest()[:12]}"}
    try:
        ruleset = RuleSet(
            **head, digest=digest.hexdigest(), directory=str(directory), families=tuple(families)
        )
    except ValidationError as exc:
        raise BadRequest(f"{set_path}: {_first_error(exc)}") from None
    _cross_check(ruleset, directory)
    return ruleset


# libyaml's safe loader when PyYAML was built with it (the wheels are): 5-10x faster, same result.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise BadRequest(f"{path}: not valid YAML: {exc}") from None


def _rule_lines(path: Path) -> dict[int, int]:
    """Map each rule's index to its line in the file (1-based), for error messages."""
    node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
    lines: dict[int, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "rules" and isinstance(value, yaml.SequenceNode):
                for index, item in enumerate(value.value):
                    lines[index] = item.start_mark.line + 1
    return lines


def _family(path: Path) -> RuleFile:
    data = _read(path)
    if not isinstance(data, dict):
        raise BadRequest(f"{path}: expected a mapping with 'family', 'platforms' and 'rules'")
    defaults = {key: data[key] for key in _FILE_DEFAULTS if key in data}
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        raise BadRequest(f"{path}: 'rules' must be a list")
    rules = [{**defaults, **r} if isinstance(r, dict) else r for r in raw_rules]
    raw_checks = data.get("checks") or []
    checks = [{**defaults, **c} if isinstance(c, dict) else c for c in raw_checks]
    body = {k: v for k, v in data.items() if k not in ("rules", "checks", "perimeter")}
    if body.get("family") != path.stem:
        raise BadRequest(f"{path}: 'family' must be the file's name ({path.stem!r})")
    try:
        return RuleFile(**body, rules=tuple(rules), checks=tuple(checks))
    except ValidationError as exc:
        raise BadRequest(_locate(path, exc, raw_rules, raw_checks)) from None


def _extend(families: list[RuleFile], path: Path, origin: str) -> list[RuleFile]:
    """A plugin's rule file added to the family it ``extends`` (its platforms and perimeter by default)."""
    data = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise BadRequest(f"{path} (from {origin}): expected 'extends' and a 'rules' list")
    unknown = set(data) - {"extends", "description", "platforms", "perimeter", "rules"}
    if unknown:
        raise BadRequest(f"{path} (from {origin}): unknown keys {sorted(unknown)}")
    target = next((f for f in families if f.family == data.get("extends")), None)
    if target is None:
        names = ", ".join(f.family for f in families)
        raise BadRequest(f"{path} (from {origin}): 'extends' must name a family ({names})")
    defaults = {"platforms": target.platforms, "perimeter": target.default_role.perimeter}
    defaults.update({key: data[key] for key in _FILE_DEFAULTS if key in data})
    raw_rules = data["rules"]
    rules = [{**defaults, **r} if isinstance(r, dict) else r for r in raw_rules]
    try:
        extra = tuple(Rule.model_validate(r) for r in rules)
    except ValidationError as exc:
        raise BadRequest(_locate(path, exc, raw_rules, [])) from None
    return [f.model_copy(update={"rules": f.rules + extra}) if f is target else f for f in families]


def _locate(path: Path, exc: ValidationError, rules: list[Any], checks: list[Any]) -> str:
    """'file, rule id (line N): what is wrong' for the first error pydantic found."""
    error = exc.errors()[0]
    loc = error["loc"]
    where = str(path)
    if len(loc) >= 2 and loc[0] in ("rules", "checks") and isinstance(loc[1], int):
        items = rules if loc[0] == "rules" else checks
        item = items[loc[1]] if loc[1] < len(items) else {}
        rule_id = item.get("id", f"#{loc[1] + 1}") if isinstance(item, dict) else f"#{loc[1] + 1}"
        line = _rule_lines(path).get(loc[1]) if loc[0] == "rules" else None
        where += f", rule {rule_id}" + (f" (line {line})" if line else "")
        field = ".".join(str(p) for p in loc[2:])
    else:
        field = ".".join(str(p) for p in loc)
    return f"{where}: {field or 'rule'}: {_message(error)}"


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    return str(error["msg"]).removeprefix("Value error, ")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {_message(error)}"


def _cross_check(ruleset: RuleSet, directory: Path) -> None:
    """What no single model can see: duplicates, platforms in two families, untraceable items."""
    seen: dict[str, str] = {}
    owner: dict[str, str] = {}
    known_items = set(ruleset.paq_items)
    quoted = [ruleset.hardware.paq_medium, ruleset.hardware.paq_major]
    for esc in ruleset.escalations:
        quoted += [esc.paq_medium, esc.paq_major]
    for text in quoted:
        if text not in known_items:
            raise BadRequest(f"{directory}/{SET_FILE}: {text!r} is not an item of paq_items")
    for fam in ruleset.families:
        for platform in fam.platforms:
            if platform in owner:
                raise BadRequest(
                    f"{directory}: platform {platform!r} is in both {owner[platform]} and {fam.family}"
                )
            owner[platform] = fam.family
        items: tuple[Rule | SectionCheck, ...] = (*fam.rules, *fam.checks)
        for item in items:
            if item.id in seen:
                raise BadRequest(
                    f"{directory}/{fam.family}.yaml, rule {item.id}: id also used in {seen[item.id]}"
                )
            seen[item.id] = f"{fam.family}.yaml"
            if item.paq_item not in known_items:
                raise BadRequest(
                    f"{directory}/{fam.family}.yaml, rule {item.id}: paq_item {item.paq_item!r} "
                    f"is not an item of {SET_FILE} paq_items"
                )
            stray = set(item.platforms) - set(fam.platforms)
            if stray:
                raise BadRequest(
                    f"{directory}/{fam.family}.yaml, rule {item.id}: platforms {sorted(stray)} "
                    f"are not the family's ({', '.join(fam.platforms)})"
                )
