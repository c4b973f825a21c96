"""Mails about a person's account rather than a change: their password being guessed.

The approval service journals ``signin_guessing`` (no change id) once per throttle window when
wrong passwords for one login keep coming, with the addresses they came from
(``netchange.service.throttle``). The person whose login it is is told, so that they know, and
know that their own sign-in is not blocked; the mail carries the addresses and counts, never a
password. A login that is no one in the policy, or someone without an e-mail address, is not mailed
(the journal still has the event).
"""

from __future__ import annotations

from html import escape

from netchange.journal import Event, EventKind
from netchange.notify.compose import Composed, withhold_secrets
from netchange.notify.notices import local_time
from netchange.policy import Policy

GUESSING = "signin guessing"
"""The outbox's notice word for these mails."""


def account_mails(policy: Policy, event: Event, *, base_url: str) -> list[tuple[str, Composed]]:
    """The (notice, mail) pairs ``event`` calls for: one to the person whose login is guessed, or none."""
    if event.change_id is not None or event.kind != EventKind.SIGNIN_GUESSING:
        return []
    login = str(event.data.get("login") or "")
    person = policy.person(login) if login else None
    if person is None or not person.email:
        return []
    addresses = [str(a) for a in event.data.get("addresses") or []]
    unlisted = int(event.data.get("unlisted_failures") or 0)
    minutes = max(1, int(event.data.get("window_s") or 0) // 60)
    failures = int(event.data.get("failures") or 0)
    link = f"{base_url.rstrip('/')}/signin"
    # Every line is scrubbed again when sent, and a line naming a credential is withheld whole
    # (``compose.withhold_secrets``): the wording says "sign-in", never the word for what was typed.
    paragraphs = [
        f"Hello {person.name},",
        f"{failures} failed sign-ins were sent for your netchange login \u201c{login}\u201d within "
        f"{minutes} minutes (the latest at {local_time(policy, event.at)}), from:",
        "\n".join(f"  - {a}" for a in addresses)
        + (f"\n  - and {unlisted} more failed sign-ins from other addresses" if unlisted else ""),
        "Those addresses are slowed down. Your own sign-in is not blocked: from your usual place it "
        "works as before.",
        "If this was not you, someone may be trying to guess how to sign in as you: tell the netchange "
        "administrator.",
        f"Sign in: {link}",
        f"You are told this at most once per {minutes} minutes while it goes on. "
        f"{policy.project} \u2014 netchange approval service.",
    ]
    text = "\n\n".join(paragraphs) + "\n"
    html = "\n".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    composed = Composed(
        subject=withhold_secrets(f"[netchange] failed sign-ins for your login {login}")[:250],
        text=withhold_secrets(text),
        html=withhold_secrets(f"<!doctype html>\n<html><body>\n{html}\n</body></html>\n"),
        recipients=((person.login, person.name, person.email),),
        change_id="",
        link=link,
    )
    return [(GUESSING, composed)]
