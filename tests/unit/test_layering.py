"""The import layering holds: ``lint-imports`` with the contracts of pyproject.toml exits 0.

The front ends (cli, service) sit over the pipeline, over the stages, over the journal, over the
vocabulary (models, errors); no stage imports a front end; a stage's ``_`` modules stay inside it.
``make lint`` runs the same check; this test makes ``make test`` enforce it too.

lint-imports reads the package from the disk, and the editable install maps ``netchange.tasks`` &
co. from top-level folders (``package-dir``), which it cannot follow: so it runs from a tree of
symlinks laid out here as the package is installed (netchange/ with tasks/, classifiers/... inside),
from the mapping pyproject.toml declares.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "pyproject.toml"


def _installed_view(root: Path) -> Path:
    """``root/netchange`` laid out as installed: every entry of netchange/, and each package-dir folder."""
    mapping: dict[str, str] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]
    package = root / "netchange"
    package.mkdir()
    for entry in (REPO / "netchange").iterdir():
        (package / entry.name).symlink_to(entry)
    for name, folder in mapping.items():
        if name.startswith("netchange."):
            (package / name.removeprefix("netchange.")).symlink_to(REPO / folder)
    return root


def test_the_import_contracts_are_kept(tmp_path: Path) -> None:
    view = _installed_view(tmp_path)
    assert (view / "netchange" / "tasks" / "vlan.py").is_file()  # the mapped folders are in the view
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache", str(PYPROJECT)], cwd=view,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
    # The contracts ran over the whole package, the mapped folders included.
    analyzed = re.search(r"Analyzed (\d+) files", result.stdout)
    assert analyzed, result.stdout[-2000:]
    modules = [name for _, _, names in os.walk(view / "netchange", followlinks=True) for name in names
               if name.endswith(".py")]
    assert int(analyzed.group(1)) == len(modules)


def test_nothing_imports_the_repositorys_folders_under_their_own_names() -> None:
    """tasks/, classifiers/, rollback/ and lab/ are installed as netchange.tasks and so on. Imported
    as ``tasks.x`` (the repository root is on sys.path in tests), a module is a second copy: its
    change types register twice, and pydantic, which finds a class's source by its module, drops
    the installed models' attribute docstrings (docs/change-request-format.md went stale in a
    full run after the crash matrix's forkserver imported ``tasks.prefix_list``)."""
    import re

    root = Path(__file__).resolve().parents[2]
    folders = "tasks|classifiers|rollback|lab"
    wrong = re.compile(rf"^\s*(from|import)\s+({folders})(\.|\s)|import_module\(f?[\"']({folders})\.", re.M)
    found = [f"{path.relative_to(root)}: {m.group(0).strip()}"
             for base in ("tests", "bench", "netchange", "tasks", "classifiers", "rollback", "lab")
             for path in sorted((root / base).rglob("*.py"))
             for m in wrong.finditer(path.read_text(encoding="utf-8"))]
    assert not found, found
