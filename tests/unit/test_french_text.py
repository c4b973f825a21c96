"""Text for people is text (issue 22 item 7, finding 8): a change request written in French plans,
and its words reach every reader as written, escaped for each medium.

Titles, descriptions, comments and reasons are never typed on a device: "Ajout du VLAN
d'impression", "Délai" or "Delete unused VLAN 99" were refused (exit 2) by the device-safe
character set and its ban on words such as no, do, delete. Here they plan offline against the
repository's inventory and a backup (no device), are approved with a French comment, and print
literally in the terminal (a ``[`` is not Rich markup), in the plan documents and the tracking
sheet (HTML autoescaped, Markdown made inert).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import CliResult
from tests.unit.test_offline_plan import ACCESS, backups, no_network, repo_inventory  # noqa: F401 - fixtures

Cli = Callable[..., CliResult]

TITLE = "Ajout du VLAN d'impression — « Délai » [urgent] [/] ?"
DESCRIPTION = ("Remplacer l’imprimante du 2ᵉ étage.\n"
               "Delete unused VLAN 99 ; no shutdown sur le port — ça ne part jamais sur l'équipement.\n"
               "<b>gras</b> & *emphase*")


def french_request(path: Path, **steps: object) -> Path:
    path.write_text(yaml.safe_dump({
        "id": "CHG-2026-0950", "title": TITLE, "description": DESCRIPTION, "ticket": "INC-950",
        "requester": "amoreau", "estimated_duration": "PT15M",
        "steps": [{"type": "access_port", "targets": {"hosts": [ACCESS]},
                   "params": {"interfaces": ["FastEthernet0/12"], "description": "Imprimante etage 2",
                              "access_vlan": 20, "enabled": True}}],
        **steps,
    }, allow_unicode=True), encoding="utf-8")
    return path


def test_a_french_change_request_plans_offline(repo_inventory: Path, backups: Path, cli: Cli,  # noqa: F811
                                               no_network: list[object]) -> None:  # noqa: F811
    change = french_request(repo_inventory / "fr.yaml")
    result = cli("plan", str(change), "--offline", str(backups), "--json")
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert plan["request"]["title"] == TITLE
    assert plan["request"]["description"] == DESCRIPTION
    assert plan["category"] == "minor"
    assert no_network == []


def test_the_terminal_prints_people_s_words_not_markup(repo_inventory: Path, backups: Path,  # noqa: F811
                                                       cli: Cli) -> None:
    change = french_request(repo_inventory / "fr.yaml")
    result = cli("plan", str(change), "--offline", str(backups))
    assert result.code == 0, result.err
    assert TITLE in " ".join(result.out.split())  # "[urgent]" and "[/]" as typed, not styles


def test_plan_documents_escape_the_words_for_their_format(repo_inventory: Path, backups: Path,  # noqa: F811
                                                          cli: Cli) -> None:
    change = french_request(repo_inventory / "fr.yaml")
    html, md = repo_inventory / "plan.html", repo_inventory / "plan.md"
    for output in (html, md):
        assert cli("plan", str(change), "--offline", str(backups), "--output", str(output)).code == 0
    page = html.read_text(encoding="utf-8")
    assert "Ajout du VLAN d&#39;impression — « Délai » [urgent] [/] ?" in page  # accents as written, ' escaped
    doc = md.read_text(encoding="utf-8")
    assert "Ajout du VLAN d'impression — « Délai » \\[urgent\\] \\[/\\] ?" in doc
    assert "<b>" not in doc
    # The description is part of what a reviewer reads: its lines as written, escaped for each format.
    assert '<p class="prose">Remplacer l’imprimante du 2ᵉ étage.\nDelete unused VLAN 99' in page
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; *emphase*" in page and "<b>gras" not in page
    assert "\nRemplacer l’imprimante du 2ᵉ étage.\n\nDelete unused VLAN 99 ; no shutdown" in doc
    assert "\n&lt;b&gt;gras&lt;/b&gt; &amp; \\*emphase\\*\n" in doc


def test_a_french_comment_reaches_the_tracking_sheet_escaped(two_switches: Path, cli: Cli) -> None:
    """Recorded, approved with a comment, shown by ``show``, ``list`` and the sheet (HTML, Markdown)."""
    change = two_switches / "chg.yaml"
    change.write_text(yaml.safe_dump({
        "id": "CHG-2026-0951", "title": TITLE, "description": DESCRIPTION, "ticket": "INC-951",
        "requester": "amoreau", "steps": [{"type": "vlan", "targets": {"role": "switch"},
                                           "params": {"vlan_id": 20, "name": "servers"}}]}, allow_unicode=True))
    assert cli("plan", str(change), actor="dnguyen").code == 0
    comment = "Validé — « OK » pour l’équipe [b]réseau[/b] <i>"
    approved = cli("approve", "CHG-2026-0951", "--comment", comment, actor="bleroy")
    assert approved.code == 0, approved.err
    shown = cli("show", "CHG-2026-0951", actor="dnguyen")
    assert shown.code == 0, shown.err
    flat = " ".join(shown.out.split())
    assert TITLE in flat and comment in flat
    listed = cli("list", actor="dnguyen")
    assert "[urgent]" in listed.out and "Délai" in listed.out
    html = cli("report", "CHG-2026-0951", "--format", "html", actor="dnguyen")
    assert html.code == 0, html.err
    assert "Ajout du VLAN d&#39;impression — « Délai » [urgent]" in html.out
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; *emphase*" in html.out and "<b>gras" not in html.out
    assert '<p class="prose">Remplacer l’imprimante du 2ᵉ étage.\nDelete unused VLAN 99' in html.out  # its lines
    assert "Validé — « OK » pour l’équipe [b]réseau[/b] &lt;i&gt;" in html.out
    md = cli("report", "CHG-2026-0951", "--format", "md", actor="dnguyen")
    assert "Validé — « OK » pour l’équipe \\[b\\]réseau\\[/b\\] &lt;i&gt;" in md.out
    assert "\nRemplacer l’imprimante du 2ᵉ étage.\n\nDelete unused VLAN 99 ; no shutdown" in md.out
    assert "\n&lt;b&gt;gras&lt;/b&gt; &amp; \\*emphase\\*\n" in md.out


def test_a_comment_with_a_control_character_is_refused(two_switches: Path, cli: Cli) -> None:
    change = two_switches / "chg.yaml"
    change.write_text(yaml.safe_dump({
        "id": "CHG-2026-0952", "title": "Délai", "ticket": "INC-952", "requester": "amoreau",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}]},
        allow_unicode=True))
    assert cli("plan", str(change), actor="dnguyen").code == 0
    refused = cli("approve", "CHG-2026-0952", "--comment", "ok\x1b]8;;http://x\x1b\\", actor="bleroy")
    assert refused.code == 2
    assert "the comment contains the control character U+001B" in refused.err
