"""The fail points of the source, found by reading it (never a list kept by hand).

Every call to :func:`netchange.failpoints.fail_point` under ``netchange/``, ``rollback/`` and
``tasks/`` is a registered point: its first argument must be a literal name, used once. The
crash-matrix test (``tests/integration/test_crash_matrix.py``) arms each one in turn; the unit test
(``tests/unit/test_failpoints.py``) keeps the calls literal and unique.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("netchange", "rollback", "tasks")
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""``stage.step``: what a point's name looks like (the stage first: apply, restore, recover...)."""


@dataclass(frozen=True)
class Point:
    name: str
    """The literal name; ``""`` when the call's first argument is not a literal string."""
    per_host: bool
    """The call passes ``host=``: the point may be armed for one host (``NAME@HOST``)."""
    where: str
    """``path:line`` of the call."""

    @property
    def stage(self) -> str:
        return self.name.split(".", 1)[0]


def _is_fail_point(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "fail_point") or (
        isinstance(func, ast.Attribute) and func.attr == "fail_point")


def calls(root: Path = REPO) -> list[Point]:
    """Every call to ``fail_point`` in the sources, in file and line order."""
    found: list[Point] = []
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and _is_fail_point(node)):
                    continue
                first = node.args[0] if node.args else None
                literal = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
                found.append(Point(name=literal, per_host=any(k.arg == "host" for k in node.keywords),
                                   where=f"{path.relative_to(root)}:{node.lineno}"))
    return sorted(found, key=lambda p: (p.where.split(":")[0], int(p.where.split(":")[1])))


def problems(points: list[Point]) -> list[str]:
    """What makes the calls unusable by the matrix: a name not literal, malformed, or used twice."""
    out = [f"{p.where}: fail_point's name is not a literal string" for p in points if not p.name]
    out += [f"{p.where}: {p.name!r} is not 'stage.step'" for p in points if p.name and not NAME.match(p.name)]
    seen: dict[str, str] = {}
    for p in points:
        if p.name and p.name in seen:
            out.append(f"{p.where}: {p.name!r} already called at {seen[p.name]}")
        seen.setdefault(p.name, p.where)
    return out


def registered(root: Path = REPO) -> list[Point]:
    """The registered points (literal, unique), in source order; raise if any call is unusable."""
    points = calls(root)
    bad = problems(points)
    if bad:
        raise AssertionError("fail points unusable by the crash matrix:\n" + "\n".join(bad))
    return points
