"""Bring a host back to its snapshot, then prove it by reading the device again.

Strategy per driver, most precise first:

1. ``inverse`` — the driver's own ``rollback()`` of the last commit (NAPALM semantics): precise
   inverse lines for CLI devices (hier_config), the inverse DNS update, the saved runtime state.
   Only used within the session that made the commit, where the driver knows what it did.
2. ``snapshot`` — ``load_replace_candidate(snapshot)`` + ``commit_config()``: the full running
   state as it was. Used after a lost session, a crash, or when the inverse did not verify.

Either way the device is read again and compared with the snapshot; only equality counts.

Before either, when the caller says what the change left (``after``: the state read once the
change was committed) or what it did (``diff``: the plan's diff), the device is read and
compared with that: a line someone else added or removed since would be erased (or brought
back) by the restore. Then nothing is sent: the report is an alarm naming those lines
(``foreign``), so that a restore never deletes configuration the change did not add.

Those comparisons are structural (:func:`config_changes`): a configuration is a tree of lines
(a line's parent is the nearest less-indented line before it), compared as hier_config compares
two configurations, by each line's path; comment and separator lines (IOS and FRR ``!``,
``#``, ``;``) and closing braces carry no configuration and never count, as in the classifier's
reading of a diff (:func:`netchange.drivers.diffformat.parse_diff`). The device's own
separators (the ``!`` after every IOS block, FRR's ``exit``) are therefore never taken for
someone else's line.

A report that did not verify says why, as a :class:`~netchange.drivers.errors.FailureCause`
(``cause``): the device or a daemon not answering, the session lost, an answer that cannot be
read, a refused command, lines changed by someone else (with who, where the device records it),
a device that does not match its snapshot after the restore, a network not back.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from netchange.drivers.contract import DriverProtocol, normalize
from netchange.drivers.diffformat import parse_diff
from netchange.drivers.errors import FailureCause, cause_of
from netchange.failpoints import fail_point


def same_state(driver: Any, a: str, b: str) -> bool:
    return normalize(driver, a) == normalize(driver, b)


def verify_host(driver: DriverProtocol, snapshot: str) -> bool:
    running = driver.get_config(retrieve="running")["running"]
    return same_state(driver, running, snapshot)


def changed_lines(before: str, after: str) -> list[str]:
    """The lines added (``+``) and removed (``-``) from ``before`` to ``after``, without context."""
    return [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not line.startswith(("+++", "---", "@@")) and line[1:].strip()
    ]


Path = tuple[str, ...]
"""A configuration line with its parents, outermost first, each stripped: where it lives."""


def config_paths(text: str) -> list[tuple[Path, str]]:
    """The configuration lines of ``text`` in order, each with its path and its line as printed.

    Read as the classifier reads a diff (:func:`netchange.drivers.diffformat.parse_diff`, every
    line unchanged): comment and separator lines (``!``, ``#``, ``;``), blank lines and closing
    braces are left out, a banner's text lines are its children, tabs count as indentation.
    """
    parsed = parse_diff("".join(f" {line}\n" for line in text.splitlines()))
    return [((*(body for _, body in reversed(line.ancestors)), line.body), line.raw[1:]) for line in parsed.lines]


def config_changes(before: str, after: str) -> list[tuple[str, Path, str]]:
    """What changed from ``before`` to ``after``: ``(sign, path, line)``, ``-`` first, then ``+``.

    Structural, as hier_config compares two configurations: a line counts as changed when no
    line with the same path (the same text under the same parents) is on the other side. So the
    device's separators and block ends (IOS ``!``, FRR ``exit``, nft ``}``) never count, nor does
    the order in which the device prints blocks; a line repeated under the same parents counts
    once (see the limits in docs/lab-notes.md).
    """
    old, new = config_paths(before), config_paths(after)
    old_paths, new_paths = {p for p, _ in old}, {p for p, _ in new}
    removed = [("-", p, line) for p, line in old if p not in new_paths]
    added = [("+", p, line) for p, line in new if p not in old_paths]
    return removed + added


def diff_paths(diff: str) -> set[tuple[str, Path]]:
    """The changed lines of a diff in netchange's format (the plan's), as ``(sign, path)``."""
    return {(line.sign, (*(body for _, body in reversed(line.ancestors)), line.body))
            for line in parse_diff(diff).changed}


def foreign_lines(driver: Any, current: str, snapshot: str, *, after: str | None = None,
                  diff: str = "") -> list[str]:
    """What changed on the device that the change did not do (``+`` added, ``-`` removed).

    With ``after`` (the state the change left, read after its commit) the answer is exact:
    every difference from it. Without it (a crash between the commit and that reading), a
    difference from the snapshot is the change's own when the plan's diff adds (or removes) the
    same line at the same place (under the same parents); any other is foreign. Both are
    compared structurally (:func:`config_changes`), after the driver's normalisation.
    """
    now = normalize(driver, current)
    if after is not None:
        return [sign + line for sign, _, line in config_changes(normalize(driver, after), now)]
    own = {(sign, _unplaced(path)) for sign, path in diff_paths(diff)}
    return [sign + line for sign, path, line in config_changes(normalize(driver, snapshot), now)
            if (sign, _unplaced(path)) not in own]


_PLACE = (re.compile(r"^\d+\s+"), re.compile(r"^(access-list\s+\S+)\s+line\s+\d+\b"))
"""Where an entry of a sequenced list is typed, not what it is: IOS's ``25 permit …`` (classic IOS
prints a named ACL's entries without their numbers) and ASA's ``access-list X line 4 …`` (the
running configuration never shows ``line``)."""


def _unplaced(path: Path) -> Path:
    """``path`` with its last line's place in its list left out (:data:`_PLACE`): the plan types
    an entry at a number or a line, the device may print it without, and it is the same entry."""
    last = _PLACE[1].sub(r"\1", _PLACE[0].sub("", path[-1]))
    return (*path[:-1], last)


def brief_lines(lines: list[str], limit: int = 6) -> str:
    """A few diff lines on one line, for a message or an alarm."""
    shown = " | ".join(line.rstrip() for line in lines[:limit])
    return shown + (f" | … ({len(lines) - limit} more)" if len(lines) > limit else "")


@dataclass
class RestoreReport:
    verified: bool
    strategies: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """What went wrong, one sentence each, beginning with what its cause says."""
    seconds: float = 0.0
    foreign: list[str] = field(default_factory=list)
    """Lines changed on the device by someone else since the change: the restore refused."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    """The change types' restored checks (the network back, not only the configuration)."""
    causes: list[FailureCause] = field(default_factory=list)
    """The cause of each of :attr:`errors`, in the same order."""
    who: list[str] = field(default_factory=list)
    """Who changed the ``foreign`` lines (and when), where the device records it; else why not known."""
    saved: dict[str, Any] | None = None
    """After a verified restore, the save of the restored state (the event ``saved``'s data:
    ``startup_equals_running``, ``seconds``, ``error``); ``None``: nothing saved (no startup
    apart on the platform, or nothing was sent)."""

    def fail(self, cause: FailureCause, detail: str) -> None:
        """Record a failure: its sentence begins with what its cause says (terminal, journal, mail)."""
        self.causes.append(cause)
        self.errors.append(f"{cause.says}: {detail}")

    def fail_on(self, exc: BaseException, step: str) -> None:
        """Record an exception raised by ``step``, with its cause read from its class."""
        self.fail(cause_of(exc), f"{step}: {type(exc).__name__}: {exc}")

    @property
    def cause(self) -> FailureCause | None:
        """Why the restore did not verify: the cause of the last failure (what ended it)."""
        if self.verified:
            return None
        return self.causes[-1] if self.causes else (FailureCause.FAILED if self.errors else None)


def restore_host(driver: DriverProtocol, snapshot: str, *, inverse_first: bool = True,
                 after: str | None = None, diff: str | None = None, host: str | None = None) -> RestoreReport:
    """Restore ``driver``'s device to ``snapshot`` and verify. Never raises: the report says.

    With ``after`` or ``diff`` (see the module docstring), a device changed by someone else
    since the change is not touched: the report is not verified and names the ``foreign`` lines.
    ``host``: the host's name, for the fail points (:mod:`netchange.failpoints`).
    """
    start = time.monotonic()
    report = RestoreReport(verified=False)
    if after is not None or diff is not None:
        try:
            fail_point("restore.read", host=host)  # about to read the device before restoring it
            current = driver.get_config(retrieve="running")["running"]
        except Exception as exc:
            report.fail_on(exc, "read before restore")
            report.seconds = time.monotonic() - start
            return report
        if same_state(driver, current, snapshot):
            report.verified, report.strategies = True, ["none"]
            report.seconds = time.monotonic() - start
            return report
        report.foreign = foreign_lines(driver, current, snapshot, after=after, diff=diff or "")
        if report.foreign:
            report.who = who_changed(driver, report.foreign)
            named = f" ({'; '.join(report.who)})" if report.who else ""
            report.fail(FailureCause.CHANGED_BY_OTHERS,
                        f"not restored (a restore would undo it){named}: {brief_lines(report.foreign)}")
            report.seconds = time.monotonic() - start
            return report
    attempts = (["inverse"] if inverse_first else []) + ["snapshot"]
    for strategy in attempts:
        report.strategies.append(strategy)
        try:
            fail_point("restore.write", host=host)  # about to write (the inverse, else the snapshot)
            if strategy == "inverse":
                driver.rollback()
            else:
                driver.load_replace_candidate(config=snapshot)
                driver.commit_config()
            fail_point("restore.verify", host=host)  # written, about to read it back
            if verify_host(driver, snapshot):
                report.verified = True
                break
            report.fail(FailureCause.NOT_AS_SNAPSHOT, f"{strategy}: the device does not match its snapshot")
        except Exception as exc:  # every failure is reported; the next strategy still runs
            report.fail_on(exc, strategy)
    report.seconds = time.monotonic() - start
    return report


# -- who changed it --------------------------------------------------------------------------------

ARCHIVE_LOG = "show archive log config all"
"""IOS's configuration change log (``archive`` / ``log config`` on the device): who typed each
command, from which line, in which session."""

_ARCHIVE_ROW = re.compile(r"^\s*(?P<idx>\d+)\s+(?P<session>\d+)\s+(?P<user>[^@\s]+)@(?P<line>\S+)\s*\|(?P<command>.*)$")


@dataclass(frozen=True)
class ArchiveEntry:
    """One command of IOS's ``show archive log config all``."""

    index: int
    session: int
    user: str
    line: str
    command: str


def parse_archive_log(text: str) -> list[ArchiveEntry]:
    """The rows of ``show archive log config all`` (header, blank and other lines ignored)."""
    entries = []
    for raw in text.splitlines():
        m = _ARCHIVE_ROW.match(raw)
        if m:
            entries.append(ArchiveEntry(int(m["idx"]), int(m["session"]), m["user"], m["line"],
                                        m["command"].strip()))
    return entries


def authors(foreign: list[str], entries: list[ArchiveEntry]) -> list[str]:
    """Who typed each foreign line, from the newest matching log entry: ``user@line (session N,
    entry I): +line``. A removed line is matched by its ``no`` form."""
    out: list[str] = []
    for line in foreign:
        typed = line[1:].strip() if line.startswith("+") else f"no {line[1:].strip()}"
        found = [e for e in entries if e.command == typed]
        if found:
            e = found[-1]
            out.append(f"{e.user}@{e.line} (session {e.session}, entry {e.index}): {line.rstrip()}")
    return out


def who_changed(driver: Any, foreign: list[str]) -> list[str]:
    """Who changed ``foreign`` and when, as far as the device records it; else one sentence
    saying the device keeps no such record (never a failure of the restore's report)."""
    try:
        answer = driver.cli([ARCHIVE_LOG])[ARCHIVE_LOG]
    except Exception:  # a platform without the command, or a refusal: nothing recorded
        return ["who and when: not recorded by this device"]
    entries = parse_archive_log(str(answer))
    if not entries:
        return ["who and when: not recorded by this device (no configuration change log)"]
    named = authors(foreign, entries)
    # The log has users and sessions, not times: IOS keeps the time only in syslog.
    return named or ["who: no entry of the device's change log matches these lines"]


# -- the alarm, in words -------------------------------------------------------------------------


def alarm_text(data: Mapping[str, Any]) -> str:
    """A journaled ``rollback_failed`` (its data) in one line: what happened, in its cause's own
    words first (the tracking sheet and the mail say it as the terminal did), then the details."""
    errors = [str(e) for e in data.get("errors") or []]
    try:
        says = FailureCause(str(data.get("cause"))).says
    except ValueError:  # recorded before causes were (or by a newer version): the errors alone
        says = ""
    text = "; ".join(errors)
    if says and not text.startswith(says):
        text = f"{says}: {text}" if text else says
    return text or "not verified"
