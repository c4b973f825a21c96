"""IOS-style CLI devices over SSH: netmiko for the session, hier_config for diffs and rollbacks.

For devices where NAPALM's own drivers cannot change the configuration (no SCP, no archive, no
``configure replace``: the lab's fake-switches, older or stripped-down images). The lifecycle is
NAPALM's; what the device cannot do is computed on this side:

- the candidate is held here, never sent before ``commit_config``;
- ``compare_config`` predicts the running configuration after the commit with hier_config
  (``running.future(candidate)`` for a merge, the candidate itself for a replace) and shows the
  lines the commit types to get there, in the order it types them, as a diff in the device's
  own syntax with parent lines as context (:func:`remediation_diff`: what is sent is what is
  shown);
- ``commit_config`` sends hier_config's remediation (running → predicted) in config mode; a line
  the device rejects stops the commit, the lines already sent are undone (remediation back to
  the pre-commit configuration) and :class:`MergeRejected` (a ``MergeConfigException``) or
  :class:`ReplaceRejected` (a ``ReplaceConfigException``) is raised, as NAPALM's ``ios`` does;
- ``rollback`` sends the rollback lines of the last commit (shown before by ``rollback_preview``).

One reading of the running configuration serves the lifecycle calls that follow it
(``compare_config``, ``rollback_preview``, ``commit_config``) for ``running_reuse_seconds``
(optional argument, default 2 s; 0 turns it off) as long as this session sent nothing: a plan
reads the device once, not three times, and a commit uses the reading its compare just made. The
state checked (the engine's last ``get_config``, :meth:`NetchangeDriver.checked_state`) serves them
at any age, until a send, because ``commit_config`` reads the device again immediately before the
send and refuses unless it is still in that state (:attr:`commit_checks_state`) — unless that state
is the engine's own ``get_config`` made at most ``running_reuse_seconds`` before, with nothing sent
since: apply reads each host at its turn, under the device lock, and that one reading is the
snapshot, the drift check and the state the commit is computed from and checked against (issue 27
item 1: read, configure, read back; the window another hand has is from that reading to the
write, tens of milliseconds, measured as ``write_window_ms``). ``get_config`` and the checks
after a send always read the device; a save compares the startup with the session's last reading
when nothing was sent since (the read-back of the change), not with one more reading.

There is no commit-confirm timer on these devices: ``commit_config(revert_in=...)`` raises
``NotImplementedError`` and ``has_pending_commit`` is always ``False``; the engine rolls back
itself on a failed post-check.

Platform behaviour is data: the profiles ``netchange/platforms/ios_cli.yaml`` and ``asa_cli.yaml``
(:data:`IOS`, :data:`ASA`): netmiko device type, error strings, header lines, read-only command
prefixes, hier_config platform, the commands whose new value replaces the old one, the commands
never sent in a candidate, the multi-line constructs typed and removed whole (banners,
certificates, macros: :mod:`netchange.drivers.cli_blocks`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from hier_config import HConfig, Platform, WorkflowRemediation, get_hconfig, get_hconfig_driver
from hier_config.models import IdempotentCommandsAvoidRule, IdempotentCommandsRule, MatchRule, PerLineSubRule
from netmiko import ConnectHandler
from netmiko.exceptions import ConfigInvalidException

from netchange.drivers import cli_blocks
from netchange.drivers.base import DriverOptions, NetchangeDriver, NoCommitConfirm, check_read_only
from netchange.drivers.cli_order import in_reference_order
from netchange.drivers.diffformat import hier_diff, typed_diff
from netchange.drivers.errors import (
    CommitRefused,
    MergeRejected,
    OpenFailed,
    ReplaceRejected,
    SessionClosed,
    session_lost,
)
from netchange.platforms import CliOptions, LineMatch, PlatformProfile, ProfileError, SaveSteps, load_profile
from netchange.platforms.lines import refused_command

Mode = Literal["merge", "replace"]


IOS = load_profile("ios_cli")
ASA = load_profile("asa_cli")


def _cli(platform: PlatformProfile) -> CliOptions:
    if platform.cli is None:
        raise ProfileError(f"{platform.name}: its profile has no cli options (netmiko device type, error strings)")
    return platform.cli


def _match_rules(lineage: tuple[LineMatch, ...]) -> tuple[MatchRule, ...]:
    return tuple(MatchRule(**level.model_dump(exclude_none=True)) for level in lineage)


class _AvoidAware:
    """hier_config checks ``idempotent_commands_avoid`` when it computes a remediation but not in
    ``future()``: there ``ip address … secondary`` would replace the primary address. Checking the
    avoid rules in ``idempotent_for`` itself makes both agree."""

    rules: Any

    def _avoided(self, child: Any) -> bool:
        return any(child.is_lineage_match(rule.match_rules) for rule in self.rules.idempotent_commands_avoid)

    def idempotent_for(self, config: Any, other_children: Any) -> Any:
        if self._avoided(config):
            return None
        return super().idempotent_for(config, [c for c in other_children if not self._avoided(c)])  # type: ignore[misc]


class _BlockAware:
    """A block of the profile (:mod:`netchange.drivers.cli_blocks`: a banner, a certificate, a
    macro) is removed by the profile's one command, not by ``no`` before its first line followed
    by its other lines: hier_config asks the driver's ``negate_with`` first when it negates a
    line, for a remediation, a rollback and the shorthand negations of ``future()`` alike."""

    profile: PlatformProfile

    def negate_with(self, config: Any) -> Any:
        parent = config.parent.text if config.depth() > 1 else None
        return cli_blocks.removal(config.text, parent, self.profile) or super().negate_with(config)  # type: ignore[misc]


_HIER_DRIVERS = threading.Lock()


def hier_driver(platform: PlatformProfile) -> Any:
    """hier_config's driver for the platform, with the idempotency rules of its profile: one per
    profile and process, made under a lock. hier_config refuses to compare two configurations
    whose drivers are of different classes, and each driver has a class of its own (made here):
    two hosts' threads asking at once for the first time used to make two, and a restore then
    failed with "The running and generated configs must use the same driver" (found by the
    crash matrix: a recover restoring two switches in parallel, the first parse in each thread)."""
    with _HIER_DRIVERS:
        return _hier_driver(platform)


@cache
def _hier_driver(platform: PlatformProfile) -> Any:
    options = platform.hier_config
    if options is None:
        raise ValueError(f"{platform.name}: its profile has no hier_config options")
    base = type(get_hconfig_driver(Platform[options.platform.upper()]))
    driver = type(base.__name__, (_BlockAware, _AvoidAware, base), {"profile": platform})()
    for lineage in options.idempotent_commands:
        driver.rules.idempotent_commands.append(IdempotentCommandsRule(match_rules=_match_rules(lineage)))
    for lineage in options.idempotent_commands_avoid:
        driver.rules.idempotent_commands_avoid.append(IdempotentCommandsAvoidRule(match_rules=_match_rules(lineage)))
    for pattern in options.comments:
        driver.rules.per_line_sub.append(PerLineSubRule(search=pattern, replace=""))
    return driver


# -- pure helpers (unit-tested without a device) -----------------------------------------------


def canonical_config(text: str, platform: PlatformProfile) -> str:
    """``show running-config`` output without its header and final ``end``, newline-terminated.

    The header carries a byte count that changes with every edit, and ``end`` is not a
    configuration line (hier_config would read it as one). Header lines printed after the
    configuration go too: an ASA ends it with ``Cryptochecksum:<md5>`` and ``: end``, and the
    checksum changes with every edit (kept, a recover called the change's own checksum "changed
    by someone else": found on the lab's ASA stand-in). Line endings and trailing blanks are
    normalised so that a device restored to a snapshot compares equal byte for byte.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    headers = [re.compile(p) for p in _cli(platform).header_patterns]
    start = 0
    while start < len(lines) and any(h.match(lines[start]) for h in headers):
        start += 1
    body = lines[start:]
    while body and (body[-1] in ("", "end") or any(h.match(body[-1]) for h in headers)):
        body.pop()
    return "\n".join(body) + "\n" if body else ""


def parse(text: str, platform: PlatformProfile) -> HConfig:
    """``text`` as a hier_config tree, each block of the profile one line (its lines joined by
    newlines: :func:`netchange.drivers.cli_blocks.fold`)."""
    folded, blocks = cli_blocks.fold(text, platform)
    config = get_hconfig(hier_driver(platform), _merge_repeated(folded))
    if blocks:
        for child in [c for c in config.all_children() if c.text in blocks]:
            child.text = blocks[child.text]
    return config


def _merge_repeated(text: str) -> str:
    """``text`` with a top-level section printed twice read as one (its lines after the first
    occurrence's) and a top-level line printed twice kept once.

    An ASA prints an object twice when it has a NAT rule (``object network obj_any`` with its
    ``subnet``, then again, further down, with its ``nat``); hier_config refuses a repeated
    top-level line, so a full ASA configuration could not be read at all (issue 22 item 5, on
    ciscoconfparse's sample). The device reads both as one object.
    """
    lines = text.split("\n")
    groups: dict[str, list[str]] = {}
    order: list[str | list[str]] = []
    repeated = False
    i = 0
    while i < len(lines):
        end = i + 1
        while end < len(lines) and lines[end][:1].isspace():
            end += 1
        header, body = lines[i], lines[i + 1:end]
        key = header.strip()
        if not key or key.startswith("!") or header[:1].isspace():
            order.append(lines[i:end])
        elif key in groups:
            groups[key].extend(body)
            repeated = True
        else:
            groups[key] = [header, *body]
            order.append(key)
        i = end
    if not repeated:
        return text
    return "\n".join(line for item in order for line in (groups[item] if isinstance(item, str) else item))


def merge_scope(running: str, candidate: HConfig, platform: PlatformProfile | None = None) -> str:
    """The top-level blocks of ``running`` that merging ``candidate`` can change, in order.

    Parsing a 10,000-line configuration costs hier_config about 0.3 s; a change touches a few
    sections. A merge only changes the sections the candidate names, so the diff, remediation
    and rollback computed on those blocks equal the ones computed on the whole configuration
    (tests/unit/test_cli_merge_scope.py checks it over every change type and assorted lines).
    Kept: a block whose header is a candidate top-level line, or its negation (``no X`` / ``X``);
    a block whose header a candidate's ``no X`` names by its first words (``no route-map M``
    removes ``route-map M permit 10`` and its lines: hier_config's ``future()`` reads a shorthand
    negation so, and without the block the rollback would type ``route-map M``, a new empty
    entry); and every single-line top-level command sharing a candidate line's first word, which
    is where hier_config's idempotent replacements (``hostname``, ``logging …``) find their old line.
    A block of the profile (a banner and its text, an ASA banner's lines) is one single-line
    command; ``platform`` defaults to the one ``candidate`` was parsed for.
    """
    profile: PlatformProfile = platform or getattr(candidate.driver, "profile", None) or IOS
    exact: set[str] = set()
    words: set[str] = set()
    shorthand: list[str] = []
    for child in candidate.children:
        base = child.text.removeprefix("no ")
        exact.update((child.text, base, f"no {base}"))
        words.add(base.split(" ", 1)[0])
        if child.text.startswith("no "):
            shorthand.append(f"{base} ")
    lines = running.splitlines()
    blocks = {span.first: span.last for span in cli_blocks.spans(lines, profile) if span.rule.parent is None}
    kept: list[str] = []
    i = 0
    while i < len(lines):
        end = blocks.get(i, i) + 1  # a block's lines (a banner's text) are not indented
        while end < len(lines) and lines[end].startswith(" "):
            end += 1
        header = lines[i].strip()
        single = end == i + 1 or i in blocks  # a block is one command over several lines
        if (header in exact or header.startswith(tuple(shorthand))
                or (single and header.removeprefix("no ").split(" ", 1)[0] in words)):
            kept.extend(lines[i:end])
        i = end
    return "\n".join(kept) + "\n" if kept else ""


def diff_configs(running: HConfig, future: HConfig, indent: str = " ") -> str:
    """The difference running → future in device syntax (:func:`netchange.drivers.diffformat.hier_diff`)."""
    return hier_diff(running, future, indent)


def remediation_diff(running: HConfig, remediation: HConfig, target: HConfig, platform: PlatformProfile,
                     indent: str = " ") -> str:
    """What :func:`sent_lines` types into ``running``, shown as a diff, line for line and in its
    order (:func:`netchange.drivers.diffformat.typed_diff`; issue 22 item 5): ``aaa new-model``
    over ``no aaa new-model`` is shown, as typed, after the negation it removes."""

    def removes(line: Any, section: Any) -> Any:
        text = line.text
        for prefix in ("no ", "default "):
            if text.startswith(prefix) and (gone := section.children.get(text.removeprefix(prefix))) is not None:
                return gone
        parent = section.text if getattr(section, "depth", lambda: 0)() > 0 else None
        if text.startswith("no "):
            first = text.split("\n", 1)[0].removeprefix("no ")
            for child in section.children:
                if child.text.startswith(first) and cli_blocks.removal(child.text, parent, platform) == text:
                    return child
        return None

    def replaces(line: Any, section: Any) -> Any:
        negation = section.children.get(f"no {line.text}")
        if negation is not None:
            return negation
        twin = section.root.driver.idempotent_for(line, section.children)
        return twin if twin is not None and twin.text != line.text else None

    return typed_diff(running, typed_tree(remediation, target, platform), removes=removes, replaces=replaces,
                      indent=indent)


def config_lines(config: HConfig, indent: str = "", platform: PlatformProfile | None = None) -> list[str]:
    """Commands to type in config mode, one per line, leaving each section with ``exit``.

    The explicit exits matter: a global line typed inside an interface section may be taken as
    an interface line (fake-switches does so for ``ip route``). ``indent`` per level is for
    showing the lines to people; they are sent without it.

    With ``platform``, a block of its profile is typed as the device expects it
    (:func:`netchange.drivers.cli_blocks.typed_lines`: a banner with a delimiter its text lacks,
    a certificate's lines up to its ``quit``, which leaves the hex mode itself): one item of
    several lines joined by newlines, which :meth:`CliDriver._send` types apart from the others,
    or, shown to people (``indent``), one item per line.
    """
    lines: list[str] = []

    def walk(node: Any, depth: int, parent: str | None) -> None:
        for child in node.children:
            typed = cli_blocks.typed_lines(child.text, parent, platform) if platform else [child.text]
            if platform is not None and indent and len(typed) > 1:
                shown = cli_blocks.shown_lines(child.text, parent, platform, indent)
                lines.extend(indent * depth + line for line in shown)
            else:
                lines.append(indent * depth + "\n".join(typed))
            if child.children:
                walk(child, depth + 1, child.text)
                lines.append(indent * (depth + 1) + "exit")

    walk(config, 0, None)
    return lines


def sent_lines(config: HConfig, target: HConfig, platform: PlatformProfile, indent: str = "") -> list[str]:
    """:func:`config_lines` of a remediation towards ``target``, with each top-level line of an
    ordered list (the profile's ``cli.positional_lines``: ASA ``access-list``) that does not go
    last in its list typed at its place (``access-list X line 3 …``).

    Without it a line put back by a rollback or a restore would be appended after the list's
    final ``deny``: the list would not be the one the snapshot had (and the restore would not
    verify). The place is the line's rank among its list's lines in ``target``; hier_config sends
    removals first and additions in ``target``'s order, so each insertion finds the lines before
    it already in place.

    The top-level blocks are typed in reference order (:func:`netchange.drivers.cli_order.in_reference_order`):
    a name defined before a line uses it, a user removed before what it uses.
    """
    return config_lines(typed_tree(config, target, platform), indent, platform)


def typed_tree(config: HConfig, target: HConfig, platform: PlatformProfile) -> HConfig:
    """``config`` (a remediation or a rollback towards ``target``) as it is typed: its top-level
    blocks in reference order, its positional lines at their place (see :func:`sent_lines`).
    The tree the diff shows (:func:`remediation_diff`) and the one the driver types are this one."""
    ordered = in_reference_order(config, platform)
    rules = [(re.compile(rule.match), rule.insert) for rule in _cli(platform).positional_lines]
    if not rules:
        return ordered
    order: dict[tuple[int, str], list[str]] = {}
    for child in target.children:
        for k, (pattern, _) in enumerate(rules):
            m = pattern.match(child.text)
            if m is not None:
                order.setdefault((k, m.group("list")), []).append(child.text)
                break
    placed = {child.text: _positioned(child.text, rules, order)
              for child in ordered.children if not child.text.startswith("no ")}
    if all(text == line for text, line in placed.items()):
        return ordered
    typed = HConfig(ordered.driver)
    for child in ordered.children:
        copy = typed.add_deep_copy_of(child)
        if placed.get(child.text, child.text) != child.text:
            copy.text = placed[child.text]
    return typed


def _positioned(line: str, rules: list[tuple[re.Pattern[str], str]], order: dict[tuple[int, str], list[str]]) -> str:
    """``line`` typed at its rank in its list, unless it goes last (then it is appended)."""
    for k, (pattern, insert) in enumerate(rules):
        m = pattern.match(line)
        if m is None:
            continue
        listed = order.get((k, m.group("list")), [])
        if line in listed and listed.index(line) < len(listed) - 1:
            return insert.format(**m.groupdict(), n=listed.index(line) + 1)
        return line
    return line


def banner_end(lines: list[str], start: int) -> int:
    """Index of the last line of the banner that ``lines[start]`` opens, as hier_config reads it.

    hier_config folds a banner (``banner motd ^C`` … ``^C``) into one child; a line ends it if it
    starts with ``^``, is ``EOF``, ``%`` or ``!``, is the first one or two characters of the
    delimiter word, or contains that word. ``len(lines) - 1`` if nothing ends it.
    """
    words = lines[start].split()
    delim = words[2] if len(words) > 2 else ""
    ends = {"EOF", "%", "!", delim[:1], delim[:2]} - {""}
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.startswith("^") or line in ends or (delim and delim in line):
            return i
    return len(lines) - 1


def _check_banner(block: list[str]) -> None:
    """A banner's text is sent in the device's banner mode, not as commands: make sure the device
    and the driver agree where it ends, i.e. its delimiter appears only on its last line; a
    one-line banner (``banner motd ^CText^C``, as IOS prints a text without a line break) only at
    both ends of its text."""
    words = block[0].split(None, 2)
    if len(words) == 3 and len(block) == 1:
        delimiter = "^C" if words[2].startswith("^C") else words[2][0]
        text = words[2][len(delimiter):]
        if len(text) < len(delimiter) or not text.endswith(delimiter) or delimiter[0] in text[:-len(delimiter)]:
            raise ValueError(f"one-line banner whose delimiter {delimiter!r} does not close it at its end: "
                             f"{block[0].strip()!r}")
        return
    if len(words) < 3 or len(block) < 2:
        raise ValueError(f"banner without its text on lines of its own: {block[0].strip()!r}")
    char = words[2][0]
    if char in words[2][1:] or any(char in line for line in block[1:-1]) or char not in block[-1]:
        raise ValueError(f"banner whose delimiter {char!r} does not appear on its last line only: "
                         f"{block[0].strip()!r}")


def check_candidate(text: str, platform: PlatformProfile | None = None) -> str:
    """Refuse input that cannot be a configuration snippet; return it with normalised newlines.

    Besides control characters, no line may type a command of the profile's ``refused`` list (a
    mode change or an action) on any abbreviation, in any case: see
    :func:`netchange.platforms.lines.refused_command`. A banner's text lines are text, not
    commands; they are read as such only when the banner's delimiter closes it on its last line.
    """
    platform = platform or IOS
    refused = platform.commands.refused
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise ValueError("empty candidate")
    bad = sorted({f"{ord(c):#04x}" for c in text if (ord(c) < 32 and c not in "\n\t") or ord(c) == 127})
    if bad:
        raise ValueError(f"control characters in candidate: {', '.join(bad)}")
    lines = text.split("\n")
    delimited = {span.first: span.last for span in cli_blocks.spans(lines, platform) if span.rule.delimiter}
    i = 0
    while i < len(lines):
        if i in delimited:
            end = delimited[i]
            _check_banner(lines[i:end + 1])
            i = end + 1
            continue
        hit = refused_command(lines[i], refused)
        if hit is not None:
            raise ValueError(f"mode or exec command not allowed in a candidate: {lines[i].strip()!r} "
                             f"(types {hit!r})")
        i += 1
    return text


# -- the driver --------------------------------------------------------------------------------


class IosCliOptions(DriverOptions):
    """``optional_args`` of the IOS-style CLI drivers."""

    known_hosts: str | None = None
    """Host keys are verified: against this file, else the user's own known_hosts."""
    alt_key_file: str | None = None
    """netmiko's name for ``known_hosts`` (either may be given)."""
    ssh_strict: bool = True
    running_reuse_seconds: float = 2.0
    """How long one reading of the running configuration serves the calls after it (0: never)."""


class CliDriver(NoCommitConfirm, NetchangeDriver):
    """NAPALM-contract driver for IOS-style CLIs; subclasses only choose :attr:`platform`."""

    platform: ClassVar[PlatformProfile]
    Options = IosCliOptions
    commit_checks_state = True

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname, username, password, timeout, optional_args)
        options: IosCliOptions = self.options
        self.name = f"{hostname}:{self.port}"  # how errors name the device
        self.secret = options.secret
        self.known_hosts: str | None = options.alt_key_file or options.known_hosts
        self.ssh_strict = options.ssh_strict
        self.device: Any = None
        self._candidate: HConfig | None = None
        self._candidate_text = ""
        self._mode: Mode | None = None
        self._last_rollback: list[str] | None = None
        self.running_reuse_seconds = options.running_reuse_seconds
        self._reading: tuple[str, float] | None = None
        """The last ``show running-config`` (canonical) and when it was read."""
        self._flow: tuple[tuple[str, float], HConfig, tuple[HConfig, HConfig, WorkflowRemediation]] | None = None
        """The workflow computed from that reading and the loaded candidate (keyed by both objects)."""
        self._engine_reading: tuple[tuple[str, float], float] | None = None
        """The engine's last ``get_config`` (that reading, and when it ended on ``perf_counter``)."""

    # -- session ---------------------------------------------------------------------------

    def open(self) -> None:
        try:
            self.device = ConnectHandler(
                device_type=_cli(self.platform).netmiko_device_type, host=self.hostname, port=self.port,
                username=self.username, password=self.password, secret=self.secret,
                timeout=self.timeout, conn_timeout=min(self.timeout, 15),
                ssh_strict=self.ssh_strict, system_host_keys=self.known_hosts is None,
                alt_host_keys=self.known_hosts is not None, alt_key_file=self.known_hosts or "",
                use_keys=False, allow_agent=False,
            )
            if self.secret:
                self.device.enable()
        except Exception as exc:
            self.device = None
            raise OpenFailed(f"{self.name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        if self.device is not None:
            try:
                self.device.disconnect()
            finally:
                self.device = None

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": bool(self.device is not None and self.device.is_alive())}

    def _session(self) -> Any:
        if self.device is None:
            raise SessionClosed(f"{self.name}: not connected (call open())")
        return self.device

    @contextmanager
    def _talking(self) -> Iterator[None]:
        """Around every exchange with the device: a session that died under it (EOF, closed
        socket, a read that never ends) is :class:`SessionClosed`, whatever netmiko raised (an
        ``OSError`` here is the socket's: netmiko says "Socket is closed" with a plain one)."""
        try:
            yield
        except SessionClosed:
            raise
        except Exception as exc:
            if isinstance(exc, OSError) or session_lost(exc):
                raise SessionClosed(f"{self.name}: session lost: {type(exc).__name__}: {exc}") from exc
            raise

    # -- reading ---------------------------------------------------------------------------

    def _running_text(self) -> str:
        """Read the device (always) and remember the reading for the calls that follow."""
        with self._talking():
            raw = self._session().send_command(_cli(self.platform).show_running, read_timeout=self.timeout)
        text = canonical_config(str(raw), self.platform)
        self._reading = (text, time.monotonic())
        self._checked_state = text  # every reading of this driver is one a candidate is computed from
        return text

    def _read_running(self) -> str:
        """The engine's reading (``get_config``): kept apart, so that a commit computed from it
        within ``running_reuse_seconds`` writes without reading again (:meth:`_checked_fresh`)."""
        text = super()._read_running()
        self._engine_reading = (self._reading, time.perf_counter()) if self._reading is not None else None
        return text

    def _checked_fresh(self, reading: str) -> bool:
        """``reading`` is the engine's last ``get_config`` (apply's reading at the host's turn,
        under the device lock), nothing was sent since, and it is at most ``running_reuse_seconds``
        old: that reading is the check just before the write (issue 27 item 1: read, configure,
        read back). A reading of the driver's own (a compare) is never taken for it."""
        engine = self._engine_reading
        return (engine is not None and self.running_reuse_seconds > 0 and not self._held
                and engine[0] is self._reading and engine[0][0] is reading
                and time.monotonic() - engine[0][1] <= self.running_reuse_seconds)

    def _recent_reading(self) -> tuple[str, float]:
        """The last reading if nothing was sent since and it is recent enough or the state checked
        (which the commit reads again before its send); else read the device."""
        reading = self._reading
        checked = reading is not None and self.running_reuse_seconds > 0 and reading[0] is self._checked_state
        if reading is None or (not checked and time.monotonic() - reading[1] > self.running_reuse_seconds):
            self._running_text()
            reading = self._reading
        assert reading is not None
        return reading

    def running_config(self) -> str:
        """Running configuration (canonical, see :func:`canonical_config`); no startup kept apart."""
        return self._running_text()

    def candidate_config(self) -> str | None:
        return self._candidate_text

    def normalize_config(self, text: str) -> str:
        return canonical_config(text, self.platform)

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """Output of read-only commands (``show …``); anything else is refused, not sent."""
        if encoding != "text":
            raise NotImplementedError("only text output")
        check_read_only(self.platform, commands)
        out: dict[str, str] = {}
        for command in commands:
            with self._talking():
                out[command] = str(self._session().send_command(command, read_timeout=self.timeout))
        return out

    # -- saving (the steps are the profile's ``save``; NetchangeDriver.save_config runs them) --

    def send_save(self, save: SaveSteps) -> None:
        """``write memory``: an exec command on the session, never a line of a candidate."""
        with self._talking():
            out = str(self._session().send_command(save.command, read_timeout=max(self.timeout, 120)))
        errors = (*_cli(self.platform).error_strings, *save.error_strings)
        refused = next((line.strip() for line in out.splitlines() if any(e in line for e in errors)), None)
        if refused is not None:
            raise CommitRefused(f"{self.name}: {save.command!r} refused by the device: {refused}")

    def running_for_save(self) -> str:
        """The session's last reading when nothing was sent since (apply's read-back of the state
        left, a restore's verification): the startup must equal the state netchange left, and a
        line typed by another hand since makes the save report "differs", never a silent pass."""
        return self._reading[0] if self._reading is not None else self.running_config()

    def read_startup(self, save: SaveSteps) -> str:
        with self._talking():
            return str(self._session().send_command(save.startup, read_timeout=self.timeout))

    # -- candidate -------------------------------------------------------------------------

    def _load(self, mode: Mode, filename: str | None, config: str | None, exc: type[Exception]) -> None:
        try:
            text = Path(filename).read_text() if filename else (config or "")
            text = check_candidate(text, self.platform)
            candidate = parse(text, self.platform)
        except (OSError, ValueError) as err:
            self.discard_config()
            raise exc(f"{self.name}: candidate refused: {err}") from err
        self._candidate, self._candidate_text, self._mode = candidate, text, mode

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold a snippet (commands, ``no …`` lines included) to merge into the running config."""
        self._load("merge", filename, config, MergeRejected)

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold a full configuration to become the running config (what it lacks is removed)."""
        self._load("replace", filename, config, ReplaceRejected)

    def discard_config(self) -> None:
        self._candidate, self._candidate_text, self._mode = None, "", None
        self._flow = None

    def _workflow(self) -> tuple[HConfig, HConfig, WorkflowRemediation]:
        if self._candidate is None:
            raise CommitRefused(f"{self.name}: no candidate loaded")
        reading = self._recent_reading()
        if self._flow is not None and self._flow[0] is reading and self._flow[1] is self._candidate:
            return self._flow[2]
        if self._mode == "merge":
            running = parse(merge_scope(reading[0], self._candidate), self.platform)
            future = cli_blocks.join_repeated(running.future(self._candidate), running, self.platform)
        else:
            running, future = parse(reading[0], self.platform), self._candidate
        flow = (running, future, WorkflowRemediation(running, future))
        self._flow = (reading, self._candidate, flow)
        return flow

    def compare_config(self) -> str:
        if self._candidate is None:
            return ""
        running, future, workflow = self._workflow()
        return remediation_diff(running, workflow.remediation_config, future, self.platform, _cli(self.platform).indent)

    def rollback_preview(self) -> str:
        """The lines that would undo the loaded candidate, in device syntax."""
        if self._candidate is None:
            return ""
        running, _, workflow = self._workflow()
        lines = sent_lines(workflow.rollback_config, running, self.platform, _cli(self.platform).indent)
        return "\n".join(lines) + "\n" if lines else ""

    # -- commit and rollback ---------------------------------------------------------------

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError(f"{self.platform.name}: no commit-confirm timer on this platform")
        mode = self._mode
        reading = self._recent_reading()[0]
        running, future, workflow = self._workflow()
        lines = sent_lines(workflow.remediation_config, future, self.platform)
        rollback = sent_lines(workflow.rollback_config, running, self.platform)
        if lines:
            # Another hand: the lines were computed from ``reading`` (the state checked, or one up to
            # running_reuse_seconds old): read again last, refused unless the device is still in it.
            self._checked_state = reading
            if self._checked_fresh(reading):
                assert self._engine_reading is not None
                self._reread_done = self._engine_reading[1]  # the window runs from the engine's reading
            else:
                self._reread_and_compare("commit")
            self._writing()
            error = self._send(lines)
            if error is not None:
                # The whole configuration as read before the send: a merge's workflow only
                # holds the sections it touches, and restoring to that would negate the rest.
                undone = self._restore(parse(reading, self.platform))
                self.discard_config()
                state = "lines already sent were undone" if undone else "UNDO FAILED, device left changed"
                rejected = ReplaceRejected if mode == "replace" else MergeRejected
                raise rejected(f"{self.name}: device rejected the change ({error}); {state}")
        self._last_rollback = rollback
        self.discard_config()

    def _send(self, lines: list[str]) -> str | None:
        """Send config lines; ``None`` on success, else the device's complaint (config mode left).

        An item of several lines is a block (:func:`config_lines`: a banner and its text, a
        certificate): see :meth:`_send_blocks`."""
        session = self._session()
        self._reading, self._flow = None, None  # the device is about to change: read it again
        try:
            with self._talking():
                if any("\n" in line for line in lines):
                    self._send_blocks(session, lines)
                else:
                    session.send_config_set(lines, error_pattern=_cli(self.platform).error_pattern,
                                            read_timeout=self.timeout)
        except ConfigInvalidException as exc:
            detail = next((ln.strip() for ln in str(exc).splitlines()
                           if re.search(_cli(self.platform).error_pattern, ln)), str(exc).strip())
            try:
                if session.check_config_mode():
                    session.exit_config_mode()
            except Exception as exit_exc:
                raise CommitRefused(f"{self.name}: stuck in config mode: {exit_exc}") from exc
            return detail
        return None

    def _send_blocks(self, session: Any, lines: list[str]) -> None:
        """Type ``lines`` in one configuration session, each block on its own.

        netmiko checks that the device echoes each command and prints its prompt again; inside a
        block the device prints neither (a banner's text, a certificate's hex lines, the
        "[yes/no]" a removal asks). netmiko types a whole set without those checks when one of
        its lines starts with ``banner`` (its ``bypass_commands``), waiting two seconds of
        silence after every line. Here only the block's lines are typed so, in one go, and its
        output is read for the profile's error strings once; every other line keeps netmiko's
        checks. Configuration mode is entered once, so a block inside a section (a certificate
        in its chain) is typed where the section's line left the device.
        """
        pattern = _cli(self.platform).error_pattern
        session.config_mode()
        plain: list[str] = []
        for line in [*lines, ""]:
            if line and "\n" not in line:
                plain.append(line)
                continue
            if plain:
                session.send_config_set(plain, enter_config_mode=False, exit_config_mode=False,
                                        error_pattern=pattern, read_timeout=self.timeout)
                plain = []
            if line:
                out = str(session.send_config_set(line.split("\n"), enter_config_mode=False, exit_config_mode=False,
                                                  cmd_verify=False, read_timeout=self.timeout))
                hit = re.search(pattern, out, flags=re.M) if pattern else None
                if hit is not None:
                    raise ConfigInvalidException(f"Invalid input detected at command: {line.split(chr(10))[0]}, "
                                                 f"matched error: {hit.group(0)}")
        session.exit_config_mode()

    def _restore(self, target: HConfig) -> bool:
        """Bring the device back to ``target`` (a parsed running config); True when it matches."""
        current = parse(self._running_text(), self.platform)
        back = sent_lines(WorkflowRemediation(current, target).remediation_config, target, self.platform)
        if back and self._send(back) is not None:
            return False
        after = parse(self._running_text(), self.platform)
        return not list(WorkflowRemediation(after, target).remediation_config.all_children())

    def rollback(self) -> None:
        """Apply the rollback lines of the last commit of this session (nothing if none)."""
        if not self._last_rollback:
            return
        self._reread_and_compare("rollback")
        self._writing()
        error = self._send(self._last_rollback)
        if error is not None:
            raise CommitRefused(f"{self.name}: rollback rejected by the device: {error}")
        self._last_rollback = None




class IosCliDriver(CliDriver):
    """Cisco IOS-style switches (the lab's fake-switches; IOS without SCP/archive)."""

    platform = IOS


class AsaCliDriver(CliDriver):
    """Cisco ASA-style CLI (hier_config generic rules)."""

    platform = ASA
