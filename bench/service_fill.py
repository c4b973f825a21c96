"""Fill a journal with N changes as the procedure leaves them, through the journal's own API.

Realistic: two sites, the three categories in the proportions of a year of operations (most
minor, some medium, a few major), 1 to 6 hosts per change with diffs of a few to forty lines,
and every state: most changes closed, some rolled back or failed, and a working set still open
(planned, approved, in progress). Each change goes through ``record_plan``, approvals, state
transitions and the apply's events, so the journal holds what the pages will read, chained and
verifiable. Only the disk syncs are relaxed (``PRAGMA synchronous=OFF`` on the bench's own file):
the figures measured afterwards are of reading, not of filling.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from pathlib import Path

from netchange.journal import EventKind, Journal, State
from netchange.models import ChangeRequest
from netchange.plan import HostPlan, Plan, Rollback, seal
from netchange.plan import store as planstore
from netchange.policy import Policy
from netchange.policy import pin as policypin
from netchange.vocabulary import Category, Role

SITES = ("doif", "doso")
ENGINEERS = ("dnguyen", "efaure")
REQUESTERS = {"doif": "amoreau", "doso": "bleroy"}
MANAGERS = {"doif": "amoreau", "doso": "bleroy"}
KINDS = (
    ("vlan", Role.SWITCH, "ios", "+vlan {n}\n+ name users-{n}\n"),
    ("access_port", Role.SWITCH, "ios", "interface GigabitEthernet1/0/{p}\n+ switchport access vlan {n}\n"
                                        "+ description desk {p}\n"),
    ("fw_rule", Role.FIREWALL, "nftables", "table inet filter {{\n chain forward {{\n+  ip saddr 10.{a}.0.0/16 "
                                           "tcp dport {p} accept\n }}\n}}\n"),
    ("dns_record", Role.DNS, "bind", "+host{n}.corp.example. 3600 IN A 10.{a}.{b}.{p}\n"),
    ("lb_member", Role.LOAD_BALANCER, "haproxy", "backend web\n+ server web{n} 10.{a}.{b}.{p}:443 check\n"),
)


def _diff(rng: random.Random, template: str, lines: int) -> str:
    out = []
    for _ in range(max(1, lines // max(1, template.count("\n")))):
        out.append(template.format(n=rng.randint(2, 4000), p=rng.randint(1, 48), a=rng.randint(1, 250),
                                   b=rng.randint(0, 255)))
    return "".join(out)


def _plan(rng: random.Random, number: int, created: dt.datetime, policy_digest: str) -> tuple[Plan, str]:
    site = rng.choice(SITES)
    roll = rng.random()
    category = Category.MINOR if roll < 0.6 else Category.MEDIUM if roll < 0.9 else Category.MAJOR
    kind, role, syntax, template = rng.choice(KINDS)
    hosts = tuple(f"{role.value.replace('_', '')}-{site}-{i}" for i in range(1, rng.randint(1, 6) + 1))
    change_id = f"CHG-{created.year}-{number:05d}"
    requester = REQUESTERS[site] if rng.random() < 0.7 else "crenard"
    author = rng.choice(ENGINEERS)
    start = created + dt.timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 6))
    change = ChangeRequest.model_validate({
        "id": change_id, "title": f"{kind.replace('_', ' ')} change {number} on {site}",
        "ticket": f"INC{100000 + number}", "requester": requester,
        "estimated_duration": dt.timedelta(minutes=rng.choice((15, 30, 45, 60))),
        "planned_start": start.isoformat(),
        "steps": [{"type": kind, "targets": {"hosts": list(hosts)}, "params": {}}],
    })
    host_plans = tuple(
        HostPlan(host=h, site=site, role=role, platform=syntax, syntax=syntax, steps=(0,),
                 diff=_diff(rng, template, rng.randint(2, 40)), candidate="", category=category,
                 running_hash=hashlib.sha256(f"{h}|{number}".encode()).hexdigest(),
                 rollback=Rollback(strategy="lines", lines="no vlan 1\n"), has_post_checks=True)
        for h in hosts
    )
    plan = seal(Plan(change=change, plan_hash="", created_at=created, created_by=author, category=category,
                     reasons=(), unclassified=(), requirements=(), policy_version="bench", policy_digest=policy_digest,
                     rules_version="bench", hosts=host_plans))
    return plan, site


def fill(journal_path: Path, policy: Policy, n: int, *, plans_dir: Path | None = None, seed: int = 15,
         open_share: float = 0.03) -> dict[str, float]:
    """Record ``n`` changes (and store their plans in ``plans_dir``, as ``netchange plan`` does);
    the last ``open_share`` of them are left open (the queue's working set)."""
    rng = random.Random(seed)
    t0 = time.perf_counter()
    base = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)
    events = 0
    with Journal(journal_path) as journal:
        journal._conn.execute("PRAGMA synchronous=OFF")  # bench file only: see the module's docstring
        policypin.require(policy, journal, actor="gperrin")
        open_from = int(n * (1 - open_share))
        for i in range(n):
            created = base + dt.timedelta(minutes=50 * i)
            plan, site = _plan(rng, i + 1, created, policy.digest)
            cid, author = plan.change.id, plan.created_by
            if plans_dir is not None:
                planstore.record(plans_dir, journal, plan)
            else:
                journal.record_plan(plan, actor=author)
            events += 3
            if i >= open_from:
                _leave_open(rng, journal, plan, site, policy)
                continue
            _approve(journal, plan, site, policy)
            journal.set_state(cid, State.IN_PROGRESS, actor=author, reason="apply")
            journal.event_batch(cid, [(EventKind.COMMITTED, h.host, {"seconds": 0.4}) for h in plan.hosts],
                                actor=author)
            end = rng.random()
            if end < 0.93:
                journal.set_state(cid, State.COMPLETED, actor=author, reason="")
            elif end < 0.99:
                journal.set_state(cid, State.ROLLED_BACK, actor=author,
                                  reason=f"{plan.hosts[0].host}: post-check failed: vlan not active")
            else:
                journal.set_state(cid, State.FAILED, actor=author, reason=f"{plan.hosts[0].host}: restore not verified")
                events += 2
                continue
            closing = EventKind.CLOSE_VALIDATION
            journal.event(cid, closing, actor=author, data={"roles": ["engineer"], "comment": ""})
            journal.event(cid, closing, actor=MANAGERS[site], data={"roles": ["ops_manager"], "comment": ""})
            journal.set_state(cid, State.CLOSED, actor=MANAGERS[site], reason="final validation complete")
            events += 8 + len(plan.hosts)
        head = journal.head()[0]
    seconds = time.perf_counter() - t0
    return {"changes": n, "events": head, "fill_s": round(seconds, 1), "per_change_ms": round(1000 * seconds / n, 2)}


def _approvers(plan: Plan, site: str, policy: Policy) -> list[str]:
    assert plan.category is not None
    rules = policy.category(plan.category).approvals
    chosen = []
    for rule in rules:
        for person in policy.people:
            if (rule.satisfied_by(person) and person.covers((site,)) and person.login not in chosen
                    and person.login not in (plan.change.requester, plan.created_by)):
                chosen.append(person.login)
                break
    return chosen


def _approve(journal: Journal, plan: Plan, site: str, policy: Policy) -> None:
    for login in _approvers(plan, site, policy):
        person = policy.person(login)
        assert person is not None
        journal.add_approval(plan.change.id, plan.plan_hash, approver=login, organisation=person.organisation,
                             roles=person.roles, decision="approved", comment="ok", policy_digest=policy.digest)
    journal.set_state(plan.change.id, State.APPROVED, actor=plan.created_by, reason="approvals complete")


def _leave_open(rng: random.Random, journal: Journal, plan: Plan, site: str, policy: Policy) -> None:
    roll = rng.random()
    if roll < 0.6:
        return  # planned: awaiting approval
    _approve(journal, plan, site, policy)
    if roll > 0.9:
        journal.set_state(plan.change.id, State.IN_PROGRESS, actor=plan.created_by, reason="apply")
