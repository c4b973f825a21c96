"""The crash-point matrix (issue 21 item 1): every fail point of the source, killed, then ``recover``.

The points are found by reading the source (``tests/failpoint_sources.py``: every literal
``fail_point("stage.step", ...)`` under netchange/, rollback/, tasks/), so a new step is covered
without editing this file. For each case, ``netchange`` runs as a subprocess with
``NETCHANGE_FAILPOINT=<point>[@<host>]:kill``; the test checks the process died by SIGKILL (or
records that the point is never hit in that flow: the command ended normally), runs
``netchange recover``, then checks **independently** of the driver under test:

- every device of the change is byte-equal to its state before the apply (its snapshot), or to the
  state the change leaves when the change had completed (read the same way after a clean apply);
  devices are read by their own means: a plain netmiko session's ``show running-config``,
  ``ip netns exec NS nft list ruleset`` (counters blanked), vtysh in the router's namespace,
  keepalived.conf on disk, haproxy.cfg and the runtime API's ``show servers state``, ``dig AXFR``
  (SOA left out: its serial moves with every update), a raw ncclient ``<get-config>``;
- a router's OSPF adjacency is Full again;
- the journal verifies (the very check ``netchange journal verify`` runs, in process; the command
  itself runs once at the end);
- the change's state is what the README says of ``recover``: a change left ``in_progress`` or
  ``failed`` is rolled back (exit 0); a change still ``approved`` (killed before the rollout) or
  already ended is refused (exit 3) and keeps its state.

Flows (by the point's stage): ``apply.*`` and stages not known here (``save.*``...): ``apply`` armed,
then ``recover``. ``restore.*``, ``recover.*`` (and ``save.*``): ``apply`` killed at
``apply.committed`` on the victim, then ``recover`` armed, then ``recover`` again. ``rollback.*``:
a clean ``apply``, ``rollback`` armed, then ``recover`` (on platforms whose change completes).
``restore.*`` points are also armed in the ``apply`` flow where the change rolls back by itself.

Budget (2 cores, ``make test``): one case (plan, approve, the armed command, recover, the readings)
takes 8-40 s here, not the couple of seconds hoped for, so the whole matrix does not fit in ~5 min.
``NETCHANGE_CRASH_MATRIX=full`` runs every case: every point on the fastest lab platforms, ios_cli
(fake-switches) and nftables, over one change (examples/03: two switches and a firewall whose
post-check fails, so apply rolls back by itself), process-wide points (no ``host=``) once, for
ios_cli (they do not depend on the platform); the points of a rollback on request, which that
change never reaches (it never completes), on the first platform whose change completes (haproxy);
on haproxy, bind, netconf, frr and keepalived every
point of the commit (``apply.commit*``, ``apply.confirm``), of the save (``save.*``) and of the
restore (``restore.read``, ``restore.write``, ``restore.verify``). By default (``make test``) the
sample is deterministic, :data:`SAMPLE`: the commit points of ios_cli (``apply.committed`` is the
``+!`` alarm of issue 21), a restore killed in ``recover`` (ios_cli) and in apply's own rollback
(nftables), ``apply.commit`` on every other platform, a rollback on request killed once started.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.journal import Journal
from netchange.lab.manager import LabManager
from tests.failpoint_sources import Point, registered
from tests.integration.test_e2e_apply import MEDIUM_TIME, MINOR_TIME, netchange

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "changes" / "examples"


# -- the scenarios: one change per platform --------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    platform: str
    change_id: str
    """Planned again for every case (so a case that leaves it ``approved`` holds no lock over the next)."""
    victim: str
    """The host the per-host points are armed for (``NAME@victim``)."""
    hosts: tuple[str, ...]
    """Every host the change touches: each is read and checked."""
    change: Callable[[dict[str, Any]], dict[str, Any]]
    """The change request (its ``id`` set per case), given the lab's inventory (hosts.yaml)."""
    completes: bool = True
    """A clean apply ends ``completed`` (else it rolls back by itself: a post-check fails)."""
    approvers: tuple[str, ...] = ()
    now: str = MINOR_TIME
    """When it is applied (its category's window); it is planned at ``planned``."""
    planned: str = MINOR_TIME
    full: bool = False
    """Every point (the fastest platforms); else the commit, save and restore points."""


def _example(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda hosts: yaml.safe_load((EXAMPLES / name).read_text())


def _vrrp(hosts: dict[str, Any]) -> dict[str, Any]:
    vrrp = hosts["vrrp-doif-a"]["data"]["vrrp"]
    return {"id": "", "title": "VRRP priority", "ticket": "T-2101", "requester": "crenard",
            "steps": [{"type": "vrrp", "targets": {"hosts": ["vrrp-doif-a"]},
                       "params": {"instance": vrrp["instance"], "group": vrrp["vrid"], "priority": 140}}]}


def _weekday_night_after_tomorrow() -> str:
    """22:00 (+01:00) on the first Tuesday to Thursday at least two days from now: inside the
    major window, more than 24 h after a plan recorded now."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    while day.weekday() not in (1, 2, 3) or (day.month, day.day) in ((12, 24), (12, 25), (12, 31), (1, 1)):
        day += timedelta(days=1)
    return f"{day.isoformat()}T22:00:00+01:00"


EX03 = ("sw-doif-core1", "sw-doif-core2", "fw-doif-a")
SCENARIOS = [
    Scenario("ios_cli", "CHG-2026-2103", "sw-doif-core1", EX03, _example("03-vlan-and-rule-postcheck-fails.yaml"),
             completes=False, approvers=("amoreau",), now=MEDIUM_TIME, full=True),
    Scenario("nftables", "CHG-2026-2103", "fw-doif-a", EX03, _example("03-vlan-and-rule-postcheck-fails.yaml"),
             completes=False, approvers=("amoreau",), now=MEDIUM_TIME, full=True),
    Scenario("haproxy", "CHG-2026-2112", "lb-doif", ("lb-doif",), _example("12-lb-member.yaml")),
    Scenario("bind", "CHG-2026-2111", "dns-doif", ("dns-doif",), _example("11-dns-record.yaml")),
    Scenario("netconf", "CHG-2026-2113", "nc-doif", ("nc-doif",), _example("13-netconf-vlan.yaml"),
             approvers=("amoreau",), now=MEDIUM_TIME),
    Scenario("frr", "CHG-2026-2114", "rtr-doif-a", ("rtr-doif-a",), _example("14-prefix-list-entry.yaml")),
    # A VRRP priority is a major change: two approvals, planned 24 h ahead (of the real clock), at night.
    Scenario("keepalived", "CHG-2026-2121", "vrrp-doif-a", ("vrrp-doif-a",), _vrrp,
             approvers=("amoreau", "gperrin"), now=_weekday_night_after_tomorrow()),
]
BY_PLATFORM = {s.platform: s for s in SCENARIOS}
COMMIT_OR_RESTORE = re.compile(r"^(apply\.commit.*|apply\.confirm|save\..*|restore\.(read|write|verify))$")


def flows(point: Point, scenario: Scenario) -> list[str]:
    """The flows a point is armed in for a scenario (see the module docstring).

    By its stage, else by the next part of its name (``save.apply.before``: the apply's save;
    ``save.restore.before``: a restore's); a name that says nothing known: every flow.
    """
    for part in point.name.split(".")[:-1]:
        if part in ("apply", "recover"):
            return [part]
        if part == "rollback":
            return ["rollback"] if scenario.completes else []
        if part == "restore":
            return ["recover"] if scenario.completes else ["apply", "recover"]
    return ["apply", "recover"] + (["rollback"] if scenario.completes else [])


SAMPLE = {
    # platform → the points run by default (make test): about ten cases of 10-40 s on 2 shared cores.
    # apply.committed on ios_cli: the '+!' alarm of issue 21 (fixed in 9f72291; this case failed before).
    "ios_cli": {("apply", "apply.commit_started"), ("apply", "apply.commit"), ("apply", "apply.committed"),
                ("recover", "restore.write")},
    "nftables": {("apply", "apply.commit"), ("apply", "restore.write")},
    **{p: {("apply", "apply.commit")} for p in ("bind", "netconf", "frr", "keepalived")},
    "haproxy": {("apply", "apply.commit"), ("rollback", "rollback.started")},
}
"""The deterministic sample run by default; ``NETCHANGE_CRASH_MATRIX=full`` runs every case."""


def cases() -> Iterator[Any]:
    full = os.environ.get("NETCHANGE_CRASH_MATRIX") == "full"
    points = registered()
    # A point no full scenario can reach (rollback on request: their change never completes) runs
    # on the first scenario that can, as if it were full there.
    home = {p.name: next(s for s in SCENARIOS if flows(p, s) and (s.full or not any(
        flows(p, f) for f in SCENARIOS if f.full))) for p in points if any(flows(p, s) for s in SCENARIOS)}
    for scenario in SCENARIOS:
        for point in points:
            if not point.per_host and home.get(point.name) is not scenario:
                continue  # process-wide: once, on the first (fastest) platform that reaches it
            if not (scenario.full or home.get(point.name) is scenario or COMMIT_OR_RESTORE.match(point.name)):
                continue
            for flow in flows(point, scenario):
                if not full and (flow, point.name) not in SAMPLE[scenario.platform]:
                    continue
                yield pytest.param(scenario.platform, point.name, flow,
                                   id=f"{scenario.platform}-{flow}-{point.name}",
                                   marks=_expected_failures(scenario, point, flow))


XFAIL: dict[tuple[str, str, str], str] = {}
"""(platform, flow, point) → why the case fails today (strict: a fix makes it pass, and the entry goes)."""


def _expected_failures(scenario: Scenario, point: Point, flow: str) -> list[Any]:
    reason = XFAIL.get((scenario.platform, flow, point.name))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


# -- reading the devices by their own means ------------------------------------------------------------
class Reader:
    """Each lab device read without netchange's drivers (see the module docstring)."""

    def __init__(self, lab: LabManager) -> None:
        self.hosts: dict[str, Any] = yaml.safe_load((lab.root / "inventory" / "hosts.yaml").read_text())
        self.secrets: dict[str, Any] = yaml.safe_load(lab.secrets_file.read_text())["hosts"]

    def read(self, name: str) -> str:
        host, secret = self.hosts[name], self.secrets.get(name) or {}
        reader: Callable[[dict[str, Any], dict[str, Any]], str] = getattr(self, f"_{host['platform']}")
        return reader(host, secret)

    def ospf_full(self, name: str) -> bool:
        from netchange.lab.routers import ospf_full

        data = self.hosts[name]["data"]
        return ospf_full(Path(data["vty_socket"]), data["namespace"])

    @staticmethod
    def _options(host: dict[str, Any]) -> dict[str, Any]:
        options: dict[str, Any] = host["connection_options"]["netchange"]["extras"]["optional_args"]
        return options

    def _ios_cli(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        from netmiko import ConnectHandler

        conn = ConnectHandler(device_type="cisco_ios", host=host["hostname"], port=host["port"],
                              username=secret["username"], password=secret["password"],
                              secret=(secret.get("optional_args") or {}).get("secret", ""),
                              use_keys=False, allow_agent=False, fast_cli=True)
        try:
            conn.enable()
            return str(conn.send_command("show running-config", read_timeout=30))
        finally:
            conn.disconnect()

    def _nftables(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        out = subprocess.run(["ip", "netns", "exec", host["data"]["namespace"], "nft", "list", "ruleset"],
                             capture_output=True, text=True, check=True, timeout=30).stdout
        return re.sub(r"counter packets \d+ bytes \d+", "counter", out)

    def _haproxy(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        with socket.create_connection((host["hostname"], host["port"]), timeout=10) as sock:
            sock.sendall(b"show servers state\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[1].lstrip("# ").split()
        keep = ("be_name", "srv_name", "srv_addr", "srv_admin_state", "srv_uweight", "srv_port")
        rows = sorted(" ".join(dict(zip(header, line.split(), strict=False))[k] for k in keep)
                      for line in lines[2:] if line.strip())
        return Path(self._options(host)["config_path"]).read_text() + "\n# runtime\n" + "\n".join(rows)

    def _bind(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        tsig = secret["optional_args"]
        key = f"{tsig['tsig_algorithm']}:{tsig['tsig_name']}:{tsig['tsig_secret']}"
        records: list[str] = []
        for zone in self._options(host)["zones"]:
            text = subprocess.run(["dig", "-p", str(host["port"]), f"@{host['hostname']}", zone, "AXFR",
                                   "+nocomments", "+nostats", "+nocmd", "-y", key],
                                  capture_output=True, text=True, check=True, timeout=30).stdout
            records += [line for line in text.splitlines()
                        if line and not line.startswith(";") and "\tSOA\t" not in line and "\tTSIG\t" not in line]
        return "\n".join(sorted(records))

    def _netconf(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        from ncclient import manager

        with manager.connect(host=host["hostname"], port=host["port"], username=secret["username"],
                             key_filename=self._options(host)["key_file"], hostkey_verify=False,
                             allow_agent=False, look_for_keys=False, timeout=20) as session:
            return str(session.get_config(source="running").data_xml)

    def _frr(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        from netchange.lab.routers import vtysh

        return vtysh(Path(host["data"]["vty_socket"]), "show running-config", ns=host["data"]["namespace"])

    def _keepalived(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        return Path(self._options(host)["config_path"]).read_text()


# -- one case ------------------------------------------------------------------------------------------
RECOVER_ENDS = {
    # state before recover → (recover's exit code, state after), as the README says of recover.
    "approved": (3, "approved"),  # killed before the rollout: nothing changed, nothing to recover
    "in_progress": (0, "rolled_back"),
    "failed": (0, "rolled_back"),
    "completed": (3, "completed"),
    "rolled_back": (3, "rolled_back"),
}


@dataclass
class Matrix:
    """The lab, the scenarios' reference readings, and what each case found (for the summary)."""

    lab: LabManager
    reader: Reader
    home: Path
    baseline: dict[str, str] = field(default_factory=dict)
    applied: dict[str, dict[str, str]] = field(default_factory=dict)
    """platform → host → reading after a clean apply (the scenarios that complete)."""
    driver_baseline: dict[str, str] = field(default_factory=dict)
    results: list[tuple[str, str, str, str, float]] = field(default_factory=list)

    def run(self, *args: str, point: str | None = None, now: str = MINOR_TIME, actor: str = "dnguyen") -> Any:
        if point:
            os.environ["NETCHANGE_FAILPOINT"] = point
        try:
            return netchange(self.lab, *args, now=now, actor=actor)
        finally:
            os.environ.pop("NETCHANGE_FAILPOINT", None)

    def state(self, change_id: str) -> str:
        with Journal(self.home / "journal.sqlite") as journal:
            return journal.state(change_id)

    def journal_problems(self) -> list[str]:
        with Journal(self.home / "journal.sqlite") as journal:
            return journal.verify()

    def read(self, hosts: tuple[str, ...]) -> dict[str, str]:
        return {h: self.reader.read(h) for h in hosts}

    def plan(self, scenario: Scenario) -> str:
        """Plan (and approve) the scenario's change again; return its id."""
        change_id = scenario.change_id
        request = scenario.change(self.reader.hosts)
        request["id"] = change_id
        path = self.home / f"{change_id}.yaml"
        path.write_text(yaml.safe_dump(request))
        planned = self.run("plan", str(path), now=scenario.planned)
        assert planned.returncode == 0, planned.stdout + planned.stderr
        for approver in scenario.approvers:
            approved = self.run("approve", change_id, actor=approver, now=scenario.planned)
            assert approved.returncode == 0, approved.stdout + approved.stderr
        return change_id

    def repair(self, scenario: Scenario, open_driver: Callable[[str], Any]) -> list[str]:
        """After a failed case: put back any device not as before (cleanup, not a check)."""
        repaired = []
        for host in scenario.hosts:
            if self.reader.read(host) != self.baseline[host]:
                dev = open_driver(host)
                dev.load_replace_candidate(config=self.driver_baseline[host])
                dev.commit_config()
                repaired.append(host)
        return repaired


@pytest.fixture(scope="module")
def matrix(lab: LabManager, open_driver_module: Callable[[str], Any]) -> Iterator[Matrix]:
    home = Path(os.environ["NETCHANGE_HOME"])
    m = Matrix(lab=lab, reader=Reader(lab), home=home)
    hosts = sorted({h for s in SCENARIOS for h in s.hosts})
    m.baseline = m.read(tuple(hosts))
    m.driver_baseline = {h: open_driver_module(h).get_config(retrieve="running")["running"] for h in hosts}
    started = time.monotonic()
    yield m
    total = time.monotonic() - started
    verified = netchange(lab, "journal", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(f"\ncrash matrix: {len(m.results)} cases in {total:.0f} s")
    for row in m.results:
        print("  " + " | ".join(f"{c:.1f}s" if isinstance(c, float) else c for c in row))


@pytest.fixture(scope="module")
def open_driver_module(nornir: Any) -> Iterator[Callable[[str], Any]]:
    """Drivers for the set-up and the repairs only (never to check a case)."""
    from netchange.inventory import NetchangeConnection

    opened: list[Any] = []

    def _open(name: str) -> Any:
        params = nornir.inventory.hosts[name].get_connection_parameters("netchange")
        conn = NetchangeConnection()
        conn.open(hostname=params.hostname, username=params.username, password=params.password,
                  port=params.port, platform=params.platform, extras=params.extras)
        opened.append(conn)
        return conn.connection

    yield _open
    for conn in opened:
        conn.close()


def _applied(matrix: Matrix, scenario: Scenario, open_driver: Callable[[str], Any]) -> dict[str, str]:
    """The devices as a clean apply of the scenario leaves them (read once, when first needed:
    the case's change is rolled back first)."""
    if scenario.platform not in matrix.applied:
        _clean_up(matrix, scenario, scenario.change_id, open_driver)
        change_id = matrix.plan(scenario)
        applied = matrix.run("apply", change_id, now=scenario.now)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        matrix.applied[scenario.platform] = matrix.read(scenario.hosts)
        back = matrix.run("rollback", change_id, now=scenario.now)
        assert back.returncode == 0, back.stdout + back.stderr
        assert matrix.read(scenario.hosts) == {h: matrix.baseline[h] for h in scenario.hosts}
    return matrix.applied[scenario.platform]


def _armed(point: str, scenario: Scenario, per_host: bool) -> str:
    return f"{point}@{scenario.victim}:kill" if per_host else f"{point}:kill"


@pytest.mark.parametrize(("platform", "point", "flow"), list(cases()))
def test_killed_at_every_point_then_recover(platform: str, point: str, flow: str, matrix: Matrix,
                                            open_driver_module: Callable[[str], Any]) -> None:
    scenario = BY_PLATFORM[platform]
    per_host = next(p.per_host for p in registered() if p.name == point)
    started = time.monotonic()
    change_id = matrix.plan(scenario)
    armed = _armed(point, scenario, per_host)
    if flow == "apply":
        crashed = matrix.run("apply", change_id, point=armed, now=scenario.now)
    elif flow == "recover":
        killed = matrix.run("apply", change_id, point=f"apply.committed@{scenario.victim}:kill", now=scenario.now)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        crashed = matrix.run("recover", change_id, point=armed)
    else:
        done = matrix.run("apply", change_id, now=scenario.now)
        assert done.returncode == 0, done.stdout + done.stderr
        crashed = matrix.run("rollback", change_id, point=armed, now=scenario.now)
    hit = crashed.returncode == -signal.SIGKILL
    before = matrix.state(change_id)
    want_exit, want_state = RECOVER_ENDS[before]
    recovered = matrix.run("recover", change_id)
    after = matrix.state(change_id)
    try:
        devices = matrix.read(scenario.hosts)
        expected = (_applied(matrix, scenario, open_driver_module) if before == "completed"
                    else {h: matrix.baseline[h] for h in scenario.hosts})
        outcome = "killed" if hit else f"not hit (exit {crashed.returncode})"
        matrix.results.append((platform, flow, point, f"{outcome}, {before} -> recover -> "
                               f"{after} (exit {recovered.returncode})", time.monotonic() - started))
        assert (recovered.returncode, after) == (want_exit, want_state), (
            f"killed at {armed} ({outcome}), state {before}: recover "
            + recovered.stdout[-1500:] + recovered.stderr[-1500:])
        for host in scenario.hosts:
            assert devices[host] == expected[host], f"{host} after recover differs from " + (
                "the applied state" if before == "completed" else "its snapshot")
        if platform == "frr":
            assert matrix.reader.ospf_full(scenario.victim), "OSPF adjacency not Full after recover"
        assert matrix.journal_problems() == []
    finally:
        _clean_up(matrix, scenario, change_id, open_driver_module)


def _clean_up(matrix: Matrix, scenario: Scenario, change_id: str, open_driver: Callable[[str], Any]) -> None:
    """Leave the devices as before for the next case: roll back a completed change, repair the rest."""
    if matrix.state(change_id) == "completed":
        matrix.run("rollback", change_id, now=scenario.now)
    matrix.repair(scenario, open_driver)
