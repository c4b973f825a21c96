"""The commands that contact no device do not load the device libraries (issue 12, item 7).

Each case runs in a fresh interpreter, as a user's shell would, and reads ``sys.modules`` after the
command: what it checks is which libraries were loaded, not how long it took (timings are in
``bench/startup.py``). An import moved back to module level in any CLI module, or in a module those
import, makes these fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVICE_LIBRARIES = ("napalm", "netmiko", "nornir", "ncclient", "hier_config", "paramiko")
RENDERING = ("jinja2",)
LAB = ("netchange.lab", "dns", "cryptography")

_PROBE = """
import json, sys
from netchange.cli import main
try:
    main.main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
# top-level names, and netchange's own packages by their second part (netchange.lab, netchange.classifiers)
loaded = sorted({name.split(".")[0] for name in sys.modules} | {".".join(name.split(".")[:2]) for name in sys.modules})
print("\\n@@" + json.dumps({"code": code, "loaded": loaded}))
"""


def _loaded(tmp_path: Path, *argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=ROOT, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "NETCHANGE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)},
    )
    marker = done.stdout.rsplit("\n@@", 1)
    assert len(marker) == 2, done.stderr
    report = json.loads(marker[1])
    assert report["code"] in (0, None), (argv, done.stdout, done.stderr)
    return set(report["loaded"])


@pytest.mark.parametrize(
    "argv",
    [
        ("version",),
        ("--help",),
        ("window", "--category", "minor", "--site", "doif", "--at", "2026-12-02T10:00+01:00"),
    ],
    ids=["version", "help", "window"],
)
def test_fast_commands_load_no_device_library(tmp_path: Path, argv: tuple[str, ...]) -> None:
    loaded = _loaded(tmp_path, *argv)
    assert loaded.isdisjoint(DEVICE_LIBRARIES + RENDERING + LAB), sorted(loaded & {*DEVICE_LIBRARIES, *RENDERING, *LAB})


def test_classify_loads_no_device_library(tmp_path: Path) -> None:
    diff = tmp_path / "two.diff"
    diff.write_text("interface GigabitEthernet0/1\n+ description uplink to core\n", encoding="utf-8")
    loaded = _loaded(tmp_path, "classify", "--platform", "ios", "--role", "switch", "--diff", str(diff))
    assert "netchange.classifiers" in loaded  # the probe really ran the classifier
    assert loaded.isdisjoint(DEVICE_LIBRARIES + RENDERING + LAB), sorted(loaded & {*DEVICE_LIBRARIES, *LAB})


def test_inventory_loads_nornir_but_no_driver(tmp_path: Path) -> None:
    # The inventory is Nornir's: it is the one fast command that needs it; no driver library.
    loaded = _loaded(tmp_path, "inventory", "--json")
    assert "nornir" in loaded
    assert loaded.isdisjoint(("napalm", "netmiko", "ncclient", "hier_config", "paramiko", *RENDERING, *LAB))


def test_plan_loads_no_driver_library_before_it_contacts_a_device(tmp_path: Path) -> None:
    # A valid request whose target is not in the inventory: plan loads the request, the policy, the
    # journal and Nornir, then refuses (exit 2) before any device. NAPALM, netmiko and ncclient are
    # for the driver, loaded when a device is first contacted (InitNornir would import them all).
    example = (ROOT / "changes" / "examples" / "01-access-port.yaml").read_text(encoding="utf-8")
    request = tmp_path / "unknown-host.yaml"
    unknown = example.replace("hosts: [sw-doif-acc1, sw-doif-acc2]", "hosts: [no-such-host]")
    request.write_text(unknown, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "plan", str(request)], cwd=ROOT, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "NETCHANGE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)},
    )
    report = json.loads(done.stdout.rsplit("\n@@", 1)[1])
    assert report["code"] == 2 and "unknown host 'no-such-host'" in done.stderr
    loaded = set(report["loaded"])
    assert "nornir" in loaded
    assert loaded.isdisjoint(("napalm", "netmiko", "ncclient", "paramiko")), sorted(loaded)


def test_a_holiday_lookup_loads_its_own_country_only(tmp_path: Path) -> None:
    # ``holidays.country_holidays`` imports every one of its ~250 countries to answer for one;
    # the window checks import the policy's country alone, and get the same calendar.
    probe = """
import datetime as dt, json, sys
from netchange.policy._model import load_policy
policy = load_policy("policy.yaml")
days = {str(dt.date(2026, 1, 1) + dt.timedelta(days=i)): policy.holiday(dt.date(2026, 1, 1) + dt.timedelta(days=i))
        for i in range(365)}
countries = sorted(m for m in sys.modules if m.startswith("holidays.countries."))
import holidays
full = holidays.country_holidays(policy.holidays.country, subdiv=policy.holidays.subdiv, years=2026)
same = all((full.get(dt.date.fromisoformat(d)) or None) == (name or None) for d, name in days.items())
print(json.dumps({"countries": countries, "same": same, "named": sum(1 for v in days.values() if v)}))
"""
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["countries"] == ["holidays.countries.france"]
    assert report["same"] and report["named"] >= 11  # France's public holidays of 2026, every one
