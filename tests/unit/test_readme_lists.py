"""The README's lists are the registries': change types, roles, driver platforms, commands.

The README names every change type, every role, every platform with a driver of netchange's own and
every command; they are written by hand, so this test reads them back and compares them with what
the code registers (the change types' and drivers' entry points of netchange's own distribution, the
``Role`` enum, the command line's commands). A count written in words ("five roles") must be the
count too, in the README and in docs/design.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

from netchange.changetype import CHANGE_TYPES
from netchange.drivers import DRIVERS
from netchange.vocabulary import Role

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _names(text: str) -> list[str]:
    return re.findall(r"`([a-z_]+)`", text)


def _sentence_after(label: str) -> str:
    """From ``label`` to the end of its sentence (a full stop before white space)."""
    match = re.search(re.escape(label) + r"(.*?)\.\s", README, re.DOTALL)
    assert match, f"the README has no {label!r} sentence"
    return match.group(1)


def _own(registry_names: list[str], origin: Callable[[str], str]) -> set[str]:
    """The names netchange's own distribution registers (not a plugin installed beside it)."""
    own = f"netchange-{version('netchange')}"
    return {name for name in registry_names if origin(name) == own}


def test_the_readme_lists_every_change_type() -> None:
    listed = _names(_sentence_after("Change types (`netchange types` lists them").split(":", 1)[1])
    assert len(listed) == len(set(listed)), listed
    assert set(listed) == _own(CHANGE_TYPES.names(), CHANGE_TYPES.origin)


def test_the_readme_lists_every_driver_platform() -> None:
    listed = _names(_sentence_after("netchange's own\ndrivers (entry points `netchange.drivers`) are"))
    assert len(listed) == len(set(listed)), listed
    assert set(listed) == _own(DRIVERS.names(), DRIVERS.origin)


def test_the_readme_lists_every_role() -> None:
    match = re.search(r"(\w+) roles\s*\(([^)]*)\)", README)
    assert match, "the README lists no roles"
    listed = _names(match.group(2))
    assert listed == [role.value for role in Role]
    assert NUMBERS[match.group(1)] == len(Role)


@pytest.mark.parametrize("page", ["README.md", "docs/design.md"])
def test_every_count_of_roles_in_words_is_the_number_of_roles(page: str) -> None:
    text = (REPO / page).read_text(encoding="utf-8")
    counts = re.findall(r"\b(" + "|".join(NUMBERS) + r") roles\b", text)
    assert counts, f"{page} names no count of roles"
    assert {NUMBERS[word] for word in counts} == {len(Role)}, counts


def _documented_commands() -> set[tuple[str, ...]]:
    """``netchange lab up | down | status`` in the README's Commands block: (lab, up), (lab, down)...
    A command's first words in lower case; its arguments (upper case) and options end it."""
    block = README.split("## Commands", 1)[1].split("```", 2)[1]
    paths: set[tuple[str, ...]] = set()
    for match in re.finditer(r"netchange ([a-z][a-z-]*)((?: (?:\| )?[a-z][a-z-]*)*)", block):
        head, rest = match.group(1), match.group(2).replace("|", " ").split()
        paths.add((head,))
        paths.update((head, word) for word in rest)
    return paths


def test_the_readme_lists_every_command() -> None:
    import typer.main

    from netchange.cli import main

    main._mount()
    root = typer.main.get_command(main.app)
    documented = _documented_commands()
    missing = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        paths = [(name, sub) for sub in subcommands] if subcommands else [(name,)]
        missing += [" ".join(path) for path in paths if path not in documented]
    assert not missing, f"commands the README's Commands block does not show: {missing}"
