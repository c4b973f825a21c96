"""``make demo-team``: a team's set-up on the team lab, and a site worker killed in the middle of an apply.

What it shows (issue 25 item 5), command by command:

1. ``netchange lab up --team``: the centre namespace (PostgreSQL, the Temporal dev server), doif's
   and doso's jump namespaces, each site's switches behind its jump host;
2. the team's journal in PostgreSQL; in the centre, the control worker and the approval service
   (``netchange serve`` on the centre's loopback: the operator's CLI beside it talks to it);
   in doif's jump namespace, **two** doif workers (doif's inventory and secrets only);
3. a change on two doif access switches, planned at the site (the planner reads the devices from
   doif's jump host), approved through the service's API;
4. ``netchange apply`` from an engineer's CLI that knows only the service's URL and a token (the
   service starts the Temporal workflow ``apply:<id>`` as the token's owner, the CLI follows the
   run to its end, exit 1 once rolled back): both doif workers are armed to die (SIGKILL, fail point
   ``apply.committed``) right after the first switch committed; whichever holds it dies, and the
   other one finishes the change: its heartbeat timeout presumes the first dead, the lease tokens
   are bumped, the switch is read and restored, the rollout rolled back, every restore verified;
5. the switches read independently (a plain netmiko ``show running-config`` from doif's jump
   host) against their state before the apply, the journal verified, the times from the worker's
   death to the compensation's start and to the verified restore (from the journal's timestamps);
6. everything stopped and ``lab down``: nothing left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.rule import Rule

from netchange.demo.team import CENTRE, REPO, TeamProcess, TeamRun

MINOR_TIME = "2026-12-01T10:00:00+01:00"
CHANGE = REPO / "changes" / "examples" / "01-access-port.yaml"
CHANGE_ID = "CHG-2026-0101"
VICTIM_HOST = "sw-doif-acc1"
READER = REPO / "tests" / "team_reader.py"
console = Console()


class TeamDemo:
    def __init__(self) -> None:
        self.home = REPO / ".netchange" / "demo-team"
        self.engineer_token = ""
        self.failures: list[str] = []
        self.run: TeamRun | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
        self.env.update({"NETCHANGE_HOME": str(self.home), "COLUMNS": os.environ.get("COLUMNS", "110")})

    # -- output ------------------------------------------------------------------------------------

    def step(self, title: str) -> None:
        console.print(Rule(title, style="cyan"))

    def expect(self, ok: bool, what: str) -> None:
        console.print(f"[{'green' if ok else 'bold red'}]{'ok' if ok else 'UNEXPECTED'}[/] {what}")
        if not ok:
            self.failures.append(what)

    def cli(self, where: str, *args: str, actor: str | None = None, expect: int = 0,
            extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``netchange ARGS`` at ``where`` (root: the operator's lab commands; centre or a site)."""
        run = self.run
        if run is None:
            env = dict(self.env)
        else:
            env = run.env(where, run.home("centre"), **({"NETCHANGE_ACTOR": actor} if actor else {}),
                          NETCHANGE_NOW=MINOR_TIME)
        env.update(extra or {})
        ns = run.namespace(where) if run is not None else None
        shown = f"[{where}] " if run is not None else ""
        console.print(f"[bold cyan]{shown}$ {'NETCHANGE_ACTOR=' + actor + ' ' if actor else ''}"
                      f"netchange {' '.join(args)}[/]")
        started = time.monotonic()
        proc = subprocess.run([*(["ip", "netns", "exec", ns] if ns else []), sys.executable, "-m", "netchange",
                               *args], env=env, text=True, capture_output=True, check=False, cwd=REPO)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        verdict = "as expected" if proc.returncode == expect else f"EXPECTED {expect}"
        console.print(f"[dim]→ exit {proc.returncode} ({verdict}) in {time.monotonic() - started:.1f}s[/]\n")
        if proc.returncode != expect:
            self.failures.append(f"netchange {' '.join(args)}: exit {proc.returncode}, expected {expect}")
        return proc

    # -- the devices, read by their own means --------------------------------------------------------

    def read(self, hosts: list[str]) -> dict[str, str]:
        assert self.run is not None
        lab = self.run.lab_root
        proc = subprocess.run(["ip", "netns", "exec", str(self.run.namespace("doif")), sys.executable, str(READER),
                               str(lab / "inventory" / "hosts.yaml"), str(lab / "secrets.yaml"), *hosts],
                              capture_output=True, text=True, check=False, timeout=120)
        got = json.loads(proc.stdout or "{}")
        return {h: got.get(h, {}).get("running", f"unreadable: {got.get(h)}") for h in hosts}

    # -- the story -------------------------------------------------------------------------------------

    def main(self) -> int:
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        try:
            self.step("1. The team lab: a centre, one jump host per site, each site's switches behind it")
            if self.cli("root", "lab", "up", "--team").returncode != 0:
                return 1
            self.cli("root", "lab", "status")
            lab = self.home / "lab"
            console.print(yaml.safe_dump(yaml.safe_load((lab / "team.yaml").read_text())["sites"], sort_keys=False))
            self.run = TeamRun(lab, self.home / "team")
            self.story()
        except Exception as exc:  # the demo reports and still tears everything down
            self.failures.append(f"{type(exc).__name__}: {exc}")
            console.print_exception()
        finally:
            self.step("8. Everything stopped, the lab down: nothing left behind")
            prefix = ""
            if self.run is not None:
                self.run.stop_all()
                prefix = f"nc{self.run.layout['instance']}-team-"
            self.run = None
            self.cli("root", "lab", "down")
            left = [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                                check=False).stdout.split() if prefix and ns.startswith(prefix)]
            self.expect(not left, f"no team namespace left ({left or 'none'})")
        if self.failures:
            console.print("[bold red]demo-team: unexpected results:[/]")
            for failure in self.failures:
                console.print(f"  {failure}")
            return 1
        console.print("[bold green]demo-team complete[/]")
        return 0

    def story(self) -> None:
        run = self.run
        assert run is not None
        self.step("2. The team's journal in PostgreSQL; the control worker and the service in the centre")
        run.create_database()
        console.print(f"journal: {run.database_url(CENTRE)} (the application's role; the key stays in the centre)")
        centre = run.home("centre")
        control = run.netchange("control", CENTRE, centre, "worker", "--control")
        run.wait_for_log("control", "worker on")
        console.print(f"control worker in {run.namespace(CENTRE)}, pid {control.pid}")
        made = self.cli(CENTRE, "users", "token", "amoreau", "--label", "demo-team")
        token = made.stdout.strip()
        self.engineer_token = self.cli(CENTRE, "users", "token", "dnguyen", "--label", "demo-team").stdout.strip()
        # The service judges at the demo's simulated time too (the lab policy allows it).
        service = run.netchange("service", CENTRE, centre, "serve", "--port", "8080", NETCHANGE_NOW=MINOR_TIME)
        run.wait_http(CENTRE, "http://127.0.0.1:8080/signin")
        server = {"NETCHANGE_SERVER_URL": "http://127.0.0.1:8080", "NETCHANGE_API_TOKEN": token}
        console.print(f"approval service in {run.namespace(CENTRE)} on 127.0.0.1:8080, pid {service.pid}")

        self.step("3. Two doif workers in doif's jump namespace (doif's secrets only), armed to die mid-apply")
        armed = f"apply.committed@{VICTIM_HOST}:kill"
        workers = [run.netchange(f"doif-{n}", "doif", run.home(f"doif-{n}"), "worker", "--site", "doif",
                                 NETCHANGE_FAILPOINT=armed) for n in ("a", "b")]
        for w in workers:
            run.wait_for_log(w.name, "worker on")
            console.print(f"{w.name}: pid {w.pid} in {run.namespace('doif')}, NETCHANGE_FAILPOINT={armed}")
        secrets = yaml.safe_load(Path(run.layout["site_files"]["doif"]["secrets"]).read_text())["hosts"]
        console.print(f"the doif workers' secrets name: {', '.join(sorted(secrets))}")

        self.step("4. Planned at the site (its jump host reads the switches), approved through the service")
        self.cli("doif", "plan", str(CHANGE.relative_to(REPO)), actor="dnguyen",
                 extra={"NETCHANGE_NORNIR_CONFIG": run.layout["site_files"]["doif"]["nornir"]})
        self.cli(CENTRE, "approve", CHANGE_ID, "--comment", "printer ports, checked", extra=server)
        self.cli(CENTRE, "show", CHANGE_ID, extra=server)
        hosts = ["sw-doif-acc1", "sw-doif-acc2"]
        before = self.read(hosts)

        self.step("5. Applied through the service (it starts the workflow): the doif worker holding the switch "
                  "dies right after its commit")
        engineer = self._engineer_apply()
        died = self._first_death(workers)
        out, err = engineer.communicate(timeout=300)
        sys.stdout.write(out)
        sys.stderr.write(err)
        self.expect(engineer.returncode == 1, f"the engineer's apply ended rolled back, exit {engineer.returncode}")
        self._wait_final(CHANGE_ID)
        dead = [w for w in workers if not w.alive()]
        alive = [w for w in workers if w.alive()]
        self.expect(len(dead) == 1 and dead[0].process.returncode == -9,
                    f"one doif worker was SIGKILLed mid-apply ({', '.join(w.name for w in dead)})")
        self.expect(len(alive) == 1, f"the other one finished the change ({', '.join(w.name for w in alive)})")

        self.step("6. The switches read independently, the journal verified")
        after = self.read(hosts)
        for host in hosts:
            self.expect(after[host] == before[host], f"{host}: byte-equal to its state before the apply")
        shown = self.cli(CENTRE, "show", CHANGE_ID, "--json")
        change: dict[str, Any] = json.loads(shown.stdout or "{}")
        self.expect(change.get("state") == "rolled_back", f"{CHANGE_ID}: state {change.get('state')}")
        self.cli(CENTRE, "show", CHANGE_ID)
        self.cli(CENTRE, "journal", "verify")
        self.step("7. From the worker's death to the compensation and to the verified restore")
        self._times(change, died)

    def _engineer_apply(self) -> subprocess.Popen[str]:
        """``netchange apply`` from an engineer's CLI that knows only the service's URL and a token:
        no inventory, no device secrets, no Temporal address, no journal key (an empty home). The
        service starts the workflow as the token's owner; the CLI follows the run to its end."""
        assert self.run is not None
        laptop = self.home / "engineer"
        laptop.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETCHANGE_")}
        env.update({"NETCHANGE_HOME": str(laptop), "NETCHANGE_SERVER_URL": "http://127.0.0.1:8080",
                    "NETCHANGE_API_TOKEN": self.engineer_token, "COLUMNS": self.env["COLUMNS"]})
        console.print(f"[bold cyan][{CENTRE}, the engineer's CLI: a URL and dnguyen's token only] "
                      f"$ netchange apply {CHANGE_ID}[/]")
        return subprocess.Popen(["ip", "netns", "exec", str(self.run.namespace(CENTRE)), sys.executable, "-m",
                                 "netchange", "apply", CHANGE_ID], env=env, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=REPO)

    def _wait_final(self, change_id: str, timeout: float = 240) -> None:
        assert self.run is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            env = self.run.env(CENTRE, self.run.home("centre"))
            ns = str(self.run.namespace(CENTRE))
            shown = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-m", "netchange", "show", change_id,
                                    "--json"], env=env, capture_output=True, text=True, check=False, cwd=REPO)
            state = json.loads(shown.stdout or "{}").get("state")
            if state not in ("approved", "in_progress", None):
                console.print(f"{change_id}: {state}")
                return
            time.sleep(1)
        self.expect(False, f"{change_id} finished within {timeout:.0f} s")

    @staticmethod
    def _first_death(workers: list[TeamProcess], timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        while all(w.alive() for w in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        return time.time()

    def _times(self, change: dict[str, Any], died: float) -> None:
        def at(event: dict[str, Any]) -> float:
            return dt.datetime.fromisoformat(str(event.get("at") or event.get("ts") or event.get("time"))).timestamp()

        events = change.get("events", [])
        lost = next((e for e in events if e.get("kind") == "host_failed" and e.get("host") == VICTIM_HOST), None)
        started = next((e for e in events if e.get("kind") == "rollback_started" and e.get("host") == VICTIM_HOST),
                       None)
        verified = next((e for e in events if e.get("kind") == "rollback_verified" and e.get("host") == VICTIM_HOST),
                        None)
        if lost is None or started is None or verified is None:
            self.expect(False, f"host_failed, rollback_started and rollback_verified of {VICTIM_HOST} journaled")
            return
        console.print(f"worker killed → presumed lost (host_failed journaled): {at(lost) - died:.1f} s")
        console.print(f"worker killed → compensation started (rollback_started): {at(started) - died:.1f} s")
        console.print(f"worker killed → {VICTIM_HOST} restored and verified (rollback_verified): "
                      f"{at(verified) - died:.1f} s")


if __name__ == "__main__":
    sys.exit(TeamDemo().main())
