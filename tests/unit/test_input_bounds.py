"""Bounds on input (issue 11, item 7): files that are not regular, too large, too deep or too long
are refused with exit 2 and one line naming the file and the limit, before any device is contacted.

The FIFO, device and size cases run the real command in a subprocess with a timeout: a read that
blocks or never ends fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from netchange.inventory import _connection as connection
from netchange.request import MAX_DIFF_BYTES, MAX_HOSTS, MAX_REQUEST_BYTES, MAX_STEPS, MAX_YAML_DEPTH
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING, MockDevice, write_device

Cli = Callable[..., CliResult]
EXE = Path(sys.executable).parent / "netchange"

STEP = {"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}


def request(**extra: object) -> dict[str, object]:
    return {"id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "amoreau",
            "steps": [STEP], **extra}


@pytest.fixture
def contacted(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A mock inventory of 2 switches; the list of hosts any connection was opened to."""
    opened: list[str] = []
    real_open = connection.NetchangeConnection.open

    def spy(self: connection.NetchangeConnection, hostname: str | None, *args: object, **kwargs: object) -> None:
        opened.append(str(hostname))
        real_open(self, hostname, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(connection.NetchangeConnection, "open", spy)
    _inventory(workspace, 2, monkeypatch)
    return opened


def _inventory(root: Path, count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``count`` switches sharing one mock device directory (writing one per host would be slow)."""
    path = write_device(root / "devices", MockDevice("sw", SWITCH_RUNNING, diff="+vlan 20\n+ name servers\n"))
    hosts = {f"sw{i}": {"hostname": "127.0.0.1", "platform": "mock", "groups": ["doif", "switch"],
                        "data": {"role": "switch", "site": "doif", "syntax": "ios"},
                        "connection_options": {"netchange": {"extras": {"optional_args": {"path": str(path)}}}}}
             for i in range(count)}
    inv = root / "inventory"
    inv.mkdir(exist_ok=True)
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (inv / "groups.yaml").write_text("doif: {}\nswitch: {}\n")
    (inv / "defaults.yaml").write_text("data: {}\n")
    cfg = root / "nornir.yaml"
    cfg.write_text(yaml.safe_dump({
        "inventory": {"plugin": "SimpleInventory", "options": {
            "host_file": str(inv / "hosts.yaml"), "group_file": str(inv / "groups.yaml"),
            "defaults_file": str(inv / "defaults.yaml")}},
        "runner": {"plugin": "threaded", "options": {"num_workers": 4}},
        "logging": {"enabled": False}}))
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(cfg))


def assert_refused(result: CliResult | subprocess.CompletedProcess[str], *words: str) -> None:
    code = result.code if isinstance(result, CliResult) else result.returncode
    err = result.err if isinstance(result, CliResult) else result.stderr
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def run(*args: str, stdin: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(EXE), *args], input=stdin, capture_output=True, timeout=timeout, check=False,
                          env={**os.environ, "NETCHANGE_HOME": os.environ.get("NETCHANGE_HOME", "/nonexistent")})
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


# -- the file itself ---------------------------------------------------------------------------


def test_deep_yaml_is_refused_without_a_traceback(contacted: list[str], cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 1000 + "]" * 1000 + "\n")
    assert path.stat().st_size < 2100
    assert_refused(cli("plan", str(path)), str(path), f"{MAX_YAML_DEPTH} levels")
    assert contacted == []


def test_depth_just_under_the_limit_is_read(tmp_path: Path) -> None:
    from netchange.errors import BadRequest
    from netchange.request import load_request

    ok = tmp_path / "ok.yaml"
    nest = MAX_YAML_DEPTH - 2  # the document and "x" are two levels
    ok.write_text(yaml.safe_dump(request(description=None)) + "x: " + "[" * nest + "]" * nest + "\n")
    with pytest.raises(BadRequest, match="x: Extra inputs"):  # parsed, then refused by the model
        load_request(ok)


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "directory", "symlink_to_device"])
def test_plan_refuses_what_is_not_a_regular_file_without_blocking(kind: str, tmp_path: Path) -> None:
    if kind == "dev_zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "change.yaml"
        os.mkfifo(path)  # no writer: opening it for reading without O_NONBLOCK hangs
    elif kind == "directory":
        path = tmp_path
    else:
        path = tmp_path / "link.yaml"
        path.symlink_to("/dev/zero")
    result = run("plan", str(path), timeout=20)
    assert_refused(result, str(path), "regular file")


def test_sixty_megabytes_is_refused_unread(contacted: list[str], cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as f:
        f.write(yaml.safe_dump(request()))
        f.write("# " + "x" * (60 << 20) + "\n")
    assert_refused(cli("plan", str(path)), str(path), "1 MiB")
    assert contacted == []


def test_ten_thousand_steps_are_refused(contacted: list[str], cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "steps.yaml"
    steps = [{**STEP, "params": {"vlan_id": 20, "name": f"s{i}"}} for i in range(10_000)]  # no YAML aliases
    path.write_text(yaml.safe_dump(request(steps=steps)))
    assert path.stat().st_size < MAX_REQUEST_BYTES
    assert_refused(cli("plan", str(path)), str(path), "10000 steps", f"limit of {MAX_STEPS} per change request")
    assert contacted == []


def test_steps_at_the_limit_are_accepted(contacted: list[str], cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "steps.yaml"
    path.write_text(yaml.safe_dump(request(steps=[STEP] * MAX_STEPS)))
    result = cli("plan", str(path), actor="dnguyen")
    assert result.code in (0, 1), result.err  # planned (the mock devices answer), not refused as input
    assert sorted(set(contacted)) == ["127.0.0.1"]


def test_alias_bomb_is_refused(contacted: list[str], cli: Cli, tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text(yaml.safe_dump(request()) + "\n".join(levels) + "\n")
    assert path.stat().st_size < 2000  # 10**9 nodes once expanded
    assert_refused(cli("plan", str(path)), str(path), "nodes")
    assert contacted == []


def test_recursive_alias_is_refused(cli: Cli, tmp_path: Path, workspace: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text(yaml.safe_dump(request()) + "x: &loop [*loop]\n")
    assert_refused(cli("plan", str(path)), str(path), "alias")


def test_too_many_listed_hosts_are_refused(contacted: list[str], cli: Cli, tmp_path: Path) -> None:
    step = {**STEP, "targets": {"hosts": [f"sw{i}" for i in range(MAX_HOSTS + 1)]}}
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(request(steps=[step])))
    assert_refused(cli("plan", str(path)), str(path), f"limit of {MAX_HOSTS} per change")
    assert contacted == []


def test_too_many_resolved_hosts_are_refused_before_any_is_contacted(
        workspace: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setattr(connection.NetchangeConnection, "open", lambda *a, **k: opened.append(a))
    _inventory(workspace, MAX_HOSTS + 1, monkeypatch)
    path = tmp_path / "role.yaml"
    path.write_text(yaml.safe_dump(request()))  # targets: role switch → 501 hosts
    assert_refused(cli("plan", str(path)), f"{MAX_HOSTS + 1} hosts", f"limit of {MAX_HOSTS} per change")
    assert opened == []


# -- classify ----------------------------------------------------------------------------------


def test_classify_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "d.diff"
    os.mkfifo(fifo)
    assert_refused(run("classify", "--platform", "ios", "--diff", str(fifo), timeout=20), str(fifo), "regular file")


def test_classify_refuses_fifty_megabytes(tmp_path: Path) -> None:
    diff = tmp_path / "big.diff"
    line = b"+interface GigabitEthernet1/0/1\n+ description x\n"
    diff.write_bytes(line * ((50 << 20) // len(line)))
    assert_refused(run("classify", "--platform", "ios", "--diff", str(diff), timeout=20), str(diff), "8 MiB")


def test_classify_bounds_standard_input() -> None:
    big = b"+vlan 10\n" * (MAX_DIFF_BYTES // 9 + 1)
    assert_refused(run("classify", "--platform", "ios", "--diff", "-", stdin=big, timeout=20), "8 MiB")
    small = run("classify", "--platform", "ios", "--diff", "-", "--json", stdin=b"+vlan 10\n+ name x\n")
    assert small.returncode == 0, small.stderr


def test_classify_table_shows_a_bounded_number_of_lines(tmp_path: Path) -> None:
    """A 2 MiB diff took rich 20 s to lay out in a table of every matched line; JSON keeps them all."""
    diff = tmp_path / "many.diff"
    diff.write_text("".join(f"+vlan {i}\n+ name v{i}\n" for i in range(100, 400)))
    table = run("classify", "--platform", "ios", "--diff", str(diff))
    assert table.returncode == 0, table.stderr
    assert "and 280 more" in table.stdout
    assert "+vlan 399" not in table.stdout
    doc = run("classify", "--platform", "ios", "--diff", str(diff), "--json")
    assert "+vlan 399" in doc.stdout
