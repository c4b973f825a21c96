"""Assertions on a plan, with failure messages that show what the plan holds.

Each takes the plan (and a host name when the plan has several hosts) and raises
:class:`AssertionError` naming the host and showing the actual diff, category, reasons or checks,
so a failing test says what the change type produced, not only that it differs.
"""

from __future__ import annotations

from collections.abc import Iterable

from netchange.plan import HostPlan, Plan
from netchange.vocabulary import Category

__all__ = [
    "assert_category",
    "assert_diff",
    "assert_no_change",
    "assert_planned",
    "assert_pre_checks",
    "assert_reasons",
    "assert_unclassified",
    "host_plan",
]


def host_plan(plan: Plan, host: str | None = None) -> HostPlan:
    """The plan of ``host`` (may be omitted when the plan has one host)."""
    if host is None:
        if len(plan.hosts) != 1:
            raise AssertionError(f"the plan has {len(plan.hosts)} hosts ({', '.join(h.host for h in plan.hosts)}): "
                                 "name the host")
        return plan.hosts[0]
    for candidate in plan.hosts:
        if candidate.host == host:
            return candidate
    raise AssertionError(f"host {host!r} is not in the plan (hosts: {', '.join(h.host for h in plan.hosts)})")


def _describe(h: HostPlan) -> str:
    parts = [f"host {h.host} ({h.platform}, syntax {h.syntax})"]
    if h.error:
        parts.append(f"error: {h.error}")
    for check in h.pre_checks:
        status = {"passed": "passed", "failed": "FAILED", "not_run": "not run"}[check.status]
        parts.append(f"pre-check {status}: {check.name}" + (f" ({check.detail or check.not_run})"
                                                           if check.detail or check.not_run else ""))
    if h.diff:
        parts.append("diff:\n" + _indent(h.diff))
    if h.category is not None:
        parts.append(f"category: {h.category.value}")
    elif h.no_change:
        parts.append("no change: the device already matches")
    parts += [f"reason: {r.rule} ({r.category.value})" for r in h.reasons]
    parts += [f"unclassified: {line}" for line in h.unclassified]
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())


def _lines(text: str | Iterable[str]) -> list[str]:
    items = text.splitlines() if isinstance(text, str) else list(text)
    return [line.rstrip() for line in items if line.strip()]


def assert_planned(plan: Plan, host: str | None = None) -> HostPlan:
    """``host`` was planned (no error, every pre-check passed); returns its plan."""
    h = host_plan(plan, host)
    if not h.ok:
        raise AssertionError(f"host {h.host} was not planned: {h.error}\n{_describe(h)}")
    return h


def assert_diff(plan: Plan, expected: str | Iterable[str], host: str | None = None) -> None:
    """The host's diff is ``expected`` line for line (blank lines and trailing blanks ignored;
    ``+``/``-`` marks and indentation count)."""
    h = assert_planned(plan, host)
    want, got = _lines(expected), _lines(h.diff)
    if want != got:
        import difflib

        delta = "\n".join(difflib.unified_diff(want, got, "expected diff", "planned diff", lineterm=""))
        raise AssertionError(f"host {h.host}: the planned diff differs from the expected one\n{delta}\n"
                             f"{_describe(h)}")


def assert_category(plan: Plan, expected: Category | str, host: str | None = None) -> None:
    """The category of ``host`` (or, with no host and several hosts, of the whole change)."""
    want = Category(expected)
    if host is None and len(plan.hosts) != 1:
        if plan.category is not want:
            got = (plan.category.value if plan.category is not None else
                   "none (no change: every host already matches)" if plan.no_change else "none (no host was planned)")
            detail = "\n".join(_describe(h) for h in plan.hosts)
            raise AssertionError(f"the change's category is {got}, expected {want.value}\n"
                                 + "".join(f"reason: {r.rule} ({r.category.value})\n" for r in plan.reasons) + detail)
        return
    h = assert_planned(plan, host)
    if h.category is not want:
        got = h.category.value if h.category is not None else "none (no change)" if h.no_change else "none"
        raise AssertionError(f"host {h.host}: category {got}, expected {want.value}\n{_describe(h)}")


def assert_no_change(plan: Plan, host: str | None = None) -> None:
    """Nothing to change: on ``host`` (planned, empty diff, no category), or, with no host and several
    hosts, on every host of the change (the plan is "no change": no category, nothing to approve)."""
    if host is None and len(plan.hosts) != 1:
        if not plan.no_change:
            changing = [h for h in plan.hosts if not h.no_change]
            raise AssertionError("the change is not \"no change\": " + ", ".join(h.host for h in changing)
                                 + " still change or failed\n" + "\n".join(_describe(h) for h in changing))
        return
    h = assert_planned(plan, host)
    if not h.no_change or h.category is not None:
        raise AssertionError(f"host {h.host}: expected no change\n{_describe(h)}")


def assert_reasons(plan: Plan, *rules: str, host: str | None = None, exactly: bool = False) -> None:
    """The host's classification cites every rule id of ``rules`` (and only those if ``exactly``)."""
    h = assert_planned(plan, host)
    cited = [r.rule for r in h.reasons]
    missing = [r for r in rules if r not in cited]
    extra = [r for r in cited if r not in rules] if exactly else []
    if missing or extra:
        what = (f"missing {', '.join(missing)}" if missing else "") + ("; " if missing and extra else "") + (
            f"unexpected {', '.join(extra)}" if extra else "")
        raise AssertionError(f"host {h.host}: reasons {cited or '(none)'}: {what}\n{_describe(h)}")


def assert_unclassified(plan: Plan, *lines: str, host: str | None = None) -> None:
    """The diff lines no rule knows are exactly ``lines`` (none by default: every line is classified)."""
    h = assert_planned(plan, host)
    if list(h.unclassified) != list(lines):
        raise AssertionError(f"host {h.host}: unclassified lines {list(h.unclassified)}, expected {list(lines)}\n"
                             f"{_describe(h)}")


def assert_pre_checks(plan: Plan, host: str | None = None, *, passed: Iterable[str] = (),
                      failed: Iterable[str] = (), not_run: Iterable[str] = ()) -> None:
    """Each check named in ``passed`` ran and passed, each in ``failed`` ran and failed, each in
    ``not_run`` was reported not run (a check needing the live device, in an offline plan)."""
    h = host_plan(plan, host)
    results = {c.name: c for c in h.pre_checks}
    problems = []
    wanted = [(n, "passed") for n in passed] + [(n, "failed") for n in failed] + [(n, "not_run") for n in not_run]
    for name, want in wanted:
        check = results.get(name)
        if check is None:
            problems.append(f"pre-check {name!r} is not in the plan")
        elif check.status != want:
            problems.append(f"pre-check {name!r} {check.status.replace('_', ' ')}, expected {want.replace('_', ' ')}"
                            + (f" ({check.detail or check.not_run})" if check.detail or check.not_run else ""))
    if problems:
        raise AssertionError(f"host {h.host}: " + "; ".join(problems) + f"\n{_describe(h)}")
