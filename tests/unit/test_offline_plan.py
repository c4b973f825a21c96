"""Offline plan (issue 14 item 1): ``plan --offline`` over stored configurations, from the
repository's own inventory (production host names), with no device reachable and no session
opened: every socket connection attempt fails the test.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from netchange.drivers.stored import NotRunOffline, OfflineRefused, StoredConfigDriver, engine_for
from netchange.errors import BadRequest
from netchange.plan import BackupDirectory, GitRevision, host_names, strip_rancid_header
from tests.conftest import REPO, CliResult

Cli = Callable[..., CliResult]

ACCESS = "doif-sw-acc-01"
# What ``show running-config`` prints, banner lines included: a backup tool's file as it is.
SWITCH_CONFIG = """Building configuration...

Current configuration : 612 bytes
!
version 15.2
hostname doif-sw-acc-01
!
vlan 20
 name printers
!
interface FastEthernet0/12
 description spare
 switchport mode access
 shutdown
!
interface FastEthernet0/13
 switchport mode access
!
end
"""
RANCID_HEADER = """!RANCID-CONTENT-TYPE: cisco
!
!Chassis type: WS-C2960-24TT-L - a 2960 switch
!Memory: main 65536K/8192K
!Image: Software: C2960-LANBASEK9-M, 12.2(55)SE12
!
"""


def request(path: Path, *, interface: str = "FastEthernet0/12", vlan: int = 20, host: str = ACCESS,
            change_type: str = "access_port", params: dict[str, Any] | None = None) -> Path:
    """A minor change request: a user port into an existing VLAN on an access switch."""
    params = params or {"interfaces": [interface], "description": "printer floor 2", "access_vlan": vlan,
                        "enabled": True}
    path.write_text(json.dumps({
        "id": "CHG-2026-0901", "title": "Printer port", "ticket": "INC-1", "requester": "amoreau",
        "estimated_duration": "PT15M",
        "steps": [{"type": change_type, "targets": {"hosts": [host]}, "params": params}],
    }))
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to open a network connection is recorded and refused."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: object) -> None:
        attempts.append(address)
        raise OSError(f"test: no connection allowed offline ({address})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def repo_inventory(workspace: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[object]) -> Path:
    """The repository's own inventory (production host names), a state directory of the test's own."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(REPO / "nornir.yaml"))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(workspace / "no-secrets.yaml"))
    return workspace


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    """Oxidized's file output with groups: ``DIR/<group>/<host>``."""
    root = tmp_path / "oxidized"
    (root / "switches").mkdir(parents=True)
    (root / "switches" / ACCESS).write_text(SWITCH_CONFIG)
    return root


def plan_json(result: CliResult) -> dict[str, Any]:
    assert result.out.strip(), result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


# -- the command -----------------------------------------------------------------------------


def test_minor_change_planned_offline_prints_the_plan_and_exits_0(
        repo_inventory: Path, backups: Path, cli: Cli, no_network: list[object]) -> None:
    result = cli("plan", str(request(repo_inventory / "c.yaml")), "--offline", str(backups), "--json")
    assert result.code == 0, result.err
    plan = plan_json(result)
    assert plan["category"] == "minor"
    host = plan["hosts"][ACCESS] if isinstance(plan["hosts"], dict) else plan["hosts"][0]
    assert host["platform"] == "ios_cli"  # the host keeps its own platform; only the connection is offline
    assert "+ switchport access vlan 20" in host["diff"]
    assert "- shutdown" in host["diff"]
    assert "Building configuration" not in host["diff"] + host["rollback"]["lines"]
    assert host["rollback"]["strategy"] == "lines" and "shutdown" in host["rollback"]["lines"]
    assert {c["name"]: c["passed"] for c in host["pre_checks"]} == {
        "FastEthernet0/12 exists": True, "vlan 20 exists": True, "referenced structures are defined": True}
    assert any("minor" in r["paq_item"] for r in plan["reasons"])
    assert plan["requirements"]
    assert no_network == []


def test_offline_plan_records_nothing(repo_inventory: Path, backups: Path, cli: Cli) -> None:
    home = repo_inventory / "home"
    before = sorted(p.name for p in home.iterdir())
    result = cli("plan", str(request(repo_inventory / "c.yaml")), "--offline", str(backups), "--json")
    assert result.code == 0, result.err
    assert sorted(p.name for p in home.iterdir()) == before == []  # no journal, no plan store


def test_failed_pre_check_exits_1(repo_inventory: Path, backups: Path, cli: Cli, no_network: list[object]) -> None:
    result = cli("plan", str(request(repo_inventory / "c.yaml", interface="FastEthernet0/99")),
                 "--offline", str(backups), "--json")
    assert result.code == 1
    host = plan_json(result)["hosts"]
    host = host[ACCESS] if isinstance(host, dict) else host[0]
    assert host["error"].startswith("pre-check failed: FastEthernet0/99 exists")
    assert no_network == []


def test_check_needing_the_device_is_reported_not_run_offline(
        repo_inventory: Path, tmp_path: Path, cli: Cli, no_network: list[object]) -> None:
    """A switch whose running configuration has no VLAN database (VTP server): only ``show vlan
    brief`` can tell whether the VLAN is free. Offline the check is not run, and never passed."""
    root = tmp_path / "b"
    root.mkdir()
    (root / ACCESS).write_text(SWITCH_CONFIG.replace("vlan 20\n name printers\n!\n", ""))
    path = request(tmp_path / "v.yaml", change_type="vlan", params={"vlan_id": 300, "name": "cameras"})
    result = cli("plan", str(path), "--offline", str(root), "--json")
    assert result.code == 0, result.err
    host = plan_json(result)["hosts"]
    host = host[ACCESS] if isinstance(host, dict) else host[0]
    vlan_free, references = host["pre_checks"]
    assert vlan_free["passed"] is False
    assert vlan_free["not_run"] == "not run offline: needs the live device"
    assert references["name"] == "referenced structures are defined" and references["passed"] is True
    assert "+vlan 300" in host["diff"]
    assert no_network == []


def test_undeclared_device_access_fails_the_host_never_passes() -> None:
    driver = StoredConfigDriver("sw", "", "", optional_args={"config": SWITCH_CONFIG, "platform": "ios"})
    with pytest.raises(NotRunOffline):
        driver.cli(["show vlan brief"])
    with pytest.raises(NotRunOffline):
        driver.engine.cli(["show vlan brief"])
    driver.load_merge_candidate(config="vlan 30\n name x\n")
    with pytest.raises(OfflineRefused):
        driver.commit_config()
    with pytest.raises(OfflineRefused):
        driver.rollback()


def test_missing_stored_configuration_is_bad_input(repo_inventory: Path, tmp_path: Path, cli: Cli) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("plan", str(request(repo_inventory / "c.yaml")), "--offline", str(empty))
    assert result.code == 2
    assert f"{ACCESS}: no stored configuration in {empty}" in result.err
    assert "Traceback" not in result.err


def test_platform_without_a_text_diff_is_refused(repo_inventory: Path, tmp_path: Path, cli: Cli) -> None:
    root = tmp_path / "b"
    root.mkdir()
    (root / "doif-dns-01").write_text("$ORIGIN example.\n")
    path = request(tmp_path / "d.yaml", host="doif-dns-01", change_type="dns_record",
                   params={"action": "add", "name": "www.doif.example.net", "type": "A", "address": "192.0.2.10"})
    result = cli("plan", str(path), "--offline", str(root))
    assert result.code == 2, result.out + result.err
    assert "doif-dns-01: no offline plan for platform 'bind'" in result.err


def test_asa_firewall_offline(repo_inventory: Path, tmp_path: Path, cli: Cli, no_network: list[object]) -> None:
    root = tmp_path / "b"
    (root / "firewalls").mkdir(parents=True)
    (root / "firewalls" / "doif-fw-01").write_text(
        ": Saved\n:\nASA Version 9.8(4)\n!\nhostname doif-fw-01\nobject-group network allowed_clients\n"
        " network-object host 10.201.3.50\n!\nend\n")
    path = request(tmp_path / "f.yaml", host="doif-fw-01", change_type="fw_object_group",
                   params={"group": "allowed_clients", "add": ["10.201.3.51/32"]})
    result = cli("plan", str(path), "--offline", str(root), "--json")
    assert result.code == 0, result.err
    host = plan_json(result)["hosts"]
    host = host["doif-fw-01"] if isinstance(host, dict) else host[0]
    assert "+ network-object host 10.201.3.51" in host["diff"]
    assert no_network == []


def test_haproxy_offline_from_haproxy_cfg(repo_inventory: Path, tmp_path: Path, cli: Cli,
                                          no_network: list[object]) -> None:
    root = tmp_path / "b"
    root.mkdir()
    (root / "doif-lb-01").write_text(
        "global\n    maxconn 100\n\ndefaults\n    mode http\n\nfrontend fe_web\n    bind 127.0.0.1:8080\n"
        "    default_backend be_web\n\nbackend be_web\n    balance roundrobin\n"
        "    server web1 10.0.0.1:80 check weight 1\n    server web2 10.0.0.2:80 check weight 1\n")
    path = request(tmp_path / "l.yaml", host="doif-lb-01", change_type="lb_member",
                   params={"action": "weight", "backend": "be_web", "server": "web1", "weight": 5})
    result = cli("plan", str(path), "--offline", str(root), "--json")
    assert result.code == 0, result.err
    host = plan_json(result)["hosts"]
    host = host["doif-lb-01"] if isinstance(host, dict) else host[0]
    assert "+    server web1 10.0.0.1:80 weight 5 state ready" in host["diff"]
    statuses = {c["name"]: ("not_run" if c.get("not_run") else c["passed"]) for c in host["pre_checks"]}
    assert statuses["be_web keeps at least one server up"] == "not_run"  # health: only the device knows
    assert no_network == []


# -- where backups are found -----------------------------------------------------------------


def test_layouts_oxidized_and_rancid(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "sw1.example.net").write_text("hostname sw1\n")
    assert BackupDirectory(flat).load("sw1", host_names("sw1", "sw1.example.net")).text == "hostname sw1\n"

    rancid = tmp_path / "rancid"
    (rancid / "access" / "configs").mkdir(parents=True)
    config = SWITCH_CONFIG.replace("hostname doif-sw-acc-01", "hostname sw1")
    (rancid / "access" / "configs" / "sw1").write_text(RANCID_HEADER + config)
    stored = BackupDirectory(rancid).load("sw1", host_names("sw1", None))
    assert stored.text == config  # RANCID's header is not configuration; show run's banner stays
    assert stored.source.endswith("access/configs/sw1")
    # A RANCID group directory given directly.
    assert BackupDirectory(rancid / "access").load("sw1", ["sw1"]).text == config


def test_two_files_for_one_host_is_an_error(tmp_path: Path) -> None:
    for group in ("a", "b"):
        (tmp_path / group).mkdir()
        (tmp_path / group / "sw1").write_text(f"hostname {group}\n")
    with pytest.raises(BadRequest, match="several stored configurations"):
        BackupDirectory(tmp_path).load("sw1", ["sw1"])


def test_glob_characters_in_a_name_are_literal(tmp_path: Path) -> None:
    (tmp_path / "sw1").write_text("x\n")
    with pytest.raises(BadRequest, match="no stored configuration"):
        BackupDirectory(tmp_path).load("sw*", ["sw*", "s?1"])


def test_rancid_header_only_stripped_from_rancid_files() -> None:
    assert strip_rancid_header("!\nversion 15\n") == "!\nversion 15\n"
    assert strip_rancid_header(RANCID_HEADER + "version 15\n") == "version 15\n"


@pytest.fixture
def git_backups(tmp_path: Path) -> tuple[Path, str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "git"
    (repo / "switches").mkdir(parents=True)
    env = ["-c", "user.name=t", "-c", "user.email=t@example.net", "-c", "commit.gpgsign=false"]

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *env, *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    (repo / "switches" / ACCESS).write_text(SWITCH_CONFIG)
    git("add", ".")
    git("commit", "-q", "-m", "backup 1")
    first = git("rev-parse", "HEAD")
    (repo / "switches" / ACCESS).write_text(SWITCH_CONFIG.replace(" shutdown\n", ""))
    git("commit", "-q", "-am", "backup 2")
    return repo, first


def test_git_revision_is_read_not_the_work_tree(git_backups: tuple[Path, str], repo_inventory: Path,
                                                cli: Cli) -> None:
    repo, first = git_backups
    (repo / "switches" / ACCESS).write_text("garbage that is not in any commit\n")
    old = GitRevision(repo, first).load(ACCESS, [ACCESS])
    assert old.text == SWITCH_CONFIG and first[:12] in old.source
    assert " shutdown" not in GitRevision(repo, "HEAD").load(ACCESS, [ACCESS]).text

    at_first = plan_json(cli("plan", str(request(repo_inventory / "c.yaml")), "--offline", str(repo),
                             "--rev", first, "--json"))
    at_head = plan_json(cli("plan", str(request(repo_inventory / "c.yaml")), "--offline-git", f"{repo}@HEAD",
                            "--json"))
    diff = [h["diff"] for h in (at_first["hosts"], at_head["hosts"])
            for h in (h.values() if isinstance(h, dict) else h)]
    assert "- shutdown" in diff[0] and "- shutdown" not in diff[1]


def test_unknown_revision_is_bad_input(git_backups: tuple[Path, str], repo_inventory: Path, cli: Cli) -> None:
    repo, _ = git_backups
    result = cli("plan", str(request(repo_inventory / "c.yaml")), "--offline-git", f"{repo}@no-such-branch")
    assert result.code == 2 and "no commit 'no-such-branch'" in result.err
    result = cli("plan", str(request(repo_inventory / "c.yaml")), "--offline", str(repo), "--rev", "--output=x")
    assert result.code == 2


# -- the engines ------------------------------------------------------------------------------


def test_stored_banner_is_stripped_as_the_live_driver_does() -> None:
    from netchange.drivers.ios_cli import IOS, canonical_config

    driver = StoredConfigDriver("sw", "", "", optional_args={"config": SWITCH_CONFIG, "platform": "ios"})
    running = driver.get_config(retrieve="running")["running"]
    assert running == canonical_config(SWITCH_CONFIG, IOS)
    assert not running.startswith("Building") and "Current configuration" not in running


def test_nftables_prediction_runs_here_when_it_can() -> None:
    ruleset = ("table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
               "\t}\n}\n")
    engine = engine_for("nftables", "nftables", ruleset, "fw")
    probe = subprocess.run(["unshare", "--net", "--", "nft", "list", "ruleset"], capture_output=True, check=False) \
        if shutil.which("unshare") and shutil.which("nft") else None
    engine.load_merge_candidate(config='add rule inet filter input tcp dport 22 accept comment "ssh"\n')
    diff = engine.compare_config()
    if probe is None or probe.returncode != 0:
        assert diff.startswith("# prediction unavailable")  # the safe default: shown as added lines
        pytest.skip("nft/unshare cannot run here: the prediction is unavailable, as the diff says")
    assert "+" in diff and "tcp dport 22 accept" in diff and "prediction unavailable" not in diff
    with pytest.raises(OfflineRefused):
        StoredConfigDriver("fw", "", "", optional_args={"config": ruleset, "platform": "nftables"}).commit_config()
