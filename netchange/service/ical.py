"""A site's calendar as an iCalendar document (RFC 5545), for a manager's calendar client.

Each change placed at the site (``calendar.entries``) is a VEVENT: DTSTART/DTEND in the policy's
time zone (``TZID=Europe/Paris``, its VTIMEZONE included as RFC 5545 section 3.6.5 requires),
TENTATIVE while it waits for approvals or has no planned start, CONFIRMED once approved. Each
freeze is an all-day event (``VALUE=DATE``, DTEND the day after its last day, section 3.6.1),
shown free (TRANSP) so it does not book the manager's day; public holidays likewise. UIDs are
stable (change and site; freeze dates), so a client updates an event rather than duplicating it.
"""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar, Event

from netchange import redact
from netchange.journal import State
from netchange.policy import Policy
from netchange.service.calendar import Entry

PRODID = "-//netchange//approval service//EN"
PAST = dt.timedelta(weeks=4)
AHEAD = dt.timedelta(weeks=12)
"""What the feed covers around now: a calendar client keeps the last weeks and plans ahead."""


def _summary(entry: Entry) -> str:
    cat = entry.row.category.value if entry.row.category else "?"
    mark = "" if entry.requested or entry.placed == "last update" else " (next window)"
    return redact.scrub(f"[{cat}] {entry.row.id} {entry.row.title}{mark}")


def _description(entry: Entry, base_url: str) -> str:
    row = entry.row
    placed = {
        "requested start": "Requested start.",
        "next window opening": "No planned start: the next opening of its window from now.",
        "last update": "No planned start: when it last moved.",
    }[entry.placed]
    verdict = {True: "inside its window", False: "OUTSIDE its window", None: "not judged"}[entry.allowed]
    lines = [
        f"{row.id}: {row.title}",
        f"State: {row.state.value.replace('_', ' ')}. Requester: {row.requester}. Ticket: {row.ticket}.",
        f"{placed} {entry.window} ({verdict}).".replace(" ()", ""),
        f"{base_url}/changes/{row.id}",
    ]
    return redact.scrub("\n".join(lines))


def feed(policy: Policy, site: str, placed: list[Entry], *, now: dt.datetime, base_url: str) -> bytes:
    """The site's calendar: ``placed`` (already that site's), its freezes and holidays around now."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"netchange {site} ({policy.client})")
    cal.add("x-wr-timezone", policy.timezone)
    stamp = now.astimezone(dt.UTC)
    for entry in placed:
        event = Event()
        event.add("uid", f"{entry.row.id}.{entry.site}@netchange")
        event.add("dtstamp", stamp)
        event.add("last-modified", entry.row.updated_at.astimezone(dt.UTC))
        event.add("dtstart", entry.start.astimezone(policy.tz))
        event.add("dtend", entry.end.astimezone(policy.tz))
        event.add("summary", _summary(entry))
        event.add("description", _description(entry, base_url))
        event.add("url", f"{base_url}/changes/{entry.row.id}")
        event.add("status", "CONFIRMED" if entry.row.state != State.PLANNED and entry.requested else "TENTATIVE")
        if entry.row.category is not None:
            event.add("categories", [entry.row.category.value])
        cal.add_component(event)
    today = now.astimezone(policy.tz).date()
    first, last = today - PAST, today + AHEAD
    for freeze in policy.freezes:
        if freeze.end < first or freeze.start > last:
            continue
        event = Event()
        event.add("uid", f"freeze.{freeze.start:%Y%m%d}.{freeze.end:%Y%m%d}@netchange")
        event.add("dtstamp", stamp)
        event.add("dtstart", freeze.start)
        event.add("dtend", freeze.end + dt.timedelta(days=1))  # exclusive: the day after the last
        allowed = " (emergencies allowed)" if freeze.allow_emergency else ""
        event.add("summary", redact.scrub(f"FREEZE: {freeze.reason}{allowed}"))
        event.add("description", "No change may run during a freeze (the guard refuses it).")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    day = first
    while day <= last:
        holiday = policy.holiday(day)
        if holiday:
            event = Event()
            event.add("uid", f"holiday.{day:%Y%m%d}@netchange")
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + dt.timedelta(days=1))
            event.add("summary", f"Public holiday: {holiday}")
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)
        day += dt.timedelta(days=1)
    # The time zone's rules over the feed's span (not icalendar's default 1970-2038).
    cal.add_missing_timezones(first_date=first - dt.timedelta(days=366), last_date=last + dt.timedelta(days=366))
    return bytes(cal.to_ical())
