"""The ``nftables`` driver against a firewall in its namespace, with real flows through it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from napalm.base.exceptions import CommitError, ConnectionException, MergeConfigException

from netchange.changetype import render_template
from netchange.changetype.probes import tcp_probe
from netchange.drivers.nftables import NftablesDriver
from netchange.lab.manager import LabManager
from netchange.tasks.fw_object_group import FwObjectGroupParams
from netchange.tasks.fw_rule import FwRuleParams

pytestmark = pytest.mark.lab


def _probe(nornir: Any, name: str, port: int) -> bool:
    probe = nornir.inventory.hosts[name].data["probe"]
    return tcp_probe(probe["client_namespace"], probe["server_address"], port, timeout=0.5)


def test_base_flows(nornir: Any) -> None:
    probe = nornir.inventory.hosts["fw-doif-a"].data["probe"]
    assert _probe(nornir, "fw-doif-a", probe["allowed_port"])
    assert not _probe(nornir, "fw-doif-a", probe["group_port"])


def test_fw_rule_flow_and_circular_rollback(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    name = "fw-doif-a"
    probe = nornir.inventory.hosts[name].data["probe"]
    dev = open_driver(name)
    snapshot = dev.get_config()["running"]
    assert not _probe(nornir, name, 9090)

    params = FwRuleParams.model_validate({
        "name": "lab-web-9090", "source": f"{probe['client_address']}/32",
        "destination": probe["server_address"], "protocol": "tcp", "port": 9090})
    dev.load_merge_candidate(config=render_template("fw_rule/nftables.j2", p=params))
    diff = dev.compare_config().splitlines()
    assert diff[:2] == [" table inet filter {", " \tchain forward {"]
    assert (f'+\t\tip saddr {probe["client_address"]} ip daddr {probe["server_address"]} tcp dport 9090 '
            'accept comment "lab-web-9090"') in diff
    assert dev.get_config()["running"] == snapshot  # compare never touches the live ruleset

    dev.commit_config()
    assert _probe(nornir, name, 9090)
    assert 'comment "lab-web-9090"' in dev.get_config()["running"]

    dev.rollback()
    assert dev.get_config()["running"] == snapshot
    assert not _probe(nornir, name, 9090)


def test_object_group_opens_the_group_flow(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    name = "fw-doso-a"
    probe = nornir.inventory.hosts[name].data["probe"]
    dev = open_driver(name)
    snapshot = dev.get_config()["running"]
    assert not _probe(nornir, name, probe["group_port"])
    params = FwObjectGroupParams.model_validate({"group": probe["group"], "add": [probe["client_address"]]})
    dev.load_merge_candidate(config=render_template("fw_object_group/nftables.j2", p=params))
    assert any(line.startswith("+\t\telements = {") and probe["client_address"] in line
               for line in dev.compare_config().splitlines())
    dev.commit_config()
    assert _probe(nornir, name, probe["group_port"])
    dev.rollback()
    assert dev.get_config()["running"] == snapshot
    assert not _probe(nornir, name, probe["group_port"])


@pytest.mark.parametrize("script", [
    "add rule inet filter forward tcp dport 99 acept\n",  # syntax
    "add rule inet filter no_such_chain tcp dport 99 accept\n",  # kernel: no such chain
    "delete element inet filter allowed_clients { 10.201.3.99 }\n",  # kernel: no such element
    "add rule inet filter forward tcp dport 99 accept\nadd rule inet filter forward tcp dport 98 acept\n",
])
def test_rejected_script_raises_and_leaves_ruleset_unchanged(
        open_driver: Callable[[str], Any], script: str) -> None:
    dev = open_driver("fw-doif-b")
    snapshot = dev.get_config()["running"]
    with pytest.raises(MergeConfigException, match="nft -c refused"):
        dev.load_merge_candidate(config=script)
    with pytest.raises(CommitError):
        dev.commit_config()  # nothing loaded
    assert dev.get_config()["running"] == snapshot


@pytest.mark.parametrize("bad", ["", "   \n", "add element inet filter allowed_clients { 10.0.0.1 }\x00\n",
                                 "include \"/etc/shadow\"\n"])
def test_bad_input_refused(open_driver: Callable[[str], Any], bad: str) -> None:
    dev = open_driver("fw-doso-b")
    snapshot = dev.get_config()["running"]
    with pytest.raises(MergeConfigException, match="candidate refused"):
        dev.load_merge_candidate(config=bad)
    assert dev.get_config()["running"] == snapshot


def test_replace_then_rollback(nornir: Any, open_driver: Callable[[str], Any]) -> None:
    name = "fw-doso-b"
    probe = nornir.inventory.hosts[name].data["probe"]
    dev = open_driver(name)
    snapshot = dev.get_config()["running"]
    dev.load_replace_candidate(config="table inet filter {\n chain forward {\n"
                                      "  type filter hook forward priority 0; policy accept;\n }\n}\n")
    diff = dev.compare_config().splitlines()
    assert "-\tset allowed_clients {" in diff
    dev.commit_config()
    assert _probe(nornir, name, 9090)  # policy accept: everything passes
    dev.rollback()
    assert dev.get_config()["running"] == snapshot
    assert not _probe(nornir, name, 9090)
    assert _probe(nornir, name, probe["allowed_port"])


def test_unknown_host_key_is_refused(lab: LabManager, nornir: Any, tmp_path: Path) -> None:
    host = nornir.inventory.hosts["fw-doif-a"]
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    args = dict(host.connection_options["netchange"].extras["optional_args"])
    args["known_hosts"] = str(empty)
    dev = NftablesDriver(host.hostname, host.username, host.password, timeout=10, optional_args=args)
    with pytest.raises(ConnectionException):
        dev.open()
