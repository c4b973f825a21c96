"""A stateful fake device for the apply engine's fault-injection tests.

NAPALM's mock driver keeps no state, so it cannot show that a rollback restored anything. This
fake keeps an IOS-like running config per hostname (shared across sessions, like a device), applies
merge candidates line by line (``no X`` removes ``X``), and injects the faults the apply issue
lists through ``optional_args``: a commit error, a rejected line, a lost session during commit,
a broken rollback, a post-check that fails (``hide_vlan``: the VLAN is committed suspended, its
section says ``state suspend`` and ``show vlan brief`` does not list it), a
session that dies while the candidate is compared, and someone else's change landing on another
device at this device's commit (``oob``: {"device": name, "line": text}), and another hand on this
very device between the load and the commit, which the driver's re-read refuses, nothing written
(``changed_meanwhile``: a line, as netchange's own drivers raise ``ChangedMeanwhile``).
The engine is tested against it; the real drivers are tested against the lab.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from napalm.base import NetworkDriver
from napalm.base.exceptions import CommitError, ConnectionClosedException, MergeConfigException

DEVICES: dict[str, list[str]] = {}
CALLS: dict[str, list[str]] = {}
_lock = threading.Lock()


def reset(configs: dict[str, str]) -> None:
    DEVICES.clear()
    CALLS.clear()
    for name, text in configs.items():
        DEVICES[name] = text.strip().splitlines()


def running_of(name: str) -> str:
    return "\n".join(DEVICES[name]) + "\n"


class FakeDriver(NetworkDriver):  # type: ignore[misc]
    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname
        self.args = optional_args or {}
        self.name = str(self.args["device"])
        self.candidate: list[str] | None = None
        self.replace = False
        self.previous: list[str] | None = None
        self.alive = False

    def _call(self, what: str) -> None:
        with _lock:
            CALLS.setdefault(self.name, []).append(what)
        if not self.alive:
            raise ConnectionClosedException("session closed")

    def open(self) -> None:
        self.alive = True

    def close(self) -> None:
        self.alive = False

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": self.alive}

    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> dict[str, str]:
        self._call("get_config")
        return {"running": running_of(self.name), "startup": "", "candidate": ""}

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        self._call("cli")
        out = {}
        for command in commands:
            if command == "show vlan brief":
                rows = ["", "VLAN Name                             Status    Ports",
                        "---- -------------------------------- --------- -------------------------------"]
                lines = DEVICES[self.name]
                for i, line in enumerate(lines):
                    if line.startswith("vlan "):
                        vid = line.split()[1]
                        named = i + 1 < len(lines) and lines[i + 1].startswith(" name")
                        name = lines[i + 1].split()[1] if named else "x"
                        if self.args.get("hide_vlan") and vid == str(self.args["hide_vlan"]):
                            continue
                        rows.append(f"{vid:<4} {name:<32} active    ")
                out[command] = "\n".join(rows) + "\n"
            else:
                out[command] = "% Invalid input detected at '^' marker.\n"
        return out

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._call("load_merge_candidate")
        self.candidate, self.replace = (config or "").splitlines(), False

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self._call("load_replace_candidate")
        self.candidate, self.replace = (config or "").strip().splitlines(), True

    def _future(self) -> list[str]:
        assert self.candidate is not None
        if self.replace:
            return list(self.candidate)
        lines = list(DEVICES[self.name])
        for line in self.candidate:
            if not line.strip():
                continue
            if line.strip().startswith("no "):
                target = line.strip()[3:]
                lines = [x for x in lines if x.strip() != target]
            elif line not in lines:
                lines.append(line)
        return lines

    def compare_config(self) -> str:
        self._call("compare_config")
        if self.candidate is None:
            return ""
        if self.args.get("lose_session_on_compare") and CALLS[self.name].count("compare_config") > 1:
            # At the apply (the plan compared once): like the nftables driver when sshd dies under
            # its prediction, a diff it could not compute and a dead session.
            self.alive = False
            return "# prediction unavailable: unknown error\n+" + "\n+".join(self.candidate) + "\n"
        before, after = DEVICES[self.name], self._future()
        removed = "".join(f"-{x}\n" for x in before if x not in after)
        return removed + "".join(f"+{x}\n" for x in after if x not in before)

    def discard_config(self) -> None:
        self._call("discard_config")
        self.candidate = None

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        self._call("commit_config")
        if self.candidate is None:
            raise CommitError("nothing to commit")
        hand = self.args.get("changed_meanwhile")
        if hand and not self.replace:
            from netchange.drivers.errors import ChangedMeanwhile

            with _lock:
                DEVICES[self.name].append(hand)
            raise ChangedMeanwhile(f"{self.name}: changed by another hand since it was read, commit refused, "
                                   f"nothing written: +{hand}", (f"+{hand}",))
        reject = self.args.get("reject_line")
        if reject and not self.replace and any(reject in line for line in self.candidate):
            self.candidate = None
            raise MergeConfigException(f"% Invalid input detected at '^' marker: {reject}")
        if self.args.get("fail_commit") and not self.replace:
            self.candidate = None
            raise CommitError("commit failed: device busy")
        if self.replace and self.args.get("broken_rollback"):
            raise CommitError("restore rejected by the device")
        future = self._future()
        oob = self.args.get("oob")
        if oob and not self.replace:
            with _lock:
                DEVICES[oob["device"]].append(oob["line"])
        self.previous = list(DEVICES[self.name])
        if self.args.get("lose_session_on_commit") and not self.replace:
            # Half of the change lands, then the session drops: the worst case for a rollback.
            half = [x for x in future if x not in self.previous][:1]
            DEVICES[self.name] = self.previous + half
            self.alive = False
            raise ConnectionClosedException("session lost during commit")
        hidden = self.args.get("hide_vlan")
        if hidden and not self.replace and f"vlan {hidden}" in future:
            future.insert(future.index(f"vlan {hidden}") + 1, " state suspend")
        DEVICES[self.name] = future
        self.candidate = None

    def rollback(self) -> None:
        self._call("rollback")
        if self.args.get("broken_rollback"):
            raise CommitError("rollback rejected by the device")
        if self.previous is not None:
            DEVICES[self.name] = self.previous
            self.previous = None

    def confirm_commit(self) -> None:
        self._call("confirm_commit")

    def has_pending_commit(self) -> bool:
        return False


@contextmanager
def fake_platform() -> Iterator[None]:
    """The platform ``fake`` (no syntax of its own, no confirmed commit) driven by
    :class:`FakeDriver`, registered for the ``with`` block as a plugin would register it."""
    from netchange.drivers.contract import DRIVERS
    from netchange.platforms import PLATFORMS, PlatformProfile

    with PLATFORMS.registered("fake", PlatformProfile(name="fake", syntax=None)), \
            DRIVERS.registered("fake", FakeDriver):
        yield
