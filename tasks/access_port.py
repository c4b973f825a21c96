"""``access_port``: description, admin state and access VLAN of existing switch ports (minor)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, InterfaceName, Perimeter, Role, SafeText, StrictModel, VlanId
from tasks._common import check, has_section, section


class AccessPortParams(StrictModel):
    interfaces: Annotated[tuple[InterfaceName, ...], Field(min_length=1, max_length=48)]
    description: SafeText | None = None
    enabled: bool | None = None
    access_vlan: VlanId | None = None

    @model_validator(mode="after")
    def _something(self) -> AccessPortParams:
        if self.description is None and self.enabled is None and self.access_vlan is None:
            raise ValueError("give at least one of description, enabled, access_vlan")
        return self


class AccessPort(ChangeType[AccessPortParams]):
    name = "access_port"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios"})
    Params = AccessPortParams

    def pre_checks(self, ctx: Context[AccessPortParams]) -> list[CheckResult]:
        checks = [
            check(f"{ifname} exists", has_section(ctx.running, f"interface {ifname}"))
            for ifname in ctx.params.interfaces
        ]
        if ctx.params.access_vlan is not None:
            vid = ctx.params.access_vlan
            checks.append(check(f"vlan {vid} exists", has_section(ctx.running, f"vlan {vid}")))
        return checks

    def post_checks(self, ctx: Context[AccessPortParams]) -> list[CheckResult]:
        ctx.refresh()
        checks = []
        for ifname in ctx.params.interfaces:
            lines = section(ctx.running, f"interface {ifname}")
            missing = []
            if ctx.params.description is not None and f"description {ctx.params.description}" not in lines:
                missing.append("description")
            if ctx.params.access_vlan is not None and f"switchport access vlan {ctx.params.access_vlan}" not in lines:
                missing.append("access vlan")
            if ctx.params.enabled is not None and ("shutdown" in lines) == ctx.params.enabled:
                missing.append("admin state")
            checks.append(check(f"{ifname} configured", not missing, ", ".join(missing)))
        return checks
