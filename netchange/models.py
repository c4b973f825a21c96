"""The operators' vocabulary as validated data: categories, targets, change requests.

Every model is strict and forbids unknown keys, so a typo in a change file is an error with the
field's path rather than a silently ignored option.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import core_schema

from netchange.basemodels import StrictModel
from netchange.errors import BadRequest
from netchange.vocabulary import Category, Role

# --- Text for people ---------------------------------------------------------------------------
# Titles, descriptions, comments and reasons are read by people and never typed on a device: they
# are Unicode prose (the client writes French: "Délai", "l’imprimante", « guillemets »), bounded,
# without control characters (a line break only where the text is multi-line) and without the
# bidirectional overrides that make a text read differently from what it holds. Each renderer
# escapes them for its own medium (Jinja2 autoescape, Markdown, Rich markup), and every writer
# scrubs secrets from them (netchange.redact).

MAX_TITLE = 200
"""Characters in a title (one line)."""
MAX_PROSE = 4000
"""Characters in a description or a reason (several lines allowed)."""
MAX_COMMENT = 2000
"""Characters in an approval's or a closing comment (the service's form says the same)."""

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Embeddings, overrides and isolates: they reorder what is displayed ("Trojan Source")."""


def _refused_character(value: str, *, multiline: bool) -> str | None:
    """The first character prose may not hold, described, or ``None``."""
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        if ch == "\n" or category in ("Zl", "Zp"):
            return "a line break (one line only)"
        if category in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            return f"the control character U+{ord(ch):04X}"
    return None


def prose(value: str, *, multiline: bool = True, max_length: int = MAX_PROSE) -> str:
    """Text for people: any Unicode letters and punctuation, at most ``max_length`` characters, no
    control character (line breaks and tabs only if ``multiline``). Raises ``ValueError``."""
    if len(value) > max_length:
        raise ValueError(f"is {len(value)} characters long, over the limit of {max_length}")
    refused = _refused_character(value, multiline=multiline)
    if refused:
        raise ValueError(f"contains {refused}")
    return value


def prose_line(value: str) -> str:
    """A title: one line of prose, not blank, at most :data:`MAX_TITLE` characters."""
    if not value.strip():
        raise ValueError("is blank")
    return prose(value, multiline=False, max_length=MAX_TITLE)


def person_text(value: str, *, what: str, max_length: int = MAX_PROSE) -> str:
    """A comment or a reason typed on a command line or in a form, checked as :func:`prose`:
    ``BadRequest`` (exit 2) naming ``what`` when it is not. Front ends and the pipeline call it
    where such a text enters (approve, reject, close, ``--emergency``, ``policy adopt``)."""
    try:
        return prose(value, max_length=max_length)
    except ValueError as exc:
        raise BadRequest(f"the {what} {exc}") from None


ProseLine = Annotated[str, Field(min_length=1, max_length=MAX_TITLE), AfterValidator(prose_line)]
"""One line for people (a title): Unicode, never sent to a device."""
Prose = Annotated[str, Field(max_length=MAX_PROSE), AfterValidator(prose)]
"""Text for people (a description, a comment, a reason): Unicode, several lines, never sent to a device."""


# --- Values that reach a device ----------------------------------------------------------------
# A value ends up inside a device command. Anything that could end the line or start a second
# command is refused here, before a template ever sees it; free text that a device keeps (an
# interface description, a rule's comment) is then checked against the rules of the platform it
# is sent to (netchange.platforms, ``free_text``) when the plan binds its steps to hosts.

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
MAX_DEVICE_TEXT = 255
"""Characters in a device's free text before any platform's own limit (the longest: 255)."""


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains a newline or control character")
    return value


def safe_name(value: str) -> str:
    """A name: letters, digits, ``_ . -``; at most 32 characters; no spaces."""
    _no_control(value)
    if not _SAFE_NAME.fullmatch(value):
        raise ValueError("must be 1-32 characters of letters, digits, '_', '.', '-', starting with a letter or digit")
    return value


class DeviceText(str):
    """Free text a device keeps (a description, a comment): one line, 1-255 characters, no control
    character here; the platform it is sent to decides the rest (its character set, its length,
    its quoting), declared in its profile's ``free_text`` and checked for every target host before
    anything is planned (:func:`netchange.changetype.refused_device_text`).

    A ``str`` subclass so that the check finds every such value in a change type's params, at
    any depth, without the change type listing them."""

    __slots__ = ()

    @classmethod
    def _validate(cls, value: str) -> DeviceText:
        if not value.strip():
            raise ValueError("is blank")
        prose(value, multiline=False, max_length=MAX_DEVICE_TEXT)
        return cls(value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls._validate, core_schema.str_schema(min_length=1, max_length=MAX_DEVICE_TEXT),
            serialization=core_schema.plain_serializer_function_ser_schema(str))


SafeName = Annotated[str, AfterValidator(safe_name)]
VlanId = Annotated[int, Field(ge=1, le=4094)]

_INTERFACE = re.compile(
    r"^(?:(?:Gi|Te|Fa|Et|Ethernet|GigabitEthernet|TenGigabitEthernet|FastEthernet|FortyGigabitEthernet|"
    r"HundredGigE|Port-channel|Po|Vlan|Loopback|Management)\d+(?:/\d+){0,3}(?:\.\d+)?)$"
)


def interface_name(value: str) -> str:
    _no_control(value)
    if not _INTERFACE.fullmatch(value):
        raise ValueError(f"{value!r} is not an interface name (e.g. GigabitEthernet1/0/1, Po10, Vlan100)")
    return value


InterfaceName = Annotated[str, AfterValidator(interface_name)]


# --- The change request ------------------------------------------------------------------------


class Targets(StrictModel):
    """Which hosts a step applies to: a Nornir filter. Given fields are combined with AND.

    ``platform`` and ``syntax`` narrow a role or a site to the hosts a change type renders for
    (``{role: switch, syntax: ios}``: the IOS switches, not the NETCONF one). Without them, a host
    the selection reaches but the change type cannot run on is left out of the plan and listed as
    not applicable (:attr:`netchange.plan._document.Plan.not_applicable`); a host named in ``hosts`` that
    it cannot run on is bad input.
    """

    hosts: tuple[SafeName, ...] = ()
    """Inventory host names; a named host the change type cannot run on is bad input."""
    role: Role | None = None
    """The hosts' ``data.role``."""
    site: SafeName | None = None
    """The hosts' ``data.site``."""
    groups: tuple[SafeName, ...] = ()
    """Inventory groups the hosts must all belong to."""
    platform: SafeName | None = None
    """The inventory platform (``ios_cli``, ``asa_cli``, ``netconf``…)."""
    syntax: SafeName | None = None
    """The configuration syntax (``ios``, ``asa``, ``nftables``, ``netconf``…): the platform's, or the
    host's ``data.syntax``."""

    @model_validator(mode="after")
    def _not_empty(self) -> Targets:
        if not (self.hosts or self.role or self.site or self.groups or self.platform or self.syntax):
            raise ValueError("targets must name hosts, a role, a site, groups, a platform or a syntax")
        return self


class Step(StrictModel):
    """One change type applied to a set of targets. ``params`` is validated by the type itself."""

    type: SafeName
    """The change type (``netchange types`` lists the installed ones)."""
    targets: Targets
    """Which hosts the step changes."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The change type's parameters, validated by its own model (listed below for netchange's types)."""


class OnFailure(enum.StrEnum):
    ROLLBACK_ALL = "rollback_all"
    ROLLBACK_FAILED = "rollback_failed"
    STOP = "stop"


class Rollout(StrictModel):
    """Canary first, then batches; defaults suit a small change."""

    canary: Annotated[int, Field(ge=0, le=100)] = 1
    """Hosts changed first, alone, before any batch."""
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 10
    """Hosts changed together after the canary."""


_CHANGE_ID = re.compile(r"^[A-Z][A-Z0-9]*-[0-9A-Za-z\-]{1,40}$")


class ChangeRequest(StrictModel):
    """A change request as the requester writes it (one YAML file)."""

    id: Annotated[str, Field(min_length=3, max_length=48)]
    """The change's identifier, e.g. ``CHG-2026-0042``: capital letters, a dash, letters, digits, dashes."""
    title: ProseLine
    """One line saying what the change does."""
    ticket: SafeName
    """The ticket the change answers."""
    requester: SafeName
    """Who asks for the change (a login of the policy's people)."""
    description: Prose | None = None
    """Free text for the approvers, several lines allowed (never sent to a device)."""
    estimated_duration: Annotated[dt.timedelta, Field(gt=dt.timedelta(0), le=dt.timedelta(hours=24))] = (
        dt.timedelta(minutes=30)
    )
    """How long the change takes (ISO 8601 duration such as ``PT45M``, or seconds); checked against the window."""
    planned_start: dt.datetime | None = None
    """When it is meant to start, with a UTC offset."""
    category: Category | None = Field(
        default=None, description="Raise the category: never lower than what the classifier finds."
    )
    expected_outage: Annotated[dt.timedelta, Field(ge=dt.timedelta(0))] = dt.timedelta(0)
    """The service interruption the requester expects (the quality plan's categories bound it)."""
    hardware: bool = Field(default=False, description="Declared hardware work (cannot show in a diff).")
    rollout: Rollout = Rollout()
    """Canary and batch sizes of the rollout."""
    on_failure: OnFailure = OnFailure.ROLLBACK_ALL
    """What a failure does: roll back every host, only the failed ones, or stop where it is."""
    steps: Annotated[tuple[Step, ...], Field(min_length=1)]
    """The steps, applied in order: one change type on its targets each."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _CHANGE_ID.fullmatch(value):
            raise ValueError("must look like CHG-2026-0042 (capital letters, a dash, then letters/digits/dashes)")
        return value

    @field_validator("planned_start")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-12-05T22:00:00+01:00")
        return value


class CheckResult(BaseModel):
    """The outcome of one pre- or post-check on one host.

    A check that could not run (``not_run`` says why: an offline plan has no device to ask) is
    never passed, and is not failed either: it is its own status.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    passed: bool
    detail: str = ""
    not_run: str = ""
    """Why the check was not run, e.g. "not run offline: needs the live device"; empty when it ran."""

    @model_validator(mode="after")
    def _never_passed_unrun(self) -> CheckResult:
        if self.not_run and self.passed:
            raise ValueError("a check that was not run cannot have passed")
        return self

    @model_serializer(mode="wrap")
    def _omit_empty_not_run(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Plans made before the field existed keep their hash: it is written only when set.
        data: dict[str, Any] = handler(self)
        if not self.not_run:
            data.pop("not_run", None)
        return data

    @property
    def status(self) -> Literal["passed", "failed", "not_run"]:
        return "not_run" if self.not_run else "passed" if self.passed else "failed"

    @property
    def failed(self) -> bool:
        """Ran and did not pass (a check not run is not a failure, nor a pass)."""
        return not self.passed and not self.not_run


ApprovalDecision = Literal["approved", "rejected"]
