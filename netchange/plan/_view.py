"""The plan for people: a Rich terminal view, and a self-contained Markdown or HTML document.

The documents carry what the quality plan demands of every document: project name, client,
document version, issue date and numbered sections/pages, so a manager can approve from them.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from netchange import redact
from netchange.plan._document import HostPlan, Plan
from netchange.plan._notapplicable import not_applicable_lines
from netchange.report.render import render
from netchange.vocabulary import Category

PROJECT = "netchange — perimeter operations"
_STYLE = {Category.MINOR: "green", Category.MEDIUM: "yellow", Category.MAJOR: "bold red"}


def diff_text(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        text.append(line + "\n", style=style)
    return text


def _host_panel(h: HostPlan) -> Panel:
    parts: list[Text | Table] = []
    if h.pre_checks:
        checks = Table(show_header=False, box=None, padding=(0, 1))
        for c in h.pre_checks:
            mark = "[green]✓[/]" if c.passed else "[yellow]–[/]" if c.not_run else "[red]✗[/]"
            checks.add_row(mark, escape(c.name), f"[dim]{escape(c.not_run or c.detail)}[/]")
        parts.append(checks)
    if h.error:
        parts.append(Text(f"ERROR: {h.error}", style="bold red"))
    elif h.changes:
        parts.append(diff_text(h.diff))
        if h.rollback:
            parts.append(Text(f"rollback: {h.rollback.strategy}", style="dim"))
    else:
        parts.append(Text("no change: the device already matches", style="dim"))
    for r in h.reasons:
        parts.append(Text(f"• {r.category.value:<6} {r.rule}: {r.paq_item}", style=_STYLE[r.category]))
    for line in h.unclassified:
        parts.append(Text(f"• major  unclassified: {line}", style="bold red"))
    # A host that could not be planned has no category: "—", never a made-up "minor"; nor has a
    # host with nothing to change: "no change".
    category = h.category.value if h.category else "no change" if h.no_change else "—"
    title = escape(f"{h.host} [{h.platform}, {h.role.value}, {h.site}] — {category}")
    border = _STYLE[h.category] if h.category else "dim" if h.no_change else "red"
    return Panel(Group(*parts), title=title, title_align="left", border_style=border)


def print_plan(plan: Plan, console: Console) -> None:
    c = plan.change
    title = escape(redact.scrub(c.title))
    console.print(f"[bold]{c.id}[/] {title}  [dim]ticket {c.ticket}, requested by {c.requester}[/]")
    for h in plan.hosts:
        console.print(_host_panel(h))
    summary = Table(show_header=False, box=None)
    if plan.no_change:
        summary.add_row("category", Text("none: no change (every host already matches; nothing to approve, "
                                         "'netchange apply' closes the change)", style="green"))
    elif plan.category is None:
        summary.add_row("category", Text("none (no host could be planned)", style="bold red"))
    else:
        summary.add_row("category", Text(plan.category.value.upper(), style=_STYLE[plan.category]))
    for r in plan.reasons:
        summary.add_row("", Text(f"{r.category.value}: {r.rule} — {r.paq_item}", style=_STYLE[r.category]))
    for req in plan.requirements:
        summary.add_row("requires", req)
    summary.add_row("plan hash", plan.plan_hash)
    summary.add_row("versions", f"policy {plan.policy_version}, rules {plan.rules_version}")
    if plan.unchanged and not plan.no_change:
        summary.add_row("no change", escape(", ".join(plan.unchanged)))
    for line in not_applicable_lines(plan.not_applicable):  # once per step and reason
        summary.add_row("[yellow]not applicable[/]", escape(line))
    failed = [h.host for h in plan.hosts if not h.ok]
    if failed:
        summary.add_row("[red]blocked[/]", f"[red]{len(failed)} host(s) cannot be changed: {', '.join(failed)}[/]")
    console.print(Panel(summary, title="plan", title_align="left"))


def render_document(plan: Plan, fmt: str, *, client: str, version: str = "1.0") -> str:
    """The plan as a Markdown (``md``) or HTML (``html``) document, every value escaped for its format.

    Rendered by the package's one document environment (:mod:`netchange.report.render`): diff lines,
    titles and reasons come from devices and requesters, so they are data, never markup.
    """
    return render(
        "plan",
        fmt,
        {
            "plan": plan,
            "not_applicable": not_applicable_lines(plan.not_applicable),
            "project": PROJECT,
            "client": client,
            "version": version,
            "issued": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
