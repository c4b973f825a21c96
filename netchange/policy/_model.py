"""The quality plan as data: windows, closed hours, freezes, people, approvals, lead times.

The quality plan is reviewed every quarter, so its rules live in ``policy.yaml`` with a version
that every plan and every guard decision records. The models are frozen and forbid unknown keys:
a misspelt key is an error naming the file, never a silently ignored rule.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from netchange.basemodels import FrozenModel
from netchange.errors import BadRequest
from netchange.vocabulary import Category

if TYPE_CHECKING:
    from holidays import HolidayBase


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """``datetime.weekday()`` numbering: Monday is 0."""
        return _WEEKDAY_NUMBERS[self]


# Looked up once per window and day (the queue judges a window per row): a dict, not a list scan.
_WEEKDAY_NUMBERS: dict[Weekday, int] = {day: i for i, day in enumerate(Weekday)}


WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


class DailyWindow(FrozenModel):
    """A window repeated on some days, ``start``–``end`` in local wall time.

    ``end`` may be earlier than ``start`` (a night window ending the next morning); ``00:00``
    as ``end`` means midnight at the end of the day.
    """

    days: tuple[Weekday, ...] = WEEKDAYS
    start: dt.time
    end: dt.time
    on_holidays: bool = Field(default=False, description="Also open on holidays on those days.")

    def describe(self) -> str:
        days = _describe_days(self.days)
        hol = "" if self.on_holidays else " except public holidays"
        return f"{days}{hol} {self.start:%H:%M}–{self.end:%H:%M}"


class ClosedHours(FrozenModel):
    """When the service is closed to users at a site: the hours where major work may run.

    A weekend day or a public holiday is closed all day; on other days the service closes at
    ``night_start`` and reopens at ``night_end`` the next morning. Consecutive closed hours form
    one continuous period (Friday 21:00 → Monday 06:00 is one).
    """

    night_start: dt.time = dt.time(21, 0)
    night_end: dt.time = dt.time(6, 0)
    closed_days: tuple[Weekday, ...] = (Weekday.SAT, Weekday.SUN)
    holidays_closed: bool = True

    def describe(self) -> str:
        days = _describe_days(self.closed_days)
        hol = ", public holidays" if self.holidays_closed else ""
        return f"weekday nights {self.night_start:%H:%M}–{self.night_end:%H:%M}, {days}{hol}"


class Site(FrozenModel):
    name: str
    closed_hours: ClosedHours | None = Field(default=None, description="Overrides the default closed hours.")


class Freeze(FrozenModel):
    """No change may overlap a freeze (dates inclusive, local time)."""

    start: dt.date
    end: dt.date
    reason: str
    allow_emergency: bool = Field(default=False, description="May an emergency change run during it?")

    @model_validator(mode="after")
    def _ordered(self) -> Freeze:
        if self.end < self.start:
            raise ValueError("freeze end is before its start")
        return self


Organisation = Literal["client", "provider"]
PersonRole = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
"""A role of the quality plan. The roles themselves are the policy's data (``roles:``), not code:
a role named anywhere in the policy must be declared there."""


Email = Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$", max_length=254)]
"""One plain mailbox (``local@domain``): no display name, no list, nothing a mail header could split."""


class Person(FrozenModel):
    login: str
    email: Email | None = Field(default=None, description="Where notifications reach them (none: not mailed).")
    name: str
    organisation: Organisation
    roles: tuple[PersonRole, ...]
    sites: tuple[str, ...] = Field(
        default=(),
        description="The sites this person approves for (PAQ: one operations manager per site); empty: every site.",
    )

    def label(self) -> str:
        return f"{self.name} ({self.login}, {self.organisation} {'/'.join(self.roles)})"

    def covers(self, sites: tuple[str, ...] | list[str] | frozenset[str]) -> bool:
        """Does this person answer for every one of ``sites``? (No site list: for every site.)"""
        return not self.sites or set(sites) <= set(self.sites)

    def answers_for(self, sites: tuple[str, ...] | list[str] | frozenset[str]) -> bool:
        """Does this person answer for one of ``sites``? (No site list: for every site.)

        The quality plan has one operations manager per site: a change wholly on another site is
        not theirs to approve. A change touching their site and another one is theirs too (the
        other site's manager may approve it as well; one approval per rule suffices).
        """
        return not self.sites or bool(set(sites) & set(self.sites))


class ApprovalRule(FrozenModel):
    """One approval a category needs: a person with ``role`` from ``organisation``."""

    role: PersonRole
    organisation: Organisation

    def describe(self) -> str:
        return f"a {self.organisation} {self.role}"

    def satisfied_by(self, person: Person) -> bool:
        return person.organisation == self.organisation and self.role in person.roles


PlanDemand = Literal["rollback", "post_checks"]


class CategoryPolicy(FrozenModel):
    """What the quality plan demands of one category (docs/quality-plan.md, "Classification of changes")."""

    description: str
    windows: tuple[DailyWindow, ...] = ()
    closed_periods: bool = Field(default=False, description="Runs only while the site is closed to users.")
    max_duration: dt.timedelta
    max_outage: dt.timedelta | None = None
    approvals: tuple[ApprovalRule, ...] = Field(
        default=(), description="All needed, each by another person. Empty: the request is the validation."
    )
    lead_time: dt.timedelta = dt.timedelta(0)
    plan_demands: tuple[PlanDemand, ...] = ()
    extra_approval_roles: tuple[PersonRole, ...] = Field(
        default=(),
        description="Roles that may record an approval the category does not need (e.g. of a minor change).",
    )
    emergency_allowed: bool = Field(default=False, description="May run outside its window with --emergency.")

    @model_validator(mode="after")
    def _one_kind_of_window(self) -> CategoryPolicy:
        if bool(self.windows) == self.closed_periods:
            raise ValueError("give either 'windows' or 'closed_periods: true'")
        return self


class Identity(FrozenModel):
    """How the acting person is found: the OS account, or ``NETCHANGE_ACTOR`` where allowed.

    ``allow_override`` lets tests and the lab act as several people from one account; a
    production policy sets it false so that the journal's "who" is the OS account.
    """

    allow_override: bool = False


class GroupGrant(FrozenModel):
    """What one directory group grants (``directory.groups``): roles, and sites if it names any."""

    roles: tuple[PersonRole, ...] = Field(min_length=1)
    sites: tuple[str, ...] = Field(default=(), description="Empty: the person's own sites.")


class DirectoryMapping(FrozenModel):
    """Directory groups (LDAP group ``cn``, OIDC ``groups`` claim) to roles and sites of this policy.

    The policy stays the authority (:mod:`netchange.policy._directory`): a group narrows what a
    person of the policy may do, never gives anything to someone the policy does not list.
    """

    groups: dict[Annotated[str, Field(min_length=1, max_length=200)], GroupGrant] = Field(default_factory=dict)


class ApplyRules(FrozenModel):
    """Who may apply a change, and roll one back on request."""

    roles: tuple[PersonRole, ...] = ("engineer",)


class RequestRules(FrozenModel):
    """Whose request counts as the requester's validation of a change that lists no approval."""

    roles: tuple[PersonRole, ...] = ("requester",)


class CloseRules(FrozenModel):
    """Final validation: one person with each of these roles closes the change."""

    roles: tuple[PersonRole, ...] = ("engineer", "ops_manager")


class PolicyAdmin(FrozenModel):
    """Who may adopt a new policy file in place of the one pinned in the journal.

    The quality plan is versioned and reviewed; a new version takes effect only when one of these
    roles, as listed in the policy *currently pinned*, journals its adoption
    (``netchange policy adopt``). Whoever runs a command cannot switch policies by pointing
    ``--policy`` elsewhere.
    """

    roles: tuple[PersonRole, ...] = ("project_manager",)


class HolidayCalendar(FrozenModel):
    country: str = "FR"
    subdiv: str | None = None


class Policy(FrozenModel):
    version: Annotated[str, Field(min_length=1)]
    project: str = "netchange — perimeter operations"
    client: str
    timezone: str = "Europe/Paris"
    holidays: HolidayCalendar = HolidayCalendar()
    identity: Identity = Identity()
    directory: DirectoryMapping = DirectoryMapping()
    closed_hours: ClosedHours = ClosedHours()
    sites: dict[str, Site]
    freezes: tuple[Freeze, ...] = ()
    roles: dict[PersonRole, str] = Field(
        default_factory=dict,
        description="The roles of the quality plan (role: what it does); every role the policy names is one.",
    )
    people: tuple[Person, ...] = ()
    requests: RequestRules = RequestRules()
    apply: ApplyRules = ApplyRules()
    close: CloseRules = CloseRules()
    policy_admin: PolicyAdmin = PolicyAdmin()
    categories: dict[Category, CategoryPolicy]
    approvals_by_site: bool = Field(
        default=False,
        description="A person whose entry names `sites` approves only changes touching one of them "
        "(PAQ: one operations manager per site).",
    )
    approvals_across_sites: Literal["all_sites", "any_site"] = Field(
        default="any_site",
        description="Under `approvals_by_site`, a change touching several sites needs each approval rule "
        "given for every one of them (`all_sites`: each site's operations manager approves) or for one "
        "of them (`any_site`). PAQ: one operations manager per site.",
    )

    # Set by ``load_policy``: the SHA-256 of the file's bytes and where it was read from.
    _file_digest: str | None = PrivateAttr(default=None)
    _path: str | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        missing = [c.value for c in Category if c not in self.categories]
        if missing:
            raise ValueError(f"categories missing: {', '.join(missing)}")
        logins = [p.login for p in self.people]
        dupes = sorted({x for x in logins if logins.count(x) > 1})
        if dupes:
            raise ValueError(f"people listed twice: {', '.join(dupes)}")
        unknown_sites = sorted({s for p in self.people for s in p.sites} - set(self.sites))
        if unknown_sites:
            raise ValueError(f"people name unknown sites: {', '.join(unknown_sites)}")
        group_sites = sorted({s for g in self.directory.groups.values() for s in g.sites} - set(self.sites))
        if group_sites:
            raise ValueError(f"directory groups name unknown sites: {', '.join(group_sites)}")
        if self.roles:
            unknown = sorted(set(self.named_roles()) - set(self.roles))
            if unknown:
                raise ValueError(f"roles not declared under 'roles': {', '.join(unknown)}")
        return self

    def named_roles(self) -> list[str]:
        """Every role the policy names: people, requests, apply, close, policy_admin, approvals."""
        named = [r for p in self.people for r in p.roles]
        named += [r for g in self.directory.groups.values() for r in g.roles]
        named += [*self.requests.roles, *self.apply.roles, *self.close.roles, *self.policy_admin.roles]
        for rules in self.categories.values():
            named += [a.role for a in rules.approvals] + list(rules.extra_approval_roles)
        return named

    # --- identity of the policy in force -------------------------------------------------------

    @property
    def digest(self) -> str:
        """SHA-256 of the policy file's bytes (of the canonical JSON of the model if not from a file).

        The version string is chosen by whoever edits the file; the digest is what the journal
        pins and every plan and approval records, so a lax copy with the same version is seen.
        """
        if self._file_digest is not None:
            return self._file_digest
        return hashlib.sha256(
            json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()

    @property
    def path(self) -> str:
        """The file this policy was read from ('' when built in memory)."""
        return self._path or ""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Policy:
        """A copy; a copy with changes is no longer the file it was read from (its digest follows)."""
        copy = super().model_copy(update=update, deep=deep)
        if update:
            copy._file_digest = None
            copy._path = None
        return copy

    # --- lookups -----------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def category(self, category: Category | str) -> CategoryPolicy:
        try:
            return self.categories[Category(category)]
        except ValueError as exc:
            known = ", ".join(c.value for c in Category)
            raise BadRequest(f"unknown category {category!r} (known: {known})") from exc

    def site(self, name: str) -> Site:
        try:
            return self.sites[name]
        except KeyError as exc:
            raise BadRequest(f"unknown site {name!r} (known: {', '.join(sorted(self.sites))})") from exc

    def closed_hours_of(self, site: str) -> ClosedHours:
        return self.site(site).closed_hours or self.closed_hours

    def person(self, login: str) -> Person | None:
        return next((p for p in self.people if p.login == login), None)

    def require_known(self, *, sites: Mapping[str, Iterable[str]], people: Mapping[str, str]) -> None:
        """``BadRequest`` (exit 2), one line naming all that this policy does not know: a site of
        ``sites`` (site → the hosts at it) or a person of ``people`` (what they are → login).

        A change is judged by the policy's windows per site and its people's roles: a site or a
        person it lacks would be judged by defaults, or by nobody, without a word (issue 22 item 8).
        """
        missing = [f"site {site!r} (of {', '.join(sorted(hosts))}; known: {', '.join(sorted(self.sites))})"
                   for site, hosts in sorted(sites.items()) if site not in self.sites]
        missing += [f"{what} {login!r} (not one of its people)" for what, login in people.items()
                    if self.person(login) is None]
        if missing:
            where = f" ({self.path})" if self.path else ""
            raise BadRequest(f"policy {self.version}{where} does not know {'; '.join(missing)}")

    def holiday(self, day: dt.date) -> str | None:
        """The name of the public holiday on ``day``, if it is one."""
        name = _calendar(self.holidays.country, self.holidays.subdiv, day.year).get(day)
        return str(name) if name else None

    def freezes_overlapping(self, start: dt.datetime, end: dt.datetime) -> list[Freeze]:
        """Freezes that share any instant with ``[start, end)``."""
        found = []
        for freeze in self.freezes:
            f_start = dt.datetime.combine(freeze.start, dt.time(0), tzinfo=self.tz)
            f_end = dt.datetime.combine(freeze.end + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
            if start < f_end and f_start < end:
                found.append(freeze)
        return found

    def requirements(self, category: Category | str) -> list[str]:
        """What the category demands, one line each, for the plan display."""
        cat = Category(category)
        rules = self.category(cat)
        if rules.closed_periods:
            hours = self.closed_hours.describe()
            window = f"only while the site is closed to users ({hours}), in one continuous period"
        else:
            window = "; ".join(w.describe() for w in rules.windows) + ", and must end inside it"
        lines = [
            f"window: {window} ({self.timezone})",
            f"maximum duration: {format_duration(rules.max_duration)}",
        ]
        if rules.max_outage is not None:
            lines.append(f"maximum outage: {format_duration(rules.max_outage)}")
        if rules.approvals:
            lines.append(
                "approvals: "
                + " AND ".join(r.describe() for r in rules.approvals)
                + " (different people; never the requester or the plan's author)"
            )
        else:
            lines.append("approvals: the requester's validation (the request itself)")
        if rules.lead_time:
            lines.append(
                f"lead time: the plan must exist {format_duration(rules.lead_time)} before the start"
            )
        demands = {"rollback": "a rollback for every host", "post_checks": "post-checks on every host"}
        for demand in rules.plan_demands:
            lines.append(f"plan must include {demands[demand]}")
        if rules.emergency_allowed:
            lines.append("emergency: may run outside its window with --emergency and its approvals")
        lines.append(f"policy version {self.version}")
        return lines


@functools.lru_cache(maxsize=64)
def _calendar(country: str, subdiv: str | None, year: int) -> HolidayBase:
    # Imported here: the package costs ~0.15 s to import and only window checks need it.
    calendar: HolidayBase = _country_class(country)(subdiv=subdiv, years=year)
    return calendar


@functools.lru_cache(maxsize=8)
def _country_class(country: str) -> Any:
    """The ``holidays`` class of ``country`` (ISO 3166-1 code), importing that country's module only.

    ``holidays.country_holidays`` imports the package ``holidays.countries``, whose ``__init__``
    imports all of its ~250 countries (0.3-0.8 s on the lab machine) to answer for one. Here the
    package's ``__init__`` is set aside while the one country's module is imported (its own
    imports are the shared calendars and helpers, not other countries); the next real import of
    ``holidays.countries`` runs its ``__init__`` as usual and finds that module already loaded.
    An unknown code is left to ``holidays`` itself (its own error).
    """
    import importlib
    import importlib.util
    import sys
    import types

    import holidays
    from holidays.registry import COUNTRIES

    module = next((name for name, (_, *codes) in COUNTRIES.items() if country.upper() in codes), None)
    if module is None:
        return functools.partial(holidays.country_holidays, country)
    qualified = f"holidays.countries.{module}"
    if qualified not in sys.modules and "holidays.countries" not in sys.modules:
        spec = importlib.util.find_spec("holidays.countries")
        if spec is not None and spec.submodule_search_locations is not None:
            stand_in = types.ModuleType("holidays.countries")
            stand_in.__path__ = list(spec.submodule_search_locations)
            stand_in.__spec__ = spec
            sys.modules["holidays.countries"] = stand_in
            try:
                importlib.import_module(qualified)
            finally:
                if sys.modules.get("holidays.countries") is stand_in:
                    del sys.modules["holidays.countries"]
    return getattr(importlib.import_module(qualified), COUNTRIES[module][0])


def _describe_days(days: tuple[Weekday, ...]) -> str:
    if tuple(days) == WEEKDAYS:
        return "Mon–Fri"
    if tuple(days) == (Weekday.SAT, Weekday.SUN):
        return "weekends"
    return ", ".join(d.value.capitalize() for d in days)


def format_duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours} h {mins:02d}"
    return f"{hours} h" if hours else f"{mins} min"


def load_policy(path: str | Path) -> Policy:
    """Read and validate ``policy.yaml``; any error names the file and the key."""
    path = Path(path)
    try:
        # Bytes first: the digest is of exactly what was read, and the model of the same bytes.
        data = path.read_bytes()
        raw: Any = yaml.load(data.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read the policy ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{path}: the policy is not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise BadRequest(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise BadRequest(f"{path}: the policy must be a mapping")
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise BadRequest(f"{path}: {problems}") from exc
    policy._file_digest = hashlib.sha256(data).hexdigest()
    policy._path = str(path.resolve())
    return policy
