"""``fw_object_group``: add or remove addresses in an existing firewall object group (minor).

On ASA a network object-group; on nftables a named set. Creating the group itself is a new
object of the firewall database (medium): not this type's job.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from netchange.authoring import check, cisco_endpoint, has_section, section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, SafeName
from netchange.vocabulary import Perimeter, Role


class FwObjectGroupParams(StrictModel):
    group: SafeName
    add: Annotated[tuple[ipaddress.IPv4Network, ...], Field(max_length=256)] = ()
    remove: Annotated[tuple[ipaddress.IPv4Network, ...], Field(max_length=256)] = ()
    table: SafeName = Field(default="filter", description="nftables: the table holding the set")
    family: SafeName = Field(default="inet", description="nftables: the table's family")

    @model_validator(mode="after")
    def _addresses_to_add_or_remove(self) -> FwObjectGroupParams:
        if not self.add and not self.remove:
            raise ValueError("give addresses to add or remove")
        if set(self.add) & set(self.remove):
            raise ValueError("an address cannot be both added and removed")
        return self


def nft_element(net: ipaddress.IPv4Network) -> str:
    return str(net.network_address) if net.prefixlen == 32 else str(net)


class FwObjectGroup(ChangeType[FwObjectGroupParams]):
    name = "fw_object_group"
    perimeter = Perimeter.SECURITY
    roles: ClassVar[frozenset[Role]] = frozenset({Role.FIREWALL})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"asa", "nftables"})
    Params = FwObjectGroupParams

    def _members(self, ctx: Context[FwObjectGroupParams]) -> set[str] | None:
        """Current members as rendered strings; ``None`` when the group does not exist."""
        p = ctx.params
        if ctx.syntax == "asa":
            header = f"object-group network {p.group}"
            if not has_section(ctx.running, header):
                return None
            return {line.removeprefix("network-object ").strip() for line in section(ctx.running, header)}
        return nft_set_elements(ctx.running, p.group)

    def _key(self, ctx: Context[FwObjectGroupParams], net: ipaddress.IPv4Network) -> str:
        return cisco_endpoint(net, wildcard=False) if ctx.syntax == "asa" else nft_element(net)

    def pre_checks(self, ctx: Context[FwObjectGroupParams]) -> list[CheckResult]:
        members = self._members(ctx)
        checks = [check(f"group {ctx.params.group} exists", members is not None)]
        if members is None:
            return checks
        group = ctx.params.group
        checks += [check(f"{n} not yet in {group}", self._key(ctx, n) not in members) for n in ctx.params.add]
        checks += [check(f"{n} is in {group}", self._key(ctx, n) in members) for n in ctx.params.remove]
        return checks

    def post_checks(self, ctx: Context[FwObjectGroupParams]) -> list[CheckResult]:
        members = self._members(ctx) or set()
        return [check(f"{n} in {ctx.params.group}", self._key(ctx, n) in members) for n in ctx.params.add] + [
            check(f"{n} gone from {ctx.params.group}", self._key(ctx, n) not in members) for n in ctx.params.remove
        ]


def nft_set_elements(ruleset: str, name: str) -> set[str] | None:
    """Elements of the named set ``name`` in ``nft list ruleset`` output (``None`` if absent)."""
    lines = ruleset.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == f"set {name} {{":
            text = []
            for inner in lines[index + 1 :]:
                if inner.strip() == "}":
                    break
                text.append(inner.strip())
            joined = " ".join(text)
            if "elements = {" not in joined:
                return set()
            body = joined.split("elements = {", 1)[1].split("}", 1)[0]
            return {item.strip() for item in body.split(",") if item.strip()}
    return None
