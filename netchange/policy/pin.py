"""The policy in force is pinned in the journal by its digest; changing it is a journaled act.

``--policy`` and ``NETCHANGE_POLICY`` are chosen by whoever runs a command, and a version string
is whatever the file says. So the journal pins the SHA-256 of the policy file's bytes:

- the first command that decides (plan, approve, apply, rollback, close) on a journal pins the
  policy it was given (event ``policy_pinned``: digest, version, path, the policy's content);
- every later deciding command with a policy of another digest is refused (exit 3), naming both
  versions;
- ``netchange policy adopt`` puts a new file in force (event ``policy_adopted``), and only for a
  person with a role of ``policy_admin`` *in the policy pinned at that moment*, identified by
  that policy's identity rules: a new file cannot grant itself the right to be adopted.

The pin events carry the policy's content, so the journal alone says which rules were in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from netchange.errors import GuardRefused
from netchange.journal import EventKind, Journal
from netchange.policy._identity import current_actor
from netchange.policy._model import Identity, Person, Policy, PolicyAdmin

PIN_KINDS = (EventKind.POLICY_PINNED, EventKind.POLICY_ADOPTED)


class PolicyNotPinned(GuardRefused):
    """The policy given is not the one pinned in the journal."""


@dataclass(frozen=True)
class Pin:
    """The policy in force, as the journal last recorded it."""

    seq: int
    kind: str
    digest: str
    version: str
    path: str
    actor: str
    content: dict[str, Any]

    def authority(self) -> Policy:
        """The pinned policy, rebuilt from the journal (not from any file), to judge who may adopt.

        A pin written by another netchange version may not validate as a whole any more; then
        only what adoption needs (identity rules, people, ``policy_admin``) is rebuilt, so that
        a newer model never locks the administrators out.
        """
        try:
            return Policy.model_validate(self.content)
        except ValidationError:
            pass
        try:
            return Policy.model_construct(
                version=self.version,
                client="",
                sites={},
                categories={},
                identity=Identity.model_validate(self.content.get("identity") or {}),
                people=tuple(Person.model_validate(p) for p in self.content.get("people") or ()),
                policy_admin=PolicyAdmin.model_validate(self.content.get("policy_admin") or {}),
            )
        except (ValidationError, TypeError) as exc:
            raise PolicyNotPinned(
                f"the policy pinned in the journal ({self.version}, {self.digest[:12]}) cannot be read: {exc}"
            ) from None


def pinned(journal: Journal) -> Pin | None:
    """The policy pinned in ``journal``, or ``None`` before its first deciding command."""
    event = journal.last_event(PIN_KINDS)
    if event is None:
        return None
    data = event.data
    return Pin(
        seq=event.seq,
        kind=event.kind,
        digest=str(data.get("digest", "")),
        version=str(data.get("version", "")),
        path=str(data.get("path", "")),
        actor=event.actor,
        content=dict(data.get("policy") or {}),
    )


def pinned_digest(journal: Journal) -> str | None:
    pin = pinned(journal)
    return pin.digest if pin else None


def _data(policy: Policy, **extra: object) -> dict[str, Any]:
    return {
        "digest": policy.digest,
        "version": policy.version,
        "path": policy.path,
        **extra,
        "policy": policy.model_dump(mode="json"),
    }


def require(policy: Policy, journal: Journal, *, actor: str) -> Pin:
    """``policy`` if it is the one pinned in ``journal`` (pinning it on first use), else refused."""
    pin = pinned(journal)
    if pin is None:
        # First deciding command on this journal: pin what it was given. If another shell pinned
        # in between, the write is skipped and this command is judged against theirs.
        journal.event_if_latest(PIN_KINDS, 0, EventKind.POLICY_PINNED, actor=actor, data=_data(policy))
        pin = pinned(journal)
        assert pin is not None
    if pin.digest != policy.digest:
        admins = " or ".join(pin.authority().policy_admin.roles) if pin.content else "policy administrator"
        raise PolicyNotPinned(
            f"policy {policy.version} ({policy.digest[:12]}, {policy.path or 'in memory'}) is not the "
            f"policy in force, {pin.version} ({pin.digest[:12]}): refused; a {admins} must run "
            "'netchange policy adopt' to put it in force"
        )
    return pin


@dataclass(frozen=True)
class Adoption:
    pin: Pin
    previous: Pin | None
    changed: bool


def adopt(policy: Policy, journal: Journal, *, reason: str = "", actor: str | None = None) -> Adoption:
    """Put ``policy`` in force in ``journal``, for a ``policy_admin`` of the policy pinned now.

    ``actor``: the invocation's ``NETCHANGE_ACTOR`` (``Settings.actor``), honoured as
    :func:`netchange.policy._identity.current_actor` says."""
    from netchange.models import person_text  # the request models: only when a policy is adopted

    reason = person_text(reason, what="reason")
    previous = pinned(journal)
    if previous is None:
        # Nothing pinned yet: the first use pins, whoever it is (as plan or apply would).
        who = current_actor(policy, actor).login
        journal.event_if_latest(PIN_KINDS, 0, EventKind.POLICY_PINNED, actor=who, data=_data(policy, reason=reason))
        pin = pinned(journal)
        assert pin is not None
        return Adoption(pin=pin, previous=None, changed=pin.digest == policy.digest)
    if previous.digest == policy.digest:
        return Adoption(pin=previous, previous=previous, changed=False)
    in_force = previous.authority()
    # Identity and rights by the policy in force: a new file cannot allow NETCHANGE_ACTOR for
    # itself, nor list its author as an administrator.
    acting = current_actor(in_force, actor)
    person = acting.require(
        f"adopt policy {policy.version} (in force: {previous.version})", tuple(in_force.policy_admin.roles)
    )
    data = _data(
        policy,
        reason=reason,
        previous_digest=previous.digest,
        previous_version=previous.version,
        roles=list(person.roles),
    )
    if not journal.event_if_latest(PIN_KINDS, previous.seq, EventKind.POLICY_ADOPTED, actor=person.login, data=data):
        raise PolicyNotPinned("another policy was pinned or adopted meanwhile; look at it and try again")
    pin = pinned(journal)
    assert pin is not None
    return Adoption(pin=pin, previous=previous, changed=True)
