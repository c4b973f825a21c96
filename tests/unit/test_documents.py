"""Every document a manager opens shows device and requester text as text, never as markup.

Attack: a device (or whoever can put a line in its configuration or its error messages) puts
``<script>`` / ``<img onerror>`` into a diff line, an error or a reason; a stored plan's title is
edited. The HTML must carry them escaped, and the Markdown, once rendered by a CommonMark viewer
(markdown-it, as GitHub/GitLab-style viewers do, raw HTML enabled), must not produce a tag either.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from netchange import redact
from netchange.plan import render_document
from netchange.report.render import css_string, md_code, md_fence, md_text
from tests.conftest import CliResult
from tests.mockdev import SHOW_VLAN_BRIEF, SWITCH_RUNNING, MockDevice, write_inventory

Cli = Callable[..., CliResult]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
DIFF = f"+vlan 20\n+ name servers\n+{SCRIPT}\n```\n{IMG}\n+banner motd `{SCRIPT}`\n"
SECRET = "p<ss&w0rd!"


class _Tags(HTMLParser):
    """Every start tag and event-handler attribute a browser would build from the document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [f"{tag}.{name}" for name, _ in attrs if name.startswith("on")]


def live(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def assert_inert(html: str) -> None:
    found = live(html)
    assert "script" not in found.tags, "a <script> from the data became a tag"
    assert "img" not in found.tags, "an <img> from the data became a tag"
    assert not found.handlers, found.handlers


@pytest.fixture
def hostile(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    devs = [
        MockDevice("sw1", SWITCH_RUNNING, diff=DIFF, cli={"show vlan brief": SHOW_VLAN_BRIEF}),
        MockDevice("sw2", SWITCH_RUNNING, cli={"show vlan brief": SHOW_VLAN_BRIEF}, site="doso",
                   fail={"load_merge_candidate": {"exception": "napalm.base.exceptions.MergeConfigException",
                                                  "args": [f"{IMG} rejected, password {SECRET}"]}}),
    ]
    monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(write_inventory(workspace / "mock", devs)))
    change = workspace / "chg.yaml"
    change.write_text(yaml.safe_dump({
        "id": "CHG-2026-0042", "title": "New VLAN for servers", "ticket": "INC0042", "requester": "amoreau",
        "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"role": "switch"}, "params": {"vlan_id": 20, "name": "servers"}}],
    }))
    redact.register(SECRET)
    return workspace


def _plan_document(cli: Cli, root: Path, suffix: str) -> str:
    out = root / f"plan.{suffix}"
    result = cli("plan", str(root / "chg.yaml"), "--output", str(out), actor="dnguyen")
    assert result.code in (0, 1), result.err  # sw2's error blocks the plan (exit 1), the document is written
    return out.read_text()


def test_html_plan_escapes_diff_errors_and_reasons(hostile: Path, cli: Cli) -> None:
    html = _plan_document(cli, hostile, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the diff line, shown as text
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # the device's error, shown as text
    assert SCRIPT not in html and IMG not in html
    assert_inert(html)
    # The secret inside the error was scrubbed before escaping (escaped, it no longer matched).
    assert "p&lt;ss&amp;w0rd!" not in html and SECRET not in html
    assert "+vlan 20" in html  # ordinary lines are untouched


def test_markdown_plan_renders_no_html(hostile: Path, cli: Cli) -> None:
    md = _plan_document(cli, hostile, "md")
    rendered = MarkdownIt("commonmark").render(md)  # html=True in this preset: raw HTML passes
    assert_inert(rendered)
    # The diff is still shown verbatim, inside a code block the stray ``` line cannot close.
    assert f"+{SCRIPT}" in rendered.replace("&lt;", "<").replace("&gt;", ">")
    assert "+vlan 20" in rendered
    assert "p&lt;ss" not in md and SECRET not in md


def test_a_tampered_title_is_text_in_both_formats(hostile: Path, cli: Cli) -> None:
    from netchange.config import Settings
    from netchange.journal import Journal
    from netchange.plan import store as planstore

    _plan_document(cli, hostile, "html")
    settings = Settings.resolve()
    with Journal(settings.journal) as journal:
        plan = planstore.current(settings.plans_dir, journal, "CHG-2026-0042")
    # model_copy skips validation: what an edited plan file or a future field would carry.
    evil = plan.model_copy(update={"change": plan.change.model_copy(update={"title": f"{SCRIPT} {IMG}",
                                                                            "requester": "*x* [a](javascript:1)"})})
    html = render_document(evil, "html", client='Acme"; } body { x: url(//evil) } </style><script>')
    assert_inert(html)
    assert "&lt;script&gt;" in html
    assert "</style><script>" not in html
    md = render_document(evil, "md", client="Acme <b>")
    rendered = MarkdownIt("commonmark").render(md)
    assert_inert(rendered)
    assert "<a " not in rendered and "<em>" not in rendered and "<b>" not in rendered


@pytest.mark.parametrize("value", ["<script>x</script>", "a & b", "# heading", "- item", "1. item", "*em* _u_",
                                   "[l](javascript:x)", "a | b", "line\nbreak <i>", "`code` ``", "snmp_server"])
def test_md_text_is_inert_inline_text(value: str) -> None:
    rendered = MarkdownIt("commonmark").render(f"text {md_text(value)}\n\n{md_text(value)}\n")
    assert_inert(rendered)
    for tag in ("<h1>", "<ul>", "<ol>", "<em>", "<strong>", "<a ", "<code>", "<i>", "<br"):
        assert tag not in rendered, (value, rendered)
    # Shown as the same characters a person typed (entities decoded), newlines as spaces.
    shown = rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    assert value.replace("\n", " ") in shown


def test_code_spans_and_fences_cannot_be_closed_from_inside() -> None:
    text = "x ``` y\n````\n<script>z</script>\n"
    rendered = MarkdownIt("commonmark").render(f"{md_fence(text, 'diff')}\n\nafter {md_code('a `` b <i>')}\n")
    assert_inert(rendered)
    assert rendered.count("<pre>") == 1 and "<i>" not in rendered
    assert "&lt;script&gt;z" in rendered


def test_css_string_cannot_leave_the_string_or_the_style_element() -> None:
    out = str(css_string('a"; } </style><script>'))
    assert all(ch.isalnum() or ch in " \\" for ch in out)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed")
def test_chromium_runs_no_script_from_the_plan(hostile: Path, cli: Cli, tmp_path: Path) -> None:
    html = _plan_document(cli, hostile, "html")
    page = tmp_path / "page.html"
    page.write_text(html)
    dom = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "<script>" not in dom and "<img" not in dom
