"""Sequenced lists done right (issue 22, finding and item 2): ACLs, prefix-lists, route-maps.

An entry's place is what it does. Before this, ``acl_entries`` without a sequence planned
``+ 10 permit …`` into an ACL whose entry 10 existed (hier_config numbers a candidate's
unnumbered entries from 10): the device refuses it, or, unnumbered, appends it after
``deny ip any any`` where it never matches. Now every entry added is typed with the number that
puts it where the request says, the diff shows that number, and a placement that cannot be
honoured is a failed pre-check.

Planned on real configurations of the corpus (``tests/corpus/SOURCES.yaml``): IOS 15.2 routers of
Batfish's lab-validation (ACLs ending with ``deny ip any any``, printed without sequence numbers
as classic IOS does), an ASA 9.0 policy (ciscoconfparse) and FRR's own topotests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from netchange.changetype import Context, get_change_type
from netchange.plan._places import CHECK_NAME as PLACES
from netchange.plan._places import place_check, places
from netchange.tasks._sequence import (
    Entry,
    ListShape,
    Placement,
    PlacementError,
    acl_catch_all,
    place,
    prefix_catch_all,
    route_map_catch_all,
)
from netchange.testing import StoredDevice, assert_pre_checks, host_plan, plan_change, plan_step
from netchange.vocabulary import Role

CORPUS = Path(__file__).parents[1] / "corpus"
IOS = ListShape("sequence", acl_catch_all)
LINES = ListShape("line", acl_catch_all, counted=True)


def entries(*pairs: tuple[int, str]) -> list[Entry]:
    return [Entry(n, t) for n, t in pairs]


EDGE = entries((10, "permit tcp any host 10.1.1.5 eq 22"), (20, "permit udp any any eq 53"),
               (30, "deny ip any any log"))


def numbers(wanted: list[Placement], listed: list[Entry] = EDGE, shape: ListShape = IOS) -> list[int]:
    return [p.number for p in place(listed, [(w, None) for w in wanted], shape)]


# -- where an entry goes, and its number ---------------------------------------------------------------


def test_an_entry_without_placement_goes_before_the_final_deny_with_a_free_number() -> None:
    assert numbers([Placement()]) == [25]
    assert numbers([Placement(), Placement()]) == [23, 26]  # spread over the gap, in request order
    placed = place(EDGE, [(Placement(), None)], IOS)[0]
    assert placed.where == "before sequence 30 deny ip any any log"


def test_without_a_final_deny_it_goes_last_with_the_devices_increment() -> None:
    assert numbers([Placement()], EDGE[:2]) == [30]
    assert numbers([Placement()], []) == [10]


def test_position_before_and_after_name_the_place() -> None:
    assert numbers([Placement(position=1)]) == [5]
    assert numbers([Placement(position=2)]) == [15]
    assert numbers([Placement(after=10)]) == [15]
    assert numbers([Placement(before=20)]) == [15]
    assert numbers([Placement(after="permit   udp any any eq 53")]) == [25]  # blanks as classic IOS pads them


@pytest.mark.parametrize(("wanted", "explicit", "says"), [
    (Placement(), 20, "sequence 20 is taken (sequence 20 permit udp any any eq 53)"),
    (Placement(), 40, "sequence 40 comes after sequence 30 deny ip any any log and would never match"),
    (Placement(position=4), None, "after sequence 30 deny ip any any log and never match"),
    (Placement(after=30), None, "never match"),
    (Placement(position=9), None, "position 9 is past the end of the list (3 entries: 4 is the last place)"),
    (Placement(after=15), None, "no sequence 15 in the list"),
    (Placement(before="permit icmp any any"), None, "no entry 'permit icmp any any' in the list"),
])
def test_a_placement_that_cannot_be_honoured_says_why(wanted: Placement, explicit: int | None, says: str) -> None:
    with pytest.raises(PlacementError, match=re.escape(says)):
        place(EDGE, [(wanted, explicit)], IOS)


def test_a_full_gap_asks_for_a_renumbering() -> None:
    tight = entries((10, "permit ip host 10.0.0.1 any"), (11, "deny ip any any"))
    with pytest.raises(PlacementError, match="no free sequence between 10 and 11 for 1 entry: renumber"):
        place(tight, [(Placement(), None)], IOS)


def test_counted_lines_shift_as_entries_are_inserted() -> None:
    """ASA lines are positions: an entry inserted at line 1 moves every later line down."""
    asa = entries((1, "remark web"), (2, "extended permit tcp any host 10.1.1.10 eq 443"),
                  (3, "extended deny ip any any log"))
    assert numbers([Placement(), Placement(position=1)], asa, LINES) == [4, 1]
    with pytest.raises(PlacementError, match="no numbers of their own"):
        place(asa, [(Placement(), 7)], LINES)


def test_catch_all_entries() -> None:
    assert acl_catch_all("deny   ip any any") and acl_catch_all("extended deny ip any4 any4 log")
    assert not acl_catch_all("deny tcp any any") and not acl_catch_all("deny ip host 1.1.1.1 any")
    assert prefix_catch_all("deny any") and prefix_catch_all("deny 0.0.0.0/0 le 32")
    assert not prefix_catch_all("deny 10.0.0.0/8 le 32")
    assert route_map_catch_all("deny") and not route_map_catch_all("deny; match interface notpresent")


# -- acl_entries on real configurations ----------------------------------------------------------------

NEW = {"action": "permit", "protocol": "tcp", "source": "10.0.0.0/8", "destination": "2.128.1.10/32", "port": 443}


def device(path: str, name: str = "r1", **facts: Any) -> StoredDevice:
    return StoredDevice.from_file(CORPUS / path, name=name, **facts)


def test_finding_2_a_new_entry_never_takes_an_existing_number_and_lands_before_the_final_deny() -> None:
    """lv_as2dept1 (IOS 15.2): RESTRICT_HOST_TRAFFIC_OUT is 10 permit, 20 deny, 30 deny ip any any."""
    dept = device("ios/lv_as2dept1.ios", role="router")
    plan = plan_step("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [NEW]}, [dept])
    h = host_plan(plan)
    assert h.ok, h.error
    assert h.diff == (" ip access-list extended RESTRICT_HOST_TRAFFIC_OUT\n"
                      "+ 25 permit tcp 10.0.0.0 0.255.255.255 host 2.128.1.10 eq 443\n")
    assert h.rollback is not None
    assert "no 25 permit tcp 10.0.0.0 0.255.255.255 host 2.128.1.10 eq 443" in h.rollback.lines
    assert_pre_checks(plan, passed=["placed at sequence 25: permit tcp 10.0.0.0 0.255.255.255 host 2.128.1.10 eq 443",
                                    "the device numbers RESTRICT_HOST_TRAFFIC_OUT 10, 20, … in order"])
    placed = next(c for c in h.pre_checks if c.name.startswith("placed at"))
    assert placed.detail == "before sequence 30 deny ip any any"


def test_as_ios_xe_prints_the_numbers_they_are_the_ones_read() -> None:
    """The same ACL with the numbers IOS-XE prints (here after a renumbering by 100)."""
    text = (CORPUS / "ios/lv_as2dept1.ios").read_text(encoding="utf-8")
    numbered = text.replace(" permit ip any 2.128.0.0 0.0.255.255", " 100 permit ip any 2.128.0.0 0.0.255.255")
    numbered = numbered.replace(" deny   ip 1.128.0.0", " 200 deny ip 1.128.0.0")
    numbered = numbered.replace(" deny   ip any any\n!\naccess-list 102", " 300 deny ip any any\n!\naccess-list 102")
    assert " 300 deny ip any any" in numbered
    plan = plan_step("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [{**NEW, "after": 100}]},
                     [StoredDevice("r1", numbered, role="router")])
    h = host_plan(plan)
    assert h.ok, h.error
    assert "+ 150 permit tcp 10.0.0.0 0.255.255.255 host 2.128.1.10 eq 443" in h.diff.splitlines()
    assert all(c.name != "the device numbers RESTRICT_HOST_TRAFFIC_OUT 10, 20, … in order" for c in h.pre_checks)


def test_a_removal_is_typed_by_its_number_so_its_rollback_puts_it_back_in_place() -> None:
    dept = device("ios/lv_as2dept1.ios")
    gone = {"action": "deny", "protocol": "ip", "source": "1.128.0.0/16", "destination": "2.128.0.0/16"}
    h = host_plan(plan_step("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "remove": [gone]}, [dept]))
    assert h.ok, h.error
    assert h.diff.splitlines()[1] == "- 20 deny ip 1.128.0.0 0.0.255.255 2.128.0.0 0.0.255.255"
    assert h.rollback is not None
    assert " 20 deny ip 1.128.0.0 0.0.255.255 2.128.0.0 0.0.255.255" in h.rollback.lines.splitlines()


@pytest.mark.parametrize(("extra", "failed", "detail"), [
    ({"sequence": 20}, "entries placed in INSIDE_TO_AS1", "sequence 20 is taken"),
    ({"position": 4}, "entries placed in INSIDE_TO_AS1", "never match"),
    ({"sequence": 40}, "entries placed in INSIDE_TO_AS1", "would never match"),
])
def test_a_taken_number_or_a_dead_place_is_a_failed_pre_check(extra: dict[str, Any], failed: str,
                                                               detail: str) -> None:
    """lv_as2border1 (IOS 15.2): INSIDE_TO_AS1 is 10 permit, 20 permit, 30 deny ip any any."""
    border = device("ios/lv_as2border1.ios", name="as2border1", role="router")
    plan = plan_step("acl_entries", {"acl": "INSIDE_TO_AS1", "add": [{**NEW, **extra}]}, [border])
    h = host_plan(plan)
    assert not h.ok and h.diff == ""
    assert_pre_checks(plan, failed=[failed])
    assert detail in next(c.detail for c in h.pre_checks if c.name == failed)


def test_live_the_devices_own_numbers_must_be_the_order_s() -> None:
    """Classic IOS does not print the numbers: after an insertion at 15 without a reload, its
    entries are 10, 15, 20, 30 where the text suggests 10, 20, 30, 40."""
    shown = ("Extended IP access list INSIDE_TO_AS1\n    10 permit ip 2.0.0.0 0.255.255.255 1.0.0.0 0.255.255.255\n"
             "    15 permit ip host 10.12.11.2 host 10.12.11.1\n    20 deny ip any any\n")
    border = device("ios/lv_as2border1.ios", role="router", show={"show ip access-lists INSIDE_TO_AS1": shown})
    plan = plan_step("acl_entries", {"acl": "INSIDE_TO_AS1", "add": [NEW]}, [border])
    assert_pre_checks(plan, failed=["the device numbers INSIDE_TO_AS1 10, 20, … in order"])
    detail = next(c.detail for c in host_plan(plan).pre_checks if c.name.startswith("the device numbers"))
    assert "10, 15, 20" in detail and "ip access-list resequence INSIDE_TO_AS1 10 10" in detail


def test_asa_lines_place_the_entry_before_the_final_deny() -> None:
    """ciscoconfparse sample_01 (ASA 9.0): OUTSIDE_in ends with deny ip any4 any4 log (line 4)."""
    fw = device("asa/ciscoconfparse_sample_01.asa", name="fw1", platform="asa_cli", role="firewall")
    entry = {"action": "permit", "protocol": "tcp", "source": "any", "destination": "192.0.2.10/32", "port": 443}
    h = host_plan(plan_step("acl_entries", {"acl": "OUTSIDE_in", "add": [entry]}, [fw]))
    assert h.ok, h.error
    assert h.diff == "+access-list OUTSIDE_in line 4 extended permit tcp any host 192.0.2.10 eq 443\n"
    first = host_plan(plan_step("acl_entries", {"acl": "OUTSIDE_in", "add": [{**entry, "position": 1}]}, [fw]))
    assert first.diff == "+access-list OUTSIDE_in line 1 extended permit tcp any host 192.0.2.10 eq 443\n"
    numbered = plan_step("acl_entries", {"acl": "OUTSIDE_in", "add": [{**entry, "sequence": 5}]}, [fw])
    assert_pre_checks(numbered, failed=["ASA entries placed by position, before or after"])


def test_one_placement_per_entry_and_none_on_a_removal() -> None:
    kind = get_change_type("acl_entries")
    with pytest.raises(ValueError, match="give one of sequence, position, before, after"):
        kind.validate({"acl": "A", "add": [{**NEW, "sequence": 10, "position": 1}]})
    with pytest.raises(ValueError, match="remove: an entry to remove has no position"):
        kind.validate({"acl": "A", "remove": [{**NEW, "after": 10}]})


# -- prefix-lists and route-maps (FRR's own topotests configuration) -------------------------------------

FRR_BGPD = (CORPUS / "frr/topotests_all_protocol_startup_bgpd.conf").read_text(encoding="utf-8")


def frr_context(type_name: str, params: dict[str, Any], running: str = FRR_BGPD) -> tuple[Any, Context[Any]]:
    kind = get_change_type(type_name)
    ctx = Context(host="r1", platform="frr", syntax="frr", role=Role.ROUTER, site="doif", data={},
                  params=kind.validate(params), driver=None, running=running)  # type: ignore[arg-type]
    return kind, ctx


def test_a_prefix_list_entry_without_seq_gets_a_free_one() -> None:
    kind, ctx = frr_context("prefix_list", {"name": "bgp-filter-v4", "add": [
        {"action": "permit", "prefix": "192.168.1.0/24"}, {"action": "permit", "prefix": "192.168.2.0/24",
                                                          "position": 1}]})
    assert all(c.passed for c in kind.pre_checks(ctx))
    assert kind.render(ctx).splitlines() == ["ip prefix-list bgp-filter-v4 seq 2 permit 192.168.2.0/24",
                                             "ip prefix-list bgp-filter-v4 seq 10 permit 192.168.1.0/24"]


def test_a_prefix_list_seq_that_frr_would_overwrite_is_refused() -> None:
    kind, ctx = frr_context("prefix_list", {"name": "bgp-filter-v4", "add": [
        {"seq": 5, "action": "deny", "prefix": "10.0.0.0/8"}]})
    failed = [c for c in kind.pre_checks(ctx) if not c.passed]
    assert [c.detail for c in failed] == ["seq 5 is taken (seq 5 permit 192.168.0.0/24)"]


def test_a_prefix_list_entry_goes_before_a_final_deny_any() -> None:
    running = "ip prefix-list IN seq 5 permit 10.0.0.0/8\nip prefix-list IN seq 10 deny any\n"
    kind, ctx = frr_context("prefix_list", {"name": "IN", "add": [{"action": "permit", "prefix": "192.0.2.0/24"}]},
                            running)
    assert kind.render(ctx).strip() == "ip prefix-list IN seq 7 permit 192.0.2.0/24"


def test_a_route_map_entry_goes_before_a_final_deny_and_after_the_last_otherwise() -> None:
    kind, ctx = frr_context("route_map", {"name": "bgp-map", "add": [{"action": "permit", "set_metric": 5}]})
    assert kind.render(ctx).splitlines()[0] == "route-map bgp-map permit 30"
    running = FRR_BGPD + "route-map bgp-map deny 100\n!\n"
    kind, ctx = frr_context("route_map", {"name": "bgp-map", "add": [{"action": "permit", "set_metric": 5}]}, running)
    assert kind.render(ctx).splitlines()[0] == "route-map bgp-map permit 60"
    kind, ctx = frr_context("route_map", {"name": "bgp-map", "add": [{"seq": 20, "action": "permit"}]})
    assert [c.detail for c in kind.pre_checks(ctx) if not c.passed] == ["seq 20 is taken (seq 20 permit)"]


ASA_OUTSIDE_IN = ("access-list OUTSIDE_in extended deny ip host 4.2.2.2 any4 log\n"
                  "access-list OUTSIDE_in extended permit icmp any4 0.0.0.0 0.0.0.0 unreachable log interval 1\n"
                  "access-list OUTSIDE_in extended permit icmp any4 0.0.0.0 0.0.0.0 time-exceeded log interval 1\n"
                  "access-list OUTSIDE_in extended deny ip any4 any4 log\n"
                  "access-group OUTSIDE_in in interface OUTSIDE\n")
"""OUTSIDE_in of ciscoconfparse's sample_01.asa (ASA 9.0) and its binding. The whole file cannot be
read by hier_config (its one-line ASA banners are read as IOS delimited ones): a known limit."""


def test_an_asa_line_put_back_by_a_rollback_goes_back_to_its_place() -> None:
    """A removed ASA line was re-added at the end of its list (after the final deny): the rollback
    did not restore the list, and the restore could not verify. It is typed at its line now."""
    fw = StoredDevice("fw1", ASA_OUTSIDE_IN, platform="asa_cli", role="firewall")
    gone = "access-list OUTSIDE_in extended deny ip host 4.2.2.2 any4 log"
    h = host_plan(plan_step("config_snippet", {"syntax": "asa", "lines": [f"no {gone}"]}, [fw]))
    assert h.ok, h.error
    assert h.diff == f"-{gone}\n"
    assert h.rollback is not None
    assert h.rollback.lines == "access-list OUTSIDE_in line 1 extended deny ip host 4.2.2.2 any4 log\n"
    # The last line of a list goes back last: appended, as typed before.
    last = "access-list OUTSIDE_in extended deny ip any4 any4 log"
    h = host_plan(plan_step("config_snippet", {"syntax": "asa", "lines": [f"no {last}"]}, [fw]))
    assert h.rollback is not None and h.rollback.lines == f"{last}\n"


def test_asa_removal_then_insertion_roll_back_to_the_same_order() -> None:
    running = ("access-list outside_in remark web\n"
               "access-list outside_in extended permit tcp any host 10.1.1.10 eq 443\n"
               "access-list outside_in extended permit udp any host 10.1.1.53 eq 53\n"
               "access-list outside_in extended deny ip any any log\n")
    fw = StoredDevice("fw1", running, platform="asa_cli", role="firewall")
    removed = {"action": "permit", "protocol": "tcp", "source": "any", "destination": "10.1.1.10/32", "port": 443}
    added = {"action": "permit", "protocol": "tcp", "source": "10.0.0.0/8", "destination": "10.1.1.6/32", "port": 443,
             "after": "extended permit udp any host 10.1.1.53 eq 53"}
    h = host_plan(plan_step("acl_entries", {"acl": "outside_in", "add": [added], "remove": [removed]}, [fw]))
    assert h.ok, h.error
    assert h.diff.splitlines() == [
        "-access-list outside_in extended permit tcp any host 10.1.1.10 eq 443",
        "+access-list outside_in line 3 extended permit tcp 10.0.0.0 255.0.0.0 host 10.1.1.6 eq 443"]
    assert h.rollback is not None
    assert h.rollback.lines.splitlines() == [
        "no access-list outside_in line 3 extended permit tcp 10.0.0.0 255.0.0.0 host 10.1.1.6 eq 443",
        "access-list outside_in line 2 extended permit tcp any host 10.1.1.10 eq 443"]
    # Replayed as an ASA keeps the list (insert at a line, remove by content, append otherwise):
    # the change gives the order asked for, its rollback the order the list had.
    listed = running.splitlines()
    after = asa_replay(listed, h.candidate.splitlines())
    assert after[2] == "access-list outside_in extended permit tcp 10.0.0.0 255.0.0.0 host 10.1.1.6 eq 443"
    assert asa_replay(after, h.rollback.lines.splitlines()) == listed


def asa_replay(listed: list[str], commands: list[str]) -> list[str]:
    """What an ASA does to its access-list lines with these commands (one list, lines from 1)."""
    out = list(listed)
    for command in filter(None, commands):
        negated = command.startswith("no ")
        m = re.match(r"^(?:no )?access-list (\S+) (?:line (\d+) )?(.*)$", command)
        assert m is not None, command
        line = f"access-list {m.group(1)} {m.group(3)}"
        if negated:
            out.remove(line)
        elif m.group(2):
            out.insert(int(m.group(2)) - 1, line)
        else:
            out.append(line)
    return out


@pytest.mark.parametrize(("platform", "answer"), [
    ("ios_cli", "% Duplicate sequence number"),
    ("asa_cli", "WARNING: <OUTSIDE_in> found duplicate element"),
])
def test_the_devices_refusal_of_a_taken_place_stops_the_commit(platform: str, answer: str) -> None:
    """What the device prints when a number or a line is taken is one of the profile's error
    strings: the driver stops the commit there and undoes what it sent (netmiko's error_pattern)."""
    from netchange.platforms import load_profile

    cli = load_profile(platform).cli
    assert cli is not None
    assert re.search(cli.error_pattern, f"R1(config-ext-nacl)#25 permit tcp any any eq 443\n{answer}\n")


# -- one place, one entry, across the steps of a change ----------------------------------------------------


def two_steps(type_name: str, first: dict[str, Any], second: dict[str, Any], host: str = "r1") -> dict[str, Any]:
    return {"id": "CHG-2026-0990", "title": "two steps on one list", "ticket": "T", "requester": "tester",
            "steps": [{"type": type_name, "targets": {"hosts": [host]}, "params": params}
                      for params in (first, second)]}


def test_two_steps_adding_to_one_acl_do_not_plan_one_number_twice() -> None:
    """Each step is placed against the same running configuration: both took sequence 25 (the
    device refuses the second, "% Duplicate sequence number"). The plan fails, naming the place
    and both entries; the same entries in one step are placed one after the other."""
    dept = device("ios/lv_as2dept1.ios", role="router")
    second = {**NEW, "port": 8443}
    plan = plan_change(two_steps("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [NEW]},
                                 {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [second]}), [dept])
    h = host_plan(plan)
    assert h.error == f"pre-check failed: {PLACES}"
    failed = next(c for c in h.pre_checks if c.name == PLACES)
    assert failed.detail.startswith("ip access-list extended RESTRICT_HOST_TRAFFIC_OUT: 25 is given to 2 entries "
                                    "(25 permit tcp 10.0.0.0 0.255.255.255 host 2.128.1.10 eq 443 | "
                                    "25 permit tcp 10.0.0.0 0.255.255.255 host 2.128.1.10 eq 8443)")
    assert "put these entries in one step" in failed.detail
    one = host_plan(plan_step("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [NEW, second]}, [dept]))
    assert one.ok, one.error
    added = [line.split()[1] for line in one.diff.splitlines() if line.startswith("+")]
    assert len(set(added)) == 2 and all(20 < int(n) < 30 for n in added)


def test_the_same_entry_added_by_two_steps_is_named_not_a_parser_error() -> None:
    """It was a host error, ``DuplicateChildError: Found a duplicate section``, from hier_config."""
    dept = device("ios/lv_as2dept1.ios", role="router")
    h = host_plan(plan_change(two_steps("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [NEW]},
                                        {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [NEW]}), [dept]))
    assert h.error == f"pre-check failed: {PLACES}"
    assert "25 is given to 2 entries" in next(c.detail for c in h.pre_checks if c.name == PLACES)


def test_two_steps_on_two_lists_pass_the_check() -> None:
    dept = device("ios/lv_as2dept1.ios", role="router")
    h = host_plan(plan_change(two_steps("acl_entries", {"acl": "RESTRICT_HOST_TRAFFIC_IN", "add": [NEW]},
                                        {"acl": "RESTRICT_HOST_TRAFFIC_OUT", "add": [NEW]}), [dept]))
    assert h.ok, h.error
    assert next(c for c in h.pre_checks if c.name == PLACES).passed


def test_the_places_a_device_types_entries_at() -> None:
    candidate = ("ip access-list extended A\n 25 permit ip any any\n 25 deny ip any any\n"
                 "ip access-list extended B\n 25 permit ip any any\n"
                 "ip prefix-list P seq 5 permit 10.0.0.0/8\nip prefix-list P seq 5 deny any\n"
                 "route-map M permit 20\n set metric 5\nroute-map M deny 20\n"
                 "access-list OUT line 3 extended permit tcp any any eq 22\n"
                 "access-list OUT line 3 extended permit tcp any any eq 443\n"
                 "access-list OUT line 4 extended permit tcp any any eq 80\n")
    taken = {key: len(lines) for key, lines in places(candidate).items()}
    assert taken == {("ip access-list extended A", 25): 2, ("ip access-list extended B", 25): 1,
                     ("ip prefix-list P", 5): 2, ("route-map M", 20): 2, ("access-list OUT", 3): 2,
                     ("access-list OUT", 4): 1}
    assert place_check("ip access-list extended B\n 25 permit ip any any\n").passed
