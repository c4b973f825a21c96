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

Once the run has ended, the page (reloaded, or updated by the script's ``end`` event) says so in
its heading with the outcome ("Apply finished: rolled back: post-check failed on …"), until the
change moves on (planned again, approved again, closed). A host's line shows the step that
matters, a commit confirmed or a restore verified; the save that follows it is said beneath it
(``SECONDARY``), never in its place: "saved: startup = running" after a rollback would read as a
success and hide that the host was rolled back.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
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
SETTLE = 10.0
"""Seconds the stream waits, once the run reached its final state, for the locks it still holds to
be released (the next transaction of the same command): its last line. A command that died in
between leaves them to ``recover``; the stream ends without that line then."""


SECONDARY = frozenset({EventKind.SAVED})
"""Kinds said beneath a host's last step rather than in its place (the save after a commit or a restore)."""

RUNNING = {"apply": "Applying now", "rollback": "Rolling back now", "recover": "Recovering now"}
FINISHED = {"apply": "Apply finished:", "rollback": "Rollback finished:", "recover": "Recover finished:"}
"""The live section's heading, by what runs: an apply, a rollback on request, a recover."""


@dataclass(frozen=True)
class HostStep:
    host: str
    text: str
    tone: str
    at: str
    saved: str = ""
    """The save after that step ("saved: startup = running"), said beneath it."""
    saved_tone: str = ""
    """``bad`` when the save failed, else "" (the save is a detail, its success no headline)."""


@dataclass(frozen=True)
class Live:
    """What the change page shows of a run under way, or of the last one once it ended."""

    lines: tuple[timeline.Line, ...]
    hosts: tuple[HostStep, ...]
    """Each host of the plan with its latest step (``waiting`` before its first)."""
    after: int
    """The last event shown: the stream starts after it."""
    heading: str
    """"Applying now" while it runs, "Apply finished:" once it ended (rollback and recover alike)."""
    finished: bool = False
    outcome: str = ""
    """Once finished: the outcome with its cause first (``timeline.outcome``)."""
    tone: str = ""


def _entered(event: Event) -> bool:
    return event.kind == EventKind.STATE and event.data.get("to") == State.IN_PROGRESS.value


def attempt(events: list[Event]) -> tuple[list[Event], bool] | None:
    """The events of the latest run (from the change's approval, or the end of an earlier run, to
    its final state and the locks it released) and whether it ended; ``None`` if the change never
    ran, or moved on since its last run ended (its state changed again)."""
    states = [i for i, e in enumerate(events) if e.kind == EventKind.STATE]
    runs = [i for i in states if _entered(events[i])]
    if not runs:
        return None
    run = runs[-1]
    start = max((i + 1 for i in states if i < run and not _entered(events[i])), default=0)
    ends = [i for i in states if i > run]
    if not ends:
        return events[start:], False
    if ends[0] != states[-1]:
        return None
    stop = ends[0] + 1
    while stop < len(events) and events[stop].kind == EventKind.LOCKS_RELEASED:
        stop += 1
    return events[start:stop], True


def what_runs(events: list[Event]) -> str:
    """``apply``, ``rollback`` (on request) or ``recover``: the restores journal their start."""
    for e in reversed(events):
        if e.kind == EventKind.RECOVER_STARTED:
            return "recover"
        if e.kind == EventKind.ROLLBACK_STARTED and not e.host:
            return "rollback"
    return "apply"


UNTOUCHED = "not changed: the run ended before its commit"
"""A host whose last step, once the run ended, is its snapshot: nothing was sent to it."""


def host_steps(lines: list[timeline.Line], hosts: list[str], *, finished: bool = False) -> tuple[HostStep, ...]:
    """Each host's step that matters: its last one, the save said beneath it; once the run ended,
    a host never committed says so rather than "running state saved"."""
    steps = []
    for host in hosts:
        main: timeline.Line | None = None
        saved: timeline.Line | None = None
        for line in (line for line in lines if line.host == host):
            if line.kind in SECONDARY and main is not None:
                saved = line
            else:
                main, saved = line, None
        if main is None:
            steps.append(HostStep(host=host, text=UNTOUCHED if finished else "waiting", tone="", at=""))
            continue
        text = UNTOUCHED if finished and main.kind == EventKind.SNAPSHOT else main.text
        steps.append(HostStep(
            host=host, text=text, tone=main.tone, at=(saved or main).at,
            saved=saved.text if saved else "", saved_tone="bad" if saved and saved.tone == "bad" else "",
        ))
    return tuple(steps)


def build(events: list[Event], hosts: list[str], tz: ZoneInfo, state: str) -> Live | None:
    """The live section of the change page: the run under way, or the last one once it ended
    (``None``: the change never ran, or moved on since)."""
    found = attempt(events)
    if found is None:
        return None
    current, finished = found
    lines = timeline.timeline(current, tz)
    runs = what_runs(current)
    outcome = timeline.outcome(events, state) if finished else ""
    return Live(
        lines=tuple(lines), hosts=host_steps(lines, hosts, finished=finished), after=events[-1].seq if events else 0,
        heading=(FINISHED if finished else RUNNING)[runs], finished=finished, outcome=outcome,
        tone=_tone(state) if finished else "",
    )


def _tone(state: str) -> str:
    return "good" if state in {State.COMPLETED.value, State.CLOSED.value} else "bad"


def _message(kind: str, data: dict[str, object], seq: int | None = None) -> str:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@dataclass(frozen=True)
class _End:
    outcome: str
    heading: str
    hosts: tuple[HostStep, ...]
    """Each host's step once the run ended, as the page rendered after the end shows it."""


def read_run(service: Service, change_id: str, after: int,
             limit: int = BATCH) -> tuple[list[Event], str, _End | None, bool]:
    """The change's events after ``after`` (``limit`` at most), its state, how its run ended once
    it left in_progress, and whether the change still holds device locks (the stream and the API's
    ``/api/changes/{id}/events`` read the same way).

    The state and the locks are read first: events written before the state moved (the apply
    journals every step before its final state) and before the locks were released are then
    always in the events read.
    """
    with service.journal() as journal:
        state = journal.state(change_id)
        holding = any(lock.change_id == change_id for lock in journal.locks())
        events = journal.events_after(after, limit, change_id=change_id)
        end = None
        if state != State.IN_PROGRESS.value:
            every = journal.events(change_id)
            run = (attempt(every) or (every, True))[0]
            lines = timeline.timeline(run, service.policy().tz)
            # The run's hosts as its start named them (a host never reached has no line of its
            # own since each host is read at its turn), then any other host with a line.
            started = [str(h) for e in run if e.kind == EventKind.APPLY_STARTED
                       for h in (e.data.get("hosts") or []) if isinstance(e.data.get("hosts"), list)]
            hosts = list(dict.fromkeys([*started, *(line.host for line in lines if line.host)]))
            end = _End(timeline.outcome(every, state), FINISHED[what_runs(run)],
                       host_steps(lines, hosts, finished=True))
    return events, state, end, holding


def line_json(line: timeline.Line, event: Event) -> dict[str, object]:
    """One journal event as the page's stream and the API say it: the page's sentence for it."""
    return {"seq": event.seq, "at": line.at, "host": line.host, "kind": line.kind, "text": line.text,
            "tone": line.tone, "secondary": line.kind in SECONDARY}


def end_json(state: str, end: _End) -> dict[str, object]:
    """How the run ended, as the page's heading and each host's last step say it."""
    return {"state": state, "outcome": end.outcome, "heading": end.heading, "tone": _tone(state),
            "hosts": [asdict(h) for h in end.hosts]}


async def _stream(request: Request, service: Service, change_id: str, after: int) -> AsyncIterator[str]:
    tz = service.policy().tz
    deadline = time.monotonic() + MAX_STREAM
    settled: float | None = None
    """When the run was first seen ended with its locks still held: :data:`SETTLE` from then."""
    yield "retry: 2000\n\n"
    while True:
        events, state, end, holding = await anyio.to_thread.run_sync(read_run, service, change_id, after)
        for line, event in zip(timeline.timeline(events, tz), events, strict=True):
            after = event.seq
            yield _message("line", line_json(line, event), event.seq)
            if event.kind in {EventKind.RECOVER_STARTED, EventKind.ROLLBACK_STARTED} and not event.host:
                yield _message("heading", {"text": RUNNING[what_runs([event])]}, event.seq)
        if len(events) == BATCH:
            continue  # more already written: no wait
        if end is not None and holding:
            # The final state is journaled before the locks are released, in the next transaction:
            # the run's last line (and the end) follow that release, unless it never comes.
            settled = settled or time.monotonic()
            if time.monotonic() - settled < SETTLE:
                end = None
        if end is not None:
            yield _message("end", end_json(state, end), after)
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
