"""Diff → category, with reasons: per host (``classify_diff``) and per change (``classify_change``).

The category of a change is the highest of:
- every changed line's rules (a line takes the highest category of all rules that match it);
- lines no rule matches: **major**, reported as ``unclassified`` (unknown impact is major);
- whole-diff checks (a load-balancer backend left without a serving server);
- change-wide escalations (addressing changes counted across all hosts);
- what a diff cannot show: declared hardware work, and the request's own category, which may
  raise the result and never lower it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netchange.classifiers.context import DeviceContext, fill
from netchange.classifiers.loader import load_ruleset
from netchange.classifiers.model import Escalation, Matcher, Rule, RuleSet, SectionCheck
from netchange.classifiers.verdict import Classification, Reason
from netchange.drivers.diffformat import DiffLine, parse_diff
from netchange.vocabulary import Category, Role

if TYPE_CHECKING:  # the request models (pydantic, ~35 ms) are the caller's: 'classify' never builds one
    from netchange.models import ChangeRequest

UNCLASSIFIED = "unclassified"
UNCLASSIFIED_ITEM = "general definition: unknown impact is treated as major"
REQUEST_RULE = "request.category"


@dataclass
class _Scan:
    """What one host's diff contains, before it becomes a ``Classification``."""

    hits: dict[str, list[str]] = field(default_factory=dict)
    rules: dict[str, Rule | SectionCheck] = field(default_factory=dict)
    unclassified: list[str] = field(default_factory=list)
    # Resource keys per escalation kind ("addressing" → {interface or address}).
    resources: dict[str, set[str]] = field(default_factory=dict)
    resource_lines: dict[str, list[str]] = field(default_factory=dict)

    def hit(self, rule: Rule | SectionCheck, line: str) -> None:
        self.rules[rule.id] = rule
        self.hits.setdefault(rule.id, []).append(line)


def _fold_negation(line: DiffLine, negation: str | None) -> tuple[str, str]:
    """Read '+ no X' as '- X' (and '- no X' as '+ X'): the rules speak of the command itself."""
    if negation and line.body.startswith(negation):
        return ("-" if line.sign == "+" else "+"), line.body[len(negation) :].lstrip()
    return line.sign, line.body


def _in_context(
    matcher: Matcher, ctx: DeviceContext, sign: str, body: str, ancestors: tuple[tuple[str, str], ...]
) -> bool:
    """Whether a rule's context conditions hold (classifiers/context.py); all must hold."""
    if matcher.section_has is not None or matcher.section_lacks is not None:
        text = ctx.section_text(ancestors[-1][1]) if ancestors else ""
        if matcher.section_has is not None and matcher.section_has.search(text) is None:
            return False
        if matcher.section_lacks is not None and matcher.section_lacks.search(text) is not None:
            return False
    apply_unknown = matcher.rule.if_unknown == "apply"
    if matcher.running_has is not None:
        pattern = fill(matcher.running_has, matcher.captures(body, ancestors))
        if pattern is None:
            return apply_unknown
        if pattern.search(ctx.known_text()) is None and (ctx.has_running or not apply_unknown):
            return False
    if matcher.check is not None:
        verdict = getattr(ctx, matcher.check)(sign, body, ancestors)
        if verdict is None:
            return apply_unknown
        return bool(verdict)
    return True


@dataclass(frozen=True)
class _Groups:
    """One rule selection split for speed: rules for top-level lines, rules without a parent
    condition for nested lines, and the rest keyed by their parent regex and state."""

    source: tuple[Matcher, ...]
    top: tuple[Matcher, ...]
    nested: tuple[Matcher, ...]
    by_parent: tuple[tuple[Matcher, ...], ...]
    # Parent groups whose regex can match a line starting with a given character; "" holds the
    # groups whose regex may start with anything (always tried).
    by_parent_first: dict[str, tuple[tuple[Matcher, ...], ...]]

    def parent_groups(self, ancestors: tuple[tuple[str, str], ...]) -> list[tuple[Matcher, ...]]:
        """The parent groups worth trying for these ancestors, each once."""
        chars = {text[:1] for _sign, text in ancestors}
        seen: dict[int, tuple[Matcher, ...]] = {id(g): g for g in self.by_parent_first.get("", ())}
        for c in sorted(chars):
            for group in self.by_parent_first.get(c, ()):
                seen.setdefault(id(group), group)
        return list(seen.values())


_GROUPS: dict[int, _Groups] = {}


def _grouped(matchers: tuple[Matcher, ...]) -> _Groups:
    """Cached per rule selection (the rule set caches its selections, so the tuple lives as long)."""
    cached = _GROUPS.get(id(matchers))
    if cached is not None and cached.source is matchers:
        return cached
    by_parent: dict[tuple[str, str | None], list[Matcher]] = {}
    for m in matchers:
        if m.parent is not None and not m.top_level:
            by_parent.setdefault((m.parent.pattern, m.parent_sign), []).append(m)
    parent_groups = tuple(tuple(group) for group in by_parent.values())
    by_first: dict[str, list[tuple[Matcher, ...]]] = {}
    for group in parent_groups:
        for c in sorted(group[0].parent_first) if group[0].parent_first is not None else [""]:
            by_first.setdefault(c, []).append(group)
    groups = _Groups(
        source=matchers,
        top=tuple(m for m in matchers if m.parent is None),
        nested=tuple(m for m in matchers if m.parent is None and not m.top_level),
        by_parent=parent_groups,
        by_parent_first={c: tuple(g) for c, g in by_first.items()},
    )
    _GROUPS[id(matchers)] = groups
    return groups


def _scan(  # noqa: C901 - the classifier's inner loop, its rule lookup cache inline for speed (bench B3)
    diff: str,
    platform: str,
    role: Role,
    change_type: str | None,
    ruleset: RuleSet,
    *,
    counting_only: bool = False,
    running: str | None = None,
) -> _Scan:
    """Match every changed line against the host's rules.

    ``counting_only`` keeps only the rules that count resources for an escalation: what
    ``classify_change`` needs to recount across hosts, without classifying every line again.
    ``running`` is the host's running configuration, for the rules that read the context.
    """
    family = ruleset.family(platform)
    matchers = ruleset.matchers_for(platform, role.perimeter, change_type)
    if counting_only:
        matchers = tuple(m for m in matchers if m.rule.counts is not None)
    parsed = parse_diff(diff)
    ctx = DeviceContext(parsed=parsed, running=running)
    scan = _Scan()
    scan.unclassified.extend(parsed.malformed)
    # Lines of one section share their parents: which rules their parents allow is computed once
    # per section, and each distinct parent regex is tried once (many rules share "^interface\s").
    # Then only the rules whose regex can match the line's first character are tried.
    groups = _grouped(matchers)
    by_section: dict[tuple[tuple[str, str], ...], tuple[Matcher, ...]] = {(): groups.top}
    by_first: dict[tuple[tuple[tuple[str, str], ...], str], tuple[Matcher, ...]] = {}
    for line in parsed.changed:
        sign, body = _fold_negation(line, family.negation)
        ancestors = line.ancestors
        slot = (ancestors, body[:1])
        candidates = by_first.get(slot)
        if candidates is None:
            section = by_section.get(ancestors)
            if section is None:
                fitting = [group for group in groups.parent_groups(ancestors) if group[0].fits_ancestors(ancestors)]
                section = by_section[ancestors] = groups.nested + tuple(m for group in fitting for m in group)
            candidates = by_first[slot] = tuple(m for m in section if m.first is None or body[:1] in m.first)
        matched = False
        for matcher in candidates:
            if matcher.matches_line(sign, body):
                rule = matcher.rule
                if matcher.contextual and not _in_context(matcher, ctx, sign, body, ancestors):
                    # Its context does not hold: the rule does not apply. A line only contextual
                    # rules know, none of which applies, stays unclassified (never dropped).
                    continue
                matched = True
                scan.hit(rule, line.raw)
                if rule.counts is not None:
                    # A resource is the section the address lives in (an interface), or the
                    # address line itself when it has no parent.
                    key = ancestors[0][1] if ancestors else body
                    scan.resources.setdefault(rule.counts, set()).add(key)
                    scan.resource_lines.setdefault(rule.counts, []).append(line.raw)
        if not matched and not counting_only:
            scan.unclassified.append(line.raw)
    if counting_only:
        return scan
    for check in ruleset.checks_for(platform, role.perimeter):
        for raw in _emptied_sections(parsed.lines, check):
            scan.hit(check, raw)
    return scan


def _emptied_sections(lines: Sequence[DiffLine], check: SectionCheck) -> list[str]:
    """Lines of every unchanged section whose members the diff removes, keeping none.

    Only members the diff shows can be counted: a driver that wants a single removal judged minor
    must show the section's remaining members as context (the haproxy driver does, from
    ``show servers state``). Without them the removal looks like the last one: the safe side.
    """
    out: list[str] = []
    sections: dict[int, tuple[DiffLine, list[DiffLine]]] = {}
    for line in lines:
        parent = line.parent
        if (
            parent is not None
            and parent.sign == " "
            and check.is_section(parent.body)
            and check.is_member(line.body)
        ):
            sections.setdefault(id(parent), (parent, []))[1].append(line)
    for header, members in sections.values():
        removed = [m for m in members if m.sign == "-"]
        kept = [m for m in members if m.sign != "-"]
        if removed and not kept:
            out.append(header.raw)
            out.extend(m.raw for m in members)
    return out


def _reasons(scan: _Scan, prefix: str = "") -> list[Reason]:
    reasons = [
        Reason(
            rule=rule_id,
            category=scan.rules[rule_id].category,
            paq_item=scan.rules[rule_id].paq_item,
            description=scan.rules[rule_id].description,
            lines=tuple(prefix + line for line in lines),
        )
        for rule_id, lines in scan.hits.items()
    ]
    if scan.unclassified:
        reasons.append(_unclassified_reason(tuple(prefix + line for line in scan.unclassified)))
    return reasons


def _unclassified_reason(lines: tuple[str, ...]) -> Reason:
    return Reason(
        rule=UNCLASSIFIED,
        category=Category.MAJOR,
        paq_item=UNCLASSIFIED_ITEM,
        description="No rule knows these lines; until the rule set learns them the change is major.",
        lines=lines,
    )


def _escalation_reason(esc: Escalation, keys: set[str], lines: Iterable[str]) -> Reason | None:
    count = len(keys)
    if count < esc.medium_from:
        return None
    major = count > esc.major_above
    return Reason(
        rule=esc.id,
        category=Category.MAJOR if major else Category.MEDIUM,
        paq_item=esc.paq_major if major else esc.paq_medium,
        description=(
            f"{esc.description} This change touches {count} resource(s): "
            f"{'more than' if major else 'at most'} {esc.major_above}."
        ),
        lines=tuple(lines),
    )


def _sorted(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """Most demanding first, then by rule id: the same diff always gives the same verdict."""
    return tuple(sorted(reasons, key=lambda r: (-r.category.rank, r.rule)))


def classify_diff(
    diff: str,
    *,
    platform: str,
    role: Role,
    change_type: str | None = None,
    ruleset: RuleSet | None = None,
    running: str | None = None,
) -> Classification:
    """Classify one host's diff. An unknown platform is ``BadRequest``; an empty diff is minor.

    ``running`` is the host's running configuration (the plan passes it): rules that read the
    context (an uplink's description, the interface an ACL is bound to, a routing network
    statement) use it; without it they judge on what the diff shows and err on the higher category.
    """
    rs = ruleset or load_ruleset()
    scan = _scan(diff, platform, role, change_type, rs, running=running)
    reasons = _reasons(scan)
    for esc in rs.escalations:
        reason = _escalation_reason(
            esc, scan.resources.get(esc.counts, set()), scan.resource_lines.get(esc.counts, [])
        )
        if reason is not None:
            reasons.append(reason)
    return Classification(
        category=Category.highest(r.category for r in reasons),
        reasons=_sorted(reasons),
        unclassified=tuple(scan.unclassified),
    )


def classify_change(
    per_host: Sequence[tuple[str, str, Role, str, Classification]],
    *,
    request: ChangeRequest | None = None,
    ruleset: RuleSet | None = None,
) -> Classification:
    """Classify a whole change from its hosts' verdicts, plus what only the change as a whole shows.

    - Every host's reasons are kept, their lines prefixed with ``host: ``; one reason per rule.
    - Escalations are recounted across all hosts: a resource is (host, interface), so the same
      interface name on two switches counts twice and an interface whose old and new address both
      show in the diff counts once. Per-host escalation reasons are replaced by this count.
    - ``request.hardware``: hardware work is never in a diff; the declared ``expected_outage``
      decides (more than the rule set's threshold → major, otherwise medium).
    - ``request.category`` raises the result; a lower one is recorded and ignored.
    """
    rs = ruleset or load_ruleset()
    escalation_ids = {esc.id for esc in rs.escalations}
    merged: dict[str, Reason] = {}
    unclassified: list[str] = []
    host_categories: list[Category] = []
    resources: dict[str, set[str]] = {}
    resource_lines: dict[str, list[str]] = {}
    for host, platform, role, diff, verdict in per_host:
        host_categories.append(verdict.category)
        unclassified.extend(f"{host}: {line}" for line in verdict.unclassified)
        for reason in verdict.reasons:
            if reason.rule in escalation_ids:
                continue
            lines = tuple(f"{host}: {line}" for line in reason.lines)
            known = merged.get(reason.rule)
            merged[reason.rule] = reason.model_copy(update={"lines": (known.lines if known else ()) + lines})
        if rs.escalations:
            scan = _scan(diff, platform, role, None, rs, counting_only=True)
            for kind, keys in scan.resources.items():
                resources.setdefault(kind, set()).update(f"{host}: {key}" for key in keys)
                resource_lines.setdefault(kind, []).extend(
                    f"{host}: {line}" for line in scan.resource_lines[kind]
                )
    reasons = list(merged.values())
    for esc in rs.escalations:
        escalated = _escalation_reason(
            esc, resources.get(esc.counts, set()), resource_lines.get(esc.counts, [])
        )
        if escalated is not None:
            reasons.append(escalated)
    if request is not None and request.hardware:
        reasons.append(_hardware_reason(rs, request.expected_outage))
    found = Category.highest([*host_categories, *(r.category for r in reasons)])
    if request is not None and request.category is not None:
        reasons.append(_request_reason(request.category, found))
    return Classification(
        category=Category.highest([found, *(r.category for r in reasons)]),
        reasons=_sorted(reasons),
        unclassified=tuple(unclassified),
    )


def _hardware_reason(rs: RuleSet, outage: dt.timedelta) -> Reason:
    limit = dt.timedelta(minutes=rs.hardware.major_outage_over_minutes)
    major = outage > limit
    minutes = int(outage.total_seconds() // 60)
    return Reason(
        rule=rs.hardware.id,
        category=Category.MAJOR if major else Category.MEDIUM,
        paq_item=rs.hardware.paq_major if major else rs.hardware.paq_medium,
        description=(
            "Hardware work cannot show in a diff: classified from the request's declared attributes "
            f"(hardware: true, expected_outage: {minutes} min, "
            f"{'over' if major else 'at most'} {rs.hardware.major_outage_over_minutes} min)."
        ),
        lines=(),
    )


def _request_reason(asked: Category, found: Category) -> Reason:
    if asked.rank > found.rank:
        text = f"Raised by the request: it asks for {asked}, the rules found {found}."
    else:
        text = (
            f"The request asks for {asked}; the rules found {found}. A category is never lowered, "
            "so the request does not change it."
        )
    return Reason(
        rule=REQUEST_RULE,
        category=asked,
        paq_item="a category may be raised, never lowered",
        description=text,
        lines=(),
    )
