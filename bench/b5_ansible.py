"""B5: the same VLAN change with Ansible (``cisco.ios.ios_config``, forks 20) on the same lab switches.

Ansible lives in its own virtualenv (``bench/.ansible-venv``: ``ansible`` + ``paramiko``), never in
the project's. fake-switches does not answer ``show privilege``, which cisco.ios's terminal plugin
asks before and after ``enable``; a local terminal plugin ``ios`` subclasses it and reads the
privilege from the prompt (``#`` is 15), and a local cliconf plugin ``ios`` is cisco.ios's own (see
docs/lab-notes.md; a copy, since a re-export loses its options). SSH host keys are not checked by
Ansible here (loopback lab only).

Both tools run in one go: Ansible ``--check --diff`` then the apply, and netchange plan then
approve + apply, each with a VLAN of its own.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from bench.devices import _apply, plan
from bench.lab import SwitchLab

VENV = Path(__file__).resolve().parent / ".ansible-venv"

TERMINAL = '''
import re
from ansible_collections.cisco.ios.plugins.terminal.ios import TerminalModule as _Ios


class TerminalModule(_Ios):
    """cisco.ios's terminal, with the privilege read from the prompt (fake-switches has no 'show privilege')."""

    def get_privilege_level(self):
        return 15 if self._get_prompt().strip().endswith(b"#") else 1
'''
# Ansible reads a plugin's option definitions from its DOCUMENTATION literal (by parsing the file),
# so a one-line re-export loses them ("No config definition exists for 'commit_confirm_immediate'"):
# the cliconf plugin is cisco.ios's own file, copied.
CLICONF = "lib/python3.11/site-packages/ansible_collections/cisco/ios/plugins/cliconf/ios.py"
CFG = """[defaults]
forks = 20
host_key_checking = False
gathering = explicit
terminal_plugins = {root}/plugins/terminal
cliconf_plugins = {root}/plugins/cliconf
retry_files_enabled = False
[persistent_connection]
command_timeout = 60
connect_timeout = 60
"""


def _setup(lab: SwitchLab, hosts: list[str], root: Path) -> None:
    cliconf = next(VENV.glob(CLICONF.replace("python3.11", "python3*"))).read_text()
    for kind, text in (("terminal", TERMINAL), ("cliconf", cliconf)):
        (root / "plugins" / kind).mkdir(parents=True, exist_ok=True)
        (root / "plugins" / kind / "ios.py").write_text(text)
    (root / "ansible.cfg").write_text(CFG.format(root=root))
    inv = {"all": {"vars": {"ansible_connection": "ansible.netcommon.network_cli", "ansible_network_os": "ios",
                            "ansible_become": True, "ansible_become_method": "enable",
                            },
                   "hosts": {d.name: {"ansible_host": d.host, "ansible_port": d.port, "ansible_user": d.username,
                                      "ansible_password": d.password, "ansible_become_password": d.secret}
                             for d in lab.devices(hosts)}}}
    path = root / "inventory.yaml"
    path.write_text(yaml.safe_dump(inv))
    path.chmod(0o600)


def _playbook(root: Path, name: str, lines: list[str], parents: list[str]) -> Path:
    book = [{"hosts": "all", "gather_facts": False, "tasks": [
        {"name": "vlan", "cisco.ios.ios_config": {"parents": parents, "lines": lines}}]}]
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(book, sort_keys=False))
    return path


def _ansible(root: Path, book: Path, *extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(root / "ansible.cfg"), "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
           "PATH": f"{VENV / 'bin'}:{os.environ.get('PATH', '')}"}
    t0 = time.perf_counter()
    proc = subprocess.run([str(VENV / "bin" / "ansible-playbook"), "-i", str(root / "inventory.yaml"), str(book),
                           *extra], env=env, capture_output=True, text=True, check=False, cwd=root, timeout=3600)
    return time.perf_counter() - t0, proc


def _recap(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    totals = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0}
    for line in proc.stdout.splitlines():
        if " : ok=" in line:
            for part in line.split(":", 1)[1].split():
                key, _, value = part.partition("=")
                if key in totals:
                    totals[key] += int(value)
    return totals


def _first_error(proc: subprocess.CompletedProcess[str]) -> str:
    for line in proc.stdout.splitlines():
        if "FAILED!" in line or "UNREACHABLE!" in line:
            return line.strip()[:400]
    return (proc.stderr.strip().splitlines() or [""])[-1][:400]


def run(lab: SwitchLab, n: int) -> dict[str, Any]:
    hosts = lab.hosts[:n]
    out: dict[str, Any] = {"n": n, "forks": 20, "module": "cisco.ios.ios_config"}
    if not (VENV / "bin" / "ansible-playbook").exists():
        out["error"] = f"no Ansible in {VENV}: python3 -m venv {VENV} && {VENV}/bin/pip install ansible paramiko"
        return out
    root = lab.home / "ansible"
    _setup(lab, hosts, root)
    version = subprocess.run([str(VENV / "bin" / "ansible"), "--version"], capture_output=True, text=True, check=False)
    out["ansible"] = version.stdout.splitlines()[0] if version.stdout else "?"
    book = _playbook(root, "vlan", ["name ansible3401"], ["vlan 3401"])
    check_s, check = _ansible(root, book, "--check", "--diff")
    out["check_recap"] = _recap(check)
    if check.returncode != 0:
        out["error"] = _first_error(check)
        return out
    apply_s, applied = _ansible(root, book)
    out["apply_recap"] = _recap(applied)
    if applied.returncode != 0:
        out["error"] = _first_error(applied)
    _ansible(root, _playbook(root, "undo", ["no vlan 3401"], []))  # not timed

    plan_s, _ = plan(lab, n, "BENCH-B5", 3402, rollout={"canary": 1, "batch_size": 50})
    nc_apply_s, summary, _rc = _apply(lab, "BENCH-B5")
    out["netchange_outcome"] = summary["outcome"]
    out["check_diff"] = {"ansible_s": round(check_s, 2), "netchange_s": round(plan_s, 2),
                         "ratio": round(check_s / plan_s, 2)}
    out["apply"] = {"ansible_s": round(apply_s, 2), "netchange_s": round(nc_apply_s, 2),
                    "ratio": round(apply_s / nc_apply_s, 2)}
    return out
