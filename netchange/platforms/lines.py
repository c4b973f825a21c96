"""Which configuration lines may be sent: the refused commands and the ``config_snippet`` allow-list.

Why an allow-list for snippets, on top of the refused commands: a snippet is sent as typed, and a
CLI accepts far more than configuration. IOS takes any unambiguous prefix of each word, in any
case (``wr er``, ``DO reload``, ``conf rep``), and leaves configuration mode on ``end`` or on
``exit`` at the top level, after which every following line is an exec command; ASA runs exec
commands (``write erase``, ``reload``, ``clear configure all``) straight from configuration mode;
nft runs a second command after ``;``. A block list has to foresee every such word and every
abbreviation of it; an allow-list only has to know the configuration statements a snippet is for.
So a snippet's top-level line must start with a keyword of the platform's profile, spelt in full
and in lower case as the device prints it in its configuration (which the diff, the classifier
and the rollback compare against anyway: ``int Gi0/1`` would never match ``interface
GigabitEthernet0/1``), and no line at any depth may type a refused command on any abbreviation.
The refused list alone guards every candidate a driver loads (``drivers/cli.check_candidate``).
"""

from __future__ import annotations

from collections.abc import Iterable

from netchange.platforms import CommandRules, PlatformProfile, profiles_for_syntax

_NEGATIONS = ("no", "default")


def refused_command(line: str, refused: Iterable[str]) -> str | None:
    """The refused command that ``line`` types, or ``None``.

    Each word of the line may be any prefix of the refused command's word, in any case, as an
    IOS-style parser accepts it (``wr er`` is ``write erase``, ``DO`` is ``do``, ``e`` could be
    ``end`` or ``exit``): a superset of what the device would run, so nothing it runs is missed.
    A leading ``no``/``default`` (or a prefix of it) is looked through.
    """
    words = [w.lower() for w in line.split()]
    candidates = [words]
    if len(words) > 1 and any(n.startswith(words[0]) for n in _NEGATIONS):
        candidates.append(words[1:])
    for command in refused:
        parts = command.lower().split()
        for typed in candidates:
            if len(typed) >= len(parts) and all(p.startswith(w) for p, w in zip(parts, typed, strict=False)):
                return command
    return None


def split_commands(line: str, separator: str) -> list[str]:
    """The commands on one line, split at ``separator`` outside quotes and braces; a ``#`` outside
    quotes starts a comment. Raises ``ValueError`` if quotes or braces are left open."""
    commands: list[str] = []
    current: list[str] = []
    depth = 0
    quote = ""
    for char in line:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise ValueError("a '}' closes nothing")
        elif char == separator and depth == 0:
            commands.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote or depth:
        raise ValueError("a quote or a brace is left open: one complete command per line")
    commands.append("".join(current))
    return [c.strip() for c in commands if c.strip()]


def check_snippet_line(line: str, profiles: Iterable[PlatformProfile]) -> None:
    """Refuse a ``config_snippet`` line that the profiles of its syntax do not allow (``ValueError``)."""
    profiles = tuple(profiles)
    if not profiles:
        raise ValueError("no platform profile for this syntax: snippets are refused")
    refused = [c for p in profiles for c in (*p.commands.refused, *p.commands.snippet_refused)]
    separators = {p.commands.separator for p in profiles if p.commands.separator}
    commands = [line]
    for separator in separators:
        commands = [c for part in commands for c in split_commands(part, separator)]
    if len(commands) > 1:
        raise ValueError(f"{line.strip()!r}: one command per line ({len(commands)} found)")
    for command in commands:
        hit = refused_command(command, refused)
        if hit is not None:
            raise ValueError(f"{command.strip()!r} is refused: it types {hit!r} (a mode change, an exec "
                             "command or an action, not configuration)")
        nested = any(p.commands.nested_by_indentation for p in profiles) and line[:1].isspace()
        if nested:
            continue  # a section's line: its parent passed the allow-list
        words = command.split()
        keyword = words[1] if len(words) > 1 and words[0] == "no" else words[0]
        for profile in profiles:
            if keyword not in profile.commands.snippet_keywords:
                raise ValueError(
                    f"{command.strip()!r}: {keyword!r} is not a configuration keyword that config_snippet "
                    f"allows for {profile.syntax} (spelt in full, lower case; allowed: "
                    f"{', '.join(profile.commands.snippet_keywords)}; see netchange/platforms/{profile.name}.yaml)")


def check_snippet(syntax: str, lines: Iterable[str]) -> None:
    """Every line of a ``config_snippet`` in ``syntax``, or ``ValueError`` naming the first bad one."""
    # The profiles that say something about commands (a NAPALM platform's profile may not).
    profiles = tuple(p for p in profiles_for_syntax(syntax) if p.commands != CommandRules())
    for index, line in enumerate(lines):
        try:
            check_snippet_line(line, profiles)
        except ValueError as exc:
            raise ValueError(f"line {index + 1}: {exc}") from None
