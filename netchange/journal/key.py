"""The journal's key: the chain is HMAC-SHA256 under a key kept outside the journal file.

A plain hash chain only proves that rows were not changed by someone who did not recompute it;
whoever can write the file can recompute it. With a key, rewriting the history needs the key too
(quality plan: every request and answer exists in writing — and that writing must be worth
something). By default the key file sits in the state directory, beside the secrets: whoever holds
that directory holds the key, which is why the heads are also kept outside it
(:mod:`netchange.journal.anchors`; the reasons: ``docs/journal.md``).

Where the key comes from, first found wins:

1. the key material given (``NETCHANGE_JOURNAL_KEY``, read by :mod:`netchange.config._settings` and set
   by the CLI with :func:`configure`; registered for scrubbing like any secret);
2. the key file: the one named by the caller, else the one the CLI set with :func:`configure`
   (``journal.key`` next to the secrets file), else ``journal.key`` next to the journal file
   (also read from there when the configured one does not exist).

The key file is created (mode 0600, 32 random bytes written as hex) the first time a journal is
keyed; it is never printed. Its text is the key material, so copying it into
``NETCHANGE_JOURNAL_KEY`` gives the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from netchange import redact
from netchange.errors import BadRequest
from netchange.privatefile import FILE_MODE, private_dir

ENV = "NETCHANGE_JOURNAL_KEY"
"""The variable :mod:`netchange.config._settings` reads the key from (named in messages)."""
KEY_FILE_NAME = "journal.key"
_CHECK = b"netchange journal key check v1"

@dataclass(frozen=True)
class JournalSetup:
    """How this process opens journals, from its settings (the CLI's root callback sets it)."""

    key_file: Path | None = None
    """Where the key file is kept (the CLI: next to the secrets file)."""
    key_material: str | None = field(default=None, repr=False)
    """The key itself (``Settings.journal_key``), which wins over any file."""
    syslog: bool = False
    """Each committed head also goes to syslog (``Settings.journal_syslog``)."""
    anchors: Path | None = None
    """The directory where each committed head is kept, outside the state directory
    (``Settings.journal_anchors``; ``None``: nowhere, the library's default), see
    :mod:`netchange.journal.anchors`."""
    database_url: str | None = field(default=None, repr=False)
    """The team's PostgreSQL database (``Settings.database_url``): journals are kept there."""
    state_dir: Path | None = None
    """The state directory (``Settings.home``), to say what ``verify`` can prove against its owner
    (``None``: the journal's own directory)."""


_setup = JournalSetup()


def configure(setup: JournalSetup | None) -> None:
    """Set how this process opens journals (``None``: back to the library defaults)."""
    global _setup  # noqa: PLW0603 - one setting per process, like the registered secrets
    _setup = setup or JournalSetup()


def setup() -> JournalSetup:
    return _setup


@dataclass(frozen=True)
class JournalKey:
    """The key if found, and where it was looked for (to say so when it is missing)."""

    material: bytes | None
    where: str
    file: Path | None
    existed: bool

    @property
    def check(self) -> str:
        """A value that identifies the key without revealing it (stored in the keying event)."""
        if self.material is None:
            raise ValueError("no key")
        return hmac.new(self.material, _CHECK, hashlib.sha256).hexdigest()


def find_key(journal_path: Path, key_file: Path | None = None) -> JournalKey:
    """The journal's key, or where it will be created (``material`` None) if there is none yet."""
    given = _setup.key_material
    if given:
        redact.register(given)
        return JournalKey(given.strip().encode(), f"${ENV}", None, existed=True)
    beside = journal_path.parent / KEY_FILE_NAME
    configured = key_file or _setup.key_file or beside
    # Read from the configured place, else from beside the journal (a journal written by a
    # library caller or a test, read by the CLI); created only at the configured place.
    for path in dict.fromkeys((configured, beside)):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if stat.S_IMODE(st.st_mode) & 0o077:
            raise BadRequest(f"{path}: journal key file must not be readable by group or others (chmod 600)")
        text = path.read_text(encoding="ascii", errors="replace").strip()
        if len(text) < 32:
            raise BadRequest(f"{path}: journal key file is empty or too short")
        redact.register(text)
        return JournalKey(text.encode(), str(path), path, existed=True)
    return JournalKey(None, str(configured), configured, existed=False)


def create_key(found: JournalKey) -> JournalKey:
    """Create the key file of ``found`` (0600 from creation); another process's key wins a race."""
    if found.file is None:
        raise BadRequest(f"no journal key file to create ({found.where})")
    private_dir(found.file.parent)
    text = secrets.token_bytes(32).hex()
    # Written whole under a temporary name, then linked into place: a reader never sees a
    # partial key, and of two processes creating it at once, the first link wins.
    tmp = found.file.with_name(f".{found.file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, found.file)
    except FileExistsError:  # made by another process meanwhile: use it
        again = find_key(found.file.parent / KEY_FILE_NAME, found.file)
        return JournalKey(again.material, again.where, again.file, existed=False)
    finally:
        tmp.unlink(missing_ok=True)
    redact.register(text)
    return JournalKey(text.encode(), str(found.file), found.file, existed=False)
