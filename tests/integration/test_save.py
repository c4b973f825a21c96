"""Save after success (issue 21 item 4) on the lab: after a change and after its restore, the
state is saved; a restarted device comes back with it.

Each test changes a device with its driver, saves with :func:`save_running` (what apply calls once
a host is verified, and the restore runner after a verified restore), restarts the device where
the lab can (``LabManager.restart``: FRR's daemons reload the frr.conf of their run directory,
netconfd its startup datastore) and reads it back by its own means, never through the driver:
vtysh in the router's namespace and the frr.conf on disk, a raw ncclient ``<get-config>``, a plain
netmiko session's ``show startup-config``.

fake-switches goes as far as the command and the reading: its saved copy lives in the launcher's
process (lab/fakeswitch_launcher.py, adjustment 5) and a restart starts every switch from its seed,
so the switch is not restarted here; the FRR and NETCONF restarts stand in for a reload.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.drivers.contract import save_running
from netchange.lab.manager import LabManager
from netchange.rollback.restore import restore_host

pytestmark = pytest.mark.lab

ROUTER = "rtr-doso-b"
NC = "nc-doif"
LINE = "ip prefix-list NETCHANGE-SAVED seq 5 permit 192.0.2.128/25"
NS = "urn:netchange:params:xml:ns:yang:netchange-vlans"


def _hosts(lab: LabManager) -> dict[str, Any]:
    hosts: dict[str, Any] = yaml.safe_load((lab.root / "inventory" / "hosts.yaml").read_text())
    return hosts


def _vtysh_running(data: dict[str, Any]) -> str:
    return subprocess.run(["ip", "netns", "exec", data["namespace"], "vtysh", "--vty_socket", data["vty_socket"],
                           "-c", "show running-config"], capture_output=True, text=True, check=True,
                          timeout=30).stdout


def test_frr_saved_after_apply_and_after_rollback(lab: LabManager, open_driver: Callable[[str], Any]) -> None:
    data = _hosts(lab)[ROUTER]["data"]
    frr_conf = Path(data["vty_socket"]) / "frr.conf"
    before = _vtysh_running(data)
    dev = open_driver(ROUTER)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=LINE + "\n")
    dev.commit_config()
    saved = save_running(dev, "frr")
    assert saved is not None and saved.startup_equals_running, saved
    assert LINE in frr_conf.read_text()  # the file the daemons start from
    t0 = time.monotonic()
    lab.restart(ROUTER)
    print(f"frr: save {saved.seconds:.2f}s, restart to OSPF Full and BGP Established {time.monotonic() - t0:.1f}s")
    assert LINE in _vtysh_running(data)  # the restarted daemons came back with the change

    dev = open_driver(ROUTER)  # the old session's vtysh talked to the daemons that were stopped
    report = restore_host(dev, snapshot, inverse_first=False)
    assert report.verified, report.errors
    saved = save_running(dev, "frr")
    assert saved is not None and saved.startup_equals_running, saved
    assert LINE not in frr_conf.read_text()
    lab.restart(ROUTER)
    # Byte for byte as before the change, read by vtysh in the namespace (the same reader both
    # times: vtysh prints the host name of its own UTS namespace).
    assert _vtysh_running(data) == before


def _raw_netconf(lab: LabManager, source: str) -> str:
    from ncclient import manager

    host = _hosts(lab)[NC]
    options = host["connection_options"]["netchange"]["extras"]["optional_args"]
    with manager.connect(host=host["hostname"], port=host["port"], username="root",
                         key_filename=options["key_file"], hostkey_verify=False, look_for_keys=False,
                         allow_agent=False, timeout=30) as session:
        assert any(":startup" in c for c in session.server_capabilities)
        return str(session.get_config(source=source).data_xml)


def test_netconf_saved_to_startup_after_apply_and_after_rollback(lab: LabManager,
                                                                  open_driver: Callable[[str], Any]) -> None:
    dev = open_driver(NC)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config=(
        '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
        f'<vlans xmlns="{NS}"><vlan><id>3077</id><name>SAVED</name></vlan></vlans></config>'))
    dev.commit_config()
    assert "3077" not in _raw_netconf(lab, "startup")  # a commit alone changes running only
    saved = save_running(dev, "netconf")
    assert saved is not None and saved.startup_equals_running, saved
    print(f"netconf: save {saved.seconds:.3f}s")
    assert "3077" in _raw_netconf(lab, "startup")
    lab.restart(NC)
    assert "3077" in _raw_netconf(lab, "running")

    dev = open_driver(NC)
    report = restore_host(dev, snapshot, inverse_first=False)
    assert report.verified, report.errors
    saved = save_running(dev, "netconf")
    assert saved is not None and saved.startup_equals_running, saved
    lab.restart(NC)
    running = _raw_netconf(lab, "running")
    assert "3077" not in running and "<id>10</id>" in running


def test_ios_cli_write_memory_and_startup_read_back(lab: LabManager, open_driver: Callable[[str], Any]) -> None:
    """fake-switches: the command is sent and the startup read back equals running; no restart
    (see the module docstring)."""
    from netmiko import ConnectHandler

    hosts = _hosts(lab)
    name = sorted(n for n, h in hosts.items() if h["platform"] == "ios_cli")[0]
    secret = yaml.safe_load(lab.secrets_file.read_text())["hosts"][name]

    def startup() -> str:
        conn = ConnectHandler(device_type="cisco_ios", host=hosts[name]["hostname"], port=hosts[name]["port"],
                              username=secret["username"], password=secret["password"],
                              secret=(secret.get("optional_args") or {}).get("secret", ""),
                              use_keys=False, allow_agent=False, fast_cli=True)
        try:
            conn.enable()
            return str(conn.send_command("show startup-config", read_timeout=30))
        finally:
            conn.disconnect()

    dev = open_driver(name)
    snapshot = dev.get_config(retrieve="running")["running"]
    dev.load_merge_candidate(config="vlan 3077\n name SAVED\n")
    dev.commit_config()
    saved = save_running(dev, "ios_cli")
    assert saved is not None and saved.startup_equals_running, saved
    print(f"ios_cli: save {saved.seconds:.2f}s")
    assert "vlan 3077" in startup()
    report = restore_host(dev, snapshot, inverse_first=True)
    assert report.verified, report.errors
    saved = save_running(dev, "ios_cli")
    assert saved is not None and saved.startup_equals_running, saved
    assert "vlan 3077" not in startup()
