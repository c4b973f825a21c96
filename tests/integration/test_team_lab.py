"""The team lab's network (issue 25 item 3): each site's devices only behind that site's jump host.

What is expected, written before it is shown:

| from | to | expected |
|---|---|---|
| the doif jump namespace (the doif worker's) | doif's switches | SSH works: ``show running-config`` read |
| the doif jump namespace | doso's switches | unreachable (no route: the jump namespaces do not forward) |
| the doif jump namespace | the centre (PostgreSQL, Temporal) | reached over its uplink |
| the doif jump namespace, uplink down | the centre | unreachable, while doif's switches still answer |
| the root namespace (the operator, the CLI) | the centre | reached; no device of any site |
| the doif worker's files | | doif's secrets only: no doso password |
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.teamlab import TeamLab

pytestmark = pytest.mark.lab


def test_a_doif_worker_reaches_its_devices_and_the_centre_not_doso(team_lab: TeamLab) -> None:
    lab = team_lab
    doif, doso = sorted(lab.hosts("doif")), sorted(lab.hosts("doso"))
    got = lab.read(doif + doso, from_site="doif")
    for name in doif:
        assert "running" in got[name], got[name]
        expected = "<vlans" if lab.hosts()[name]["platform"] == "netconf" else f"hostname {name}"
        assert expected in got[name]["running"]
    for name in doso:
        assert "error" in got[name] and "TCP connection to device failed" in got[name]["error"], got[name]
        host = lab.hosts()[name]
        assert not lab.connects(lab.jump("doif"), host["hostname"], host["port"])
        assert lab.connects(lab.jump("doso"), host["hostname"], host["port"])
    # From doso's jump host, the other way round.
    assert "running" in lab.read(doso[:1], from_site="doso")[doso[0]]
    layout = lab.layout["sites"]["doif"]
    assert lab.connects(lab.jump("doif"), layout["centre_addr"], lab.layout["postgres"]["port"])
    if lab.layout["temporal"]:
        assert lab.connects(lab.jump("doif"), layout["centre_addr"], lab.layout["temporal"]["port"])


def test_the_root_namespace_reaches_the_centre_and_no_device(team_lab: TeamLab) -> None:
    lab = team_lab
    assert lab.connects(lab.centre, lab.layout["centre_addr"], lab.layout["postgres"]["port"])
    reach = subprocess.run(["python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], 5432), 2)",
                            lab.layout["centre_addr"]], capture_output=True, check=False)
    assert reach.returncode == 0, reach.stderr
    for name, host in lab.hosts().items():
        proc = subprocess.run(["python3", "-c", "import socket,sys; socket.create_connection((sys.argv[1], "
                               "int(sys.argv[2])), 2)", host["hostname"], str(host["port"])],
                              capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and "Error" in proc.stderr, (name, proc.stderr)


def test_a_site_worker_is_given_its_own_site_s_secrets_only(team_lab: TeamLab) -> None:
    lab = team_lab
    for site, other in (("doif", "doso"), ("doso", "doif")):
        secrets = yaml.safe_load((lab.root / f"secrets-{site}.yaml").read_text())["hosts"]
        assert set(secrets) == set(lab.hosts(site))
        hosts = yaml.safe_load((lab.root / f"inventory-{site}" / "hosts.yaml").read_text())
        assert set(hosts) == set(lab.hosts(site))
        assert not any(other in name for name in secrets)
    # The site's own secrets are enough to read its devices from its jump host.
    name = sorted(lab.hosts("doif"))[0]
    got = lab.read([name], secrets=lab.root / "secrets-doif.yaml")[name]
    assert "running" in got, got


def test_uplink_down_cuts_the_worker_off_the_centre_not_off_its_devices(team_lab: TeamLab) -> None:
    lab = team_lab
    jump, centre = lab.jump("doif"), lab.layout["sites"]["doif"]["centre_addr"]
    pg = lab.layout["postgres"]["port"]
    assert lab.run_in(jump, ["ip", "link", "set", "uplink0", "down"]).returncode == 0
    try:
        assert not lab.connects(jump, centre, pg)
        name = sorted(lab.hosts("doif"))[0]
        assert "running" in lab.read([name])[name]
    finally:
        assert lab.run_in(jump, ["ip", "link", "set", "uplink0", "up"]).returncode == 0
    assert lab.connects(jump, centre, pg)
