"""A notice as a mail: subject, plain text (and simple HTML), with a link to the change page.

No secret reaches a mail: a diff line (or any line) that carries a registered secret, or that
sets a password, key or community on a device, is withheld whole (a masked line would still say
where the secret lives and how long it is); what is left is scrubbed again
(:mod:`netchange.redact`), once when the mail is queued and again when it is sent (a secret
registered in between is caught too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any
from urllib.parse import quote

from netchange import redact
from netchange.notify.notices import Draft, local_time
from netchange.policy import Policy

MAX_DIFF_LINES = 40
"""Per host: a mail is a pointer to the change page, which shows the whole diff."""

WITHHELD = "(line withheld: it carries a secret)"

# Device lines that set a secret even when its value is not registered with netchange (a new
# password typed into a change, an SNMP community): the whole line stays out of the mail.
_SECRET_LINE = re.compile(
    r"\b(password|passwd|secret|community|key-string|pre-shared-key|psk|passphrase|tsig|private-key|"
    r"auth(entication)?-key|md5|sha(256|512)?-?hmac|token)\b",
    re.IGNORECASE,
)


def withhold_secrets(text: str) -> str:
    """``text`` with every line that carries a secret replaced by a note, then scrubbed."""
    lines = [WITHHELD if redact.contains_secret(line) or _SECRET_LINE.search(line) else line
             for line in text.split("\n")]
    return redact.scrub("\n".join(lines))


@dataclass(frozen=True)
class Composed:
    """What the outbox keeps of a mail until it is sent."""

    subject: str
    text: str
    html: str
    recipients: tuple[tuple[str, str, str], ...]
    """(login, name, address) of each recipient."""
    change_id: str
    """Empty for a mail about an account (``netchange.notify.account``)."""
    link: str


def change_link(base_url: str, change_id: str) -> str:
    return f"{base_url.rstrip('/')}/changes/{quote(change_id, safe='')}"


def compose(policy: Policy, draft: Draft, *, base_url: str) -> Composed:
    """Render ``draft`` with the mail templates (``report/templates/mail.*.j2``)."""
    from netchange.report.render import environment

    change = draft.change
    link = change_link(base_url, change.id)
    context = _context(policy, draft, link)
    env = environment()
    text = env.get_template("mail.txt.j2").render(**context)
    html = env.get_template("mail.html.j2").render(**context)
    subject = f"[netchange] {change.id} {draft.notice.value}: {change.title}"
    return Composed(
        subject=withhold_secrets(" ".join(subject.split()))[:250],
        text=withhold_secrets(text),
        html=withhold_secrets(html),
        recipients=tuple((p.login, p.name, p.email or "") for p in draft.recipients),
        change_id=change.id,
        link=link,
    )


def _context(policy: Policy, draft: Draft, link: str) -> dict[str, Any]:
    change, plan = draft.change, draft.plan
    requester = policy.person(change.requester)
    hosts: list[dict[str, Any]] = []
    if plan is not None:
        for h in plan.hosts:
            lines = h.diff.splitlines()
            shown = [withhold_secrets(line) for line in lines[:MAX_DIFF_LINES]] if draft.show_diff else []
            hosts.append({"host": h.host, "site": h.site, "platform": h.platform,
                          "category": h.category.value if h.category else "no change" if h.no_change
                          else "not classified",
                          "error": h.error or "", "diff": shown, "more": max(0, len(lines) - len(shown))
                          if draft.show_diff else 0, "lines": len(lines)})
    category = (plan.category.value if plan and plan.category else "no change" if plan and plan.no_change
                else change.category.value if change.category else "?")
    reasons = [f"{r.category.value}: {r.description} (PAQ: {r.paq_item})" for r in plan.reasons] if plan else []
    return {
        "notice": draft.notice.value,
        "headline": draft.headline,
        "comment": draft.comment,
        "details": [d for d in draft.details if d],
        "change": {"id": change.id, "title": change.title, "ticket": change.ticket,
                   "requester": f"{requester.name} ({change.requester})" if requester else change.requester,
                   "state": change.state.value, "category": category, "sites": ", ".join(_sites(draft))},
        "plan_hash": plan.plan_hash[:12] if plan else "",
        "planned_start": local_time(policy, plan.change.planned_start) if plan and plan.change.planned_start else "",
        "reasons": reasons[:10] if draft.show_diff else [],
        "hosts": hosts,
        "show_diff": draft.show_diff,
        "link": link,
        "event": draft.event.seq,
        "at": local_time(policy, draft.event.at),
        "policy_version": policy.version,
        "project": policy.project,
        "client": policy.client,
    }


def _sites(draft: Draft) -> list[str]:
    if draft.plan is not None:
        return sorted({h.site for h in draft.plan.hosts})
    return list(draft.change.sites)


def message(composed: Composed, *, sender: str, to: tuple[tuple[str, str, str], ...], domain: str) -> EmailMessage:
    """The MIME message: plain text first, simple HTML as the alternative; threaded per change."""
    import datetime as dt

    msg = EmailMessage()
    msg["Subject"] = withhold_secrets(composed.subject)
    msg["From"] = sender
    msg["To"] = ", ".join(formataddr((name, address)) for _, name, address in to)
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(domain=domain)
    if composed.change_id:  # (a mail about an account has none)
        # Every mail of a change refers to one root id: mail readers thread the change's story.
        root = f"<{quote(composed.change_id, safe='')}@netchange.{domain}>"
        msg["In-Reply-To"] = root
        msg["References"] = root
        msg["X-Netchange-Change"] = composed.change_id
    msg.set_content(withhold_secrets(composed.text))
    msg.add_alternative(withhold_secrets(composed.html), subtype="html")
    return msg
