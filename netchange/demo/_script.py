"""``make demo``: the whole job on the built-in lab, command by command, as an engineer types it.

Brings the lab up, plans an example change per role (diffs, categories, reasons), applies a minor
change, applies one whose post-check fails and shows the automatic rollback, prints the journal
and the tracking sheet, and brings the lab down whatever happened.

The demo plays several people of the lab policy (``NETCHANGE_ACTOR``) and runs at simulated
times (``NETCHANGE_NOW``: a Tuesday, 10:00 for minor work and 19:10 for medium work), because
the guard would rightly refuse most changes on the day you run it. Both overrides are honoured
only by a policy that allows them (``identity.allow_override``), as the lab policy does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "changes" / "examples"
MINOR_TIME = "2026-12-01T10:00:00+01:00"
MEDIUM_TIME = "2026-12-01T19:10:00+01:00"
console = Console()


def major_time() -> str:
    """A Saturday 10:00 (Paris) at least a day after now: a major change's window and lead time
    (planned a day ahead, run when the service is closed to users), whatever day the demo runs."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    day = (dt.datetime.now(paris) + dt.timedelta(days=1, hours=1)).date()
    while day.weekday() != 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=paris).isoformat()


class Demo:
    def __init__(self) -> None:
        self.home = REPO / ".netchange" / "demo"
        self.failures: list[str] = []
        self.env = dict(os.environ)
        self.env.update({
            "NETCHANGE_HOME": str(self.home),
            "NETCHANGE_POLICY": str(REPO / "policy.yaml"),
            "NETCHANGE_NORNIR_CONFIG": str(self.home / "lab" / "nornir.yaml"),
            "COLUMNS": os.environ.get("COLUMNS", "110"),
        })

    def run(self, *args: str, actor: str | None = None, now: str | None = None, expect: int = 0,
            title: str = "", quiet: bool = False) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        shown = []
        if actor:
            env["NETCHANGE_ACTOR"] = actor
            shown.append(f"NETCHANGE_ACTOR={actor}")
        if now:
            env["NETCHANGE_NOW"] = now
            shown.append(f"NETCHANGE_NOW={now}")
        if title:
            console.print(Rule(title, style="cyan"))
        console.print(f"[bold cyan]$ {' '.join([*shown, 'netchange', *args])}[/]")
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "netchange", *args], env=env, text=True,
                              capture_output=True, check=False, cwd=REPO)
        if not quiet:  # a caller that prints what it read itself
            sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        verdict = "as expected" if proc.returncode == expect else f"EXPECTED {expect}"
        console.print(f"[dim]→ exit {proc.returncode} ({verdict}) in {time.monotonic() - start:.1f}s[/]\n")
        if proc.returncode != expect:
            self.failures.append(f"netchange {' '.join(args)}: exit {proc.returncode}, expected {expect}")
        return proc

    def through_the_service(self, change_id: str, manager: str) -> None:
        """The manager's approval through the approval service's JSON API (``netchange serve`` on
        127.0.0.1): the CLI, given the server's URL and the manager's token, asks the service."""
        from netchange.demo._service import serving

        console.print(Rule("8b. The approval through the service's API (netchange serve)", style="cyan"))
        made = subprocess.run([sys.executable, "-m", "netchange", "users", "token", manager, "--label", "demo"],
                              env=self.env, text=True, capture_output=True, check=False, cwd=REPO)
        if made.returncode != 0:
            self.failures.append(f"users token {manager}: {made.stderr.strip()}")
            return
        console.print(f"[bold cyan]$ netchange users token {manager}[/]  [dim](printed once; kept out of this log)[/]")
        with serving(self.env) as base:
            console.print(f"[dim]netchange serve listening on {base}[/]")
            saved = dict(self.env)
            self.env.update({"NETCHANGE_SERVER_URL": base, "NETCHANGE_API_TOKEN": made.stdout.strip()})
            try:
                console.print(f"[dim]with NETCHANGE_SERVER_URL={base} and {manager}'s NETCHANGE_API_TOKEN:[/]")
                self.run("approve", change_id, "--comment", "checked the pool on the change page")
                self.run("list")
            finally:
                self.env = saved

    def gslb_drain_and_back(self) -> None:
        """The global load balancer (gdnsd, issue 26): DOSO out for maintenance and back, each a
        major change whose post-checks watch the answers and the centres' own counters move."""
        self.run("approve", "CHG-2026-0116", actor="amoreau",
                 title="9b. The global load balancer: drain DOSO for maintenance, traffic watched moving to DOIF")
        self.run("approve", "CHG-2026-0116", actor="gperrin")
        self.run("apply", "CHG-2026-0116", actor="dnguyen", now=major_time())
        self.post_checks("CHG-2026-0116")
        self.run("plan", self.example("after-the-drain/16b-gslb-doso-back.yaml"), actor="dnguyen",
                 title="9c. DOSO back in the global load balancer: new clients reach it again")
        self.run("approve", "CHG-2026-0117", actor="amoreau")
        self.run("approve", "CHG-2026-0117", actor="gperrin")
        self.run("apply", "CHG-2026-0117", actor="dnguyen", now=major_time())
        self.post_checks("CHG-2026-0117")

    def post_checks(self, change_id: str) -> None:
        """The post-checks' results as the journal keeps them (``show --json``): what was seen."""
        import json

        proc = self.run("show", change_id, "--json", quiet=True)
        events = json.loads(proc.stdout or "{}").get("events", []) if proc.returncode == 0 else []
        for event in events:
            if event.get("kind") == "post_checks":
                for c in event["data"].get("checks", []):
                    mark = "[green]✓[/]" if c.get("passed") else "[red]✗[/]"
                    console.print(f"  {mark} {c.get('name')}: [dim]{c.get('detail', '')}[/]", highlight=False)
        console.print()

    def operator_b_move(self) -> None:
        """Two operators per site (issue 26): outbound traffic moved to operator B on DOIF's VRRP
        standby; the site's traced flow stays on A, so the post-check fails and the router is
        restored, the traffic verified back on operator A."""
        self.run("plan", self.example("18-outbound-to-operator-b-postcheck-fails.yaml"), actor="dnguyen",
                 title="10b. Outbound traffic to operator B, post-check fails: rolled back, traffic verified on A")
        self.run("approve", "CHG-2026-0118", actor="amoreau")
        self.run("approve", "CHG-2026-0118", actor="gperrin")
        self.run("apply", "CHG-2026-0118", actor="dnguyen", now=major_time(), expect=1)
        self.run("show", "CHG-2026-0118")

    def example(self, name: str) -> str:
        return str((EXAMPLES / name).relative_to(REPO))

    def main(self) -> int:
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        from netchange.demo._service import MailSink

        # Every step is mailed to the people the policy names: a local SMTP server catches them.
        sink = MailSink.start()
        if sink is not None:
            self.env.update({"NETCHANGE_SMTP_HOST": "127.0.0.1", "NETCHANGE_SMTP_PORT": str(sink.port),
                             "NETCHANGE_SMTP_SECURITY": "none", "NETCHANGE_BASE_URL": "http://127.0.0.1:8080"})
        try:
            up = self.run("lab", "up", title="1. The lab: real stand-ins for the perimeter")
            if up.returncode != 0:
                return 1
            self.run("lab", "status")
            self.run("inventory", title="2. The inventory the lab wrote (two sites, four roles)")
            self.run("window", "--category", "major", "--site", "doif", "--at", "2026-12-01T10:00:00+01:00",
                     "--duration", "2h", title="3. The guard's windows: a major change on a Tuesday morning")
            self.run("window", "--category", "medium", "--site", "doso", "--at", "2026-12-01T19:10:00+01:00",
                     "--duration", "30m", "--json")
            for path in sorted(EXAMPLES.glob("*.yaml")):
                self.run("plan", self.example(path.name), actor="dnguyen",
                         title=f"4. Plan (dry run) of {path.name}")
            self.run("plan", self.example("01-access-port.yaml"), actor="dnguyen",
                     title="5. Apply a minor change (the requester's request is its validation)")
            self.run("apply", "CHG-2026-0101", actor="dnguyen", now=MINOR_TIME)
            self.run("plan", self.example("03-vlan-and-rule-postcheck-fails.yaml"), actor="dnguyen",
                     title="6. A medium change whose post-check fails: automatic rollback")
            self.run("apply", "CHG-2026-0103", actor="dnguyen", now=MEDIUM_TIME, expect=3)
            self.run("approve", "CHG-2026-0103", actor="bleroy", expect=3)  # DOSO's manager: not his site
            self.run("approve", "CHG-2026-0103", actor="amoreau")
            self.run("apply", "CHG-2026-0103", actor="dnguyen", now=MEDIUM_TIME, expect=1)
            self.run("plan", self.example("03-vlan-and-rule-postcheck-fails.yaml"), actor="dnguyen",
                     title="7. After the rollback the devices are as before: the same plan hash again")
            self.run("apply", "CHG-2026-0111", actor="dnguyen", now=MINOR_TIME,
                     title="8. One change per remaining role: DNS record, pool member, NETCONF VLAN")
            self.run("apply", "CHG-2026-0112", actor="dnguyen", now=MINOR_TIME)
            self.through_the_service("CHG-2026-0113", "amoreau")
            self.run("apply", "CHG-2026-0113", actor="efaure", now=MEDIUM_TIME)
            self.run("apply", "CHG-2026-0114", actor="dnguyen", now=MINOR_TIME,
                     title="9. Routing on the FRR routers: a minor prefix-list entry, watched on the network")
            self.gslb_drain_and_back()
            # Planned again: the prefix-list change above changed the same router since step 4.
            self.run("plan", self.example("15-ospf-area-postcheck-fails.yaml"), actor="dnguyen",
                     title="10. A major OSPF change whose post-check fails: rolled back, the adjacency verified back")
            self.run("approve", "CHG-2026-0115", actor="amoreau")
            self.run("approve", "CHG-2026-0115", actor="gperrin")
            self.run("apply", "CHG-2026-0115", actor="dnguyen", now=major_time(), expect=1)
            self.operator_b_move()
            self.run("lab", "status")
            self.run("close", "CHG-2026-0101", actor="dnguyen",
                     title="11. Closing: the engineer and the operations manager validate the result")
            self.run("close", "CHG-2026-0101", actor="amoreau")
            self.run("show", "CHG-2026-0103", title="12. The tracking sheet and the journal")
            report = self.home / "CHG-2026-0103.md"
            self.run("report", "CHG-2026-0103", "--format", "md", "--output", str(report))
            self.run("list")
            self.run("journal", "verify")
            self.run("report", "quarterly", "--quarter", "2026Q4", "--format", "md")
            if sink is not None:
                console.print(Rule("12b. The mails each step sent (a local SMTP server caught them)", style="cyan"))
                for line in sink.summary():
                    console.print(line, highlight=False, soft_wrap=True, markup=False)
        finally:
            if sink is not None:
                sink.stop()
            self.run("lab", "down", title="13. Lab down: nothing left behind")
        if self.failures:
            console.print("[bold red]demo: unexpected results:[/]")
            for failure in self.failures:
                console.print(f"  {failure}")
            return 1
        console.print("[bold green]demo complete[/]")
        return 0


if __name__ == "__main__":
    sys.exit(Demo().main())
