"""Who signs in: local accounts, an LDAP directory or an OIDC provider (``identity:`` of the settings).

A directory answers two questions, in :class:`Found`: is this login a living entry, and in which
groups. What the person may do is the policy's answer (``netchange.policy.directory_person``): a
login the policy does not list gets nothing, whatever the directory says. The directory is asked
at sign-in and again, per session, at the first request after ``recheck_minutes``
(:mod:`netchange.service.directory.holds`): a person removed from it cannot sign in on the next
attempt, and their sessions end within that bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from netchange.errors import NetchangeError


@dataclass(frozen=True)
class Found:
    """A login the directory vouches for, and its groups (names as the policy's mapping uses them)."""

    login: str
    groups: tuple[str, ...]


class DirectoryUnavailable(NetchangeError):
    """The directory did not answer: nobody signs in and sessions due a check end (the safe side)."""

    exit_code = 3
