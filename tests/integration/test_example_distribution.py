"""The worked example (examples/netchange-ntp) installed as a user would, so it cannot rot.

A throw-away venv sees netchange as this checkout installed it (a ``.pth`` adding the running
venv's site-packages: no copy, no download of netchange's dependencies) and gets the example
installed from its directory (``pip install --no-deps``: a real wheel with its entry points and
package data). Then, in that venv: the example's own tests (which use netchange's pytest plugin),
``netchange types`` listing the type from its distribution, and the offline plan of the example's
change request over the repository's own inventory and the example's stored configuration.
No lab: nothing here contacts a device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "netchange-ntp"


def _run(argv: list[str], cwd: Path, home: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "NETCHANGE_HOME": str(home / "state"),
           "NETCHANGE_LOCK_DIR": str(home / "locks"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if "PIP_CACHE_DIR" in os.environ or (Path.home() / ".cache" / "pip").is_dir():
        env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("example")
    home = root / "home"
    home.mkdir()
    target = root / "venv"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, timeout=120)
    purelib = Path(sysconfig.get_paths(vars={"base": str(target), "platbase": str(target)})["purelib"])
    # addsitedir, not a bare path: the editable install of netchange is itself a .pth to process.
    (purelib / "netchange-dev.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"), "install", "-q",
                 "--no-deps", str(EXAMPLE)], cwd=root, home=home)
    assert done.returncode == 0, done.stderr[-2000:]
    print(f"\nexample venv and install: {time.perf_counter() - t0:.1f} s")
    return target


def test_the_example_s_own_tests_pass_with_the_plugin(venv: Path, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    done = _run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                cwd=EXAMPLE, home=tmp_path)
    print(f"\nexample tests: {time.perf_counter() - t0:.1f} s")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_the_type_is_listed_from_its_distribution(venv: Path, tmp_path: Path) -> None:
    done = _run([str(venv / "bin" / "python"), "-m", "netchange", "types", "--json"], cwd=tmp_path, home=tmp_path)
    assert done.returncode == 0, done.stderr
    ntp = {t["name"]: t for t in json.loads(done.stdout)["types"]}["ntp_server"]
    assert ntp["distribution"] == "netchange-ntp 1.0.0"
    assert ntp["syntaxes"] == ["ios"] and ntp["roles"] == ["switch"]
    assert set(ntp["params_schema"]["properties"]) == {"servers", "remove", "prefer", "source"}


def _plan(venv: Path, change: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # From the repository's root: nornir.yaml names inventory/ relative to it.
    argv = [str(venv / "bin" / "python"), "-m", "netchange", "--config", "nornir.yaml", "--policy", "policy.yaml",
            "plan", str(change), "--offline", str(EXAMPLE / "backups"), "--json", *extra]
    return _run(argv, cwd=REPO, home=home)


def test_its_change_request_plans_offline_and_gates_as_its_ci_job(venv: Path, tmp_path: Path) -> None:
    """The issue's "done when", with the example's type: the production inventory, the switch's
    stored configuration (banner lines included), no device reachable."""
    change = EXAMPLE / "changes" / "ntp-doif.yaml"
    done = _plan(venv, change, tmp_path, "--fail-on", "medium", "--junit", str(tmp_path / "plan.xml"),
                 "--markdown", str(tmp_path / "plan.md"))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    plan = json.loads(done.stdout)
    assert plan["category"] == "minor"
    host = {h["name"]: h for h in plan["hosts"]}["doif-sw-acc-01"]
    assert host["diff"].strip() == "+ntp server 10.0.0.2"
    assert "+ext." in plan["rules_version"]  # the example's rules judged it too
    assert not (tmp_path / "state" / "journal.sqlite").exists()  # an offline plan records nothing
    assert "doif-sw-acc-01" in (tmp_path / "plan.xml").read_text()
    assert "MINOR" in (tmp_path / "plan.md").read_text()
    gated = _plan(venv, change, tmp_path, "--fail-on", "minor")
    assert gated.returncode == 4, gated.stderr
    assert json.loads(gated.stdout)["category"] == "minor"
    # The source interface: medium by the example's own rule, so its CI job's gate stops it.
    source = tmp_path / "source.yaml"
    source.write_text(change.read_text().replace("servers: [10.0.0.2]", "source: Loopback0"))
    assert _plan(venv, source, tmp_path, "--fail-on", "medium").returncode == 4
    failing = tmp_path / "failing.yaml"
    failing.write_text(change.read_text().replace("servers: [10.0.0.2]", "remove: [10.9.9.9]"))
    assert _plan(venv, failing, tmp_path, "--fail-on", "medium").returncode == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text(change.read_text().replace("servers: [10.0.0.2]", "servers: [10.0.0.2]\n      prefer: 10.0.0.9"))
    bad = _plan(venv, broken, tmp_path, "--fail-on", "medium")
    assert bad.returncode == 2
    assert "prefer" in json.loads(bad.stdout)["error"]["message"] and "Traceback" not in bad.stderr


def _code_lines(path: Path) -> int:
    """Lines a person writes: not blank, not a comment (``#``), not a docstring-only line."""
    count = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            count += 1
    return count


def test_what_an_author_writes() -> None:
    """Issue 14: before the kit, a type's author wrote ~240 lines (type, template, a driver, fixtures,
    a gate script). Now: the type, its template, its rules and its tests; printed, and bounded so
    that the example does not grow back what netchange should provide."""
    src = EXAMPLE / "src" / "netchange_ntp"
    pieces = {
        "type": _code_lines(src / "ntp.py"),
        "template": _code_lines(src / "templates" / "ntp_server" / "ios.j2"),
        "rules": _code_lines(src / "rules" / "ntp.yaml"),
        "tests": _code_lines(EXAMPLE / "tests" / "test_ntp_server.py"),
    }
    packaging = _code_lines(EXAMPLE / "pyproject.toml")
    total = sum(pieces.values())
    print(f"\nauthor writes: {pieces}, total {total} (+ pyproject.toml {packaging})")
    assert total < 240
