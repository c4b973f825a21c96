"""The commands that contact no device do not load the device libraries (issue 12, item 7), nor
what they do not use (issue 20, item 5: 0.2 s each).

Each case runs in a fresh interpreter, as a user's shell would, and reads ``sys.modules`` after the
command: what it checks is which libraries were loaded, not how long it took (timings are in
``bench/startup.py``). An import moved back to module level in any CLI module, or in a module those
import, makes these fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# "napalm.base", not "napalm": netchange.drivers registers NAPALM's package without its body
# (netchange/drivers/_napalm_package.py), which costs nothing; NAPALM's code runs from napalm.base.
DEVICE_LIBRARIES = ("napalm.base", "netmiko", "nornir", "ncclient", "hier_config", "paramiko")
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
# every module loaded, and each of its parents (napalm, netchange.lab, netchange.cli.changes...)
loaded = sorted({".".join(name.split(".")[:n]) for name in sys.modules for n in range(1, name.count(".") + 2)})
print("\\n@@" + json.dumps({"code": code, "loaded": loaded}))
"""


def _loaded(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=ROOT, capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "NETCHANGE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path), **(env or {})},
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
    # Neither the request models nor the platform profiles: the rules and the diff are all it reads
    # (reading a diff with drivers.diffformat no longer validates every profile through the face).
    assert loaded.isdisjoint(("netchange.models", "netchange.platforms", "netchange.drivers.contract"))


def test_window_reads_the_policy_without_the_request_models(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, "window", "--category", "minor", "--site", "doif", "--at", "2026-12-08T20:00:00+01:00")
    assert "netchange.policy._model" in loaded  # the probe really read the policy
    assert "netchange.models" not in loaded


def test_inventory_loads_nornir_but_no_driver(tmp_path: Path) -> None:
    # The inventory is Nornir's: it is the one fast command that needs it; no driver library.
    loaded = _loaded(tmp_path, "inventory", "--json")
    assert "nornir" in loaded
    assert loaded.isdisjoint(("napalm.base", "netmiko", "ncclient", "hier_config", "paramiko", *RENDERING, *LAB))


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
    assert loaded.isdisjoint(("napalm.base", "netmiko", "ncclient", "paramiko")), sorted(loaded)


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


# --- issue 20, item 5: 0.2 s ---------------------------------------------------------------------

# What a command printing plain text never needs: pydantic (Typer's parameter checks and the
# models), Rich, YAML, and the journal's store for a command that reads no journal.
PLAIN = ("pydantic", "rich", "yaml", "netchange.models")


def test_version_loads_neither_pydantic_nor_rich_nor_yaml_nor_the_journal(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, "version")
    assert loaded.isdisjoint((*PLAIN, "netchange.journal.store")), sorted(loaded & {*PLAIN, "netchange.journal.store"})
    # the command line's own module only: version is main's
    assert {m for m in loaded if m.startswith("netchange.cli.")} == {"netchange.cli.main", "netchange.cli._lazy"}


def test_journal_head_reads_the_journal_without_pydantic_rich_or_yaml(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, "journal", "head")
    assert "netchange.journal.store" in loaded  # the probe really opened the journal
    assert loaded.isdisjoint(PLAIN), sorted(loaded & set(PLAIN))
    assert {m for m in loaded if m.startswith("netchange.cli.")} == {
        "netchange.cli.main", "netchange.cli._lazy", "netchange.cli.common", "netchange.cli.journal"}


def test_help_loads_every_command_module_but_no_model(tmp_path: Path) -> None:
    from netchange.cli.main import MODULES

    loaded = _loaded(tmp_path, "--help")
    assert {f"netchange.cli.{m}" for m in MODULES} <= loaded
    # Typer renders --help with Rich; the command modules import nothing else at their top
    heavy = ("pydantic", "yaml", "netchange.models", "netchange.journal.store", "netchange.policy._model")
    assert loaded.isdisjoint(heavy), sorted(loaded & set(heavy))
    # Typer's formatter ran (the help was printed) without Markdown's parser or Rich's tracebacks
    assert "typer.rich_utils" in loaded
    assert loaded.isdisjoint(("markdown_it", "rich.markdown", "rich.traceback", "rich.pretty"))


def test_the_deferred_rich_classes_are_the_real_ones_when_used() -> None:
    # In a fresh interpreter: the formatter imported with the stand-ins, then both used as Typer
    # uses them (Markdown(text, style=...), Traceback.from_exception(...)).
    probe = """
import sys
from netchange.cli._lazy import typer_help_deferred
typer_help_deferred()
from typer import rich_utils
assert "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
md = rich_utils._make_rich_text(text="**bold**", style="", markup_mode="markdown")
import rich.markdown
assert isinstance(md, rich.markdown.Markdown), type(md)
try:
    raise ValueError("boom")
except ValueError as exc:
    tb = rich_utils.Traceback.from_exception(type(exc), exc, exc.__traceback__)
import rich.traceback
assert isinstance(tb, rich.traceback.Traceback)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.fixture
def planned(two_switches: Path, cli: Callable[..., Any]) -> Path:
    """The workspace of tests/conftest.py with one change planned (and recorded) on mock switches."""
    change = two_switches / "chg.yaml"
    change.write_text(yaml.safe_dump({
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}]}))
    result = cli("plan", str(change), actor="dnguyen")
    assert result.code == 0, result.err
    return two_switches


@pytest.mark.parametrize("argv", [("show", "CHG-2026-0042"), ("list",)], ids=["show", "list"])
def test_show_and_list_read_the_journal_without_jinja2_the_classifier_or_the_drivers(
    planned: Path, argv: tuple[str, ...]
) -> None:
    loaded = _loaded(planned, *argv, env={"NETCHANGE_POLICY": str(planned / "policy.yaml")})
    assert "netchange.journal.store" in loaded
    unused = ("netchange.classifiers.engine", "netchange.classifiers.loader", "netchange.classifiers.model",
              "netchange.drivers",
              "netchange.platforms", "netchange.report.quarterly", "netchange.pipeline")
    assert loaded.isdisjoint(DEVICE_LIBRARIES + RENDERING + LAB + unused), \
        sorted(loaded & {*DEVICE_LIBRARIES, *RENDERING, *LAB, *unused})
    if argv == ("list",):  # a row's category is a plain enum (netchange.vocabulary): no model built
        assert "pydantic" not in loaded and "netchange.models" not in loaded


def test_the_command_map_names_the_module_that_registers_each_command() -> None:
    # main.COMMANDS decides which module a command line loads: a wrong entry would make that
    # command unknown ("No such command"), a missing one would load every module.
    import typer.main

    from netchange.cli import main

    main._mount()
    found = {info.name or typer.main.get_command_name(info.callback.__name__): info.callback.__module__
             for info in main.app.registered_commands if info.callback is not None}
    for group in main.app.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        callback = group.typer_instance.registered_commands[0].callback
        assert callback is not None
        found[group.name] = callback.__module__
    assert {name: module.rsplit(".", 1)[1] for name, module in found.items()} == main.COMMANDS


def test_help_lists_the_commands_in_one_order_whatever_ran_before(tmp_path: Path) -> None:
    # In-process callers (the tests, the demo) mount one module per command they run.
    probe = """
import contextlib, io, sys
from netchange.cli import main
for argv in (["journal", "head"], ["window", "--category", "minor", "--site", "doif", "--at",
             "2026-12-02T10:00+01:00"], ["version"], ["--help"]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main.main(argv)
print(out.getvalue())
"""
    env = {"PATH": "/usr/bin:/bin", "NETCHANGE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path),
           "COLUMNS": "100"}
    after = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=False)
    fresh = subprocess.run([sys.executable, "-m", "netchange", "--help"], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=False)
    assert fresh.returncode == 0 and "journal" in fresh.stdout, fresh.stderr
    assert after.stdout.strip() == fresh.stdout.strip()


def test_typer_still_checks_the_values_it_checked(workspace: Path, cli: Callable[..., Any]) -> None:
    # Typer's own coercion, built when a value needs it: a number refused as before, a path a Path.
    refused = cli("apply", "CHG-2026-0001", "--revert-in", "soon")
    assert refused.code == 2 and "Invalid value for '--revert-in'" in refused.err
    assert "Input should be a valid integer" in refused.err
    elsewhere = workspace / "elsewhere"
    shown = cli("--home", str(elsewhere), "journal", "head")
    assert shown.code == 0, shown.err
    assert (elsewhere / "journal.sqlite").exists()


def test_the_startup_bench_runs_every_command_and_prints_its_table() -> None:
    # python -m bench.startup asserts no timing; this keeps it runnable (its planned change, its
    # commands' exit codes), not fast: without valgrind's counts (a minute more when installed).
    done = subprocess.run([sys.executable, "-m", "bench.startup", "--runs", "1", "--no-instructions"], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("netchange ")]
    assert len(rows) == 7, done.stdout
    assert all(row[-1] == "0" for row in rows), done.stdout  # every command ran to its end


def _probe(code: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_netchange_driver_loads_none_of_napalms_bundled_drivers_until_one_is_looked_up() -> None:
    # Issue 27 item 4: importing napalm.base runs NAPALM's package body, which imports EOS, Junos,
    # IOS-XR, NX-OS... netchange's drivers subclass napalm.base.NetworkDriver but use none of them.
    report = _probe("""
import json, sys
import netchange.drivers.ios_cli, netchange.drivers.nftables
before = sorted(m for m in ("napalm.eos", "napalm.junos", "napalm.iosxr", "jnpr.junos", "pyeapi") if m in sys.modules)
base = "napalm.base.base" in sys.modules
from napalm import get_network_driver, SUPPORTED_DRIVERS   # the body runs here, once
after = sorted(m for m in ("napalm.eos", "napalm.junos") if m in sys.modules)
from netchange.drivers.contract import driver_class
print(json.dumps({"before": before, "base": base, "after": after, "supported": "ios" in SUPPORTED_DRIVERS,
                  "mock": driver_class("mock").__name__, "eos": get_network_driver("eos").__name__}))
""")
    assert report["base"] and report["before"] == []
    assert report["after"] == ["napalm.eos", "napalm.junos"] and report["supported"]
    assert report["mock"] == "MockDriver" and report["eos"] == "EOSDriver"


def test_napalms_package_body_runs_once_when_threads_look_up_drivers_together() -> None:
    # The body's eager imports guard get_network_driver against an import deadlock between threads:
    # deferred, it still runs once, under a lock, before any of them looks a driver up.
    report = _probe("""
import json, sys, threading
import netchange.drivers.base
from netchange.drivers.contract import driver_class
names, errors = ["eos", "junos", "ios", "nxos_ssh", "iosxr", "mock"] * 3, []
found = {}
def look(name):
    try:
        found[name] = driver_class(name).__name__
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=look, args=(n,)) for n in names]
for t in threads: t.start()
for t in threads: t.join(30)
print(json.dumps({"errors": errors, "found": sorted(found), "alive": sum(t.is_alive() for t in threads)}))
""")
    assert report == {"errors": [], "found": sorted({"eos", "junos", "ios", "nxos_ssh", "iosxr", "mock"}), "alive": 0}


def test_the_inventory_loads_the_plugins_its_configuration_names_and_no_other(tmp_path: Path) -> None:
    # Nornir's load_inventory imports every installed inventory plugin (nornir_netbox, nornir_nautobot:
    # requests, pynautobot) before reading a SimpleInventory; netchange loads the one named.
    (tmp_path / "hosts.yaml").write_text(
        "sw1: {hostname: 127.0.0.1, platform: ios_cli, data: {role: switch, site: doif}}\n")
    (tmp_path / "nornir.yaml").write_text(yaml.safe_dump({"inventory": {
        "plugin": "SimpleInventory", "options": {"host_file": str(tmp_path / "hosts.yaml")},
        "transform_function": "netchange_credentials"}}))
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"inventory": {"plugin": "NoSuchInventory"}}))
    report = _probe(f"""
import json, sys
from pathlib import Path
from netchange.errors import BadRequest
from netchange.inventory._nornir import load_inventory
hosts = list(load_inventory(Path({str(tmp_path / "nornir.yaml")!r}),
                            secrets=Path({str(tmp_path / "none.yaml")!r})).hosts)
try:
    load_inventory(Path({str(tmp_path / "bad.yaml")!r}))
    refused = None
except BadRequest as exc:
    refused = str(exc)
print(json.dumps({{"hosts": hosts, "refused": refused,
                   "loaded": sorted(m for m in ("nornir_netbox", "nornir_nautobot", "pynautobot", "requests")
                                    if m in sys.modules)}}))
""")
    assert report["hosts"] == ["sw1"] and report["loaded"] == []
    assert report["refused"] is not None and "'NoSuchInventory' is not installed" in report["refused"]
    assert "NetBoxInventory2" in report["refused"] and "\n" not in report["refused"]
