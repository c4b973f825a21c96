"""``acl_entries``: add or remove entries of an access list that already exists.

Editing entries of an existing ACL is minor on the network perimeter (switches, L3 switches,
routers); on a firewall it is a rule for a known flow or one that needs testing (the security
rules decide). Creating a new ACL or binding one to an interface is not this type's job (the
classifier would say medium or major).

An entry's place is what it does, so every entry added is typed with the number that puts it
where the request says (:mod:`netchange.tasks._sequence`): IOS with its sequence number
(`` 25 permit tcp …`` under ``ip access-list extended``), ASA with its line
(``access-list NAME line 3 extended …``); without a placement, before the ACL's final
``deny ip any any`` when it ends with one, else at the end. The diff shows those numbers, the
ones typed. A removal is typed by number too (IOS ``no 20``), so that its rollback puts the
entry back where it was.

IOS prints the sequence numbers of a named ACL (IOS-XE) or not (classic IOS, where they follow
the order: 10, 20, …). Live, when the running configuration shows none, ``show ip access-lists``
must agree with that order (the numbers typed are computed from it); offline that check is
reported "not run offline".
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from netchange.authoring import Endpoint, check, cisco_endpoint, has_line, has_section, section
from netchange.basemodels import StrictModel
from netchange.changetype import ChangeType, Context, render_template
from netchange.models import CheckResult, SafeName
from netchange.tasks._sequence import (
    Entry,
    ListShape,
    Placed,
    Placement,
    acl_catch_all,
    place,
    placement_checks,
    squeeze,
)
from netchange.vocabulary import Perimeter, Role

IOS_LIST = ListShape("sequence", acl_catch_all, step=10,
                     renumber_hint="renumber the ACL first (ip access-list resequence NAME 10 10)")
ASA_LIST = ListShape("line", acl_catch_all, counted=True)


class AclEntry(Placement):
    sequence: Annotated[int, Field(ge=1, le=2147483647)] | None = None
    """IOS: the entry's sequence number (free in the ACL). ASA lines are positions: use ``position``."""
    action: Literal["permit", "deny"]
    protocol: Literal["ip", "tcp", "udp", "icmp"]
    source: Endpoint
    destination: Endpoint
    port: Annotated[int, Field(ge=1, le=65535)] | None = None

    def _explicit_number(self) -> int | None:
        return self.sequence

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

    @property
    def placed_by_request(self) -> bool:
        return any(x is not None for x in (self.position, self.before, self.after))


class AclEntriesParams(StrictModel):
    acl: SafeName
    add: tuple[AclEntry, ...] = Field(default=(), max_length=200)
    remove: tuple[AclEntry, ...] = Field(default=(), max_length=200)

    @model_validator(mode="after")
    def _entries_to_add_or_remove(self) -> AclEntriesParams:
        if not self.add and not self.remove:
            raise ValueError("give entries to add or remove")
        if any(e.placed_by_request for e in self.remove):
            raise ValueError("remove: an entry to remove has no position, before or after (name it, or its sequence)")
        numbers = [e.sequence for e in self.add if e.sequence is not None]
        if len(numbers) != len(set(numbers)):
            raise ValueError("add: two entries have the same sequence")
        return self


_NUMBERED = re.compile(r"^(\d+)\s+(\S.*)$")


def ios_entries(running: str, acl: str) -> list[Entry]:
    """The entries of ``ip access-list extended ACL``: numbered as printed (IOS-XE) or, where the
    device prints none (classic IOS), 10, 20, … in order, as IOS numbers them and as hier_config
    reads them. Remarks are not entries."""
    entries: list[Entry] = []
    implied = 10
    for line in section(running, f"ip access-list extended {acl}"):
        m = _NUMBERED.match(line)
        if m is not None:
            entries.append(Entry(int(m.group(1)), squeeze(m.group(2))))
        elif line.startswith(("permit ", "deny ")):
            entries.append(Entry(implied, squeeze(line)))
            implied += 10
    return entries


def asa_entries(running: str, acl: str) -> list[Entry]:
    """The lines of ASA access-list ACL, numbered from 1 as ``show access-list`` counts them
    (remarks included); each entry's text is what follows the ACL's name."""
    prefix = f"access-list {acl} "
    lines = [line.strip() for line in running.splitlines() if line.startswith(prefix)]
    return [Entry(i + 1, squeeze(line[len(prefix):])) for i, line in enumerate(lines)]


class AclEntries(ChangeType[AclEntriesParams]):
    name = "acl_entries"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH, Role.ROUTER, Role.FIREWALL})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios", "asa"})
    Params = AclEntriesParams

    @staticmethod
    def _asa_line(acl: str, entry: AclEntry) -> str:
        return f"access-list {acl} extended {entry.body(wildcard=False)}"

    def _entries(self, ctx: Context[AclEntriesParams]) -> list[Entry]:
        if ctx.syntax == "asa":
            return asa_entries(ctx.running, ctx.params.acl)
        return ios_entries(ctx.running, ctx.params.acl)

    def _find(self, ctx: Context[AclEntriesParams], entries: list[Entry], entry: AclEntry) -> Entry | None:
        """The running entry that ``entry`` names (its text; and its number when given)."""
        wanted = ("extended " if ctx.syntax == "asa" else "") + entry.body(wildcard=ctx.syntax != "asa")
        for e in entries:
            if squeeze(e.text) == wanted and (entry.sequence is None or ctx.syntax == "asa"
                                              or e.number == entry.sequence):
                return e
        return None

    def _present(self, ctx: Context[AclEntriesParams], entry: AclEntry) -> bool:
        if ctx.syntax == "asa":
            return has_line(ctx.running, self._asa_line(ctx.params.acl, entry))
        body = entry.body(wildcard=True)
        return any(e.text == body for e in ios_entries(ctx.running, ctx.params.acl))

    def placements(self, ctx: Context[AclEntriesParams]) -> list[Placed]:
        """Where each entry to add goes, once the step's removals are typed (raises
        :class:`~netchange.tasks._sequence.PlacementError`)."""
        entries = self._entries(ctx)
        removed = {found.number for e in ctx.params.remove if (found := self._find(ctx, entries, e)) is not None}
        kept = [e for e in entries if e.number not in removed]
        if ctx.syntax == "asa":
            kept = [Entry(i + 1, e.text) for i, e in enumerate(kept)]  # the lines after them move up
        shape = ASA_LIST if ctx.syntax == "asa" else IOS_LIST
        return place(kept, [(e, e.sequence) for e in ctx.params.add], shape)

    def pre_checks(self, ctx: Context[AclEntriesParams]) -> list[CheckResult]:
        acl = ctx.params.acl
        exists = (
            any(line.startswith(f"access-list {acl} ") for line in ctx.running.splitlines())
            if ctx.syntax == "asa"
            else has_section(ctx.running, f"ip access-list extended {acl}")
        )
        checks = [check(f"access list {acl} exists", exists)]
        if not exists:
            return checks
        entries = self._entries(ctx)
        checks += [check(f"entry to remove is present: {e.body(wildcard=True)}",
                         self._find(ctx, entries, e) is not None) for e in ctx.params.remove]
        checks += [check(f"entry to add is absent: {e.body(wildcard=True)}", not self._present(ctx, e))
                   for e in ctx.params.add]
        if ctx.params.add:
            if ctx.syntax == "asa" and any(e.sequence is not None for e in ctx.params.add):
                checks.append(check("ASA entries placed by position, before or after", False,
                                    "an ASA access-list has no sequence numbers, only lines: give position, "
                                    "before or after instead of sequence"))
                return checks
            kind = "line" if ctx.syntax == "asa" else "sequence"
            added = ctx.params.add
            checks += placement_checks(
                lambda: self.placements(ctx), acl,
                lambda i, p: f"placed at {kind} {p.number}: {added[i].body(wildcard=True)}")
        if ctx.syntax == "ios" and entries and not _numbered(ctx.running, acl):
            checks.append(ctx.device_check(f"the device numbers {acl} 10, 20, … in order",
                                           lambda: _numbers_agree(ctx, entries)))
        return checks

    def render(self, ctx: Context[AclEntriesParams]) -> str:
        """The entries with the numbers that place them (removals first, then additions in the
        order the device needs: by line on ASA, where each insertion moves the lines after it)."""
        entries = self._entries(ctx)
        removals = [found for e in ctx.params.remove if (found := self._find(ctx, entries, e)) is not None]
        additions = sorted(zip(ctx.params.add, self.placements(ctx), strict=True), key=lambda pair: pair[1].number)
        return render_template(f"{self.name}/{ctx.syntax}.j2", templates=self.template_package(), p=ctx.params,
                               host=ctx, removals=removals, additions=additions)

    def post_checks(self, ctx: Context[AclEntriesParams]) -> list[CheckResult]:
        return [check(f"added: {e.body(wildcard=True)}", self._present(ctx, e)) for e in ctx.params.add] + [
            check(f"removed: {e.body(wildcard=True)}", not self._present(ctx, e)) for e in ctx.params.remove
        ]


def _numbered(running: str, acl: str) -> bool:
    return any(_NUMBERED.match(line) for line in section(running, f"ip access-list extended {acl}"))


_SHOWN_ENTRY = re.compile(r"^\s+(\d+)\s+(?:permit|deny)\b")


def _numbers_agree(ctx: Context[AclEntriesParams], entries: list[Entry]) -> CheckResult:
    """Classic IOS does not print the numbers: the device's own (``show ip access-lists``) must be
    the ones the order implies, or the numbers typed would land elsewhere (or be refused)."""
    acl = ctx.params.acl
    answer = ctx.show(f"show ip access-lists {acl}")
    shown = [int(m.group(1)) for line in answer.splitlines() if (m := _SHOWN_ENTRY.match(line)) is not None]
    agree = shown == [e.number for e in entries]
    if agree:
        detail = ""
    elif not shown:
        first = next((line.strip() for line in answer.splitlines() if line.strip()), "nothing")
        detail = f"show ip access-lists {acl} lists no entry (it answered: {first[:80]})"
    else:
        detail = (f"the device numbers it {', '.join(map(str, shown[:8]))}{' …' if len(shown) > 8 else ''}: "
                  f"renumber it first (ip access-list resequence {acl} 10 10)")
    return check(f"the device numbers {acl} 10, 20, … in order", agree, detail)
