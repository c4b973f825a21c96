"""Who is acting: the OS account, mapped to a person of the policy.

The journal's "who" must be trustworthy, so by default it is the operating-system account
(``getpass.getuser()``), never a command-line option. An account that is not in the policy may
read (show, list, report) but not approve, apply or close.

``NETCHANGE_ACTOR=<login>`` replaces the OS account **only** when the policy says
``identity: {allow_override: true}``: the lab and the tests need to play several people from one
account. A production policy sets it false, and then a set ``NETCHANGE_ACTOR`` is an error rather
than silently ignored, so nobody believes they acted as someone else.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Literal

from netchange.errors import BadRequest, GuardRefused
from netchange.policy._model import Person, PersonRole, Policy

ENV_VAR = "NETCHANGE_ACTOR"


@dataclass(frozen=True)
class Actor:
    login: str
    person: Person | None
    source: Literal["os", "override"]

    @property
    def known(self) -> bool:
        return self.person is not None

    def label(self) -> str:
        return self.person.label() if self.person else f"{self.login} (not in the policy)"

    def require(self, action: str, roles: tuple[PersonRole, ...] = ()) -> Person:
        """The person behind the account, if allowed to ``action``; else ``GuardRefused``."""
        if self.person is None:
            raise GuardRefused(f"{self.login} is not a person of the policy: may read, not {action}")
        if roles and not set(roles) & set(self.person.roles):
            raise GuardRefused(f"{self.person.label()} may not {action} (needs role {' or '.join(roles)})")
        return self.person


def actor_for(policy: Policy, login: str, source: Literal["os", "override"] = "os") -> Actor:
    return Actor(login=login, person=policy.person(login), source=source)


def current_actor(policy: Policy, override: str | None = None) -> Actor:
    """The acting person: ``override`` (the invocation's ``NETCHANGE_ACTOR``, resolved by
    :class:`netchange.config._settings.Settings`) if the policy allows overriding, else the OS account."""
    override = (override or "").strip()
    if override:
        if not policy.identity.allow_override:
            raise BadRequest(
                f"{ENV_VAR} is set but policy {policy.version} does not allow choosing the actor"
            )
        return actor_for(policy, override, "override")
    return actor_for(policy, getpass.getuser(), "os")
