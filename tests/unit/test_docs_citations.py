"""The documents the code cites are in the repository, and the quotes from the quality plan are in it.

Code, rules files, the policy and the docs cite ``docs/...`` pages (the design, the quality plan,
the lab notes, the guides): every such path must exist, so that a citation leads somewhere. The
classifier's ``paq_items`` quote the quality plan's list items: each must be found in
``docs/quality-plan.md`` (the guard's citations are checked in ``test_guard.py``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

# Where citations live: the project's own text, not the generated schemas.
CITING = re.compile(r"\.(py|ya?ml|md|toml|j2|html|cfg|txt)$|(^|/)(Makefile|run)$")
DOCS_PATH = re.compile(r"docs/[A-Za-z0-9_./-]*[A-Za-z0-9_/-]")
# ``docs/schemas/NAME.json``: a placeholder for any published schema, not a file.
PLACEHOLDER = re.compile(r"[A-Z]{2,}")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _repository_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    return [REPO / name for name in listed
            if CITING.search(name) and not name.startswith("docs/schemas/") and (REPO / name).is_file()]


def _cited_docs() -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for path in _repository_files():
        for match in DOCS_PATH.findall(path.read_text(encoding="utf-8", errors="replace")):
            if not PLACEHOLDER.search(match.removeprefix("docs/")):
                cited.setdefault(match.rstrip("/."), set()).add(str(path.relative_to(REPO)))
    return cited


def test_the_design_the_quality_plan_and_the_lab_notes_are_in_the_repository() -> None:
    cited = _cited_docs()
    for page in ("docs/design.md", "docs/quality-plan.md", "docs/lab-notes.md"):
        assert (REPO / page).is_file(), page
        assert page in cited, f"{page} is cited nowhere"


def test_every_cited_docs_path_exists() -> None:
    cited = _cited_docs()
    assert len(cited) > 5  # the scan found the citations
    missing = {path: sorted(where) for path, where in cited.items() if not (REPO / path).exists()}
    assert not missing, missing


def test_no_citation_of_the_documents_outside_the_repository() -> None:
    old = re.compile(r"\b(DESIGN\.md|LAB-NOTES|PAQ\.md)\b")
    found = [f"{path.relative_to(REPO)}:{n}" for path in _repository_files()
             if path.name != Path(__file__).name
             for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
             if old.search(line)]
    assert not found, found


def test_relative_links_of_the_readme_and_the_docs_resolve() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in MD_LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, broken


def _flat(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def _without_asides(text: str) -> str:
    return _flat(re.sub(r"\([^)]*\)", "", text))


def test_every_quoted_item_of_the_rule_set_is_in_the_quality_plan() -> None:
    plan = (REPO / "docs" / "quality-plan.md").read_text(encoding="utf-8")
    items = yaml.safe_load((REPO / "classifiers" / "rules" / "ruleset.yaml").read_text(encoding="utf-8"))["paq_items"]
    prefix = re.compile(r"^(?:(?:minor|medium|major)/\w+|general definition): (?:(?:minor|medium|major) — )?")
    missing = []
    for item in items:
        quote = prefix.sub("", item)
        # "(< 15 min)" quotes "(< 15 min, e.g. a reboot)": an aside may be shortened, not the item.
        if _flat(quote) not in _flat(plan) and _without_asides(quote) not in _without_asides(plan):
            missing.append(item)
    assert not missing, missing
