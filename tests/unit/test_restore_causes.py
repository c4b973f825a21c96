"""A restore's alarm says what happened (issue 21 items 2 and 5).

- Someone else's lines are told from the change's own structurally: the separators a device
  prints around its blocks (IOS ``!``, FRR ``exit``) are never "changed by someone else"
  (the IOS recover bug: ``+!`` blamed on a colleague, the switch left with the change).
- Each way a device can fail has its own cause and words: not answering (a device or a daemon),
  session lost, an unreadable answer, a refused command, lines changed by someone else (with who,
  from IOS's change log, where the device keeps one); the journal keeps the cause, the terminal,
  the tracking sheet and the mail say it alike.
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from netmiko.exceptions import ReadTimeout

from netchange.apply import restore_events
from netchange.cli.jsonface import restore_out
from netchange.drivers.errors import (
    AnswerUnreadable,
    ChangedMeanwhile,
    CommandRefused,
    FailureCause,
    NotAnswering,
    OpenFailed,
    ReplaceRejected,
    SessionClosed,
    cause_of,
)
from netchange.drivers.ios_cli import IosCliDriver
from netchange.failpoints import InjectedFault
from netchange.journal import Event
from netchange.notify.notices import _alarms
from netchange.report.sheet import _brief
from netchange.rollback import alarm_text, config_changes, foreign_lines, restore_host
from netchange.rollback.restore import authors, parse_archive_log

# What a lab switch (fake-switches, ios_cli) prints, as read by the driver before the change.
IOS_SNAPSHOT = """\
Building configuration...

Current configuration : 612 bytes
!
version 12.1
!
hostname sw-doif-core1
!
!
vlan 1
!
vlan 10
 name users
!
vlan 20
 name servers
!
interface FastEthernet0/1
 switchport access vlan 10
!
interface FastEthernet0/2
 description uplink
 switchport mode trunk
!
interface Vlan10
 ip address 10.201.1.1 255.255.255.0
!
ip route 0.0.0.0 0.0.0.0 10.201.0.254
!
end
"""

# The same switch once VLAN 30 is committed: the switch prints the block in its place, with
# its own closing "!".
IOS_WITH_VLAN30 = IOS_SNAPSHOT.replace(
    "interface FastEthernet0/1\n", "vlan 30\n name backup\n!\ninterface FastEthernet0/1\n").replace(
    "612 bytes", "640 bytes")

# The plan's diff for that host (hier_config through drivers/ios_cli.diff_configs).
VLAN30_DIFF = "+vlan 30\n+ name backup\n"


def ios() -> IosCliDriver:
    return IosCliDriver("sw-doif-core1", "netops", "pw")


# -- the IOS recover bug: "+!" was taken for someone else's line -----------------------------------

def test_the_separators_ios_prints_are_not_someone_elses_lines() -> None:
    assert foreign_lines(ios(), IOS_WITH_VLAN30, IOS_SNAPSHOT, diff=VLAN30_DIFF) == []


def test_the_old_line_diff_saw_the_closing_bang_as_foreign() -> None:
    # The comparison recover used before (a line diff against the plan's lines) on the same text.
    from netchange.rollback.restore import changed_lines

    driver = ios()
    lines = changed_lines(driver.normalize_config(IOS_SNAPSHOT), driver.normalize_config(IOS_WITH_VLAN30))
    own = {("+", "vlan 30"), ("+", "name backup")}
    assert [x for x in lines if (x[0], x[1:].strip()) not in own] == ["+!"]


def test_a_line_someone_else_added_is_still_named_with_its_place() -> None:
    now = IOS_WITH_VLAN30.replace(" description uplink\n", " description uplink\n shutdown\n") + ""
    now = now.replace("ip route 0.0.0.0", "vlan 99\n name rogue\n!\nip route 0.0.0.0")
    assert foreign_lines(ios(), now, IOS_SNAPSHOT, diff=VLAN30_DIFF) == ["+ shutdown", "+vlan 99", "+ name rogue"]


def test_a_line_the_plan_has_elsewhere_is_not_the_changes_own() -> None:
    # "name backup" under another VLAN is not the plan's line: the place counts, not the text.
    now = IOS_WITH_VLAN30.replace("vlan 20\n name servers\n", "vlan 20\n name backup\n")
    assert foreign_lines(ios(), now, IOS_SNAPSHOT, diff=VLAN30_DIFF) == ["- name servers", "+ name backup"]


ACL_SNAPSHOT = """\
hostname sw-doif-core1
!
ip access-list extended MGMT
 permit tcp 10.0.0.0 0.0.0.255 any eq 22
 deny   ip any any log
!
end
"""


def test_an_entry_typed_at_its_number_is_the_changes_own_though_the_device_prints_none() -> None:
    # Classic IOS prints a named ACL's entries without their sequence numbers; the plan types the
    # entry at its number (issue 22 item 2). A recover after a crash between the commit and its
    # record must still see it as the change's own (a false alarm fails the recover).
    diff = " ip access-list extended MGMT\n+ 15 permit tcp 10.0.1.0 0.0.0.255 any eq 22\n"
    now = ACL_SNAPSHOT.replace(" deny", " permit tcp 10.0.1.0 0.0.0.255 any eq 22\n deny")
    assert foreign_lines(ios(), now, ACL_SNAPSHOT, diff=diff) == []
    # ... and an entry someone else added in the same list is still theirs, named
    rogue = now.replace(" deny", " permit ip any any\n deny")
    assert foreign_lines(ios(), rogue, ACL_SNAPSHOT, diff=diff) == ["+ permit ip any any"]


def test_an_asa_line_typed_at_its_place_is_the_changes_own() -> None:
    snapshot = ("access-list OUT extended permit tcp any host 192.0.2.10 eq 443\n"
                "access-list OUT extended deny ip any any\n")
    now = ("access-list OUT extended permit tcp any host 192.0.2.10 eq 443\n"
           "access-list OUT extended permit tcp any host 192.0.2.11 eq 443\naccess-list OUT extended deny ip any any\n")
    diff = "+access-list OUT line 2 extended permit tcp any host 192.0.2.11 eq 443\n"
    assert foreign_lines(ios(), now, snapshot, diff=diff) == []


def test_with_the_state_the_change_left_every_difference_is_foreign() -> None:
    now = IOS_WITH_VLAN30.replace("vlan 30\n name backup\n!\n", "vlan 30\n name backup\n!\nvlan 31\n!\n")
    assert foreign_lines(ios(), now, IOS_SNAPSHOT, after=IOS_WITH_VLAN30) == ["+vlan 31"]


FRR_SNAPSHOT = """\
Building configuration...

Current configuration:
!
frr version 8.4.4
frr defaults traditional
hostname r1
!
interface eth0
 ip address 10.0.12.1/24
exit
!
end
"""

FRR_WITH_OSPF = FRR_SNAPSHOT.replace(
    "!\nend\n", "!\nrouter ospf\n ospf router-id 10.0.0.1\n network 10.0.12.0/24 area 0\nexit\n!\nend\n")


def test_frr_exit_and_bang_are_block_ends_not_lines() -> None:
    diff = "+router ospf\n+ ospf router-id 10.0.0.1\n+ network 10.0.12.0/24 area 0\n"
    assert [(s, p) for s, p, _ in config_changes(FRR_SNAPSHOT, FRR_WITH_OSPF)] == [
        ("+", ("router ospf",)), ("+", ("router ospf", "ospf router-id 10.0.0.1")),
        ("+", ("router ospf", "network 10.0.12.0/24 area 0"))]

    class Plain:  # a NAPALM driver: the text stripped is its normal form
        pass

    assert foreign_lines(Plain(), FRR_WITH_OSPF, FRR_SNAPSHOT, diff=diff) == []


def test_nft_rules_live_in_their_table_and_chain() -> None:
    before = "table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n\t}\n}\n"
    after = before.replace("policy drop;\n", "policy drop;\n\t\tip saddr 10.0.0.0/8 accept\n")
    diff = " table inet filter {\n \tchain forward {\n+\t\tip saddr 10.0.0.0/8 accept\n"
    assert foreign_lines(object(), after, before, diff=diff) == []
    assert foreign_lines(object(), after, before, diff="+\t\tip saddr 10.0.0.0/8 accept\n") == [
        "+\t\tip saddr 10.0.0.0/8 accept"]


# -- the causes -------------------------------------------------------------------------------------

class Device:
    """A driver faked to fail one way: ``read``/``write`` raise what is given; the device's state
    is ``running`` (``None``: the restore writes the snapshot)."""

    def __init__(self, running: str, *, read: BaseException | None = None, write: BaseException | None = None,
                 sticks: bool = True, archive: str | None = None) -> None:
        self.running, self.read, self.write, self.sticks, self.archive = running, read, write, sticks, archive
        self.candidate = ""

    def get_config(self, retrieve: str = "all", **_: Any) -> dict[str, str]:
        if self.read is not None:
            raise self.read
        return {"running": self.running}

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        if self.archive is None:
            raise CommandRefused("not a read-only command on this platform")
        return {commands[0]: self.archive}

    def rollback(self) -> None:
        raise NotImplementedError

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self.candidate = config or ""

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if self.write is not None:
            raise self.write
        if self.sticks:
            self.running = self.candidate


SNAP = "hostname sw1\n!\nvlan 10\n name users\n!\n"
CHANGED = SNAP + "vlan 20\n name servers\n!\n"
DIFF = "+vlan 20\n+ name servers\n"


def _read_timeout() -> SessionClosed:
    try:
        try:
            raise ReadTimeout("Pattern not detected: 'sw1#' in output")
        except ReadTimeout as exc:
            raise SessionClosed("sw1: session lost: ReadTimeout") from exc
    except SessionClosed as translated:
        return translated


def _bad_json() -> json.JSONDecodeError:
    try:
        json.loads("")
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError


@pytest.mark.parametrize(("device", "cause"), [
    (Device(CHANGED, read=TimeoutError("timed out")), FailureCause.NOT_ANSWERING),
    (Device(CHANGED, read=NotAnswering("r1: bgpd is not running")), FailureCause.NOT_ANSWERING),
    (Device(CHANGED, read=OpenFailed("sw1: connection refused")), FailureCause.NOT_ANSWERING),
    (Device(CHANGED, read=_read_timeout()), FailureCause.NOT_ANSWERING),
    (Device(CHANGED, read=SessionClosed("sw1: session lost: EOFError")), FailureCause.SESSION_LOST),
    (Device(CHANGED, read=InjectedFault("fail point")), FailureCause.SESSION_LOST),
    (Device(CHANGED, read=EOFError()), FailureCause.SESSION_LOST),
    (Device(CHANGED, read=_bad_json()), FailureCause.UNREADABLE),
    (Device(CHANGED, read=AnswerUnreadable("r1: not JSON")), FailureCause.UNREADABLE),
    (Device(CHANGED, write=ReplaceRejected("% Invalid input detected")), FailureCause.REFUSED),
    (Device(CHANGED, write=ChangedMeanwhile("sw1: changed meanwhile", ("+vlan 99",))),
     FailureCause.CHANGED_BY_OTHERS),
    (Device(CHANGED, sticks=False), FailureCause.NOT_AS_SNAPSHOT),
    (Device(CHANGED + "vlan 99\n!\n"), FailureCause.CHANGED_BY_OTHERS),
    (Device(CHANGED, write=KeyError("surprise")), FailureCause.FAILED),
], ids=lambda v: v.value if isinstance(v, FailureCause) else "")
def test_each_failure_has_its_own_cause_and_words(device: Device, cause: FailureCause) -> None:
    report = restore_host(device, SNAP, inverse_first=False, diff=DIFF)  # type: ignore[arg-type]
    assert not report.verified
    assert report.cause is cause
    assert report.errors[-1].startswith(cause.says)
    if cause is not FailureCause.CHANGED_BY_OTHERS:
        assert "someone else" not in " ".join(report.errors)
    # The journal keeps the cause; the sheet and the mail say it in the same words.
    failed = restore_events("sw1", report)[-1]
    assert failed.kind == "rollback_failed" and failed.data["cause"] == cause.value
    assert alarm_text(failed.data).startswith(cause.says)
    # --json gives it too, as a value a script branches on (issue 21 item 5).
    shown = json.loads(restore_out(report).model_dump_json())
    assert shown["cause"] == cause.value and shown["causes"][-1] == cause.value
    assert len(shown["causes"]) == len(shown["errors"])


def test_the_words_differ_for_every_cause() -> None:
    assert len({c.says for c in FailureCause}) == len(FailureCause)


def test_a_verified_restore_has_no_cause() -> None:
    report = restore_host(Device(CHANGED), SNAP, inverse_first=False, diff=DIFF)  # type: ignore[arg-type]
    assert report.verified and report.cause is None
    assert restore_out(report).cause is None


def test_a_daemon_down_reads_as_not_answering_not_as_someone_elses_change() -> None:
    # What the FRR driver raises when vtysh answers without a daemon's part (bgpd died).
    assert cause_of(NotAnswering("r1: bgpd is not running: its part of the configuration is missing")) \
        is FailureCause.NOT_ANSWERING


# -- who changed it: IOS's configuration change log ---------------------------------------------

# `show archive log config all` as IOS 15 prints it (recorded; fake-switches has no such command).
ARCHIVE = """\
 idx   sess           user@line      Logged command
    1     1        console@console  |  logging enable
    2     2          admin@vty0     |vlan 10
    3     2          admin@vty0     | name users
    4     3         jdupont@vty1    |vlan 99
    5     3         jdupont@vty1    | name rogue
    6     4          admin@vty0     |no ip domain-lookup
"""


def test_the_change_log_is_parsed_and_names_who_typed_each_line() -> None:
    entries = parse_archive_log(ARCHIVE)
    assert [(e.index, e.user, e.line, e.command) for e in entries][2:4] == [
        (3, "admin", "vty0", "name users"), (4, "jdupont", "vty1", "vlan 99")]
    assert authors(["+vlan 99", "-ip domain-lookup"], entries) == [
        "jdupont@vty1 (session 3, entry 4): +vlan 99", "admin@vty0 (session 4, entry 6): -ip domain-lookup"]


def test_the_alarm_names_who_where_the_device_records_it_and_says_so_where_not() -> None:
    named = restore_host(Device(CHANGED + "vlan 99\n name rogue\n!\n", archive=ARCHIVE), SNAP,  # type: ignore[arg-type]
                         inverse_first=False, diff=DIFF)
    assert named.who == ["jdupont@vty1 (session 3, entry 4): +vlan 99",
                         "jdupont@vty1 (session 3, entry 5): + name rogue"]
    assert "jdupont@vty1" in named.errors[0]
    assert restore_events("sw1", named)[-1].data["who"] == named.who
    # fake-switches answers "% Invalid input" to the command: no log, and the alarm says so.
    unknown = restore_host(Device(CHANGED + "vlan 99\n!\n", archive="% Invalid input detected at '^' marker.\n"),  # type: ignore[arg-type]
                           SNAP, inverse_first=False, diff=DIFF)
    assert unknown.who == ["who and when: not recorded by this device (no configuration change log)"]
    refused = restore_host(Device(CHANGED + "vlan 99\n!\n"), SNAP, inverse_first=False, diff=DIFF)  # type: ignore[arg-type]
    assert refused.who == ["who and when: not recorded by this device"]


# -- the tracking sheet and the mail --------------------------------------------------------------

def _event(seq: int, kind: str, host: str | None = None, data: dict[str, Any] | None = None) -> Event:
    return Event(seq=seq, change_id="CHG-2026-0103", at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), kind=kind,
                 actor="dnguyen", host=host, data=data or {}, hash="")


def test_the_sheet_and_the_mail_say_what_happened() -> None:
    down = {"cause": "not_answering", "errors": ["the device (or one of its daemons) is not answering: "
                                                 "read before restore: NotAnswering: r1: bgpd is not running"],
            "foreign": []}
    events = [_event(1, "apply_started"), _event(2, "rollback_failed", "r1", down),
              _event(3, "rollback_verified", "sw1"), _event(4, "state", data={"to": "failed"})]
    assert _brief(events[1]) == "ALARM — " + down["errors"][0]
    assert "someone else" not in _brief(events[1])
    ctx = SimpleNamespace(change=SimpleNamespace(id="CHG-2026-0103"), event=events[3],
                          journal=SimpleNamespace(events=lambda _id: events))
    assert _alarms(ctx) == ("r1: ALARM — " + down["errors"][0],)  # type: ignore[arg-type]


def test_an_alarm_journaled_before_causes_reads_as_it_did() -> None:
    old = {"errors": ["changed by someone else since the change, not restored: +vlan 9"], "foreign": ["+vlan 9"]}
    assert alarm_text(old) == old["errors"][0]
