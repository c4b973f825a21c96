"""netchange installs no generic top-level name, and a change type from another distribution renders
with its own templates (issue 12, item 6).

The folders ``tasks/``, ``classifiers/``, ``rollback/`` and ``lab/`` stay at the repository's top level
but install as ``netchange.tasks`` & co. (``package-dir`` in pyproject.toml). Each check runs in a
subprocess whose working directory is outside the repository, so the repository root is not on
``sys.path`` and only what the venv installed is importable.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GENERIC = ("tasks", "classifiers", "rollback", "lab", "bench")


def _python(code: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "NETCHANGE_HOME": str(cwd / "home")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=60)


@pytest.mark.parametrize("name", GENERIC)
def test_no_generic_top_level_name_is_installed(tmp_path: Path, name: str) -> None:
    done = _python(f"import {name}", tmp_path)
    assert done.returncode == 1
    assert f"No module named {name!r}" in done.stderr


def test_the_folders_install_under_netchange_with_their_data(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        from importlib.resources import files
        import netchange.tasks.vlan, netchange.classifiers, netchange.rollback.runner, netchange.lab.keys
        assert (files("netchange.tasks") / "templates" / "vlan" / "ios.j2").is_file()
        assert (files("netchange.tasks") / "templates" / "access_port" / "ios_interfaces.ttp").is_file()
        assert (files("netchange.classifiers") / "rules" / "ruleset.yaml").is_file()
        assert (files("netchange.lab") / "yang" / "netchange-vlans.yang").is_file()
        from netchange.changetype._contract import get_change_type
        print(type(get_change_type("vlan")).__module__)
    """)
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "netchange.tasks.vlan"


_FOREIGN_MODULE = '''
from typing import ClassVar

from netchange.changetype._contract import ChangeType
from netchange.authoring import DeviceText, Perimeter, Role, StrictModel


class BannerParams(StrictModel):
    text: DeviceText


class Banner(ChangeType[BannerParams]):
    name = "acme_banner"
    perimeter = Perimeter.NETWORK
    roles: ClassVar[frozenset[Role]] = frozenset({Role.SWITCH})
    syntaxes: ClassVar[frozenset[str]] = frozenset({"ios"})
    Params = BannerParams
'''

_RENDER_BOTH = textwrap.dedent("""
    from netchange.changetype._contract import Context, get_change_type
    from netchange.vocabulary import Role

    def render(name, params):
        ct = get_change_type(name)
        ctx = Context(host="sw1", platform="ios", syntax="ios", role=Role.SWITCH, site="doif", data={},
                      params=ct.validate(params), driver=None, running="")
        return ct.render(ctx)

    print(render("acme_banner", {"text": "hello"}), end="")
    print(render("vlan", {"vlan_id": 42, "name": "users"}), end="")
""")


def test_a_change_type_from_another_distribution_renders_with_its_own_templates(tmp_path: Path) -> None:
    site = tmp_path / "site"
    package = site / "acme_changes"
    (package / "templates" / "acme_banner").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "banner.py").write_text(_FOREIGN_MODULE, encoding="utf-8")
    (package / "templates" / "acme_banner" / "ios.j2").write_text(
        "banner motd ^{{ p.text }} from {{ host.host }}^\n", encoding="utf-8")
    dist = site / "acme_changes-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-changes\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[netchange.change_types]\nacme_banner = acme_changes.banner:Banner\n", encoding="utf-8")
    run = tmp_path / "elsewhere"
    run.mkdir()

    done = _python(_RENDER_BOTH, run, pythonpath=site)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "banner motd ^hello from sw1^"  # acme_changes/templates, not netchange's
    assert "vlan 42" in lines[1:]  # the built-in type still finds its own templates beside it
    assert " name users" in lines[1:]


def test_without_its_templates_the_foreign_type_does_not_borrow_netchanges(tmp_path: Path) -> None:
    """Named like a built-in template folder, a foreign type without templates fails: no shared path."""
    site = tmp_path / "site"
    package = site / "acme_changes"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "banner.py").write_text(_FOREIGN_MODULE.replace('"acme_banner"', '"vlan_copy"'), encoding="utf-8")
    code = textwrap.dedent("""
        import jinja2
        from netchange.changetype._contract import CHANGE_TYPES, Context, get_change_type
        from netchange.vocabulary import Role
        from acme_changes.banner import Banner
        Banner.name = "vlan"  # the folder name netchange.tasks has: it must not be found there
        ct = Banner()
        ctx = Context(host="sw1", platform="ios", syntax="ios", role=Role.SWITCH, site="doif", data={},
                      params=ct.validate({"text": "x"}), driver=None, running="")
        try:
            ct.render(ctx)
        except jinja2.TemplateNotFound as exc:
            print("not found", exc)
    """)
    done = _python(code, tmp_path, pythonpath=site)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("not found vlan/ios.j2")
