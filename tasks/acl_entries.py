"""``acl_entries``: add or remove entries of an access list that already exists.

Editing entries of an existing ACL is minor on the network perimeter; creating a new ACL or
binding one to an interface is not this type's job (the classifier would say medium or major).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import Endpoint, check, cisco_endpoint, has_line, has_section, section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, SafeName
from netchange.vocabulary import Perimeter, Role


class AclEntry(StrictModel):
    sequence: Annotated[int, Field(ge=1, le=2147483647)] | None = None
    action: Literal["permit", "deny"]
    protocol: Literal["ip", "tcp", "udp", "icmp"]
    source: Endpoint
    destination: Endpoint
    port: Annotated[int, Field(ge=1, le=65535)] | None = None

    @model_validator(mode="after")
    def _port_needs_l4(self) -> AclEntry:
        if self.port is not None and self.protocol not in ("tcp", "udp"):
            raise ValueError("port is only valid with protocol tcp or udp")
        return self

    def body(self, *, wildcard: bool) -> str:
        text = (
            f"{self.action} {self.protocol} {cisco_endpoint(self.source, wildcard=wildcard)} "
            f"{cisco_endpoint(self.destination, wildcard=wildcard)}"
        )
        return f"{text} eq {self.port}" if self.port else text


class AclEntriesParams(StrictModel):
    acl: SafeName
    add: tuple[AclEntry, ...] = ()
    remove: tuple[AclEntry, ...] = ()

    @model_validator(mode="after")
    def _entries_to_add_or_remove(self) -> AclEntriesParams:
        if not self.add and not self.remove:
            raise ValueError("give entries to add or remove")
        return self


class AclEntries(ChangeType[AclEntriesParams]):
    name = "acl_entries"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH, Role.FIREWALL})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "asa"})
    Params = AclEntriesParams

    @staticmethod
    def _asa_line(acl: str, entry: AclEntry) -> str:
        return f"access-list {acl} extended {entry.body(wildcard=False)}"

    def _present(self, ctx: Context[AclEntriesParams], entry: AclEntry) -> bool:
        if ctx.syntax == "asa":
            return has_line(ctx.running, self._asa_line(ctx.params.acl, entry))
        body = entry.body(wildcard=True)
        lines = section(ctx.running, f"ip access-list extended {ctx.params.acl}")
        return any(line == body or line.split(" ", 1)[-1] == body for line in lines)

    def pre_checks(self, ctx: Context[AclEntriesParams]) -> list[CheckResult]:
        acl = ctx.params.acl
        exists = (
            any(line.startswith(f"access-list {acl} ") for line in ctx.running.splitlines())
            if ctx.syntax == "asa"
            else has_section(ctx.running, f"ip access-list extended {acl}")
        )
        checks = [check(f"access list {acl} exists", exists)]
        checks += [check(f"entry to remove is present: {e.body(wildcard=True)}", self._present(ctx, e))
                   for e in ctx.params.remove]
        checks += [check(f"entry to add is absent: {e.body(wildcard=True)}", not self._present(ctx, e))
                   for e in ctx.params.add]
        return checks

    def post_checks(self, ctx: Context[AclEntriesParams]) -> list[CheckResult]:
        return [check(f"added: {e.body(wildcard=True)}", self._present(ctx, e)) for e in ctx.params.add] + [
            check(f"removed: {e.body(wildcard=True)}", not self._present(ctx, e)) for e in ctx.params.remove
        ]
