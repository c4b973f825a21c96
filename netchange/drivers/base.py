"""The base class of netchange's own drivers: NAPALM's ``NetworkDriver``, documented and typed.

:class:`NetchangeDriver`'s docstrings are the specification of the change lifecycle, as NAPALM's
``napalm/base/base.py`` is for its drivers; the engine (plan, apply, restore) relies on what they
say. What the engine calls is :class:`netchange.drivers.contract.DriverProtocol`; optional
features with their defaults are :class:`netchange.drivers.contract.DriverFeatures`.

Each driver declares its options as a model (:attr:`NetchangeDriver.Options`, a subclass of
:class:`DriverOptions`): the inventory's ``optional_args`` are validated into it once, an unknown
or mistyped key is an error naming the key (never its value, which may be a secret).
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from napalm.base import NetworkDriver
from pydantic import ValidationError

from netchange.basemodels import FrozenModel
from netchange.drivers.contract import DriverFeatures
from netchange.drivers.errors import ChangedMeanwhile, CommandRefused, ConfirmRefused
from netchange.errors import BadRequest
from netchange.platforms import PlatformProfile, SaveSteps


class DriverOptions(FrozenModel):
    """The ``optional_args`` every netchange driver accepts. Keyword-only, frozen, no extras."""

    port: int | None = None
    """TCP port; ``None``: the driver's default. Nornir's ``port`` lands here."""
    secret: str = ""
    """An enable secret (the credentials file may give one to every host; unused by most)."""


class DriverOptionsError(BadRequest):
    """The inventory gives a driver an option it does not know, or of the wrong type."""


class NetchangeDriver(DriverFeatures, NetworkDriver):  # type: ignore[misc]  # napalm is untyped
    """NAPALM's contract, the options model and netchange's optional features.

    The lifecycle is NAPALM's, called in this order by plan, apply and restore::

        open()
        get_config(retrieve="running")              the snapshot (and the drift check at apply)
        load_merge_candidate(config=…)              hold the change …
        | load_replace_candidate(config=…)          … or a whole configuration (a restore)
        compare_config() -> str                     the diff, classified and approved
        rollback_preview() -> str | None            the lines that undo it (plan stores them)
        discard_config()                            plan always ends here
        commit_config(revert_in=N | None)           apply: send it
        confirm_commit() | rollback()               keep it once the post-checks pass / undo it
        save_config(steps) -> bool                  once verified (and after a verified restore):
                                                    startup := running, read back, compared
        close()

    Errors are those of ``netchange/drivers/errors.py``: each is both NAPALM's exception and
    netchange's error of the phase (``MergeRejected`` is a ``MergeConfigException`` and a
    ``CommitFailed``). A session that dies under any call is ``SessionClosed``, so the engine
    tells a lost device from a refused change.
    """

    Options: ClassVar[type[DriverOptions]] = DriverOptions
    default_port: ClassVar[int] = 22

    _checked: str | None = None
    _held = False
    """A write was refused (:class:`ChangedMeanwhile`): the state checked stays the one the
    refusal compared with, whatever this session reads to build a candidate (a restore's
    ``load_replace_candidate`` reads the device, other hand included), until the engine reads the
    device again (:meth:`get_config`)."""

    def checked_state(self) -> str | None:
        """:meth:`DriverFeatures.checked_state`: the state that was checked (see below)."""
        return self._checked_state

    @property
    def _checked_state(self) -> str | None:
        """The state that was checked: this session's last reading of the running state (the
        engine's check, the load, the compare), as :meth:`running_config` returned it; ``None``
        when none was made, or this session wrote since (see :meth:`_reread_and_compare`). Kept as
        it is after a refusal until the engine's next :meth:`get_config` (:attr:`_held`)."""
        return self._checked

    @_checked_state.setter
    def _checked_state(self, text: str | None) -> None:
        if not self._held:
            self._checked = text
    _reread_done: float | None = None
    write_window_ms: float | None = None
    """Milliseconds between the end of the last re-read and the start of the write that followed
    it (the window another hand still has), set by :meth:`_writing`; ``bench/write_window.py``."""

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        """Nothing is contacted here: ``open()`` does. ``optional_args`` are validated into
        :attr:`Options` (:class:`DriverOptionsError` names a bad key); ``port`` defaults to
        :attr:`default_port`."""
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = timeout
        self.options = self.parse_options(optional_args)
        self.port = self.options.port or self.default_port

    @classmethod
    def parse_options(cls, optional_args: dict[str, Any] | None) -> Any:
        try:
            return cls.Options.model_validate(dict(optional_args or {}))
        except ValidationError as exc:
            err = exc.errors()[0]  # loc and msg only: the input may be a secret
            where = ".".join(str(p) for p in err["loc"]) or "optional_args"
            raise DriverOptionsError(f"{cls.__name__}: optional_args.{where}: {err['msg']}") from None

    # -- session -----------------------------------------------------------------------------

    def open(self) -> None:
        """Open the session to the device.

        :raise OpenFailed: refused, unknown host key, timeout (NAPALM's ``ConnectionException``).
        :raise LoginRefused: the device refused the credentials (NAPALM's ``ConnectAuthError``).
        """
        raise NotImplementedError

    def close(self) -> None:
        """End the session. A candidate that was not committed is not kept."""
        raise NotImplementedError

    def is_alive(self) -> dict[str, bool]:
        """``{"is_alive": bool}``: whether the session still answers. Apply asks it after a failed
        step, to tell a device lost under the step from a device that refused it."""
        raise NotImplementedError

    # -- reading -----------------------------------------------------------------------------

    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> dict[str, str]:  # NAPALM's signature
        """NAPALM's three datastores, each read only when asked for; absent ones are ``""``.

        ``running`` is read from the device at each call, as the device prints it: it is the
        snapshot a restore brings back, compared through :meth:`normalize_config`.

        A driver says how to read each one (:meth:`running_config`, :meth:`candidate_config`,
        :meth:`startup_config`); the selection by ``retrieve`` is the same for every device.
        """
        wanted = {"running", "candidate", "startup"} if retrieve == "all" else {retrieve}
        if "running" in wanted:
            self._held = False  # the engine reads the device again: what it checks now is the state
        running = self._read_running() if "running" in wanted else ""
        if "running" in wanted and self._checked_state is not None:
            self._engine_read = (self._checked_state, time.monotonic(), time.perf_counter())
        return {
            "running": running,
            "candidate": (self.candidate_config() or "") if "candidate" in wanted else "",
            "startup": self.startup_config() if "startup" in wanted else "",
        }

    running_reuse_seconds: float = 0.0
    """How long the engine's ``get_config`` serves the driver's load, compare and commit without
    reading the device again, nothing read or written since (0, the default: never; a driver
    sets it from its options: :meth:`_fresh_engine_reading`)."""
    _engine_read: tuple[str, float, float] | None = None
    """The engine's last ``get_config`` reading, when it ended (``monotonic``, ``perf_counter``)."""

    def _fresh_engine_reading(self) -> str | None:
        """The engine's last reading if it is still the state checked (nothing read nor written
        since, no refusal held) and at most :attr:`running_reuse_seconds` old; else ``None``.

        Apply reads the host at its turn, under the device lock (issue 27 item 1): that reading is
        what the candidate is computed and compared from, and the check of the commit that
        follows, without reading again (:meth:`_commit_check`)."""
        read = self._engine_read
        if (read is None or read[0] is not self._checked_state or self._held or self.running_reuse_seconds <= 0
                or time.monotonic() - read[1] > self.running_reuse_seconds):
            return None
        return read[0]

    def _commit_check(self, *, base: str | None = None) -> str:
        """The check just before a commit's write: the engine's fresh reading when there is one
        (:meth:`_fresh_engine_reading`; the write window then runs from it), else
        :meth:`_reread_and_compare`. Returns the state the write starts from."""
        fresh, read = self._fresh_engine_reading(), self._engine_read
        if fresh is not None and read is not None and (base is None or base is fresh):
            self._reread_done = read[2]
            return fresh
        return self._reread_and_compare("commit", base=base)

    def running_config(self) -> str:
        """The running configuration, as the device prints it (read now)."""
        raise NotImplementedError

    # -- another hand: the state checked, read again before every write (issue 21 item 3) ----

    def _read_running(self) -> str:
        """Read the running state and keep it as the state that was checked (:attr:`_checked_state`).

        Every reading the engine makes (``get_config``: apply's check, the post-checks' reading,
        the restore's check for lines changed by someone else) and every reading a candidate or a
        diff is computed from goes through here: the last one is what a write is checked against.
        """
        text = self.running_config()
        self._checked_state = text
        return text

    def _reread_and_compare(self, what: str = "commit", *, base: str | None = None) -> str:
        """Read the device again, immediately before a write; refuse unless it is the state checked.

        Called by every ``commit_config`` and every ``rollback`` (a restore's two ways: the inverse,
        and ``load_replace_candidate`` + ``commit_config``) before anything is sent, the engine
        holding the device lock (:mod:`netchange.apply.locks`). A difference (compared through
        :meth:`normalize_config`) is another hand's: :class:`ChangedMeanwhile` names the device and
        the lines, nothing is written, and the state checked is kept, so that any later write of
        this session is refused too until the engine reads the device again (a restore falling
        back from the inverse to the snapshot erases nothing either).

        ``base``: the reading a whole target was computed from (a merge's running state + its
        lines), when the driver keeps one: the fresh reading must equal it too, else the target
        would erase what changed since (refused, as the platform cannot merge it by itself).

        With no state checked (nothing read since the session opened or last wrote) the fresh
        reading is the state checked. Returns the fresh reading: a driver that builds its write
        from a whole state builds it from this one.
        """
        checked = self._checked_state
        fresh = self.running_config()
        self._reread_done = time.perf_counter()
        now = self.normalize_config(fresh)
        for reference in (checked, base):
            if reference is None:
                continue
            before = self.normalize_config(reference)
            if before != now:
                lines = tuple(changed_between(before, now)) or ("(whitespace or order only)",)
                self._checked_state = checked
                self._held = True
                shown = " | ".join(lines[:6]) + (f" | … ({len(lines) - 6} more)" if len(lines) > 6 else "")
                raise ChangedMeanwhile(
                    f"{self._device_name}: changed by another hand since it was read, {what} refused, "
                    f"nothing written: {shown}", lines)
        self._held = False  # as checked again (the other hand's lines gone): the hold ends
        self._checked_state = fresh
        return fresh

    def _writing(self) -> None:
        """The write starts now: record the window left since the re-read (:attr:`write_window_ms`)
        and forget the state checked (this session changes the device: read it again before
        another write; a driver that reads its write back keeps that reading through
        :meth:`_read_running`)."""
        if self._reread_done is not None:
            self.write_window_ms = (time.perf_counter() - self._reread_done) * 1000
            self._reread_done = None
        self._checked_state = None

    @property
    def _device_name(self) -> str:
        return str(getattr(self, "name", "") or self.hostname)

    def candidate_config(self) -> str | None:
        """The loaded candidate in the device's syntax; ``None`` when none is loaded."""
        return None

    def startup_config(self) -> str:
        """The configuration the device starts from, where it keeps one apart; ``""`` otherwise."""
        return ""

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """The output of each of ``commands``, by command: read-only commands only.

        Every command is checked before any is sent, by :func:`check_read_only` against the
        platform's profile (``read_only`` in ``netchange/platforms/<name>.yaml``). A driver whose
        ``cli()`` takes something else than commands (bind: ``NAME TYPE`` queries, netconf: a
        datastore's name) refuses what is not one the same way. A command the device answers
        with an error is output, not an exception.

        :raise CommandRefused: a command is not read-only (bad input, nothing was sent;
            NAPALM's ``CommandErrorException``).
        """
        raise NotImplementedError

    # -- candidate ---------------------------------------------------------------------------

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """Hold ``config`` (or the text of the file ``filename``), in the platform's syntax, to be
        merged onto the running configuration by :meth:`commit_config`. The device's running
        configuration does not change.

        :raise MergeRejected: the candidate is refused (a command the profile refuses, a syntax
            the device's own checker rejects); no candidate is left loaded.
        """
        raise NotImplementedError

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        """As :meth:`load_merge_candidate`, but the candidate replaces the running configuration
        entirely: what it lacks is removed at commit. A restore loads the snapshot this way.

        :raise ReplaceRejected: the candidate is refused; no candidate is left loaded.
        """
        raise NotImplementedError

    def compare_config(self) -> str:
        """The difference between the running configuration (read now) and what the candidate
        would make of it, in netchange's diff format (:mod:`netchange.drivers.diffformat`);
        ``""`` when nothing is loaded or nothing would change.

        The classifier reads this diff and apply compares it with the approved plan's: the same
        running configuration and candidate give the same text.
        """
        raise NotImplementedError

    def discard_config(self) -> None:
        """Drop the loaded candidate; the device does not change. Harmless with nothing loaded."""
        raise NotImplementedError

    # -- commit and rollback -----------------------------------------------------------------

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        """Make the loaded candidate the running configuration; the candidate is dropped.

        ``revert_in=N``: a confirmed commit, which the device itself reverts after ``N`` seconds
        unless :meth:`confirm_commit` follows (:meth:`has_pending_commit` is true meanwhile). Only
        where the platform's profile says ``confirmed_commit: true``; elsewhere apply commits
        without it and rolls back by itself.

        :raise MergeRejected: (``ReplaceRejected`` for a replace) the device refused a line; the
            lines already sent were undone first, and the message says whether that worked.
        :raise CommitRefused: nothing is loaded, or a confirmed commit is already pending.
        :raise ChangedMeanwhile: read again just before the write (:meth:`_reread_and_compare`),
            the device differs from the state checked; nothing was written.
        """
        raise NotImplementedError

    def confirm_commit(self) -> None:
        """Keep the pending confirmed commit: :meth:`has_pending_commit` is false afterwards.

        :raise ConfirmRefused: nothing is pending (it may have reverted already), the device
            refused, or the platform has no confirmed commit (:class:`NoCommitConfirm`).
        """
        raise NotImplementedError

    def has_pending_commit(self) -> bool:
        """Whether a ``commit_config(revert_in=N)`` waits for :meth:`confirm_commit`."""
        raise NotImplementedError

    def rollback(self) -> None:
        """Undo the last commit of this session: cancel a pending confirmed commit, else apply
        the inverse of the last commit (the driver knows what it sent).

        Restore reads the device again afterwards and compares it with the snapshot; when this
        did not bring it back, it loads the snapshot with :meth:`load_replace_candidate`.

        :raise CommitRefused: the device refused the rollback, or (for some drivers) nothing
            was committed in this session.
        :raise ChangedMeanwhile: read again just before the write, the device differs from the
            state checked (the restore's own reading): nothing was written, the restore alarms.
        """
        raise NotImplementedError


    # -- saving ------------------------------------------------------------------------------

    def can_save(self, save: SaveSteps) -> bool:
        """Whether this device keeps a startup state apart that ``save`` writes (NETCONF: only
        when it advertises ``save.capability``). Default: yes, as the profile says."""
        return True

    def save_config(self, save: SaveSteps) -> bool:
        """Make the running configuration the one the device starts from, as the platform's
        profile says (``save``: ``netchange/platforms/<name>.yaml``), then read the startup
        state back: whether it equals the running configuration (:meth:`running_for_save`: read now,
        or the state left as the session last read it; both without the profile's header lines,
        compared through :meth:`normalize_config`).

        Apply calls it once a host's post-checks passed (after its confirm), the restore runner
        after a verified restore: a device that reloads then comes back as netchange left it,
        never with a change that was rolled back. The steps are data; a transport says only how
        it sends the save (:meth:`send_save`) and reads the startup back (:meth:`read_startup`).

        :raise CommitRefused: the device answered the save with an error.
        :raise SessionClosed: the session died under it.
        """
        self.send_save(save)
        startup = save.configuration(self.read_startup(save))
        running = save.configuration(self.running_for_save())
        return self.normalize_config(startup) == self.normalize_config(running)

    def running_for_save(self) -> str:
        """The running state a save's startup is compared with: read now (a driver that keeps the
        reading of the state it left, with nothing sent since, may answer that instead)."""
        return self.running_config()

    def send_save(self, save: SaveSteps) -> None:
        """Send ``save.command`` the way this transport sends one (the transport's hook)."""
        raise NotImplementedError(f"{type(self).__name__}: no save on this transport")

    def read_startup(self, save: SaveSteps) -> str:
        """The startup state as ``save.startup`` reads it (the transport's hook)."""
        raise NotImplementedError(f"{type(self).__name__}: no startup reading on this transport")


class NoCommitConfirm:
    """For devices without a confirmed commit: nothing is ever pending, there is nothing to confirm.

    Such a driver refuses ``commit_config(revert_in=…)`` as NAPALM's drivers do, and apply rolls
    back by itself instead of waiting for the device to revert.
    """

    def has_pending_commit(self) -> bool:
        return False

    def confirm_commit(self) -> None:
        raise ConfirmRefused(f"{type(self).__name__}: this platform has no confirmed commit")


def changed_between(before: str, after: str) -> list[str]:
    """The lines added (``+``) and removed (``-``) from ``before`` to ``after``, without context."""
    return [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not line.startswith(("+++", "---", "@@")) and line[1:].strip()
    ]


def check_read_only(profile: PlatformProfile, commands: Iterable[str]) -> None:
    """Refuse the whole call unless every command is read-only by ``profile``'s rule
    (:meth:`netchange.platforms.ReadOnlyCommands.refusal`): the one check of every ``cli()``."""
    for command in commands:
        reason = profile.read_only.refusal(command)
        if reason is not None:
            raise CommandRefused(f"{profile.name}: not a read-only command: {command!r} ({reason})")


__all__ = [
    "DriverOptions",
    "DriverOptionsError",
    "NetchangeDriver",
    "NoCommitConfirm",
    "changed_between",
    "check_read_only",
]
