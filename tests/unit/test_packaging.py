"""What the distribution installs is declared once, in pyproject.toml, and declared whole.

``[tool.setuptools] packages`` lists the Python packages (netchange's own folders, and the
top-level tasks/, classifiers/, rollback/, lab/ mapped under netchange by ``package-dir``); the
data files are the ``package-data`` globs, and only those (``include-package-data = false``). So a
new package, or a template, profile, rules file or stylesheet no glob matches, would be missing from
a wheel: these tests read the source tree and say which. (Building a wheel takes a build
environment; ``pip wheel . --no-deps`` gives the same list.)
"""

from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS["package-dir"]


def _source(package: str) -> PurePosixPath:
    """The folder of ``package`` in the repository (through the longest package-dir mapping)."""
    for name in sorted(PACKAGE_DIR, key=len, reverse=True):
        if package == name or package.startswith(name + "."):
            rest = package.removeprefix(name).lstrip(".")
            return PurePosixPath(PACKAGE_DIR[name], *rest.split(".")) if rest else PurePosixPath(PACKAGE_DIR[name])
    return PurePosixPath(*package.split("."))


def _tracked(folder: PurePosixPath) -> list[PurePosixPath]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", str(folder)],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [PurePosixPath(name) for name in listed]


def _packages_on_disk() -> set[str]:
    roots = {"netchange": PurePosixPath("netchange")}
    roots |= {name: PurePosixPath(path) for name, path in PACKAGE_DIR.items()}
    found = set()
    for name, root in roots.items():
        for path in _tracked(root):
            if path.name == "__init__.py":
                rest = path.parent.relative_to(root).parts
                found.add(".".join((name, *rest)))
    return found


def test_the_package_list_is_every_python_package_of_the_tree() -> None:
    declared = SETUPTOOLS["packages"]
    assert len(declared) == len(set(declared))
    assert set(declared) == _packages_on_disk()
    assert SETUPTOOLS.get("include-package-data") is False


def _matches(relative: PurePosixPath, pattern: str) -> bool:
    """setuptools' glob: ``*`` stays within one folder."""
    parts = PurePosixPath(pattern).parts
    return len(parts) == len(relative.parts) and all(map(fnmatch.fnmatchcase, relative.parts, parts))


def test_every_data_file_of_a_package_is_in_the_package_data() -> None:
    data: dict[str, list[str]] = SETUPTOOLS["package-data"]
    packages = SETUPTOOLS["packages"]
    missing = []
    for path in {p for package in packages for p in _tracked(_source(package)) if p.suffix != ".py"}:
        # A glob of any package above the file ships it (netchange's own reach into plan/templates/...).
        owners = [p for p in packages if path.is_relative_to(_source(p))]
        if not any(_matches(path.relative_to(_source(owner)), pattern)
                   for owner in owners for pattern in (*data.get(owner, ()), *data.get("*", ()))):
            missing.append(str(path))
    assert not missing, f"files no package-data glob ships: {sorted(missing)}"
