"""No silent policy (issue 22 item 8, findings 4 and 9).

A change is judged by the policy's windows per site and by its people. With no policy found, the
lab's (fictitious people, a fictitious client) was used without a word; a site it did not know, a
requester it did not name, and a backup of another device filed under the host's name were planned
as if all was well. Each is now bad input (exit 2), one line naming what is missing, before any
device is contacted; the lab's policy is used only with ``--lab``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netchange.errors import BadRequest
from netchange.plan import BackupDirectory, host_names
from tests.conftest import CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory
from tests.unit.test_offline_plan import ACCESS, SWITCH_CONFIG, request

Cli = Callable[..., CliResult]

pytest_plugins = ["tests.unit.test_offline_plan"]  # its fixtures: no_network, repo_inventory, backups


def vlan_change(path: Path, *, requester: str = "amoreau", role: str = "switch") -> Path:
    path.write_text(yaml.safe_dump({
        "id": "CHG-2026-0960", "title": "VLAN 20", "ticket": "INC-960", "requester": requester,
        "steps": [{"type": "vlan", "targets": {"role": role}, "params": {"vlan_id": 20, "name": "servers"}}]}))
    return path


def one_line_error(result: CliResult) -> str:
    assert result.code == 2, result.out + result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result.err
    return result.err


# -- no policy: the lab's only with --lab -------------------------------------------------------------


def test_without_a_policy_every_command_that_judges_stops(workspace: Path, cli: Cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETCHANGE_POLICY")
    monkeypatch.chdir(workspace / "home")  # no policy.yaml here, nor in the state directory
    for args in (("window", "--category", "minor", "--site", "doif", "--at", "2026-12-01T19:30:00+01:00"),
                 ("approve", "CHG-2026-0001"), ("show", "CHG-2026-0001"), ("policy", "status")):
        err = one_line_error(cli(*args, actor="bleroy"))
        assert "no policy: none given (--policy, NETCHANGE_POLICY) and no policy.yaml" in err, args
        assert "the lab's policy (fictitious people) is used only with --lab" in err
    lab = cli("--lab", "window", "--category", "minor", "--site", "doif", "--at", "2026-12-01T19:30:00+01:00")
    assert lab.code == 0, lab.err  # asked for: the lab's policy


# -- sites and people the policy does not know --------------------------------------------------------


@pytest.fixture
def moscow(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sw1 at doif (known) and sw3 at msk, a site the policy does not list."""
    show = {"show vlan brief": SHOW_VLAN_BRIEF}
    devs = [MockDevice("sw1", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli=show),
            MockDevice("sw3", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n", cli=show, site="msk")]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    return workspace


def test_a_site_the_policy_does_not_know_is_bad_input(moscow: Path, cli: Cli) -> None:
    change = vlan_change(moscow / "c.yaml")
    err = one_line_error(cli("plan", str(change), actor="dnguyen"))
    assert "policy 2026.10-lab" in err and "does not know site 'msk' (of sw3; known: doif, doso)" in err
    assert not (moscow / "home" / "plans").exists()  # nothing recorded


def test_a_requester_the_policy_does_not_name_is_bad_input(two_switches: Path, cli: Cli) -> None:
    err = one_line_error(cli("plan", str(vlan_change(two_switches / "c.yaml", requester="jdoe")), actor="dnguyen"))
    assert "does not know requester 'jdoe' (not one of its people)" in err


def test_a_recorded_plan_needs_an_author_the_policy_names(two_switches: Path, cli: Cli) -> None:
    change = vlan_change(two_switches / "c.yaml")
    err = one_line_error(cli("plan", str(change), actor="ghost"))
    assert "does not know plan author (the acting account) 'ghost'" in err
    # A preview (never recorded) may be made by any account: a CI runner's.
    assert cli("plan", str(change), "--no-record", "--json", actor="ghost").code == 0
    assert cli("plan", str(change), actor="dnguyen").code == 0


def test_everything_missing_is_named_in_one_line(moscow: Path, cli: Cli) -> None:
    err = one_line_error(cli("plan", str(vlan_change(moscow / "c.yaml", requester="jdoe")), actor="ghost"))
    assert "site 'msk'" in err and "requester 'jdoe'" in err and "'ghost'" in err


def test_an_offline_plan_checks_sites_and_requester_too(repo_inventory: Path, backups: Path, cli: Cli) -> None:
    change = request(repo_inventory / "c.yaml")
    data = json.loads(change.read_text())
    change.write_text(json.dumps({**data, "requester": "jdoe"}))
    err = one_line_error(cli("plan", str(change), "--offline", str(backups)))
    assert "requester 'jdoe'" in err and "plan author" not in err  # an offline plan is never recorded


# -- a backup of another device ----------------------------------------------------------------------


def test_a_backup_of_another_device_is_refused_with_both_names(repo_inventory: Path, tmp_path: Path,
                                                              cli: Cli) -> None:
    root = tmp_path / "oxidized"
    root.mkdir()
    # doif-sw-acc-02's backup filed under acc-01's name (a copy, a renamed device, a tool's mix-up).
    (root / ACCESS).write_text(SWITCH_CONFIG.replace("hostname doif-sw-acc-01", "hostname doif-sw-acc-02"))
    err = one_line_error(cli("plan", str(request(tmp_path / "c.yaml")), "--offline", str(root)))
    assert f"{ACCESS}: the stored configuration {root}:{ACCESS} is of device 'doif-sw-acc-02'" in err
    assert f"not of '{ACCESS}' (the inventory's names: {ACCESS}, {ACCESS}.mgmt.doif.example.net)" in err


def test_a_backup_names_its_device_as_the_inventory_does(tmp_path: Path) -> None:
    """Matched case aside, on any name the host is filed under and their first labels."""
    for hostname in ("sw1", "SW1", "sw1.example.net", "sw1.other.example"):
        (tmp_path / "sw1").write_text(f"hostname {hostname}\n!\nend\n")
        assert BackupDirectory(tmp_path).load("sw1", host_names("sw1", "sw1.example.net")).host == "sw1"
    (tmp_path / "sw1").write_text("table inet filter {\n}\n")  # nftables names no device: nothing to compare
    assert BackupDirectory(tmp_path).load("sw1", ["sw1"]).host == "sw1"
    (tmp_path / "sw1").write_text("hostname sw10\n")
    with pytest.raises(BadRequest, match="is of device 'sw10'"):
        BackupDirectory(tmp_path).load("sw1", host_names("sw1", "sw1.example.net"))
