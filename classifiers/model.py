"""The classifier's data: rules as loaded from YAML, and the verdict handed to the pipeline.

Rules are frozen, ``extra="forbid"`` models (the hier_config way): a typo in a rules file is an
error when the rule set loads, never a rule that silently matches nothing. Regexes are compiled
once, when the rule is built, and kept in private attributes so that the models stay comparable
and serialisable.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, field_validator, model_validator

from netchange.basemodels import FrozenModel
from netchange.errors import BadRequest
from netchange.vocabulary import Category, Perimeter, Role

# --- The rules --------------------------------------------------------------------------------


def _perimeters(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


Perimeters = Annotated[tuple[Perimeter, ...], BeforeValidator(_perimeters), Field(min_length=1)]
"""The perimeters a rule serves (one, or a list): the rule applies to a host whose role's
perimeter is one of them. A syntax that serves two perimeters (IOS on switches and routers, and
on an IOS router acting as the firewall) says per rule which of their readings it encodes."""

AppliesTo = Literal["added", "removed", "both"]
# Which state the ancestor matched by ``parent`` must be in: "existing" is an unchanged context
# line (the section was there before), "added"/"removed" a section created/deleted by the diff.
ParentState = Literal["any", "existing", "added", "removed"]

_RULE_ID = r"^[a-z0-9_]+\.[a-z0-9_]+$"
# What a rule may ask of the device's context that a regex cannot say (classifiers/context.py).
ContextCheck = Literal["subnet_moved", "next_hop_path"]
# What a context condition does when the context it needs is absent (a diff classified alone,
# without the running configuration): "apply" errs on the rule's (higher) category.
IfUnknown = Literal["apply", "skip"]


def _valid_regex(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regex {value!r}: {exc}") from exc
    return value


class Judgment(FrozenModel):
    """A judgment call: the quality plan (or the issue that asked for the rule) reads the rule's
    lines as more than one category, and someone chose.

    A judgment call rounds up, never down (issue 22 item 11): the rule's category must be the most
    demanding of its ``readings``. A rule that rounds down is refused when the rule set loads, so a
    judgment can be recorded only together with the category it demands. Unknown impact is major
    (the general definition); a doubt between two readings is the same kind of doubt, smaller.
    """

    readings: tuple[Category, ...] = Field(min_length=2, description="The categories the lines can be read as")
    why: str = Field(min_length=1, description="Each reading, and what in the lines supports it")

    @property
    def rounded_up(self) -> Category:
        return Category.highest(self.readings)


class Rule(FrozenModel):
    """One line of the quality plan, as a regex on a changed diff line and its parents."""

    id: str = Field(pattern=_RULE_ID)
    category: Category
    perimeter: Perimeters
    platforms: tuple[str, ...] = Field(min_length=1)
    match: str
    parent: str | None = None
    parent_is: ParentState = "any"
    top_level: bool = Field(default=False, description="Only lines without a parent (global commands).")
    unless: str | None = Field(
        default=None, description="The rule does not apply to a line this regex also matches."
    )
    applies_to: AppliesTo = "both"
    counts: Literal["addressing"] | None = Field(
        default=None, description="Each line also counts as a resource for this change-wide escalation."
    )
    change_types: tuple[str, ...] = Field(
        default=(), description="Only for these change types (empty: any change type)."
    )
    section_has: str | None = Field(
        default=None,
        description=(
            "Context: the rule applies only when a line of the section the changed line sits in "
            "(its top-level block, in the running configuration and in the diff) matches."
        ),
    )
    section_lacks: str | None = Field(
        default=None, description="Context: the rule applies only when no line of the section matches."
    )
    running_has: str | None = Field(
        default=None,
        description=(
            "Context: a regex template ({name} is replaced by the named group 'name' of match or "
            "parent, escaped); the rule applies only when a line of the running configuration, or "
            "an added or unchanged line of the diff, matches it."
        ),
    )
    check: ContextCheck | None = Field(
        default=None, description="Context: a named check written in code (classifiers/context.py)."
    )
    if_unknown: IfUnknown = Field(
        default="apply",
        description="When running_has/check lack the running configuration: apply (err high) or skip.",
    )
    description: str = Field(min_length=1)
    paq_item: str = Field(min_length=1)
    judgment: Judgment | None = Field(
        default=None, description="A judgment call behind the category: its readings and why (rounds up)."
    )

    _check_match = field_validator("match", "parent", "unless", "section_has", "section_lacks")(_valid_regex)

    @model_validator(mode="after")
    def _judgment_rounds_up(self) -> Rule:
        if self.judgment is not None and self.category is not self.judgment.rounded_up:
            readings = " or ".join(c.value for c in self.judgment.readings)
            raise ValueError(f"a judgment call rounds up: read as {readings}, its category is "
                             f"{self.judgment.rounded_up.value}, not {self.category.value}")
        return self

    @property
    def needs_context(self) -> bool:
        return any(x is not None for x in (self.section_has, self.section_lacks, self.running_has, self.check))


_PARENT_SIGN = {"any": None, "existing": " ", "added": "+", "removed": "-"}


class Matcher:
    """A rule compiled for speed: its regexes compiled once, plain attributes, cheap tests first.

    Kept apart from the pydantic model because attribute access on a model is slow, and the
    classifier tests every changed line against every rule of its platform.
    """

    __slots__ = (
        "check", "contextual", "first", "match", "parent", "parent_first", "parent_sign", "rule", "running_has",
        "section_has", "section_lacks", "sign", "top_level", "unless",
    )

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.sign = {"added": "+", "removed": "-", "both": None}[rule.applies_to]
        self.top_level = rule.top_level
        self.match = re.compile(rule.match)
        # The characters a matching line can start with (None: any). The engine skips the rule for
        # lines starting otherwise without running its regex.
        self.first = first_chars(rule.match)
        self.parent = re.compile(rule.parent) if rule.parent is not None else None
        self.parent_first = first_chars(rule.parent) if rule.parent is not None else None
        self.parent_sign = _PARENT_SIGN[rule.parent_is]
        self.unless = re.compile(rule.unless) if rule.unless is not None else None
        self.section_has = re.compile(rule.section_has, re.M) if rule.section_has is not None else None
        self.section_lacks = re.compile(rule.section_lacks, re.M) if rule.section_lacks is not None else None
        self.running_has = rule.running_has
        self.check = rule.check
        self.contextual = rule.needs_context

    def captures(self, body: str, ancestors: tuple[tuple[str, str], ...]) -> dict[str, str]:
        """Named groups of ``match`` on the line and of ``parent`` on the nearest matching ancestor."""
        found: dict[str, str] = {}
        if self.parent is not None:
            for _sign, text in ancestors:
                m = self.parent.search(text)
                if m is not None:
                    found.update({k: v for k, v in m.groupdict().items() if v is not None})
                    break
        m = self.match.search(body)
        if m is not None:
            found.update({k: v for k, v in m.groupdict().items() if v is not None})
        return found

    def matches(self, sign: str, body: str, ancestors: tuple[tuple[str, str], ...]) -> bool:
        """Whether the rule applies to a changed line.

        ``sign`` is ``+`` or ``-`` (after negation was folded), ``body`` the stripped line,
        ``ancestors`` the (sign, stripped text) of its parents, nearest first.
        """
        return self.fits_ancestors(ancestors) and self.matches_line(sign, body)

    def fits_ancestors(self, ancestors: tuple[tuple[str, str], ...]) -> bool:
        """The part of ``matches`` that depends only on the parents (cached per section by the engine)."""
        if self.top_level and ancestors:
            return False
        if self.parent is None:
            return True
        first = self.parent_first
        return any(
            (first is None or text[:1] in first)
            and self.parent.search(text) is not None
            and (self.parent_sign is None or anc_sign == self.parent_sign)
            for anc_sign, text in ancestors
        )

    def matches_line(self, sign: str, body: str) -> bool:
        """The part of ``matches`` that depends only on the line itself."""
        if self.sign is not None and sign != self.sign:
            return False
        if self.match.search(body) is None:
            return False
        return self.unless is None or self.unless.search(body) is None


def first_chars(pattern: str) -> frozenset[str] | None:
    """The first characters a line matching an anchored regex can start with; None when unsure.

    Read from the regex's parse tree: a leading "^" then literals, character sets of literals or
    small ranges, groups and alternations of those. Anything else (lookarounds, optional or empty
    branches, categories such as \\S) gives None, and the rule is always tried: a prefilter, never a
    change of what matches.
    """
    try:
        parsed = re._parser.parse(pattern)  # type: ignore[attr-defined]
    except re.error:
        return None
    items = list(parsed)
    if not items or items[0] != (_AT, _AT_BEGINNING):
        return None
    chars = _first_of(items[1:])
    if chars is None:
        return None
    if parsed.state.flags & re.IGNORECASE or "(?i" in pattern:
        chars = {x for c in chars for x in (c.lower(), c.upper())}
    return frozenset(chars)


_const = re._constants  # type: ignore[attr-defined]
_AT, _AT_BEGINNING = _const.AT, _const.AT_BEGINNING


def _first_of_class(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The characters of a class (``[...]``) made of literals and small ranges; ``None`` otherwise."""
    out: set[str] = set()
    for kind, value in items:
        if kind is _const.LITERAL:
            out.add(chr(value))
        elif kind is _const.RANGE and value[1] - value[0] < 64:
            out.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    return out


def _first_of(seq: list[Any]) -> set[str] | None:
    if not seq:
        return None
    op, arg = seq[0]
    if op is _const.LITERAL:
        return {chr(arg)}
    if op is _const.IN:
        return _first_of_class(arg)
    if op is _const.SUBPATTERN:
        return _first_of(list(arg[-1]))
    if op is _const.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            part = _first_of(list(branch))
            if part is None:
                return None
            union |= part
        return union
    if op in (_const.MAX_REPEAT, _const.MIN_REPEAT) and arg[0] >= 1:
        return _first_of(list(arg[2]))
    return None


class SectionCheck(FrozenModel):
    """A whole-diff check: a section whose members are all removed (HAProxy backends).

    A line-by-line rule cannot see that the last ``server`` of a backend was removed; this check
    looks at every member line the diff shows under an unchanged section header. A member whose
    line is replaced (weight, drain, maint) is kept: the issue makes such state changes minor.
    """

    id: str = Field(pattern=_RULE_ID)
    category: Category
    perimeter: Perimeters
    platforms: tuple[str, ...] = Field(min_length=1)
    section: str
    member: str
    description: str = Field(min_length=1)
    paq_item: str = Field(min_length=1)

    _section: re.Pattern[str] = PrivateAttr()
    _member: re.Pattern[str] = PrivateAttr()

    _check_regex = field_validator("section", "member")(_valid_regex)

    def model_post_init(self, context: Any, /) -> None:
        self._section = re.compile(self.section)
        self._member = re.compile(self.member)

    def is_section(self, text: str) -> bool:
        return self._section.search(text) is not None

    def is_member(self, text: str) -> bool:
        return self._member.search(text) is not None


class Escalation(FrozenModel):
    """A change-wide count: how many resources the change touches decides its category."""

    id: str = Field(pattern=_RULE_ID)
    counts: Literal["addressing"]
    medium_from: int = Field(ge=1)
    major_above: int = Field(ge=1)
    description: str = Field(min_length=1)
    paq_medium: str = Field(min_length=1)
    paq_major: str = Field(min_length=1)


class HardwareRule(FrozenModel):
    """Declared hardware work, which no diff shows: its category follows the declared outage."""

    id: str = Field(pattern=_RULE_ID)
    major_outage_over_minutes: int = Field(ge=0)
    paq_medium: str = Field(min_length=1)
    paq_major: str = Field(min_length=1)


class RuleFile(FrozenModel):
    """One platform family's rules (one YAML file)."""

    family: str
    description: str = ""
    platforms: tuple[str, ...] = Field(min_length=1)
    default_role: Role
    negation: str | None = Field(
        default=None,
        description="Prefix of a negated command ('no '): '+ no X' is read as '- X' and '- no X' as '+ X'.",
    )
    rules: tuple[Rule, ...] = ()
    checks: tuple[SectionCheck, ...] = ()


class RuleSet(FrozenModel):
    """Every rule file of a directory, with the version every verdict is recorded under."""

    version: str = Field(min_length=1)
    digest: str
    directory: str
    paq_items: tuple[str, ...]
    families: tuple[RuleFile, ...]
    escalations: tuple[Escalation, ...] = ()
    hardware: HardwareRule

    _by_platform: dict[str, RuleFile] = PrivateAttr(default_factory=dict)
    _matchers: dict[str, Matcher] = PrivateAttr(default_factory=dict)
    _selected: dict[tuple[str, Perimeter, str | None], tuple[Matcher, ...]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        for fam in self.families:
            for platform in fam.platforms:
                self._by_platform[platform] = fam

    def matcher(self, rule: Rule) -> Matcher:
        """``rule`` compiled, the first time a host's selection includes it: classifying one
        platform's diff compiles the rules of that platform and role, not the whole set's (``re``
        compiles in pure Python: ~0.02 s of ``netchange classify --platform ios_cli``, issue 20
        item 5). The set's regexes were checked when it loaded; two threads may build the same
        matcher, one is kept."""
        found = self._matchers.get(rule.id)
        return found if found is not None else self._matchers.setdefault(rule.id, Matcher(rule))

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for fam in self.families for rule in fam.rules)

    @property
    def checks(self) -> tuple[SectionCheck, ...]:
        return tuple(check for fam in self.families for check in fam.checks)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_platform))

    def family(self, platform: str) -> RuleFile:
        """The rule file that knows ``platform``; an unknown platform is bad input."""
        try:
            return self._by_platform[platform]
        except KeyError:
            raise BadRequest(
                f"unknown platform {platform!r} for the classifier (known: {', '.join(self.platforms)})"
            ) from None

    def matchers_for(self, platform: str, perimeter: Perimeter, change_type: str | None) -> tuple[Matcher, ...]:
        """The matchers of the rules that may apply to one host (its platform, its role's perimeter, the
        change type), compiled; computed once per key (every host of every plan asks)."""
        key = (platform, perimeter, change_type)
        cached = self._selected.get(key)
        if cached is None:
            cached = tuple(
                self.matcher(rule)
                for fam in self.families
                for rule in fam.rules
                if platform in rule.platforms
                and perimeter in rule.perimeter
                and (not rule.change_types or change_type in rule.change_types)
            )
            self._selected[key] = cached
        return cached

    def checks_for(self, platform: str, perimeter: Perimeter) -> tuple[SectionCheck, ...]:
        return tuple(c for c in self.checks if platform in c.platforms and perimeter in c.perimeter)
