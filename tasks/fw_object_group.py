"""``fw_object_group``: add or remove addresses in an existing firewall object group (minor).

On ASA a network object-group; on nftables a named set. Creating the group itself is a new
object of the firewall database (medium): not this type's job.

On ASA the pre-checks read what the group matches, not its lines (:mod:`netchange.tasks._asa_objects`:
nested ``group-object``, objects, names, subnets and ranges). An address the group already matches
is a failed pre-check naming the entry that covers it, as an address already listed is: the
request says "add", the reviewer approves that text, and the firewall would take a second,
redundant entry, one that keeps the address in the group when the covering entry is later removed
(a dependency nobody asked for). An address removed that the group still matches through another
entry fails too: removing the line would not take it out of the group.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from netchange.authoring import check, cisco_endpoint, has_section, section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context
from netchange.models import CheckResult, SafeName
from netchange.tasks._asa_objects import Definitions, Entry, Expansion, covering
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
        if ctx.syntax == "asa":
            return asa_pre_checks(ctx.params, ctx.running)
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
        added = [check(f"{n} in {ctx.params.group}", self._key(ctx, n) in members) for n in ctx.params.add]
        if ctx.syntax == "asa":
            # Gone means no longer matched, through any entry (the pre-check made sure none other did).
            expansion = Definitions.read(ctx.running).expand(ctx.params.group) or Expansion()
            return added + [check(f"{n} gone from {ctx.params.group}", not (cover := covering(expansion, n)),
                                  f"still matched through {_through(cover)}" if cover else "")
                            for n in ctx.params.remove]
        return added + [
            check(f"{n} gone from {ctx.params.group}", self._key(ctx, n) not in members) for n in ctx.params.remove
        ]


def asa_pre_checks(params: FwObjectGroupParams, running: str) -> list[CheckResult]:
    """The ASA pre-checks, on what the group matches (see the module docstring)."""
    group = params.group
    definitions = Definitions.read(running)
    expansion = definitions.expand(group)
    checks = [check(f"group {group} exists", expansion is not None,
                    "" if expansion is not None else f"no object-group network {group} in the configuration")]
    if expansion is None:
        return checks
    unresolved = f"not expanded: {'; '.join(expansion.unresolved)}" if expansion.unresolved else ""
    for net in params.add:
        cover = covering(expansion, net)
        detail = f"already in {group} through {_through(cover)}" if cover else unresolved
        checks.append(check(f"{net} not yet in {group}", not cover, detail))
    removed = {f"network-object {cisco_endpoint(n, wildcard=False)}" for n in params.remove}
    remaining = Expansion(entries=[e for e in expansion.entries if e.via[0] not in removed])
    for net in params.remove:
        line = f"network-object {cisco_endpoint(net, wildcard=False)}"
        if line not in definitions.groups[group]:
            cover = covering(expansion, net)
            detail = (f"not a line of {group}: matched through {_through(cover)}" if cover
                      else f"no line {line!r} in {group}")
            checks.append(check(f"{net} is in {group}", False, detail))
            continue
        still = covering(remaining, net)
        checks.append(check(f"{net} is in {group}", not still,
                            f"{group} would still match it through {_through(still)}" if still else line))
    return checks


def _through(entries: list[Entry]) -> str:
    return "; ".join(entry.describe() for entry in entries)


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
