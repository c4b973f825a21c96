"""Watching an apply live: the change page follows a running apply host by host.

While a change is ``in_progress`` its page shows the attempt so far (``attempt``) and a static
script (``static/live.js``, allowed by the CSP's ``script-src 'self'``; no inline script) opens
``/changes/{id}/live``: server-sent events, one per journal event of that change as it is written.
The server polls the journal by event sequence number every ``POLL`` seconds (the journal is the
one record the apply writes; another process writes it, so there is nothing to subscribe to),
ends the stream with an ``end`` event once the change has left ``in_progress``, and closes a
stream after ``MAX_STREAM`` seconds anyway; the browser then reconnects with ``Last-Event-ID``
and misses nothing. Without script the page reloads itself every ``REFRESH`` seconds while the
change is in progress (``<meta http-equiv=refresh>`` inside ``<noscript>``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from netchange.journal import Event, EventKind, State
from netchange.service import auth, timeline
from netchange.service.state import Service

router = APIRouter()

POLL = 0.5
"""Seconds between two reads of the journal by a stream."""
MAX_STREAM = 300.0
"""Seconds a stream stays open before the browser is asked to reconnect (bounded server work)."""
REFRESH = 5
"""Seconds between two reloads of the page without script."""
BATCH = 200


@dataclass(frozen=True)
class HostStep:
    host: str
    text: str
    tone: str
    at: str


@dataclass(frozen=True)
class Live:
    """What the change page shows of a running apply."""

    lines: tuple[timeline.Line, ...]
    hosts: tuple[HostStep, ...]
    """Each host of the plan with its latest step (``waiting`` before its first)."""
    after: int
    """The last event shown: the stream starts after it."""


def attempt(events: list[Event]) -> list[Event]:
    """The events of the attempt under way: those after the last move to a state other than
    ``in_progress`` (its approval, or the end of an earlier attempt)."""
    start = 0
    for i, e in enumerate(events):
        if e.kind == EventKind.STATE and e.data.get("to") != State.IN_PROGRESS.value:
            start = i + 1
    return events[start:]


def build(events: list[Event], hosts: list[str], tz: ZoneInfo) -> Live:
    current = attempt(events)
    lines = timeline.timeline(current, tz)
    latest = {line.host: line for line in lines if line.host}
    steps = [
        HostStep(host=h, text=latest[h].text, tone=latest[h].tone, at=latest[h].at) if h in latest
        else HostStep(host=h, text="waiting", tone="", at="")
        for h in hosts
    ]
    return Live(lines=tuple(lines), hosts=tuple(steps), after=events[-1].seq if events else 0)


def _message(kind: str, data: dict[str, object], seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _read(service: Service, change_id: str, after: int) -> tuple[list[Event], str, str]:
    """The change's events after ``after``, its state, and its outcome once it left in_progress.

    The state is read first: events written before the state moved are then always in the
    events read (the apply journals every step before its final state).
    """
    with service.journal() as journal:
        state = journal.state(change_id)
        events = journal.events_after(after, BATCH, change_id=change_id)
        outcome = "" if state == State.IN_PROGRESS.value else timeline.outcome(journal.events(change_id), state)
    return events, state, outcome


async def _stream(request: Request, service: Service, change_id: str, after: int) -> AsyncIterator[str]:
    tz = service.policy().tz
    deadline = time.monotonic() + MAX_STREAM
    yield "retry: 2000\n\n"
    while True:
        events, state, outcome = await anyio.to_thread.run_sync(_read, service, change_id, after)
        for line, event in zip(timeline.timeline(events, tz), events, strict=True):
            after = event.seq
            yield _message("line", {"seq": event.seq, "at": line.at, "host": line.host, "kind": line.kind,
                                    "text": line.text, "tone": line.tone}, event.seq)
        if len(events) == BATCH:
            continue  # more already written: no wait
        if state != State.IN_PROGRESS.value:
            yield _message("end", {"state": state, "outcome": outcome}, after)
            return
        if time.monotonic() > deadline or await request.is_disconnected():
            return
        await anyio.sleep(POLL)


@router.get("/changes/{change_id}/live")
def follow(
    request: Request,
    change_id: str,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> StreamingResponse:
    """The change's journal events after ``after`` (or the ``Last-Event-ID`` the browser sends back)."""
    auth.session_of(request)
    service = auth.service_of(request)
    resumed = request.headers.get("last-event-id", "")
    if resumed.isdigit() and len(resumed) < 19:
        after = max(after, int(resumed))
    with service.journal() as journal:
        journal.require(change_id)  # an unknown change is a 404 page, not an empty stream
    return StreamingResponse(_stream(request, service, change_id, after), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no"})
