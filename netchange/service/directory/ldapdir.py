"""Sign-in against an LDAP directory (python-ldap): bind as the person, over StartTLS.

The service account (``bind_dn``) only finds things: the entry of a login and the groups that
name that entry. The password is proved by a bind *as the person's entry*, on a connection of its
own, never compared here. Every connection is StartTLS (or ``ldaps://``) with the certificate
checked against ``ca_file`` (or the system's CAs): a password never crosses in clear. An empty
password is refused before any bind: LDAP takes an empty simple bind as anonymous and says yes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ldap
from ldap.filter import escape_filter_chars

from netchange.config import LdapSettings
from netchange.service.directory import DirectoryUnavailable, Found

LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""What a login of the policy looks like; anything else is refused before reaching the directory."""


class LdapDirectory:
    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings

    def authenticate(self, login: str, password: str) -> Found | None:
        """``login`` if ``password`` is theirs (a bind as their entry) and they are in the directory."""
        if not LOGIN.match(login) or not password or len(password) > 1024:
            return None
        with self._service() as conn:
            dn = self._find(conn, login)
            if dn is None:
                return None
            with self._connection() as person:
                try:
                    person.simple_bind_s(dn, password)
                except ldap.INVALID_CREDENTIALS:
                    return None
                except ldap.LDAPError as exc:
                    raise _unavailable(exc) from None
            return Found(login=login, groups=self._groups(conn, dn))

    def lookup(self, login: str) -> Found | None:
        """``login``'s entry and groups now, as the service account sees them (the re-check)."""
        if not LOGIN.match(login):
            return None
        with self._service() as conn:
            dn = self._find(conn, login)
            return None if dn is None else Found(login=login, groups=self._groups(conn, dn))

    # --- connections -----------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        s = self.settings
        try:
            conn = ldap.initialize(s.url)
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, s.timeout)
            conn.set_option(ldap.OPT_TIMEOUT, s.timeout)
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            if s.ca_file is not None:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(s.ca_file))
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # the TLS options above take effect (last)
            if s.starttls:
                conn.start_tls_s()
        except ldap.LDAPError as exc:
            raise _unavailable(exc) from None
        try:
            yield conn
        finally:
            conn.unbind_s()

    @contextmanager
    def _service(self) -> Iterator[Any]:
        with self._connection() as conn:
            try:
                conn.simple_bind_s(self.settings.bind_dn, self.settings.bind_password)
            except ldap.LDAPError as exc:
                raise _unavailable(exc, "the service account's bind failed") from None
            yield conn

    def _find(self, conn: Any, login: str) -> str | None:
        s = self.settings
        query = s.user_filter.replace("{login}", escape_filter_chars(login))
        try:
            found = conn.search_s(s.user_base, ldap.SCOPE_SUBTREE, query, ["1.1"])
        except ldap.NO_SUCH_OBJECT:
            return None
        except ldap.LDAPError as exc:
            raise _unavailable(exc) from None
        entries = [dn for dn, _ in found if dn]
        return entries[0] if len(entries) == 1 else None  # none, or ambiguous: nobody

    def _groups(self, conn: Any, dn: str) -> tuple[str, ...]:
        s = self.settings
        query = s.group_filter.replace("{dn}", escape_filter_chars(dn))
        try:
            found = conn.search_s(s.group_base, ldap.SCOPE_SUBTREE, query, [s.group_attribute])
        except ldap.NO_SUCH_OBJECT:
            return ()
        except ldap.LDAPError as exc:
            raise _unavailable(exc) from None
        names = {v.decode("utf-8", "replace") for dn, attrs in found if dn for v in attrs.get(s.group_attribute, [])}
        return tuple(sorted(names))


def _unavailable(exc: Exception, what: str = "") -> DirectoryUnavailable:
    # python-ldap's errors carry a dict (desc, info); never the password (it is not in them).
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = "; ".join(str(detail.get(k)) for k in ("desc", "info") if detail.get(k)) or type(exc).__name__
    return DirectoryUnavailable(f"LDAP directory: {what + ': ' if what else ''}{text}")
