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

A profile also holds the facts the engine and the drivers branch on: ``syntax``,
``ntc_platform``, ``confirmed_commit``, ``read_only`` (what ``cli()`` may run), ``save`` (how the
running state becomes the one the device starts from, and how that is read back), ``free_text``
(what a description or a comment sent to the device may hold) and, for an SSH command line,
``cli`` (netmiko device type, error strings, header lines). Profiles are found
through the :data:`PLATFORMS` registry; ``docs/adding-a-platform.md`` shows how to add one.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from netchange.basemodels import FrozenModel
from netchange.errors import BadRequest
from netchange.registry import Registry

_Data = TypeVar("_Data", bound=FrozenModel)


def compiled_patterns(value: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``value`` unchanged when each of its regular expressions compiles, else the first error
    (a validator's body: the profile says what a pattern is for in ``what``)."""
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{what} {pattern!r}: {exc}") from None
    return value

PROFILES_DIR = Path(__file__).parent


class LineMatch(FrozenModel):
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


class HierConfigOptions(FrozenModel):
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
    comments: tuple[str, ...] = ()
    """Regexes of lines that are not configuration (an ASA's ``!``, ``: end``, ``Cryptochecksum:``),
    dropped before parsing, as hier_config's own cisco_ios rules drop IOS's ``!``."""

    @field_validator("comments")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return compiled_patterns(value, "comment pattern")


class CommandRules(FrozenModel):
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


READ_ONLY_REFUSED_CHARACTERS = ";&|`$<>\n\r'\"\\"
"""Never in a read-only command, whatever the platform: a shell would run a second command
(``;``, ``&``, ``|``), substitute one (a backquote, ``$``) or redirect (``<``, ``>``); a quote or a
backslash changes what the words are after the prefix was checked; a line break sends a second
command on any command line."""


class ReadOnlyCommands(FrozenModel):
    """What ``cli()`` may run on the platform: the one read-only rule of every driver
    (applied by :func:`netchange.drivers.base.check_read_only`)."""

    prefixes: tuple[str, ...] = ()
    """A command runs only if it starts (leading spaces aside) with one of these; none: every
    command is refused."""
    refused_characters: str = READ_ONLY_REFUSED_CHARACTERS
    """Characters refused anywhere in a command (:data:`READ_ONLY_REFUSED_CHARACTERS`)."""
    refused_words: tuple[str, ...] = ()
    """Words refused anywhere after the first: the verbs that turn a reading command into a write
    on a shell (``ip route del …`` starts like ``ip route``; ``hostname NEW`` renames the host)."""
    exact: tuple[str, ...] = ()
    """Commands allowed only as written, with no argument (``hostname``)."""

    def refusal(self, command: str) -> str | None:
        """Why ``command`` is not read-only on this platform, or ``None`` when it is."""
        text = command.strip()
        words = text.split()
        if text not in self.exact and not text.startswith(tuple(p for p in self.prefixes if p not in self.exact)):
            allowed = ", ".join(repr(p) for p in (*self.prefixes, *self.exact)) or "none"
            return f"it starts with none of the platform's read-only prefixes ({allowed})"
        refused = "".join(sorted({c for c in command if c in self.refused_characters}))
        if refused:
            return f"it contains {refused!r}"
        verbs = sorted({w for w in words[1:] if w in self.refused_words})
        if verbs:
            return f"it says {', '.join(verbs)}, which changes the device"
        return None


class FreeTextRules(FrozenModel):
    """What the platform keeps as free text (an interface description, a rule's comment, a remark):
    the one rule for every value a person writes that a change type sends to the device
    (:class:`netchange.models.DeviceText`), checked for each target host when the plan binds its
    steps, before any template is rendered (issue 22 item 7). A line break never passes (the
    model refuses it first); a platform without ``free_text`` takes none."""

    charset: Literal["ascii", "unicode"] = "ascii"
    """``ascii``: printable ASCII only (a terminal session types bytes the device may store,
    show or compare differently); ``unicode``: any character but controls."""
    max_length: int = Field(ge=1, le=4096)
    """Characters the device keeps (a longer text is cut or refused by the device itself)."""
    max_bytes: int | None = Field(default=None, ge=1)
    """UTF-8 bytes the device keeps, where its limit is in bytes (nft: 128)."""
    refused_characters: str = ""
    """Characters the device reads as something else (IOS: ``?`` prints the command's help)."""
    quoted_by: str | None = Field(default=None, min_length=1, max_length=1)
    """The quote the templates put around the text (nft's ``comment "…"``): refused inside it."""

    def refusal(self, value: str) -> str | None:
        """Why the platform cannot take ``value`` as free text, or ``None`` when it can."""
        if self.charset == "ascii":
            outside = sorted({c for c in value if not " " <= c <= "~"})
            if outside:
                return f"holds {''.join(outside)!r}: this platform's free text is printable ASCII"
        refused = sorted({c for c in value if c in self.refused_characters or c == self.quoted_by})
        if refused:
            return f"holds {''.join(refused)!r}, which this platform does not take in free text"
        if len(value) > self.max_length:
            return f"is {len(value)} characters long, over this platform's {self.max_length}"
        size = len(value.encode())
        if self.max_bytes is not None and size > self.max_bytes:
            return f"is {size} bytes long in UTF-8, over this platform's {self.max_bytes}"
        return None


class PositionalLine(FrozenModel):
    """Top-level lines that make an ordered list and that the device inserts by position: ASA
    ``access-list NAME …`` lines, which ``access-list NAME line N …`` puts at line N."""

    match: str
    """A regex matching such a line as the device prints it (without a position), with the named
    groups ``list`` (the list the line belongs to) and any the ``insert`` template uses."""
    insert: str
    """The line typed at place ``{n}`` (a ``str.format`` template over the groups of ``match``)."""

    @field_validator("match")
    @classmethod
    def _names_its_list(cls, value: str) -> str:
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regex {value!r}: {exc}") from exc
        if "list" not in pattern.groupindex:
            raise ValueError(f"{value!r} has no group named 'list'")
        return value


class CliBlock(FrozenModel):
    """A construct the device prints over several lines that is one command: a banner and its
    text, a certificate and its hex lines, a macro and its body (issue 22 item 5).

    The driver reads such a block as one configuration line (its lines joined by newlines), so it
    is typed whole, removed by the one command of :attr:`remove` and never diffed line by line:
    a banner's text lines are never typed as commands, a certificate's hex lines are never
    negated one by one. Exactly one of :attr:`end`, :attr:`delimiter` and :attr:`repeat` says
    where the block ends."""

    name: str
    """What it is, for people (``banner``, ``certificate``, ``macro``)."""
    parent: str | None = None
    """A regex the section line the block lives in matches (``^crypto pki certificate chain ``);
    ``None``: a top-level block."""
    start: str
    """A regex its first line matches (stripped), with named groups :attr:`remove` may use."""
    end: str | None = None
    """A regex its last line matches (stripped): a macro ends at ``@``, a certificate at ``quit``."""
    delimiter: str | None = None
    """The group of :attr:`start` holding a delimiter: the block ends at its next occurrence, on
    the first line already for a one-line banner (IOS ``banner motd ^C … ^C``)."""
    printed_delimiter: str | None = None
    """How the device prints the delimiter, whichever was typed (IOS: ``^C``). A block is kept
    with it, so that a banner typed with ``#`` compares equal to the device's reading."""
    typed_delimiters: str = ""
    """The delimiters to type instead of :attr:`printed_delimiter`, the first one its text lacks.
    IOS prints ETX as ``^C``; typed, ``^C`` is two characters and ``^`` would be the delimiter."""
    repeat: bool = False
    """Each line is a whole command and the consecutive lines matching :attr:`start` with the same
    groups make one block (an ASA banner: one ``banner motd <text>`` line per line of text, which
    ``no banner motd`` removes all together)."""
    remove: str
    """The command that removes the block: a ``str.format`` template over :attr:`start`'s groups."""
    confirm: str | None = None
    """The answer typed after :attr:`remove` where the device asks to confirm it (IOS asks
    "[yes/no]" before removing a certificate): typed with it, so that the next command is never
    read as the answer."""

    @model_validator(mode="after")
    def _consistent(self) -> CliBlock:
        try:
            pattern = re.compile(self.start)
            for regex in (self.parent, self.end):
                if regex is not None:
                    re.compile(regex)
        except re.error as exc:
            raise ValueError(f"block {self.name!r}: bad regex: {exc}") from None
        if sum((self.end is not None, self.delimiter is not None, self.repeat)) != 1:
            raise ValueError(f"block {self.name!r}: give exactly one of end, delimiter, repeat")
        if self.delimiter is not None and self.delimiter not in pattern.groupindex:
            raise ValueError(f"block {self.name!r}: start has no group named {self.delimiter!r}")
        if (self.printed_delimiter is None) != (not self.typed_delimiters):
            raise ValueError(f"block {self.name!r}: printed_delimiter and typed_delimiters go together")
        try:
            self.remove.format(**dict.fromkeys(pattern.groupindex, "x"))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"block {self.name!r}: remove {self.remove!r} names what start lacks: {exc}") from None
        return self


class CliOptions(FrozenModel):
    """How an SSH command line prints and refuses (netchange's own IOS-style CLI driver)."""

    netmiko_device_type: str
    """netmiko's ``device_type`` for the session."""
    error_strings: tuple[str, ...] = ()
    """Output that means the device refused a line (netmiko ``error_pattern``)."""
    header_patterns: tuple[str, ...] = ()
    """Regexes of lines ``show running-config`` prints before the configuration itself, or after
    it (an ASA's ``Cryptochecksum:`` and ``: end``)."""
    show_running: str = "show running-config"
    indent: str = " "
    """One level of indentation as the device prints it (hier_config's own is two spaces)."""
    positional_lines: tuple[PositionalLine, ...] = ()
    """Lists whose lines a rollback or a restore puts back at their place, not at the end
    (:func:`netchange.drivers.ios_cli.sent_lines`)."""
    blocks: tuple[CliBlock, ...] = ()
    """Multi-line constructs typed and removed whole (:class:`CliBlock`,
    :mod:`netchange.drivers.cli_blocks`)."""

    @property
    def error_pattern(self) -> str:
        return "|".join(re.escape(s) for s in self.error_strings)


class SaveSteps(FrozenModel):
    """How a platform keeps its running state for its next start, and how that is read back
    (issue 21 item 4: a verified change, and a verified restore, are saved).

    The driver's base class runs them (:meth:`netchange.drivers.base.NetchangeDriver.save_config`);
    a transport says only how it sends a command and reads an answer. A platform without a
    separate startup state has ``save: null`` and its file says why.
    """

    command: str
    """What makes the running state the startup state: a command (``write memory``) or, for
    NETCONF, the operation ``copy-config running startup``."""
    startup: str
    """What reads the startup state back: a command (``show startup-config``), a shell line
    (``{config_dir}`` is the driver's configuration directory) or a NETCONF datastore's name."""
    header_patterns: tuple[str, ...] = ()
    """Regexes of lines printed around the configuration (in the startup reading or the running
    one) that are not configuration: dropped from both before they are compared."""
    capability: str | None = None
    """Save only where the device advertises this (NETCONF ``:startup``): without it the
    device keeps no startup state apart from the running one."""
    error_strings: tuple[str, ...] = ()
    """Output that means the save was refused (besides the platform's ``cli.error_strings``)."""

    @field_validator("header_patterns")
    @classmethod
    def _regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return compiled_patterns(value, "header pattern")

    def configuration(self, text: str) -> str:
        """``text`` without the header lines and surrounding blanks: what is compared."""
        patterns = [re.compile(p) for p in self.header_patterns]
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").splitlines()]
        return "\n".join(line for line in lines if not any(p.fullmatch(line) for p in patterns)).strip()


class PlatformProfile(FrozenModel):
    """Everything netchange knows about one platform besides its driver's code."""

    name: str
    """The platform name an inventory host gives (``platform: ios_cli``); the file's stem."""
    driver: str | None = None
    """Where the driver comes from: ``None`` → netchange's ``netchange.drivers`` registry under
    ``name``, else that registry name (several platforms may share a driver class)."""
    syntax: str | None
    """The configuration syntax the platform speaks (change types render per syntax, classifier
    rules are written per syntax). ``null`` for a driver without one (mock): the host then gives
    ``data.syntax``."""
    ntc_platform: str | None = None
    """ntc-templates (TextFSM) platform name for parsing show commands, if any."""
    confirmed_commit: bool = False
    """``commit_config(revert_in=N)`` is a real confirmed commit the device reverts by itself
    unless ``confirm_commit()`` follows; apply then confirms only after the post-checks pass."""
    read_only: ReadOnlyCommands = ReadOnlyCommands()
    """The commands ``cli()`` may run (prefixes; refused characters)."""
    save: SaveSteps | None = None
    """How to save the running state and read the startup back; ``None``: the platform keeps no
    startup state apart from the running one (its file says why), or its NAPALM driver saves."""
    cli: CliOptions | None = None
    hier_config: HierConfigOptions | None = None
    commands: CommandRules = CommandRules()
    free_text: FreeTextRules | None = None
    """What the platform takes as free text from a person (:class:`FreeTextRules`); ``None``: none
    (a change type's description or comment is then refused for its hosts)."""


class ProfileError(ValueError):
    """A profile file is missing or wrong (a packaging or editing mistake, not user input)."""


def read_data_file(path: Path, model: type[_Data], key: str) -> _Data:
    """Validate one YAML file of the platform data (a profile, a syntax's reference kinds) as
    ``model``; its field ``key`` must be the file's name. Any fault is a :class:`ProfileError`
    naming the file and the field: a packaging or editing mistake, said in one line."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: {exc}") from None
    try:
        found = model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ProfileError(f"{path}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    if getattr(found, key) != path.stem:
        raise ProfileError(f"{path}: {key} {getattr(found, key)!r} differs from the file name")
    return found


def read_profile(path: Path) -> PlatformProfile:
    """Validate one profile file (its ``name`` must be its file name)."""
    return read_data_file(path, PlatformProfile, "name")


@cache
def load_profile(name: str, directory: Path = PROFILES_DIR) -> PlatformProfile:
    """The profile ``<directory>/<name>.yaml``, validated once."""
    return read_profile(directory / f"{name}.yaml")


def _packaged() -> dict[str, Any]:
    """The shipped profiles by name, as paths: each is read when first asked for (validating the
    ``ios_cli`` profile imports hier_config, which a NAPALM platform's plan does not need)."""
    return {p.stem: p for p in sorted(PROFILES_DIR.glob("*.yaml"))}


def _from_entry_point(name: str, value: Any) -> PlatformProfile:
    """An entry point of ``netchange.platforms`` names a profile, a path to one, or a callable."""
    if callable(value) and not isinstance(value, PlatformProfile):
        value = value()
    if isinstance(value, Path) and value.parent == PROFILES_DIR:
        value = load_profile(value.stem)  # the cached copy the drivers use too
    elif isinstance(value, str | Path):
        value = read_profile(Path(value))
    if not isinstance(value, PlatformProfile):
        raise ProfileError(f"entry point {name!r} of netchange.platforms gave {type(value).__name__}, not a profile")
    return value


PLATFORMS: Registry[PlatformProfile] = Registry(
    "platform", "netchange.platforms", defaults=_packaged, convert=_from_entry_point)
"""Every platform netchange can drive: the packaged profiles, then the entry points of the group
``netchange.platforms``, then :meth:`Registry.register` calls (tests, plugins)."""


def profile_of(platform: str) -> PlatformProfile:
    """The profile of ``platform``; an unknown platform is bad input."""
    profile = PLATFORMS.find(platform)
    if profile is None:
        raise BadRequest(f"unknown platform {platform!r} (known: {', '.join(PLATFORMS.names())})")
    return profile


def syntax_of(platform: str, override: str | None = None) -> str:
    """The configuration syntax of a platform (``override``, a host's ``data.syntax``, wins)."""
    if override:
        return override
    syntax = profile_of(platform).syntax
    if syntax is None:
        raise BadRequest(f"platform {platform!r} has no configuration syntax of its own; set data.syntax")
    return syntax


def profiles() -> tuple[PlatformProfile, ...]:
    """Every registered profile."""
    return tuple(PLATFORMS.get(name) for name in PLATFORMS.names())


def profiles_for_syntax(syntax: str) -> tuple[PlatformProfile, ...]:
    return tuple(p for p in profiles() if p.syntax == syntax)


def free_text_of(platform: str, syntax: str) -> tuple[str, FreeTextRules | None]:
    """The profile whose free-text rules judge a host's text, and those rules (``None``: it takes
    none). A platform without a syntax of its own (NAPALM's mock) takes the rules of the platform
    named after the host's syntax, as :meth:`netchange.changetype.Context.parse` takes its templates."""
    profile = profile_of(platform)
    if profile.syntax is None and (named := PLATFORMS.find(syntax)) is not None:
        profile = named
    return profile.name, profile.free_text
