"""The task-plugin contract: a change type validates its params, checks, renders and verifies.

A change type is a class registered under the entry-point group ``netchange.change_types``. The
engine calls, per host it targets::

    pre_checks(ctx)   before anything is rendered; a failed check stops that host's plan
    render(ctx)       the candidate in the host's configuration syntax (merged, never replaced)
    post_checks(ctx)  after commit; a failure triggers the automatic rollback.
                      ``ctx.running`` is then the configuration read after the commit.
    restored_checks(ctx)  after a verified restore (apply's rollback, rollback, recover): what the
                      network must show again (an adjacency Full, a flow through). The restore
                      proves the configuration is back; these prove the network is. A failure
                      is an alarm. ``ctx.running`` is the configuration read after the restore.

``render`` defaults to the Jinja2 template ``<name>/<syntax>.j2`` in the ``templates`` folder of the
change type's own package (:attr:`ChangeType.template_package`; netchange's are ``tasks/templates``
installed as ``netchange.tasks``), with the validated params as ``p`` and the host as ``host``.
Params are validated before any template is loaded, so a template never sees a value carrying a
newline or a second command.
"""

from __future__ import annotations

import hashlib
import importlib.util
from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError

from netchange.basemodels import StrictModel
from netchange.errors import BadRequest
from netchange.models import CheckResult
from netchange.registry import Registry
from netchange.vocabulary import Perimeter, Role

if TYPE_CHECKING:

    from netchange.drivers.contract import DriverProtocol

ENTRY_POINT_GROUP = "netchange.change_types"
BUILTIN_TEMPLATES = "netchange.tasks"
"""The package whose ``templates`` folder holds the built-in change types' templates."""

P = TypeVar("P", bound=StrictModel)



@dataclass(kw_only=True)
class Context(Generic[P]):
    """What a change type sees of one host: identity, validated params, driver, running state."""

    host: str
    platform: str
    syntax: str
    role: Role
    site: str
    data: dict[str, Any]
    params: P
    driver: DriverProtocol
    running: str
    """The running configuration: before the change in pre-checks and render (the snapshot),
    after the commit in post-checks (apply reads it once for every check of the host)."""
    change_id: str = ""

    def show(self, command: str) -> str:
        """Output of a read-only command (NAPALM ``cli``)."""
        return self.driver.cli([command])[command]

    def parse(self, command: str) -> list[dict[str, Any]]:
        """A show command parsed with ntc-templates (TextFSM) for this host's syntax."""
        from netchange.changetype._parsing import parse_show
        from netchange.platforms import PLATFORMS

        profile = PLATFORMS.find(self.platform)
        platform = profile.ntc_platform if profile is not None else None
        if platform is None and (named := PLATFORMS.find(self.syntax)) is not None:
            platform = named.ntc_platform  # a syntax-less platform (mock): the platform named after its syntax
        if platform is None:
            raise BadRequest(f"no TextFSM templates for platform {self.platform!r} (syntax {self.syntax!r})")
        return parse_show(platform, command, self.show(command))

    @property
    def offline(self) -> bool:
        """True when the running configuration is a stored one (``plan --offline``): no device to ask."""
        from netchange.drivers.contract import is_offline

        return is_offline(self.driver)

    def device_check(self, name: str, run: Callable[[], CheckResult]) -> CheckResult:
        """A check that needs the live device (a show command, a probe): how a check declares it.

        Live, ``run()`` is the check. Offline it is not run and is reported as such ("not run
        offline"): never passed, never failed. A check that asks the device without declaring it
        makes the offline driver raise instead, so it can never pass by accident.
        """
        if self.offline:
            return CheckResult(name=name, passed=False, not_run="not run offline: needs the live device")
        return run()

    def refresh(self) -> None:
        """Re-read the running configuration (for a check that waits for the device to settle)."""
        self.running = self.driver.get_config(retrieve="running")["running"]


class ChangeType(ABC, Generic[P]):
    """Base of every change type. Subclasses set the class attributes and ``Params``."""

    name: ClassVar[str]
    perimeter: ClassVar[Perimeter]
    roles: ClassVar[frozenset[Role]]
    syntaxes: ClassVar[frozenset[str]]
    """The configuration syntaxes this type renders for (a template each, or its own render)."""
    Params: type[P]

    def validate(self, raw: dict[str, Any], *, where: str = "params") -> P:
        try:
            return self.Params.model_validate(raw)
        except ValidationError as exc:
            raise BadRequest(_first_error(exc, prefix=where)) from None

    def supports(self, syntax: str, role: Role) -> str | None:
        """``None`` if this type can run on the host, else why not, in one line that names the
        types that can serve that role on that syntax (what the engineer should write instead)."""
        if role not in self.roles:
            why = (f"change type {self.name!r} does not apply to role {role.value!r} "
                   f"(it serves {', '.join(sorted(r.value for r in self.roles))})")
        elif syntax not in self.syntaxes:
            why = (f"change type {self.name!r} has no rendering for syntax {syntax!r} "
                   f"(it renders {', '.join(sorted(self.syntaxes))})")
        else:
            return None
        others = [name for name in types_for(role, syntax) if name != self.name]
        return f"{why}; for role {role.value} on syntax {syntax}: {', '.join(others) or 'no change type'}"

    def pre_checks(self, ctx: Context[P]) -> list[CheckResult]:
        return []

    @classmethod
    def template_package(cls) -> str:
        """The package whose ``templates`` folder holds this type's templates: the package of the
        module defining the class (``acme_changes.vlan2`` -> ``acme_changes``), so a change type from
        another distribution ships its own templates next to its module."""
        module = cls.__module__
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.submodule_search_locations is not None:
            return module  # the class is defined in a package's __init__
        return module.rpartition(".")[0] or module

    def render(self, ctx: Context[P]) -> str:
        return render_template(
            f"{self.name}/{ctx.syntax}.j2", templates=self.template_package(), p=ctx.params, host=ctx
        )

    def post_checks(self, ctx: Context[P]) -> list[CheckResult]:
        return []

    def restored_checks(self, ctx: Context[P]) -> list[CheckResult]:
        return []


def render_template(name: str, *, templates: str = BUILTIN_TEMPLATES, **values: Any) -> str:
    """Render ``name`` from the ``templates`` folder of the package ``templates`` (one Jinja2 set-up
    for every document: :func:`netchange.report.render.config_environment`)."""
    from netchange.report.render import config_environment  # deferred: only rendering pays for Jinja2

    return config_environment(templates).get_template(name).render(**values)


def _first_error(exc: ValidationError, *, prefix: str) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    path = f"{prefix}.{loc}" if loc else prefix
    msg = str(error["msg"]).removeprefix("Value error, ")
    extra = f" ({len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{path}: {msg}{extra}"


CHANGE_TYPES: Registry[type[ChangeType[Any]]] = Registry("change type", ENTRY_POINT_GROUP)
"""Change-type classes by name: entry points ``netchange.change_types``, then
:meth:`Registry.register` (a test registers its fake change type here)."""


def change_type_names() -> list[str]:
    return CHANGE_TYPES.names()


def get_change_type(name: str) -> ChangeType[Any]:
    cls = CHANGE_TYPES.find(name)
    if cls is None:
        raise BadRequest(f"unknown change type {name!r} (known: {', '.join(change_type_names())})")
    return cls()


def types_for(role: Role, syntax: str) -> list[str]:
    """The change types that serve ``role`` on ``syntax``, by name."""
    return [name for name in change_type_names()
            if role in (cls := CHANGE_TYPES.get(name)).roles and syntax in cls.syntaxes]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
