"""My queue as a work list: open changes filtered, sorted and paged, with what a manager chooses on.

Issue 23 item 3. Every row carries its requester, category, sites, host count, since when it waits
(in its current state), the window verdict at its planned start (or now) with the next opening,
and the approvals it still needs. The filters and the sort are the page's query parameters, so a
link is the list. Rows come from the journal by SQL (``Journal.worklist``: filtered, sorted and
counted by SQLite, only the page's rows read); the approvals left are judged for the rows shown
by ``netchange.guard.statuses`` (three queries) and the windows by one ``WindowTable`` per page.
No plan document is loaded or verified here: the change page verifies the plan it shows and
binds the decision to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from pydantic import TypeAdapter, ValidationError

from netchange.errors import BadRequest
from netchange.guard import ApprovalStatus, Pending, refusal_of, statuses
from netchange.journal import Journal, State
from netchange.journal.worklist import SORTS, WorkFilter, WorkRow
from netchange.policy import Opening, Policy, WindowTable

LIMIT = 50
"""Rows per page: a manager's queue is read, not scrolled through."""

OPEN_STATES = (State.REQUESTED, State.PLANNED, State.APPROVED, State.IN_PROGRESS)
STATES = {"open": OPEN_STATES, **{s.value: (s,) for s in OPEN_STATES}}
"""The state filter: every open state, or one."""
CATEGORIES = ("minor", "medium", "major")
COLUMNS = (
    ("change", "Change"), ("requester", "Requester"), ("category", "Category"), ("sites", "Sites"),
    ("hosts", "Hosts"), ("waiting", "Waiting since"), ("start", "Window (planned start or now)"),
)
"""The sortable columns, in the page's order, with their headings."""
_DURATION = TypeAdapter(dt.timedelta)


@dataclass(frozen=True)
class Filters:
    """The query parameters of the page, checked."""

    site: str = ""
    category: str = ""
    state: str = "open"
    requester: str = ""
    sort: str = "waiting"
    order: str = "asc"
    page: int = 1

    def query(self, **changed: str | int) -> str:
        """This page's query string with ``changed`` values (defaults left out: short links)."""
        values = {**self.__dict__, **changed}
        defaults = Filters().__dict__
        return urlencode({k: v for k, v in values.items() if v != defaults[k]})

    def sort_link(self, column: str) -> str:
        """The heading's link: sort on ``column``; on the column already sorted, the other way."""
        order = "desc" if column == self.sort and self.order == "asc" else "asc"
        return "?" + self.query(sort=column, order=order, page=1)

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "ascending" if self.order == "asc" else "descending"

    @property
    def active(self) -> bool:
        return bool(self.site or self.category or self.requester or self.state != "open")


def check_filters(  # noqa: PLR0917 (one parameter per query field)
    policy: Policy, site: str, category: str, state: str, requester: str, sort: str, order: str, page: int
) -> Filters:
    """The filters, or ``BadRequest`` (400) naming the one that is not known."""
    if site and site not in policy.sites:
        raise BadRequest(f"site {site!r} is not a site of the policy ({', '.join(policy.sites)})")
    if category and category not in CATEGORIES:
        raise BadRequest(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    if state not in STATES:
        raise BadRequest(f"state {state!r} is not one of {', '.join(STATES)}")
    if sort not in SORTS:
        raise BadRequest(f"sort {sort!r} is not one of {', '.join(SORTS)}")
    if order not in {"asc", "desc"}:
        raise BadRequest("order is asc or desc")
    if requester and policy.person(requester) is None:
        raise BadRequest(f"requester {requester!r} is not a person of the policy")
    return Filters(site=site, category=category, state=state, requester=requester, sort=sort, order=order,
                   page=page)


@dataclass(frozen=True)
class SiteWindow:
    site: str
    opening: Opening


@dataclass(frozen=True)
class Item:
    """One row of the work list."""

    work: WorkRow
    planned_start: dt.datetime | None
    judged_at: dt.datetime
    waiting_since: dt.datetime
    waiting: str
    windows: tuple[SiteWindow, ...]
    status: ApprovalStatus | None

    @property
    def hosts(self) -> int:
        return len(self.work.row.hosts)

    @property
    def approvals_left(self) -> list[str]:
        """What the approvals still need ([] when complete; the rejection when one stands)."""
        if self.status is None:
            return []
        if self.status.rejections:
            return ["rejected by " + ", ".join(a.approver for a in self.status.rejections)]
        return self.status.needs()


@dataclass(frozen=True)
class Section:
    items: tuple[Item, ...]
    total: int


@dataclass(frozen=True)
class WorkList:
    filters: Filters
    awaiting: Section
    """Planned changes I may decide on and have not (the first page, in the list's order)."""
    changes: Section
    """Every open change matching the filters: one page."""
    pages: int
    requesters: tuple[str, ...]


def _when(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _duration(text: str | None) -> dt.timedelta:
    try:
        return _DURATION.validate_python(text) if text else dt.timedelta(hours=1)
    except ValidationError:
        return dt.timedelta(hours=1)


def waited(since: dt.datetime, now: dt.datetime) -> str:
    """How long, in the largest two units: "3 d 4 h", "5 h 10 min", "12 min"."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _awaiting_filter(policy: Policy, login: str, base: WorkFilter) -> WorkFilter | None:
    """The SQL side of ``refusal_of`` for ``login``: planned, a category whose rules they satisfy, a
    site they answer for, not their own request or plan, not yet decided by them."""
    person = policy.person(login)
    if person is None or State.PLANNED not in base.states:
        return None
    mine = tuple(
        c.value for c, rules in policy.categories.items()
        if rules.approvals and any(r.satisfied_by(person) for r in rules.approvals)
    )
    return WorkFilter(
        states=(State.PLANNED,), site=base.site, category=base.category, requester=base.requester,
        categories=mine, touching_one_of=person.sites if policy.approvals_by_site and person.sites else None,
        not_involving=login, undecided_by=login,
    )


def _items(policy: Policy, journal: Journal, rows: list[WorkRow], now: dt.datetime) -> tuple[Item, ...]:
    starts = {w.row.id: _when(w.planned_start) for w in rows}
    judged = {cid: (s or now) for cid, s in starts.items()}
    table = WindowTable(policy, min([now, *judged.values()]), max([now, *judged.values()]))
    pending = [
        Pending(change_id=w.row.id, plan_hash=w.row.plan_hash, category=w.row.category, requester=w.row.requester,
                plan_author=w.plan_author, sites=w.row.sites)
        for w in rows
        if w.row.state in {State.PLANNED, State.APPROVED} and w.row.plan_hash and w.row.category is not None
    ]
    status = statuses(policy, journal, pending)
    items = []
    for w in rows:
        at, planned = judged[w.row.id], starts[w.row.id]
        windows = tuple(
            SiteWindow(site, table.judge(w.row.category, site, at, _duration(w.estimated_duration)))
            for site in w.row.sites
            if w.row.category is not None and site in policy.sites
        )
        items.append(Item(
            work=w, planned_start=planned.astimezone(policy.tz) if planned else None,
            judged_at=at.astimezone(policy.tz), waiting_since=w.row.updated_at.astimezone(policy.tz),
            waiting=waited(w.row.updated_at, now), windows=windows, status=status.get(w.row.id),
        ))
    return tuple(items)


def build_worklist(policy: Policy, journal: Journal, login: str, f: Filters, *, now: dt.datetime) -> WorkList:
    """The two sections of the page for ``login`` under the filters ``f``."""
    base = WorkFilter(states=STATES[f.state], site=f.site or None, category=f.category or None,
                      requester=f.requester or None)
    descending = f.order == "desc"
    awaiting_rows: list[WorkRow] = []
    awaiting_total = 0
    wanted = _awaiting_filter(policy, login, base)
    person = policy.person(login)
    if wanted is not None and person is not None:
        found, awaiting_total = journal.worklist(wanted, sort=f.sort, descending=descending, limit=LIMIT)
        # The SQL filter mirrors refusal_of; the rule itself has the last word on each row shown.
        awaiting_rows = [
            w for w in found
            if w.row.category is not None and refusal_of(
                policy, person, change_id=w.row.id, category=w.row.category, requester=w.row.requester,
                plan_author=w.plan_author, sites=w.row.sites,
            ) is None
        ]
    rows, total = journal.worklist(base, sort=f.sort, descending=descending, limit=LIMIT,
                                   offset=(f.page - 1) * LIMIT)
    pages = max(1, -(-total // LIMIT))
    page = min(f.page, pages)
    if page != f.page:  # past the end (a link kept while the list shrank): the last page
        rows, total = journal.worklist(base, sort=f.sort, descending=descending, limit=LIMIT,
                                       offset=(page - 1) * LIMIT)
    items = _items(policy, journal, awaiting_rows + rows, now)
    return WorkList(
        filters=Filters(**{**f.__dict__, "page": page}),
        awaiting=Section(items=items[: len(awaiting_rows)], total=awaiting_total),
        changes=Section(items=items[len(awaiting_rows):], total=total),
        pages=pages,
        requesters=tuple(p.login for p in policy.people if set(p.roles) & set(policy.requests.roles)),
    )
