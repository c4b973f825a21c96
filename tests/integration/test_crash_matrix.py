"""The crash-point matrix (issue 21 item 1): every fail point of the source, killed, then ``recover``.

The points are found by reading the source (``tests/failpoint_sources.py``: every literal
``fail_point("stage.step", ...)`` under netchange/, rollback/, tasks/), so a new step is covered
without editing this file. For each case, ``netchange`` runs with the point armed
(``NAME[@HOST]:kill``, ``:term`` or ``:raise``, see ``netchange/failpoints.py``); the test checks
how the command ended (killed, or the point never hit in that flow: it ended normally), runs
``netchange recover``, then checks **independently** of the driver under test:

- every device of the change is byte-equal to its state before the apply (its snapshot), or to the
  state the change leaves when the change had completed (read the same way after a clean apply);
  devices are read by their own means: a plain netmiko session's ``show running-config``,
  ``ip netns exec NS nft list ruleset`` (counters blanked), vtysh in the router's namespace,
  keepalived.conf on disk, haproxy.cfg and the runtime API's ``show servers state``, ``dig AXFR``
  (SOA left out: its serial moves with every update), a raw ncclient ``<get-config>``;
- a router's OSPF adjacency is Full again;
- the journal verifies (the very check ``netchange journal verify`` runs, in process; the command
  itself runs once at the end), and a change still ``approved`` holds no journal lock (a lock of
  an ended change is stale: the next change takes it over);
- the change's state is what the README says of ``recover``: a change left ``in_progress`` or
  ``failed`` is rolled back (exit 0); a change still ``approved`` whose apply died before its
  rollout has its locks released (exit 0, still ``approved``: nothing was changed); a change
  already ended is refused (exit 3) and keeps its state.

Flows (by the point's stage): ``apply.*`` and stages not known here: ``apply`` armed, then
``recover``. ``restore.*``, ``recover.*`` (and ``save.restore.*``): ``apply`` killed at
``apply.committed`` on the victim (``recover.unlock*``: at ``apply.prepared``, before the rollout),
then ``recover`` armed, then ``recover`` again. ``rollback.*``: a clean ``apply``, ``rollback``
armed, then ``recover`` (on platforms whose change completes). ``restore.*`` points are also armed
in the ``apply`` flow where the change rolls back by itself.

What runs (``make test``, no variable): the full list on the fastest platform(s), :data:`FASTEST`;
on every other lab platform every point of its own commit, save and restore (:data:`OWN`: the
``apply.commit*`` and ``apply.confirm`` steps, ``save.*``, ``restore.*``) and, where its change rolls
back by itself (examples/03 on ios_cli and nftables), the apply's automatic rollback
(:data:`AUTO_ROLLBACK`); points without ``host=`` once per change. SIGTERM and a lost session
(``:term``, ``:raise``) at the commit and restore points of the fastest platform (:data:`SIGNALLED`):
a SIGTERM stops the rollout, which rolls back by itself (exit 1, ``rolled_back``, an ``interrupted``
event: the README's interrupted apply); a recover has no handler, so a SIGTERM kills it as a
SIGKILL does (-15, then ``recover``); a lost session fails the host, which is restored, or its
restore alarms with the cause "the session to the device was lost" (then ``recover`` finishes it).
``NETCHANGE_CRASH_MATRIX=full``: every point on every platform (process-wide points too), the
SIGTERM and lost-session cases on every platform.

Time: a case runs its commands as children forked from a warm forkserver (``crashfork.py``: no
interpreter start, no imports: about 2.4 s saved per command), from a copy of a state directory
where the change was planned and approved once per platform (no plan nor approval per case), and
reads its devices once; the checks are the same as before. The cases of platforms on disjoint
devices run at the same time (:func:`lanes`, :func:`outcomes`: a thread per lane runs its cases one
after the other, each case's test raises what its checks raised): a case mostly waits (SSH, the
daemons, the disk), the module used ~1/3 of one core when its cases ran one at a time.

Count and time (``make test``): 140 cases from 40 points: ios_cli 23, nftables 21, haproxy 47 (35
points and flows, 12 ``:term``/``:raise``), bind 12, netconf 13, frr 12, keepalived 12 (its 10
strict xfails passed once its diff named each line's block), asa_cli 12 (the ASA stand-in, added
later: 2-6 s a case, 49-113 s for its 12 with the scenario's plan, at load 3-4), gdnsd 12 (the global
load balancer, issue 26: 1-3 s a case, 17-19 s for its 12 at load 5-7).
491 s and 545 s for the module in two runs (509 s, 562 s with the lab's start)
on the shared 2-core machine at load average 2-4; 818 s at load 5-7. A case: haproxy 0.5-1.6 s, bind ~1 s, netconf
~2 s, keepalived ~4 s, ios_cli and nftables (three devices, a failing post-check) 3-15 s, frr
4-26 s (was 8-58 s each when every command was a new interpreter and every case planned and
approved again). The summary printed at the end gives each case's times. ``full``: 354 cases,
1,360 s end to end on this machine at load 1.2-2 (352 passed the first time; the two failures, a
hier_config driver made twice by two threads of one recover, fixed: docs/safety.md).
gdnsd 12 (added later). In lanes (ios_cli+nftables and frr+keepalived share devices; the others
alone): 164 cases in 207 s for the module, 222 s with the lab's start, at load average 1.3-2.6;
300 s at 4.5-7 (one at a time, the same evening: 698 s, 717 s, load 2.3-5.2); the longest lane,
ios_cli+nftables, sets the time.
docs/safety.md "The crash matrix" has the table.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.apply import supports_confirmed_commit
from netchange.journal import Journal
from netchange.lab.manager import LabManager
from tests.failpoint_sources import Point, registered
from tests.integration.test_e2e_apply import MEDIUM_TIME, MINOR_TIME

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "changes" / "examples"


# -- the scenarios: one change per platform --------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    platform: str
    change_id: str
    """Planned and approved once, in a state directory each case starts from a copy of."""
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
    shares: str = ""
    """The platform whose scenario runs the very same change: points without ``host=`` run there."""


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


def _asa(hosts: dict[str, Any]) -> dict[str, Any]:
    """The ASA stand-in's change (tests/integration/test_asa_cli.py): a group member, an ACL entry at line 1."""
    from tests.integration.test_asa_cli import request

    return request("")


def _gslb(hosts: dict[str, Any]) -> dict[str, Any]:
    """DOIF's weight in the global load balancer to 2 (a replace of gdnsd; its post-checks see 2:1)."""
    return {"id": "", "title": "GSLB weight", "ticket": "T-2126", "requester": "crenard",
            "steps": [{"type": "gslb_member", "targets": {"hosts": ["gslb-global"]},
                       "params": {"action": "weight", "resource": "www", "centre": "doif", "weight": 2}}]}


EX03 = ("sw-doif-core1", "sw-doif-core2", "fw-doif-a")
SCENARIOS = [
    Scenario("ios_cli", "CHG-2026-2103", "sw-doif-core1", EX03, _example("03-vlan-and-rule-postcheck-fails.yaml"),
             completes=False, approvers=("amoreau",), now=MEDIUM_TIME),
    Scenario("nftables", "CHG-2026-2103", "fw-doif-a", EX03, _example("03-vlan-and-rule-postcheck-fails.yaml"),
             completes=False, approvers=("amoreau",), now=MEDIUM_TIME, shares="ios_cli"),
    Scenario("haproxy", "CHG-2026-2112", "lb-doif", ("lb-doif",), _example("12-lb-member.yaml")),
    Scenario("bind", "CHG-2026-2111", "dns-doif", ("dns-doif",), _example("11-dns-record.yaml")),
    Scenario("netconf", "CHG-2026-2113", "nc-doif", ("nc-doif",), _example("13-netconf-vlan.yaml"),
             approvers=("amoreau",), now=MEDIUM_TIME),
    Scenario("frr", "CHG-2026-2114", "rtr-doif-a", ("rtr-doif-a",), _example("14-prefix-list-entry.yaml")),
    Scenario("asa_cli", "CHG-2026-2122", "asa-doif", ("asa-doif",), _asa),
    # A VRRP priority is a major change: two approvals, planned 24 h ahead (of the real clock), at night.
    Scenario("keepalived", "CHG-2026-2121", "vrrp-doif-a", ("vrrp-doif-a",), _vrrp,
             approvers=("amoreau", "gperrin"), now=_weekday_night_after_tomorrow()),
    # The global load balancer (issue 26): a serving centre re-weighted is major (load moves).
    Scenario("gdnsd", "CHG-2026-2126", "gslb-global", ("gslb-global",), _gslb,
             approvers=("amoreau", "gperrin"), now=_weekday_night_after_tomorrow()),
]
BY_PLATFORM = {s.platform: s for s in SCENARIOS}
FULL = os.environ.get("NETCHANGE_CRASH_MATRIX") == "full"
FASTEST = ("haproxy",)
"""Every point runs here by default. Measured (one case: copy, forked apply and recover, readings):
haproxy ~2.8 s, bind ~3.2 s, asa_cli ~3-5 s, nftables ~5 s, netconf, frr, keepalived 5-8 s, ios_cli ~9 s."""
OWN = re.compile(r"^(apply\.commit(_started|ted)?|apply\.confirm|save\..+|restore\..+)$")
"""A platform's own commit, save and restore: run on every lab platform."""
AUTO_ROLLBACK = re.compile(r"^apply\.(host_failed|rollback|restored|rolled_back)$")
"""The apply's automatic rollback: reached only where the change rolls back by itself."""
CONFIRM = re.compile(r"^apply\.confirm$")
"""Reached only where the platform's profile has a confirmed commit."""
SIGNALLED = re.compile(r"^(apply\.commit(_started|ted)?|restore\.(read|write|verify))$")
"""Where SIGTERM and a lost session (``:term``, ``:raise``) are armed too."""


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


def _selected(point: Point, scenario: Scenario) -> bool:
    if not point.per_host and scenario.shares and not FULL:
        return False  # the very same change runs it on the platform it shares it with
    if AUTO_ROLLBACK.match(point.name) and scenario.completes:
        return False  # nothing fails in a change that completes: never reached
    if CONFIRM.match(point.name) and not supports_confirmed_commit(scenario.platform):
        return False  # the platform's profile has no confirmed commit: never reached
    return FULL or scenario.platform in FASTEST or bool(OWN.match(point.name)) or bool(
        AUTO_ROLLBACK.match(point.name))


POINTS = registered()
"""Read from the source once (parsing it takes ~0.65 s; each case did it again for its point's ``host=``)."""
PER_HOST = {p.name: p.per_host for p in POINTS}


def cases() -> Iterator[Any]:
    points = POINTS
    for scenario in SCENARIOS:
        for point in points:
            if not _selected(point, scenario):
                continue
            for flow in flows(point, scenario):
                yield _case(scenario, point, flow, "kill")
    for scenario in SCENARIOS if FULL else [BY_PLATFORM[p] for p in FASTEST]:
        for point in (p for p in points if SIGNALLED.match(p.name) and _selected(p, scenario)):
            for flow in flows(point, scenario):
                for action in ("term", "raise"):
                    yield _case(scenario, point, flow, action)


def _case(scenario: Scenario, point: Point, flow: str, action: str) -> Any:
    case_id = f"{scenario.platform}-{flow}-{point.name}" + ("" if action == "kill" else f":{action}")
    reason = XFAIL.get((scenario.platform, flow, point.name, action))
    return pytest.param(scenario.platform, point.name, flow, action, id=case_id,
                        marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else [])


XFAIL: dict[tuple[str, str, str, str], str] = {}
"""(platform, flow, point, action) → why the case fails today (strict: a fix makes it pass, and the entry goes)."""


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

    def _asa_cli(self, host: dict[str, Any], secret: dict[str, Any], command: str = "show running-config") -> str:
        from netmiko import ConnectHandler

        conn = ConnectHandler(device_type="cisco_asa", host=host["hostname"], port=host["port"],
                              username=secret["username"], password=secret["password"],
                              secret=(secret.get("optional_args") or {}).get("secret", ""),
                              use_keys=False, allow_agent=False)
        try:
            return str(conn.send_command(command, read_timeout=30))
        finally:
            conn.disconnect()

    def startup(self, name: str) -> str:
        """An ASA's ``show startup-config`` (what ``write memory`` saved), read as :meth:`read` reads."""
        return self._asa_cli(self.hosts[name], self.secrets.get(name) or {}, "show startup-config")

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

    def _gdnsd(self, host: dict[str, Any], secret: dict[str, Any]) -> str:
        """gdnsd's config and admin_state on disk, the states it shows (forced ones end in ``!``),
        and its SOA by ``dig`` (it answers)."""
        base = Path(self._options(host)["config_dir"])
        states = subprocess.run(["gdnsdctl", "-c", str(base), "-o", "states"], capture_output=True, text=True,
                                check=True, timeout=30).stdout
        forced = sorted(re.findall(r'"([^"]+)": \{"state": "([A-Z]+!?)"', states))
        soa = subprocess.run(["dig", "-p", str(host["port"]), f"@{host['hostname']}", host["data"]["zone"], "SOA",
                              "+short"], capture_output=True, text=True, check=True, timeout=30).stdout
        return "\n".join([(base / "config").read_text(), "# admin_state", (base / "state" / "admin_state").read_text(),
                          "# states", *(f"{k} {v}" for k, v in forced), "# SOA", soa])


# -- one case ------------------------------------------------------------------------------------------
RECOVER_ENDS = {
    # state before recover → (recover's exit code, state after), as the README says of recover.
    # approved: killed before the rollout, its journal locks left; recover releases them (nothing changed).
    "approved": (0, "approved"),
    "in_progress": (0, "rolled_back"),
    "failed": (0, "rolled_back"),
    "completed": (3, "completed"),
    "rolled_back": (3, "rolled_back"),
}


@dataclass
class Matrix:
    """The lab, a planned-and-approved state directory per scenario, the reference readings, and
    what each case found (for the summary)."""

    lab: LabManager
    reader: Reader
    root: Path
    baseline: dict[str, str] = field(default_factory=dict)
    applied: dict[str, dict[str, str]] = field(default_factory=dict)
    """platform → host → reading after a clean apply (the scenarios that complete)."""
    driver_baseline: dict[str, str] = field(default_factory=dict)
    templates: dict[str, Path] = field(default_factory=dict)
    results: list[tuple[str, ...]] = field(default_factory=list)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    """The case count is shared by the lanes (each case gets its own state directory)."""

    def run(self, home: Path, *args: str, armed: str | None = None, now: str = MINOR_TIME,
            actor: str = "dnguyen") -> Any:
        from tests.integration import crashfork

        env = {k: v for k, v in os.environ.items() if k != "NETCHANGE_FAILPOINT"}
        env.update(NETCHANGE_NORNIR_CONFIG=str(self.lab.nornir_config), NETCHANGE_ACTOR=actor,
                   NETCHANGE_POLICY=str(REPO / "policy.yaml"), COLUMNS="200", NETCHANGE_HOME=str(home),
                   NETCHANGE_NOW=now)
        return crashfork.run(list(args), env=env, workdir=home, armed=armed)

    @staticmethod
    def state(home: Path, change_id: str) -> str:
        with Journal(home / "journal.sqlite") as journal:
            return journal.state(change_id)

    @staticmethod
    def journal_problems(home: Path, change_id: str) -> list[str]:
        """The journal's own check, and locks that still refuse other changes: held by this change
        while it is approved or in progress (a lock of an ended change is stale, taken over)."""
        with Journal(home / "journal.sqlite") as journal:
            held = [lock.host for lock in journal.locks() if lock.change_id == change_id]
            live = journal.state(change_id) in ("approved", "in_progress")
            return journal.verify() + [f"journal locks still held on {', '.join(held)}"] * (live and bool(held))

    def read(self, hosts: tuple[str, ...]) -> dict[str, str]:
        """Each host read by its own means, the hosts at the same time (each is its own device)."""
        if len(hosts) < 2:
            return {h: self.reader.read(h) for h in hosts}
        with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            return dict(zip(hosts, pool.map(self.reader.read, hosts), strict=True))

    def home(self, scenario: Scenario) -> Path:
        """A fresh state directory where the scenario's change is planned and approved (a copy of
        one made once per scenario; a new path each time: the journal's heads are kept per path)."""
        if scenario.platform not in self.templates:
            template = self.root / f"template-{scenario.platform}"
            template.mkdir()
            request = scenario.change(self.reader.hosts)
            request["id"] = scenario.change_id
            path = template / f"{scenario.change_id}.yaml"
            path.write_text(yaml.safe_dump(request))
            planned = self.run(template, "plan", str(path), now=scenario.planned)
            assert planned.returncode == 0, planned.stdout + planned.stderr
            for approver in scenario.approvers:
                approved = self.run(template, "approve", scenario.change_id, actor=approver, now=scenario.planned)
                assert approved.returncode == 0, approved.stdout + approved.stderr
            self.templates[scenario.platform] = template
        with self.lock:
            self.count += 1
            home = self.root / f"case-{self.count:03d}-{scenario.platform}"
        shutil.copytree(self.templates[scenario.platform], home)
        return home

    def repair(self, scenario: Scenario, open_driver: Callable[[str], Any],
               devices: dict[str, str] | None = None) -> list[str]:
        """After a case: put back any device not as before (cleanup, not a check). ``devices``:
        the case's own reading, when nothing was sent since."""
        repaired = []
        for host in scenario.hosts:
            if (devices[host] if devices else self.reader.read(host)) != self.baseline[host]:
                dev = open_driver(host)
                dev.load_replace_candidate(config=self.driver_baseline[host])
                dev.commit_config()
                dev.close()
                repaired.append(host)
        return repaired


@pytest.fixture(scope="module")
def matrix(lab: LabManager, open_driver_module: Callable[[str], Any],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    m = Matrix(lab=lab, reader=Reader(lab), root=tmp_path_factory.mktemp("crash-matrix"))
    hosts = sorted({h for s in SCENARIOS for h in s.hosts})
    m.baseline = m.read(tuple(hosts))

    def driver_reading(h: str) -> str:
        driver = open_driver_module(h)
        try:
            return str(driver.get_config(retrieve="running")["running"])
        finally:
            driver.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        m.driver_baseline = dict(zip(hosts, pool.map(driver_reading, hosts), strict=True))
    started = time.monotonic()
    yield m
    total = time.monotonic() - started
    homes = sorted(m.root.glob("case-*"))
    if homes:  # the command itself, once (each case ran its check in process)
        verified = m.run(homes[-1], "journal", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
    print(f"\ncrash matrix: {len(m.results)} cases in {total:.0f} s"
          f" ({'full' if FULL else 'default'}; load average {os.getloadavg()[0]:.1f})")
    for row in m.results:
        print("  " + " | ".join(row))


@pytest.fixture(scope="module")
def open_driver_module(nornir: Any) -> Callable[[str], Any]:
    """A driver for the set-up and the repairs only (never to check a case); the caller closes it."""
    from netchange.inventory import NetchangeConnection

    def _open(name: str) -> Any:
        params = nornir.inventory.hosts[name].get_connection_parameters("netchange")
        conn = NetchangeConnection()
        conn.open(hostname=params.hostname, username=params.username, password=params.password,
                  port=params.port, platform=params.platform, extras=params.extras)
        return conn.connection

    return _open


def _applied(matrix: Matrix, scenario: Scenario, open_driver: Callable[[str], Any], case: Path) -> dict[str, str]:
    """The devices as a clean apply of the scenario leaves them (read once, when first needed:
    the case's change, in state directory ``case``, is rolled back first)."""
    if scenario.platform not in matrix.applied:
        if matrix.state(case, scenario.change_id) == "completed":
            matrix.run(case, "rollback", scenario.change_id, now=scenario.now)
        matrix.repair(scenario, open_driver)
        home = matrix.home(scenario)
        applied = matrix.run(home, "apply", scenario.change_id, now=scenario.now)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        matrix.applied[scenario.platform] = matrix.read(scenario.hosts)
        back = matrix.run(home, "rollback", scenario.change_id, now=scenario.now)
        assert back.returncode == 0, back.stdout + back.stderr
        assert matrix.read(scenario.hosts) == {h: matrix.baseline[h] for h in scenario.hosts}
    return matrix.applied[scenario.platform]


def _armed(point: str, scenario: Scenario, per_host: bool, action: str) -> str:
    return f"{point}@{scenario.victim}:{action}" if per_host else f"{point}:{action}"


def _before_recover(point: str) -> str:
    """Where the apply dies before an armed ``recover``: after the victim's commit (a restore is
    due), or before the rollout for the recover of a change left approved (``recover.unlock*``)."""
    return "apply.prepared" if point.startswith("recover.unlock") else "apply.committed@{victim}"


def lanes(inventory: dict[str, Any]) -> dict[str, str]:
    """platform → its lane: the first scenario (in order) it shares a device with, transitively.

    A device is what the journal locks: the address and port the inventory connects to (the
    router's keepalived, vrrp-doif-a, is rtr-doif-a's SSH endpoint: frr and keepalived share a
    lane; ios_cli and nftables run the same change on the same three devices: one lane).
    Scenarios of different lanes touch disjoint devices, so their cases run at the same time; a
    lane's cases run one after the other, in the order pytest lists them."""
    def devices(s: Scenario) -> set[str]:
        return {f"{inventory[h]['hostname']}:{inventory[h].get('port') or 22}" for h in s.hosts}

    groups: list[tuple[list[str], set[str]]] = []  # (platforms, devices), in the scenarios' order
    for scenario in SCENARIOS:
        platforms, held = [scenario.platform], devices(scenario)
        for group in [g for g in groups if g[1] & held]:  # every lane it touches becomes one
            groups.remove(group)
            platforms, held = group[0] + platforms, group[1] | held
        groups.append((platforms, held))
    return {platform: platforms[0] for platforms, _ in groups for platform in platforms}


@pytest.fixture(scope="module")
def outcomes(request: pytest.FixtureRequest, matrix: Matrix,
             open_driver_module: Callable[[str], Any]) -> Iterator[dict[str, Future[None]]]:
    """Every selected case of this module run ahead, a thread per lane (:func:`lanes`); case id →
    its end (``None``, or the exception its checks raised, with its traceback), which its own test
    waits for and raises: each case is still passed, failed or xfailed on its own, with its details.

    Why: a case mostly waits (SSH, daemons, the journal's disk); run one at a time the module took
    ~600 s on the 2-core machine for ~220 s of CPU time."""
    selected = [item for item in request.session.items
                if isinstance(item, pytest.Function) and item.module is request.module
                and item.originalname == "test_killed_at_every_point_then_recover"]
    lane_of = lanes(matrix.reader.hosts)
    by_lane: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for item in selected:
        params = item.callspec.params
        by_lane.setdefault(lane_of[params["platform"]], []).append((item.callspec.id, params))
    futures: dict[str, Future[None]] = {case_id: Future() for queue in by_lane.values() for case_id, _ in queue}
    stop = threading.Event()

    def run_lane(queue: list[tuple[str, dict[str, Any]]]) -> None:
        for case_id, params in queue:
            future = futures[case_id]
            if stop.is_set() or not future.set_running_or_notify_cancel():
                continue
            try:
                _case_run(matrix, open_driver_module, params["platform"], params["point"], params["flow"],
                          params["action"])
            except BaseException as exc:  # handed to the case's own test, which raises it
                future.set_exception(exc)
            else:
                future.set_result(None)

    threads = [threading.Thread(target=run_lane, args=(queue,), name=f"crash-matrix-{lane}", daemon=True)
               for lane, queue in by_lane.items()]
    for thread in threads:
        thread.start()
    try:
        yield futures
    finally:
        stop.set()  # a session stopped early (-x, Ctrl-C): the lanes end after their current case
        for future in futures.values():
            future.cancel()
        for thread in threads:
            thread.join()


@pytest.mark.parametrize(("platform", "point", "flow", "action"), list(cases()))
def test_killed_at_every_point_then_recover(platform: str, point: str, flow: str, action: str,
                                            outcomes: dict[str, Future[None]],
                                            request: pytest.FixtureRequest) -> None:
    """The case, run by its lane (:func:`outcomes`): its checks' failure is raised here."""
    outcomes[request.node.callspec.id].result()


def _case_run(matrix: Matrix, open_driver_module: Callable[[str], Any], platform: str, point: str, flow: str,
              action: str) -> None:
    """One case: the armed command, ``recover``, the checks (see the module docstring)."""
    scenario = BY_PLATFORM[platform]
    change_id = scenario.change_id
    per_host = PER_HOST[point]
    started = time.monotonic()
    home = matrix.home(scenario)
    armed = _armed(point, scenario, per_host, action)
    if flow == "apply":
        crashed = matrix.run(home, "apply", change_id, armed=armed, now=scenario.now)
    elif flow == "recover":
        first = _before_recover(point).format(victim=scenario.victim) + ":kill"
        killed = matrix.run(home, "apply", change_id, armed=first, now=scenario.now)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        crashed = matrix.run(home, "recover", change_id, armed=armed)
    else:
        done = matrix.run(home, "apply", change_id, now=scenario.now)
        assert done.returncode == 0, done.stdout + done.stderr
        crashed = matrix.run(home, "rollback", change_id, armed=armed, now=scenario.now)
    armed_at = time.monotonic()
    before = matrix.state(home, change_id)
    devices: dict[str, str] | None = None
    devices_now = True
    """``devices`` is still how the devices are (nothing sent since the reading)."""
    try:
        outcome = _check_armed_end(crashed, action, flow, before, home, change_id, point)
        want_exit, want_state = RECOVER_ENDS[before]
        if flow == "recover" and before == "approved" and outcome == "not hit (exit 0)" and not _held(home, change_id):
            # The armed recover released the locks itself (``recover.unlock_check`` reads a host only
            # where the dead apply journaled a snapshot: none before the rollout since issue 27 item 1,
            # each host being read at its turn): nothing left, the next recover is refused.
            want_exit, want_state = 3, "approved"
        recovered = matrix.run(home, "recover", change_id)
        after = matrix.state(home, change_id)
        recovered_at = time.monotonic()
        devices = matrix.read(scenario.hosts)
        read_at = time.monotonic()
        matrix.results.append((platform, flow, point + ("" if action == "kill" else f":{action}"),
                               f"{outcome}, {before} -> recover -> {after} (exit {recovered.returncode})",
                               f"{read_at - started:.1f}s (armed {armed_at - started:.1f}, recover "
                               f"{recovered_at - armed_at:.1f}, read {read_at - recovered_at:.1f})"))
        assert (recovered.returncode, after) == (want_exit, want_state), (
            f"killed at {armed} ({outcome}), state {before}: recover "
            + recovered.stdout[-1500:] + recovered.stderr[-1500:])
        if before == "completed" and platform not in matrix.applied:
            _applied(matrix, scenario, open_driver_module, home)
            devices_now = False  # rolled back and applied again since the reading
        expected = (matrix.applied[platform] if before == "completed"
                    else {h: matrix.baseline[h] for h in scenario.hosts})
        for host in scenario.hosts:
            assert devices[host] == expected[host], f"{host} after recover differs from " + (
                "the applied state" if before == "completed" else "its snapshot")
        if platform == "frr":
            assert matrix.reader.ospf_full(scenario.victim), "OSPF adjacency not Full after recover"
        assert matrix.journal_problems(home, change_id) == []
    finally:
        if matrix.state(home, change_id) == "completed":
            matrix.run(home, "rollback", change_id, now=scenario.now)
            devices_now = False
        matrix.repair(scenario, open_driver_module, devices if devices_now else None)


def _held(home: Path, change_id: str) -> bool:
    """Whether ``change_id`` still holds journal locks in the state directory ``home``."""
    with Journal(home / "journal.sqlite") as journal:
        return any(lock.change_id == change_id for lock in journal.locks())


def _check_armed_end(crashed: Any, action: str, flow: str, state: str, home: Path, change_id: str,
                     point: str) -> str:
    """How the armed command ended, checked against what the README says of it; a short note."""
    output = crashed.stdout + crashed.stderr
    if action == "kill" or (action == "term" and flow != "apply"):
        # A recover or a rollback has no handler: SIGTERM ends it as SIGKILL does.
        signum = signal.SIGKILL if action == "kill" else signal.SIGTERM
        assert crashed.returncode in (-signum, 0, 1, 3), output[-1500:]
        return "killed" if crashed.returncode == -signum else f"not hit (exit {crashed.returncode})"
    with Journal(home / "journal.sqlite") as journal:
        events = journal.events(change_id)
    if action == "term":
        if not any(e.kind == "interrupted" for e in events):
            return f"not hit (exit {crashed.returncode})"
        # The README: SIGTERM stops an apply like Ctrl-C: it rolls back and verifies by itself.
        assert (crashed.returncode, state) == (1, "rolled_back"), output[-1500:]
        return "terminated, rolled back by itself"
    if not any("fault injected at" in str(e.data) for e in events) and "fault injected at" not in output:
        return f"not hit (exit {crashed.returncode})"
    # A lost session: the host restored (the apply's own rollback, or a restore's next strategy),
    # or an alarm with the cause "session lost" for recover to finish.
    if state == "failed":
        assert crashed.returncode == 1 and "the session to the device was lost" in output, output[-1500:]
        return "session lost: alarm"
    assert (crashed.returncode, state) == (1 if flow == "apply" else 0, "rolled_back"), output[-1500:]
    return "session lost: restored"
