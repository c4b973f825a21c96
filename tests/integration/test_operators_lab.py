"""Two operators per site on the lab (issue 26): traffic watched moving between them.

- The lab: every router Established with both operators, outbound through A by policy, the
  internet-side client reaching each site's service through A and through B (traced).
- ``bgp_policy`` on DOIF's VRRP standby, expecting the site's traffic on B: its own best path moves,
  the site's traced flow does not (the master routes it), the post-check fails, the router is
  restored byte for byte and the site's traffic verified back on A; the time from the failure to
  that verification is printed (``pytest -s``).
- ``upstream_shutdown`` drain of operator A on both DOSO routers: the sessions stay up, outbound
  traffic moves to B (BGP, the kernel and a flow traced from the server agree), operator A sees
  the site's prefix with GRACEFUL_SHUTDOWN and a longer path and reaches it through B (inbound
  moved too: the internet-side client's flow through A crosses to B); rolled back byte for byte,
  traffic back on A.

A successful ``bgp_policy`` moving the master's traffic is what the drain's checks already watch
(the same exit and traced-flow checks); it is left out to keep the added time under 90 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.changetype.probes import tcp_probe, trace_hops
from netchange.demo._script import major_time
from netchange.journal import Journal
from netchange.lab.manager import LabManager
from netchange.lab.routers import INTERNET_ADDRESS, INTERNET_ADDRESS_VIA_B, vtysh
from tests.integration.test_e2e_apply import netchange, running, write

pytestmark = pytest.mark.lab


def _data(nornir: Any, host: str) -> dict[str, Any]:
    return dict(nornir.inventory.hosts[host].data)


def _instance(nornir: Any) -> str:
    m = re.match(r"^(nc\d+)-", _data(nornir, "rtr-doif-a")["namespace"])
    assert m is not None
    return m.group(1)


def _exit(nornir: Any, host: str) -> str:
    """Where the router's kernel sends traffic for the internet-side client."""
    out = subprocess.run(["ip", "-n", _data(nornir, host)["namespace"], "-j", "route", "get", INTERNET_ADDRESS],
                         capture_output=True, text=True, check=True).stdout
    return str(json.loads(out)[0].get("gateway"))


def _operator_vtysh(nornir: Any, name: str, command: str) -> Any:
    """``command`` (json) on operator ``upstream`` (A) or ``operator-b``, in its namespace."""
    frr_base = Path(_data(nornir, "rtr-doif-a")["vty_socket"]).parent
    ns = f"{_instance(nornir)}-{'up' if name == 'upstream' else 'upb'}"
    return json.loads(vtysh(frr_base / name, command, ns=ns))


def _plan_and_approve(lab: LabManager, tmp_path: Path, change_id: str, step: dict[str, Any]) -> None:
    change = write(tmp_path, f"{change_id}.yaml", {
        "id": change_id, "title": "Operators", "ticket": "T-2600", "requester": "crenard", "steps": [step]})
    planned = netchange(lab, "plan", change, "--json")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert json.loads(planned.stdout)["category"] == "major"  # frr.route_map_path_selection
    for person in ("amoreau" if "doif" in str(step["targets"]) else "bleroy", "gperrin"):
        approved = netchange(lab, "approve", change_id, actor=person)
        assert approved.returncode == 0, approved.stdout + approved.stderr


def _apply(lab: LabManager, change_id: str) -> tuple[int, dict[str, Any]]:
    applied = netchange(lab, "apply", change_id, "--json", now=major_time())
    data: dict[str, Any] = json.loads(applied.stdout[applied.stdout.index("{\n"):])
    data["hosts"] = {h["name"]: h for h in data["hosts"]}
    return applied.returncode, data


def _passed(host: dict[str, Any], words: str) -> bool:
    return any(words in c["name"] and c["passed"] for c in host.get("post_checks", []))


def test_two_operators_and_the_internet_side_client(lab: LabManager, nornir: Any) -> None:
    timings = json.loads((lab.root / "routers" / "timings.json").read_text())
    print(f"\nrouters with two operators: {timings}")
    ns = f"{_instance(nornir)}-inet"
    for host in ("rtr-doif-a", "rtr-doif-b", "rtr-doso-a", "rtr-doso-b"):
        data = _data(nornir, host)
        assert _exit(nornir, host) == data["outbound"]["preferred"]  # A, by local preference
        server = data["probe"]["server_address"]
        port = int(data["probe"]["service_ports"][0])
        # The client on the internet side reaches the site's service through either operator.
        assert tcp_probe(ns, server, port) and tcp_probe(ns, server, port, source=INTERNET_ADDRESS_VIA_B)
    assert trace_hops(ns, "10.213.1.10", hops=1)[0] == "10.215.0.1"  # operator A's router first
    assert trace_hops(ns, "10.213.1.10", hops=1, source=INTERNET_ADDRESS_VIA_B)[0] == "10.215.0.5"  # B's
    sessions = _operator_vtysh(nornir, "operator-b", "show bgp summary json")["ipv4Unicast"]["peers"]
    assert len(sessions) == 5 and all(p["state"] == "Established" for p in sessions.values()), sessions
    states = lab.status()["routers"]
    assert states["upstream"] == "AS 64500: BGP Established with 5 of 5 neighbours", states
    assert states["operator-b"] == "AS 64510: BGP Established with 5 of 5 neighbours", states


def test_failed_post_check_restores_and_verifies_traffic_back_on_a(
        lab: LabManager, nornir: Any, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    before = running(open_driver, "rtr-doif-b")
    _plan_and_approve(lab, tmp_path, "CHG-2026-2612", {
        "type": "bgp_policy", "targets": {"hosts": ["rtr-doif-b"]},
        "params": {"asn": 65001, "operator_as": 64510, "local_preference": 150, "expect_exit_via": "10.214.1.5",
                   "converge_within": 3}})
    code, summary = _apply(lab, "CHG-2026-2612")
    host = summary["hosts"]["rtr-doif-b"]
    assert code == 1 and summary["outcome"] == "rolled_back", host
    # Its own best path moved (that check passed); the site's traced flow did not: the master routes it.
    assert _passed(host, "BGP best path and kernel route"), host
    assert "post-check failed" in host["error"] and "traced from the site's server" in host["error"], host["error"]
    assert host["restore"]["verified"], host["restore"]
    assert running(open_driver, "rtr-doif-b") == before
    names = [c["name"] for c in host["restore"]["checks"] if c["passed"]]
    assert any("leaves through operator-a" in n and "traced" in n for n in names), host["restore"]
    assert any("leaves through operator-a" in n and "kernel" in n for n in names), host["restore"]
    assert _exit(nornir, "rtr-doif-b") == "10.211.1.5"
    with Journal(Path(os.environ["NETCHANGE_HOME"]) / "journal.sqlite") as journal:
        verified = [e for e in journal.events("CHG-2026-2612") if e.kind == "rollback_verified"][-1].data
    print(f"\nbgp_policy post-check failed: from the failure to the rollback verified with the traffic back on "
          f"operator A: {verified['since_failure']:.2f} s (restore and restored checks {verified['seconds']:.2f} s)")


def test_upstream_shutdown_drains_operator_a_gracefully_and_rolls_back(
        lab: LabManager, nornir: Any, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    hosts = ("rtr-doso-a", "rtr-doso-b")
    before = running(open_driver, *hosts)
    _plan_and_approve(lab, tmp_path, "CHG-2026-2613", {
        "type": "upstream_shutdown", "targets": {"hosts": list(hosts)},
        "params": {"asn": 65002, "operator_as": 64500, "action": "drain", "converge_within": 10}})
    t0 = time.monotonic()
    code, summary = _apply(lab, "CHG-2026-2613")
    took = time.monotonic() - t0
    assert code == 0 and summary["outcome"] == "completed", summary
    for name in hosts:
        host = summary["hosts"][name]
        assert _passed(host, "Established") and _passed(host, "traced from the site's server"), host
        assert _exit(nornir, name).startswith("10.214.2.")  # operator B
    # Graceful: the sessions to A stay up, and A still sends its prefixes (at local preference 0).
    peers = json.loads(vtysh(Path(_data(nornir, "rtr-doso-a")["vty_socket"]), "show bgp summary json",
                             ns=_data(nornir, "rtr-doso-a")["namespace"]))["ipv4Unicast"]["peers"]
    assert peers["10.211.2.1"]["state"] == "Established" and peers["10.211.2.1"]["pfxRcd"] >= 2
    # Inbound: operator A now reaches the site through operator B (the site's prefix came prepended
    # and with GRACEFUL_SHUTDOWN, which FRR answers with local preference 0).
    best = [p for p in _operator_vtysh(nornir, "upstream", "show ip bgp 10.213.2.0/24 json")["paths"]
            if p.get("bestpath", {}).get("overall")]
    assert best and best[0]["nexthops"][0]["ip"] == "10.216.0.2", best
    hops = trace_hops(f"{_instance(nornir)}-inet", "10.213.2.10", hops=2)
    assert hops == ["10.215.0.1", "10.216.0.2"], hops  # in through A, which hands it to B
    back = netchange(lab, "rollback", "CHG-2026-2613", now=major_time())
    assert back.returncode == 0, back.stdout + back.stderr
    assert running(open_driver, *hosts) == before
    assert all(_exit(nornir, name).startswith("10.211.2.") for name in hosts)
    print(f"\nupstream_shutdown drain of operator A at DOSO (two routers): apply with its checks {took:.1f} s")


def _peer_state(nornir: Any, host: str, peer: str) -> str:
    data = _data(nornir, host)
    peers = json.loads(vtysh(Path(data["vty_socket"]), "show bgp summary json", ns=data["namespace"]))
    return str(peers["ipv4Unicast"]["peers"][peer]["state"])


def test_upstream_shutdown_shuts_a_drained_operator_then_restores_it(
        lab: LabManager, nornir: Any, tmp_path: Path, open_driver: Callable[[str], Any]) -> None:
    """The operator's whole way out and back, each a change: drain, then ``shutdown`` (its session
    down with no traffic on it), then ``restore`` (the session up again, traffic back on A, and the
    routers' configuration as before the drain)."""
    host, peer_a = "rtr-doso-a", "10.211.2.1"
    before = running(open_driver, host)
    steps = (("CHG-2026-2614", {"action": "drain"}), ("CHG-2026-2615", {"action": "shutdown"}),
             ("CHG-2026-2616", {"action": "restore"}))
    for change_id, params in steps:
        _plan_and_approve(lab, tmp_path, change_id, {
            "type": "upstream_shutdown", "targets": {"hosts": [host]},
            "params": {"asn": 65002, "operator_as": 64500, "converge_within": 10, **params}})
        code, summary = _apply(lab, change_id)
        assert code == 0 and summary["outcome"] == "completed", summary
        if params["action"] == "shutdown":
            assert _peer_state(nornir, host, peer_a) != "Established"  # shut, read by vtysh itself
            assert _exit(nornir, host).startswith("10.214.2.")  # still out through operator B
    assert _peer_state(nornir, host, peer_a) == "Established"
    assert _exit(nornir, host).startswith("10.211.2.")  # back on operator A
    assert running(open_driver, host) == before
