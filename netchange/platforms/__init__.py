"""Platform profiles: what differs between platforms, as data (one YAML file per platform).

A profile is loaded into a frozen model that forbids unknown keys, so a typo in a profile is an
error naming the file and the field. Today a profile holds what the IOS-style CLI driver and the
``config_snippet`` change type branch on:

``hier_config``
    the hier_config platform whose own rules come first, and the ``idempotent_commands`` added to
    them: commands whose new value *replaces* the previous one (``snmp-server location B``
    replaces ``snmp-server location A``). Without such a rule hier_config keeps both lines in its
    prediction, the diff shows only ``+ … B`` and the rollback is ``no … B``, which deletes the
    value instead of restoring A. Each entry is a lineage, parent first; a string is a word prefix
    (``"snmp-server location"`` matches ``snmp-server location <anything>``), a mapping is one of
    hier_config's match fields (``re_search``, ``startswith``, ``equals``).
``commands``
    ``refused``: commands never sent inside a candidate, because they are not configuration but
    mode changes or actions (``end``, ``exit``, ``do …``, ``write erase``, ``reload``, …). They are
    matched case-insensitively on every abbreviation the device accepts (see
    :func:`netchange.platforms.lines.refused_command`). ``snippet_refused``: refused too in a
    ``config_snippet``, though a device's own configuration may hold them (``quit`` ends a
    certificate in IOS). ``snippet_keywords``: the allow-list: each top-level line of a
    ``config_snippet`` must start with one of these words, as the device prints it in its
    configuration (optionally after ``no``).

This anticipates issue 12's platform profiles: the driver options, error strings and syntax facts
still in ``netchange/drivers`` are meant to join these files.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

PROFILES_DIR = Path(__file__).parent


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineMatch(_Frozen):
    """One level of a lineage: hier_config's ``MatchRule``, one field set."""

    startswith: str | None = None
    re_search: str | None = None
    equals: str | None = None

    @model_validator(mode="after")
    def _one_field(self) -> LineMatch:
        given = [v for v in (self.startswith, self.re_search, self.equals) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of startswith, re_search, equals")
        if self.re_search is not None:
            try:
                re.compile(self.re_search)
            except re.error as exc:
                raise ValueError(f"re_search {self.re_search!r}: {exc}") from None
        return self


def _lineage(value: Any) -> Any:
    """``"a b"`` → one level matching the words ``a b …``; a list → one level per item, parent first."""
    items = value if isinstance(value, list | tuple) else [value]
    return tuple({"startswith": f"{item.strip()} "} if isinstance(item, str) else item for item in items)


Lineage = Annotated[tuple[LineMatch, ...], BeforeValidator(_lineage), Field(min_length=1)]


class HierConfigOptions(_Frozen):
    platform: str
    """hier_config's ``Platform`` value (``cisco_ios``, ``generic``, …): its own rules apply first."""
    idempotent_commands: tuple[Lineage, ...] = ()
    """Commands whose new value replaces the previous one, added to hier_config's own."""

    @field_validator("platform")
    @classmethod
    def _known(cls, value: str) -> str:
        from hier_config import Platform

        if value.upper() not in Platform.__members__:
            known = ", ".join(m.lower() for m in Platform.__members__)
            raise ValueError(f"unknown hier_config platform (known: {known})")
        return value
    idempotent_commands_avoid: tuple[Lineage, ...] = ()
    """Lines an idempotent rule would match but that add a value beside it (``… secondary``)."""


class CommandRules(_Frozen):
    refused: tuple[str, ...] = ()
    """Never sent in any candidate: mode changes and actions, matched on every abbreviation."""
    snippet_refused: tuple[str, ...] = ()
    """Refused as well in a ``config_snippet`` (legitimate in a device's own configuration)."""
    snippet_keywords: tuple[str, ...] = ()
    """The first words a ``config_snippet`` top-level line may start with (the allow-list)."""
    separator: str | None = None
    """What separates two commands on one line, outside quotes and braces (nft's ``;``)."""
    nested_by_indentation: bool = True
    """Indented lines belong to the section above (IOS-style); else every line is a command."""


class PlatformProfile(_Frozen):
    name: str
    syntax: str
    """The configuration syntax the platform speaks (change types render per syntax)."""
    hier_config: HierConfigOptions | None = None
    commands: CommandRules = CommandRules()


class ProfileError(ValueError):
    """A profile file is missing or wrong (a packaging or editing mistake, not user input)."""


@cache
def load_profile(name: str, directory: Path = PROFILES_DIR) -> PlatformProfile:
    """The profile ``<directory>/<name>.yaml``, validated once."""
    path = directory / f"{name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: {exc}") from None
    try:
        profile = PlatformProfile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ProfileError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    if profile.name != name:
        raise ProfileError(f"{path}: name {profile.name!r} differs from the file name")
    return profile


@cache
def profiles() -> tuple[PlatformProfile, ...]:
    """Every profile shipped with netchange."""
    return tuple(load_profile(p.stem) for p in sorted(PROFILES_DIR.glob("*.yaml")))


def profiles_for_syntax(syntax: str) -> tuple[PlatformProfile, ...]:
    return tuple(p for p in profiles() if p.syntax == syntax)
