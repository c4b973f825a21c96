"""Another hand (issue 21 item 3) on the other lab platforms: nftables, HAProxy, BIND, NETCONF, IOS
CLI and the global load balancer, gdnsd (FRR and keepalived: ``test_another_hand.py``).

A colleague's edit, made by the device's own means (``nft add rule`` in the firewall's namespace,
HAProxy's runtime API, a TSIG-signed DNS UPDATE, a raw ncclient ``<edit-config>`` + ``<commit>``,
a plain netmiko session's ``vlan``), lands in-process between the candidate's load and the commit
(the driver's ``commit_config`` wrapped), or between a restore's check and its write (``rollback``
wrapped, the whole ``restore_host``). The commit is refused naming the edit, the restore alarms;
each time the device, read by its own means (the crash matrix's :class:`Reader`, never the driver
under test), is exactly the state the hand left: nothing written, nothing erased.

NETCONF differs at the commit: the driver holds ``<lock>`` on the candidate from its load to its
commit, so the colleague's ``<edit-config>`` is refused by the platform itself and never lands
(the window is closed for NETCONF writers); the restore holds no lock before its load, and there
the edit lands and is named.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netchange.drivers.errors import ChangedMeanwhile
from netchange.lab.manager import LabManager
from netchange.rollback import restore_host
from tests.integration.test_another_hand import _candidate
from tests.integration.test_crash_matrix import Reader

pytestmark = pytest.mark.lab

HAND_VLAN, HAND_NAME = 3999, "NETCHANGE-HAND"
HAND_ADDRESS = "198.51.100.99"


class Hand:
    """A colleague at one device: ``add`` and ``remove`` an edit by the device's own means;
    ``named`` is what a refusal or an alarm must name."""

    named = ""

    def __init__(self, reader: Reader, name: str) -> None:
        self.reader, self.name = reader, name
        self.host: dict[str, Any] = reader.hosts[name]
        self.secret: dict[str, Any] = reader.secrets.get(name) or {}

    def add(self) -> None:
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError

    def read(self) -> str:
        return self.reader.read(self.name)


class IosHand(Hand):
    named = f"vlan {HAND_VLAN}"

    def _send(self, *lines: str) -> None:
        from netmiko import ConnectHandler

        conn = ConnectHandler(device_type="cisco_ios", host=self.host["hostname"], port=self.host["port"],
                              username=self.secret["username"], password=self.secret["password"],
                              secret=(self.secret.get("optional_args") or {}).get("secret", ""),
                              use_keys=False, allow_agent=False, fast_cli=True)
        try:
            conn.enable()
            conn.send_config_set(list(lines))
        finally:
            conn.disconnect()

    def add(self) -> None:
        self._send(f"vlan {HAND_VLAN}", f"name {HAND_NAME}")

    def remove(self) -> None:
        self._send(f"no vlan {HAND_VLAN}")


class NftHand(Hand):
    named = HAND_ADDRESS

    def _nft(self, *args: str) -> str:
        return subprocess.run(["ip", "netns", "exec", self.host["data"]["namespace"], "nft", *args],
                              capture_output=True, text=True, check=True, timeout=30).stdout

    def add(self) -> None:
        self._nft("add", "rule", "inet", "filter", "forward", "ip", "saddr", HAND_ADDRESS, "drop",
                  "comment", '"netchange-hand"')

    def remove(self) -> None:
        for line in self._nft("-a", "list", "chain", "inet", "filter", "forward").splitlines():
            if HAND_ADDRESS in line:
                handle = re.search(r"# handle (\d+)", line)
                assert handle, line
                self._nft("delete", "rule", "inet", "filter", "forward", "handle", handle[1])


class HaproxyHand(Hand):
    """web2 put to drain through the runtime API (``set server``), as an operator drains a server."""

    named = "web2"

    def _runtime(self, command: str) -> str:
        import socket

        with socket.create_connection((self.host["hostname"], self.host["port"]), timeout=10) as sock:
            sock.sendall(command.encode() + b"\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return data.decode()

    def add(self) -> None:
        answer = self._runtime("set server be_web/web2 state drain")
        assert not answer.strip(), answer

    def remove(self) -> None:
        self._runtime("set server be_web/web2 state ready")


class BindHand(Hand):
    """A record added by a TSIG-signed DNS UPDATE (dnspython, the lab's key), as ``nsupdate`` does."""

    named = "netchange-hand"

    def _update(self, action: str) -> None:
        import dns.query
        import dns.rcode
        import dns.tsigkeyring
        import dns.update

        tsig = self.secret["optional_args"]
        keyring = dns.tsigkeyring.from_text({tsig["tsig_name"]: tsig["tsig_secret"]})
        update = dns.update.UpdateMessage(self.host["data"]["zone"], keyring=keyring,
                                          keyalgorithm=tsig["tsig_algorithm"])
        if action == "add":
            update.add("netchange-hand", 300, "A", "192.0.2.99")
        else:
            update.delete("netchange-hand", "A")
        answer = dns.query.tcp(update, self.host["hostname"], port=self.host["port"], timeout=10)
        assert answer.rcode() == dns.rcode.NOERROR, dns.rcode.to_text(answer.rcode())

    def add(self) -> None:
        self._update("add")

    def remove(self) -> None:
        self._update("delete")


class NetconfHand(Hand):
    """A VLAN written by a raw ncclient session: ``<edit-config>`` on the candidate, ``<commit>``."""

    named = f"vlan {HAND_VLAN}"
    NS = "urn:netchange:params:xml:ns:yang:netchange-vlans"

    def _edit(self, operation: str) -> None:
        from ncclient import manager

        options = self.host["connection_options"]["netchange"]["extras"]["optional_args"]
        body = f"<name>{HAND_NAME}</name>" if operation == "merge" else ""
        config = (f'<config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><vlans xmlns="{self.NS}">'
                  f'<vlan nc:operation="{operation}"><id>{HAND_VLAN}</id>{body}</vlan></vlans></config>')
        with manager.connect(host=self.host["hostname"], port=self.host["port"], username=self.secret["username"],
                             key_filename=options["key_file"], hostkey_verify=False, allow_agent=False,
                             look_for_keys=False, timeout=20) as session:
            try:
                session.edit_config(target="candidate", config=config)
                session.commit()
            except Exception:
                session.discard_changes()
                raise

    def add(self) -> None:
        self._edit("merge")

    def remove(self) -> None:
        self._edit("delete")


class GdnsdHand(Hand):
    """DOSO drained by hand: its line added to gdnsd's admin_state with an editor's rename, as an
    operator does; done when gdnsd shows the forced state (so every reading after sees it whole)."""

    named = "doso"

    def _admin(self) -> Path:
        return Path(self.host["connection_options"]["netchange"]["extras"]["optional_args"]["config_dir"],
                    "state", "admin_state")

    def _write(self, text: str, forced: bool) -> None:
        path = self._admin()
        tmp = path.with_name("admin_state.hand")
        tmp.write_text(text)
        tmp.replace(path)
        address = self.host["data"]["centres"]["doso"]["address"]
        deadline = time.monotonic() + 6
        while (f"{address}/centre_http DOWN!" in self.read()) != forced:  # the Reader's "# states"
            assert time.monotonic() < deadline, "gdnsd did not take the hand's admin_state"
            time.sleep(0.1)

    def add(self) -> None:
        self._write(self._admin().read_text() + "127.0.2.80/centre_http => DOWN\n", forced=True)

    def remove(self) -> None:
        self._write(self._admin().read_text().replace("127.0.2.80/centre_http => DOWN\n", ""), forced=False)


HANDS: dict[str, type[Hand]] = {"ios_cli": IosHand, "nftables": NftHand, "haproxy": HaproxyHand,
                                "bind": BindHand, "netconf": NetconfHand, "gdnsd": GdnsdHand}


@pytest.fixture(scope="module")
def reader(lab: LabManager) -> Reader:
    return Reader(lab)


@pytest.fixture(params=sorted(HANDS))
def hand(request: pytest.FixtureRequest, nornir: Any, reader: Reader) -> Iterator[Hand]:
    """The colleague at the platform's first lab host; the edit taken away again after the test."""
    platform = str(request.param)
    name = next(h.name for h in nornir.inventory.hosts.values() if h.platform == platform)
    made = HANDS[platform](reader, name)
    yield made
    if made.named in made.read():
        made.remove()


def test_a_commit_refuses_an_edit_landing_between_the_load_and_the_commit(
        hand: Hand, nornir: Any, open_driver: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    before = hand.read()
    dev = open_driver(hand.name)
    dev.get_config(retrieve="running")
    dev.load_merge_candidate(config=_candidate(nornir, hand.name, dev))
    dev.compare_config()
    commit = dev.commit_config
    seen: dict[str, Any] = {}

    def hand_then_commit(*args: Any, **kwargs: Any) -> None:  # the colleague, while the commit is in flight
        try:
            hand.add()
        except Exception as exc:  # NETCONF: the candidate is locked by the driver's session
            seen["refused"] = exc
        seen["with_hand"] = hand.read()
        # The IOS/ASA CLI and nftables commit on the engine's reading without reading again while it
        # is less than running_reuse_seconds old (issue 27 item 1: that reading, at the host's turn
        # under the lock, is the check; docs/safety.md): past it (the candidate's reading included),
        # the commit reads again, which is the case here.
        reuse = getattr(dev, "running_reuse_seconds", None)
        if isinstance(reuse, (int, float)) and reuse > 0:
            time.sleep(reuse + 0.1)
        commit(*args, **kwargs)

    monkeypatch.setattr(dev, "commit_config", hand_then_commit)
    if isinstance(hand, NetconfHand):
        dev.commit_config()  # the platform's lock kept the colleague out: nothing to refuse
        assert "lock" in str(seen.get("refused", "")).lower() or "in use" in str(seen.get("refused", "")), seen
        assert seen["with_hand"] == before and hand.named not in hand.read()
        monkeypatch.undo()
        dev.rollback()
        assert hand.read() == before
    else:
        assert "refused" not in seen, seen
        with pytest.raises(ChangedMeanwhile, match="commit refused") as caught:
            dev.commit_config()
        assert any(hand.named in line for line in caught.value.lines), caught.value.lines
        assert hand.named in str(caught.value)
        now = hand.read()
        assert now == seen["with_hand"] != before  # the hand's edit is there, nothing of the change
    print(f"\n{type(hand).__name__}: commit case {time.monotonic() - started:.2f} s")


def test_a_restore_alarms_on_an_edit_landing_after_its_check_and_erases_nothing(
        hand: Hand, nornir: Any, open_driver: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    started = time.monotonic()
    before = hand.read()
    dev = open_driver(hand.name)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=_candidate(nornir, hand.name, dev))
    dev.commit_config()
    after = dev.get_config(retrieve="running")["running"]
    changed = hand.read()
    inverse = dev.rollback
    seen: dict[str, str] = {}

    def hand_then_rollback() -> None:  # the restore checked the device; then the colleague
        hand.add()
        seen["with_hand"] = hand.read()
        inverse()

    monkeypatch.setattr(dev, "rollback", hand_then_rollback)
    report = restore_host(dev, snapshot, after=after)
    assert not report.verified
    assert report.strategies == ["inverse", "snapshot"]
    assert report.errors and all(hand.named in error for error in report.errors), report.errors
    now = hand.read()
    assert now == seen["with_hand"] != changed  # neither erased nor restored
    # The engine ends the refused restore (NETCONF: the snapshot way's load holds the candidate's
    # <lock> until discarded); the colleague takes the edit away; the engine reads again and the
    # restore proceeds.
    dev.discard_config()
    hand.remove()
    monkeypatch.undo()
    report = restore_host(dev, snapshot, after=after)
    assert report.verified, report.errors
    assert hand.read() == before
    print(f"\n{type(hand).__name__}: restore case {time.monotonic() - started:.2f} s")
