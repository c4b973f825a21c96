"""People signed in through a directory (LDAP, OIDC): the policy stays the authority.

A directory says who someone is and which groups they are in; the policy says what they may do.
``directory.groups`` in the policy maps a group to roles (and optionally sites). The person's
roles in the service are those of their policy entry that one of their groups also grants, and
their sites are narrowed likewise: the directory may take away what the policy lists, never add
to it. So

- a login the policy does not list gets nothing, whatever its groups (no entry, no session);
- a person of the policy in no mapped group that grants one of their roles gets nothing either;
- a policy without ``directory.groups`` takes the directory for sign-in only: roles and sites are
  the entry's.

Why narrowing rather than granting: every later check (the guard at apply time, the tracking
sheet, the notifier) reads the policy file, and an approval records the roles its approver had;
a role the file does not give its person would be a role nobody reviewing the policy could see.
"""

from __future__ import annotations

from collections.abc import Iterable

from netchange.policy._model import Person, Policy


def directory_person(policy: Policy, login: str, groups: Iterable[str]) -> Person | None:
    """What ``login``, in directory ``groups``, may be in the service; ``None``: nothing."""
    person = policy.person(login)
    if person is None:
        return None
    mapping = policy.directory.groups
    if not mapping:
        return person
    grants = [mapping[g] for g in sorted(set(groups)) if g in mapping]
    granted_roles = {r for g in grants for r in g.roles}
    roles = tuple(r for r in person.roles if r in granted_roles)
    if not roles:
        return None
    # Sites: the groups granting a kept role narrow the entry's sites, unless one of them names none.
    granting = [g for g in grants if set(g.roles) & set(roles)]
    if any(not g.sites for g in granting):
        return person.model_copy(update={"roles": roles})
    allowed = {s for g in granting for s in g.sites}
    sites = tuple(s for s in (person.sites or tuple(policy.sites)) if s in allowed)
    if not sites:
        return None  # an empty list would mean "every site": the directory grants none of theirs
    return person.model_copy(update={"roles": roles, "sites": sites})


def seen_by_directory(policy: Policy, person: Person) -> Policy:
    """``policy`` with ``person``'s entry as the directory narrowed it (:func:`directory_person`).

    The same file stays in force (its digest and path are kept: approvals record it and the
    journal's pin compares it); only what this one person may do in this session is less.
    """
    current = policy.person(person.login)
    if current is None or current == person:
        return policy
    view = policy.model_copy(update={"people": tuple(person if p.login == person.login else p
                                                     for p in policy.people)})
    view._file_digest = policy.digest
    view._path = policy.path or None
    return view
