"""The routers of the lab (FRR core pairs, an FRR upstream, keepalived VRRP pairs) and their drivers.

The lab comes up once per session (tests/integration/conftest.py); these tests read what it
measured, check that the network really works (adjacencies, routes in the kernel, VRRP master,
traffic from client to server through the routers), and attack the drivers where FRR and
keepalived have traps: frr-reload.py's "delete everything" answer to a target it cannot parse,
a keepalived file that does not load.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from napalm.base.exceptions import CommandErrorException

from netchange.changetype.probes import tcp_probe
from netchange.drivers.errors import MergeRejected, ReplaceRejected
from netchange.lab.manager import LabManager
from netchange.lab.routers import ACCEPTED_PREFIXES, UPSTREAM_PREFIXES

pytestmark = pytest.mark.lab


def _kernel_routes(namespace: str) -> set[str]:
    out = subprocess.run(["ip", "-n", namespace, "-j", "route"], capture_output=True, text=True, check=True).stdout
    return {r["dst"] for r in json.loads(out)}


def test_adjacencies_vrrp_and_traffic_after_lab_up(lab: LabManager, nornir: Any) -> None:
    timings = json.loads((lab.root / "routers" / "timings.json").read_text())
    print(f"\nrouters: daemons started in {timings['daemons_started_s']} s, then OSPF Full after "
          f"{timings['ospf_full_s']} s, BGP Established after {timings['bgp_established_s']} s "
          f"(routes in the kernel after {timings.get('bgp_routes_in_kernel_s')} s), "
          f"VRRP master after {timings['vrrp_master_s']} s")
    states = lab.status()["routers"]
    routers = {n: h for n, h in nornir.inventory.hosts.items() if h.platform == "frr"}
    assert len(routers) == 4 and {h.data["site"] for h in routers.values()} == {"doif", "doso"}
    for name, host in routers.items():
        assert "OSPF Full" in states[name] and "BGP Established" in states[name], states[name]
        routes = _kernel_routes(host.data["namespace"])
        # The prefix-list lets two of the upstream's three prefixes in, and they reach the kernel.
        assert set(ACCEPTED_PREFIXES) <= routes
        assert not set(UPSTREAM_PREFIXES) - set(ACCEPTED_PREFIXES) & routes
    masters = {n: s for n, s in states.items() if n.startswith("vrrp-")}
    assert masters == {"vrrp-doif-a": "VRRP MASTER on srv0", "vrrp-doif-b": "VRRP BACKUP on srv0",
                       "vrrp-doso-a": "VRRP MASTER on srv0", "vrrp-doso-b": "VRRP BACKUP on srv0"}
    for site in ("doif", "doso"):
        probe = routers[f"rtr-{site}-a"].data["probe"]
        assert tcp_probe(probe["client_namespace"], probe["server_address"], probe["service_ports"][0])


def test_frr_reload_delete_everything_answer_is_refused(
        nornir: Any, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("rtr-doif-b")
    snapshot = dev.get_config(retrieve="running")["running"]
    # The trap: the running configuration as vtysh prints it, header included, given to
    # frr-reload.py as a target. It cannot parse it and answers "delete everything", exit status 1.
    dev._candidate, dev._mode = snapshot, "replace"
    with pytest.raises(CommandErrorException, match="refused"):
        dev.compare_config()
    with pytest.raises(ReplaceRejected):
        dev.commit_config()
    assert dev.get_config(retrieve="running")["running"] == snapshot
    # Through the public door the header is dropped, and a snapshot is a no-op.
    dev.load_replace_candidate(config=snapshot)
    assert dev.compare_config() == ""


def test_frr_candidate_vtysh_refuses_is_never_held(open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("rtr-doif-b")
    with pytest.raises(MergeRejected, match="vtysh -C refused"):
        dev.load_merge_candidate(config="router ospf\n no such command here\n")
    assert dev.candidate_config() is None


def test_keepalived_refuses_a_file_it_cannot_load_and_writes_nothing(
        lab: LabManager, open_driver: Callable[[str], Any]) -> None:
    dev = open_driver("vrrp-doso-b")
    before = dev.get_config(retrieve="running")["running"]
    with pytest.raises(MergeRejected, match="config-test"):
        dev.load_merge_candidate(config="vrrp_instance SRV_DOSO {\n    priority banana\n}\n")
    assert dev.candidate_config() is None
    assert Path(lab.root / "routers" / "rtr-doso-b" / "keepalived.conf").read_text() == before
    assert dev.daemon_pid() is not None
