"""Classifier rules from other distributions go through one registry (issue 12, item 5).

``netchange.classifiers.loader.RULE_PLUGINS`` loads each ``netchange.classifier_rules`` entry
point once and checks what it gives; a broken plugin is one line naming the entry point and its
distribution (exit 2 on the command line), and a test registers a rules directory instead of
building a distribution.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from netchange.classifiers import classify_diff, load_ruleset
from netchange.classifiers.loader import RULE_PLUGINS
from netchange.registry import PluginError
from netchange.vocabulary import Category, Role
from tests.unit.test_classifier_engine import _ACME, _install_plugin


def _broken_distribution(root: Path, module_text: str) -> None:
    pkg = root / "broken_rules"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(module_text)
    info = root / "broken_netchange-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-netchange\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[netchange.classifier_rules]\nbroken = broken_rules\n")


def test_a_plugin_that_cannot_be_imported_is_named_with_its_distribution(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "broken_rules", raising=False)
    _broken_distribution(tmp_path, "import no_such_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as info:
        load_ruleset()
    message = str(info.value)
    assert "classifier rules 'broken'" in message and "broken-netchange-0.3" in message
    assert "ModuleNotFoundError" in message and "\n" not in message
    assert info.value.exit_code == 2


def test_a_plugin_that_gives_no_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "broken_rules", raising=False)
    _broken_distribution(tmp_path, "")
    (tmp_path / "broken_netchange-0.3.dist-info" / "entry_points.txt").write_text(
        "[netchange.classifier_rules]\nbroken = broken_rules:NOWHERE\n")
    (tmp_path / "broken_rules" / "__init__.py").write_text("NOWHERE = '/nonexistent/rules'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match=r"/nonexistent/rules is not a directory"):
        load_ruleset()


def test_a_broken_plugin_is_one_line_and_exit_2_on_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from netchange.cli.main import main

    monkeypatch.delitem(sys.modules, "broken_rules", raising=False)
    _broken_distribution(tmp_path / "dist", "raise RuntimeError('half-installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path / "dist"))
    diff = tmp_path / "d.diff"
    diff.write_text("+vlan 20\n")
    with pytest.raises(SystemExit) as done:
        main(["classify", "--platform", "ios", "--role", "switch", "--diff", str(diff)])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "half-installed" in err and "broken-netchange-0.3" in err and "Traceback" not in err


def test_a_rules_directory_registered_in_code_is_used_and_survives_a_new_listing(tmp_path: Path) -> None:
    _install_plugin(tmp_path, _ACME)  # only its rules folder is used here: no sys.path change
    base = load_ruleset()
    with RULE_PLUGINS.registered("acme", tmp_path / "acme_rules"):
        extended = load_ruleset()
        assert extended.version.startswith(base.version + "+ext.")
        assert RULE_PLUGINS.origin("acme") == "registered"
        RULE_PLUGINS.refresh()  # the entry points listed again (a new sys.path): still there
        assert load_ruleset().version == extended.version
        verdict = classify_diff("+ip sla 10\n", platform="ios", role=Role.SWITCH, ruleset=extended)
        assert verdict.category is Category.MEDIUM
    assert load_ruleset().version == base.version
