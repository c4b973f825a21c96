"""What every request of the service shares: settings, accounts, sessions, throttle, templates.

The service reads the same files as the CLI (``netchange.config._settings.Settings``): the policy is
read per request (as each CLI command reads it), so an adopted new policy is seen at once, and
the journal is opened per request (SQLite, one connection per thread).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from netchange.config import Settings
from netchange.journal import Journal
from netchange.policy import Policy, clock, load_policy
from netchange.service.accounts import Accounts, accounts_path
from netchange.service.sessions import Sessions, load_key
from netchange.service.throttle import Throttle

if TYPE_CHECKING:
    from netchange.service.directory.holds import Holds

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@dataclass
class Service:
    settings: Settings
    secure_cookies: bool = False
    """Cookies carry ``Secure``: the service is reached over HTTPS (TLS here or at a proxy)."""
    sessions: Sessions = field(init=False)
    throttle: Throttle = field(default_factory=Throttle)
    templates: Environment = field(init=False)
    holds: Holds | None = field(init=False, default=None)
    """The directory's side of sessions (``identity: ldap`` or ``oidc``); ``None``: local accounts."""
    _policy: tuple[tuple[int, int, int], Policy] | None = field(default=None, init=False, repr=False)
    _stamps: tuple[tuple[int, int, int], dict[str, str]] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        identity = self.settings.identity
        url = self.settings.database_url
        shared = None
        key = load_key(self.settings.home)
        if url:
            # Replicas share sign-in state through the team's database (``shared``): sessions (with
            # the directory's hold; an OIDC hold's tokens encrypted under the session key), and the
            # throttle.
            from netchange.service.shared import Database, PgSessionStore, PgThrottle

            db = Database(url)
            self.throttle = PgThrottle(db)
            shared = PgSessionStore(db, key=key)
        self.sessions = Sessions(key, store=shared)
        if identity.provider != "local":
            # Here: python-ldap and authlib (the ``directory`` extra) load only when configured.
            from netchange.service.directory.holds import Holds

            if shared is not None:
                # The epoch's clock: every replica compares the hold's time alike.
                self.holds = Holds(identity, clock=time.time, shared=shared, key=key)
            else:
                self.holds = Holds(identity, key=key)
        # Autoescape every template: device text, comments and names are never markup.
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def policy(self) -> Policy:
        """The policy file as it is now: read again whenever the file changed (size, time, inode)."""
        path = self.settings.policy_file()
        try:
            st = path.stat()
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            return load_policy(path)  # the one clear error of the CLI
        cached = self._policy
        if cached is not None and cached[0] == key:
            return cached[1]
        policy = load_policy(path)
        self._policy = (key, policy)
        return policy

    def render(self, template: str, policy: Policy | None = None, **context: Any) -> str:
        """``template`` rendered with the policy's time zone, which the footer of every page names
        (the sign-in page included): the one way a page is rendered."""
        policy = policy or self.policy()
        return self.templates.get_template(template).render(tz=policy.timezone, **context)

    def accounts(self) -> Accounts:
        # Read per sign-in / token check: `netchange users ...` edits it while the service runs.
        return Accounts.load(self.settings.home)

    def password_stamp(self, login: str) -> str:
        """``login``'s password stamp now (``Accounts.password_stamp``): read again whenever the
        accounts file changed (size, time, inode), so a password set by the CLI ends sessions at once."""
        path = accounts_path(self.settings.home)
        try:
            st = path.stat()
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = (0, 0, 0)
        cached = self._stamps
        if cached is None or cached[0] != key:
            accounts = Accounts.load(self.settings.home)
            cached = (key, {login: accounts.password_stamp(login) for login in accounts.data})
            self._stamps = cached
        return cached[1].get(login, "")

    @contextmanager
    def journal(self) -> Iterator[Journal]:
        with Journal(self.settings.journal) as journal:
            yield journal

    def now(self, policy: Policy) -> dt.datetime:
        return clock.now(policy, self.settings.now)
