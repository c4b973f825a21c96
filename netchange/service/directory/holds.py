"""The directory's side of each session: who the directory said the person was, and when.

A session opened through LDAP or OIDC has a hold here (same session id). At each request the
hold gives the person as the policy sees them with the directory's groups
(``netchange.policy.directory_person``: the policy read now, so an edited policy counts at once);
once ``recheck_minutes`` have passed since the last check, the directory is asked again first. So
a person removed from the directory (or from every mapped group) keeps a session for at most
``recheck_minutes`` after the last check, and only until their next request after it; a
directory that does not answer at that moment ends the session too (the safe side). The clock is
a parameter: the tests move it.

API tokens of directory people are checked the same way, per login (:meth:`Holds.token_person`).

Replicas (issue 24 item 5): with LDAP and the team's database, each session's hold is kept with
the session's row (``shared``, a :class:`HoldStore`; the clock then the epoch's, which every
replica reads alike), so any replica knows who the directory said the person was and when it was
last asked. With OIDC the row also holds the provider's tokens the re-check needs, **encrypted**
(AES-GCM, under a key derived from the session key every replica shares: ``shared``), never in
clear: OIDC sessions are shared alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from netchange.config import IdentitySettings
from netchange.policy import Person, Policy, directory_person
from netchange.service.directory import DirectoryUnavailable, Found

if TYPE_CHECKING:
    from netchange.service.directory.ldapdir import LdapDirectory
    from netchange.service.directory.oidcdir import OidcProvider, Tokens


@dataclass(frozen=True)
class Hold:
    found: Found
    checked: float
    tokens: Tokens | None = None
    """OIDC only: what the provider gave this session, for the re-check."""


class HoldStore(Protocol):
    """Where a session's hold lives when replicas share it (``netchange.service.shared``)."""

    def load_hold(self, sid: str) -> tuple[Found, float, Tokens | None] | None:
        """The directory's answer for session ``sid``, when it was given, and (OIDC) the provider's
        tokens; ``None``: none."""
        ...
    def save_hold(self, sid: str, found: Found, checked: float, tokens: Tokens | None = None) -> None: ...


class Holds:
    def __init__(self, settings: IdentitySettings, *, clock: Callable[[], float] = time.monotonic,
                 shared: HoldStore | None = None, key: bytes | None = None) -> None:
        """``key``: the service's session key, which seals a started OIDC sign-in in the browser's
        cookie (``OidcProvider``), so that any replica finishes it."""
        self.settings = settings
        self.shared = shared
        self.recheck = settings.recheck_minutes * 60.0
        self.clock = clock
        # Each client's library loads only when its provider is the one configured.
        self.ldap: LdapDirectory | None = None
        self.oidc: OidcProvider | None = None
        if settings.ldap is not None:
            from netchange.service.directory.ldapdir import LdapDirectory

            self.ldap = LdapDirectory(settings.ldap)
        if settings.oidc is not None:
            from netchange.service.directory.oidcdir import OidcProvider

            self.oidc = OidcProvider(settings.oidc, key=key)  # its clock: the epoch's, alike on every replica
        self._holds: dict[str, Hold] = {}
        self._logins: dict[str, Hold] = {}
        self._lock = threading.Lock()

    @property
    def provider(self) -> str:
        return self.settings.provider

    def sign_in(self, policy: Policy, login: str, password: str) -> tuple[Found | None, Person | None]:
        """LDAP: the directory's answer for ``login``/``password`` and what the policy makes of it."""
        if self.ldap is None:
            return None, None
        found = self.ldap.authenticate(login, password)
        return found, directory_person(policy, login, found.groups) if found else None

    def opened(self, sid: str, found: Found, tokens: Tokens | None = None) -> None:
        if self.shared is not None:
            self.shared.save_hold(sid, found, self.clock(), tokens)
        with self._lock:
            self._holds[sid] = Hold(found=found, checked=self.clock(), tokens=tokens)
            self._logins[found.login] = Hold(found=found, checked=self.clock())

    def closed(self, sid: str) -> None:
        with self._lock:
            self._holds.pop(sid, None)

    def person(self, sid: str, policy: Policy) -> Person | None:
        """The session's person now (re-checked against the directory when due); ``None``: it ends."""
        with self._lock:
            hold = self._holds.get(sid)
        if self.shared is not None:  # the replicas' common answer, whoever asked last
            loaded = self.shared.load_hold(sid)
            hold = None if loaded is None else Hold(found=loaded[0], checked=loaded[1], tokens=loaded[2])
        if hold is None:
            return None
        if self.clock() - hold.checked >= self.recheck:
            login = hold.found.login
            hold = self._recheck(hold)
            with self._lock:
                if hold is None:
                    self._holds.pop(sid, None)
                    self._logins.pop(login, None)  # their API tokens end with it
                    return None
                self._holds[sid] = hold
                self._logins[login] = replace(hold, tokens=None)
            if self.shared is not None:
                self.shared.save_hold(sid, hold.found, hold.checked, hold.tokens)
        person = directory_person(policy, hold.found.login, hold.found.groups)
        if person is None:
            with self._lock:
                self._holds.pop(sid, None)
        return person

    def token_person(self, login: str, policy: Policy) -> Person | None:
        """The owner of an API token now. LDAP is asked again when due. An OIDC provider cannot be
        asked about a person without their tokens: their API tokens live ``token_hours``
        (``Accounts.new_token``), while the policy lists them, with the groups their last session
        showed (none known since a restart: with a mapping, nothing until they sign in again)."""
        if self.ldap is None:
            with self._lock:
                hold = self._logins.get(login)
            if hold is None:
                return None if policy.directory.groups else policy.person(login)
            return directory_person(policy, login, hold.found.groups)
        with self._lock:
            hold = self._logins.get(login)
        if hold is None or self.clock() - hold.checked >= self.recheck:
            hold = self._recheck(hold or Hold(found=Found(login, ()), checked=0.0))
            with self._lock:
                if hold is None:
                    self._logins.pop(login, None)
                    return None
                self._logins[login] = hold
        return directory_person(policy, login, hold.found.groups)

    def _recheck(self, hold: Hold) -> Hold | None:
        try:
            if self.ldap is not None:
                found = self.ldap.lookup(hold.found.login)
                return None if found is None else Hold(found=found, checked=self.clock())
            if self.oidc is not None and hold.tokens is not None:
                found, tokens = self.oidc.recheck(hold.found.login, hold.tokens)
                return None if found is None else replace(hold, found=found, checked=self.clock(), tokens=tokens)
        except DirectoryUnavailable:
            return None
        return None
