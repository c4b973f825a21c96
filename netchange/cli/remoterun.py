"""apply, rollback and recover through the approval service (when a server is configured; issue 25).

The CLI holds neither device credentials, nor Temporal's address, nor the journal's key: it asks
the service to start the workflow (``POST /api/changes/{id}/apply|rollback|recover``; the service
acts as the token's owner, ``NETCHANGE_ACTOR`` plays no part, the guard runs on the control worker),
then follows the run through ``GET /api/changes/{id}/events``: each journal event as the change
page says it, as it is written, until the workflow has closed. A closed workflow has journaled
everything it will (its final state, then the locks it released, in the next transaction), so
the events read with that status are the run's last. The workflow's result comes back as the
in-process runner's typed outcome: the command prints it, and exits, as the local one does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from netchange import redact
from netchange.cli.apiclient import ServiceClient, ServiceUnavailable
from netchange.cli.common import out
from netchange.errors import BadRequest, GuardRefused, NetchangeError

if TYPE_CHECKING:
    from netchange.apply import ApplyOutcome
    from netchange.config import ServerSettings
    from netchange.pipeline import RestoreMode, RestoreOutcome

POLL = 0.5
"""Seconds between two reads of the run (the live page's stream polls the journal as often)."""
RETRIES = 20
"""Reads in a row that may fail (the service restarting, a network blip) before the CLI gives up
following; the run itself goes on in the workflow."""
TONE = {"good": "green", "bad": "bold red", "warn": "yellow"}


def apply(server: ServerSettings, change_id: str, *, emergency: str | None, revert_in: int, quiet: bool,
          json_lines: bool) -> ApplyOutcome:
    from netchange.workflow import apply_result, outcome_of

    result = _run(server, change_id, "apply", {"emergency": emergency, "revert_in": revert_in},
                  quiet=quiet, json_lines=json_lines)
    try:
        return outcome_of(apply_result(result))
    except (TypeError, KeyError, ValueError):
        raise ServiceUnavailable(f"{server.url}: the apply's result is not one netchange reads") from None


def restore(server: ServerSettings, change_id: str, *, mode: RestoreMode, emergency: str | None,
            quiet: bool) -> RestoreOutcome:
    from netchange.pipeline import RestoreMode
    from netchange.workflow import restore_outcome_of, restore_result

    body = {"emergency": emergency} if mode is RestoreMode.ROLLBACK else {}
    result = _run(server, change_id, mode.value, body, quiet=quiet, json_lines=False)
    try:
        return restore_outcome_of(restore_result(result))
    except (TypeError, KeyError, ValueError):
        raise ServiceUnavailable(f"{server.url}: the {mode.value}'s result is not one netchange reads") from None


def _run(server: ServerSettings, change_id: str, command: str, body: dict[str, Any], *, quiet: bool,
         json_lines: bool) -> dict[str, Any]:
    """Start ``command`` in the service, show each step until the workflow closed, and return its
    result (its error as netchange's, with its exit code)."""
    with ServiceClient(server) as client:
        started = client.start(change_id, command, body)
        after = started.get("after")
        if not isinstance(after, int):
            raise ServiceUnavailable(f"{server.url}: the service did not say where the run starts")
        if not quiet and not json_lines:
            out.print(f"{escape(change_id)}: {command} started through {escape(server.url)} "
                      f"(workflow {escape(str(started.get('workflow_id')))})", highlight=False, soft_wrap=True)
        try:
            status = _follow(client, change_id, after, "apply" if command == "apply" else "restore",
                             show=None if quiet else _json_lines() if json_lines else _show)
        except KeyboardInterrupt:
            import typer

            from netchange.cli.main import err

            err.print(f"{escape(change_id)}: stopped following; the {command} goes on in the workflow "
                      f"('netchange show {escape(change_id)}' tells its end)", highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    if status.get("status") == "failed":
        raise _error(str(status.get("error") or "the run failed"), status.get("exit_code"))
    result = status.get("result")
    if status.get("status") != "completed" or not isinstance(result, dict):
        raise ServiceUnavailable(f"{server.url}: the workflow of {change_id} ended {status.get('status')!r}")
    return result


def _follow(client: ServiceClient, change_id: str, after: int, run: str,
            show: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    """Read the run's events after ``after`` until its workflow has closed; its last status."""
    failures = 0
    while True:
        try:
            page = client.events(change_id, after=after, run=run)
        except ServiceUnavailable as exc:
            failures += 1
            if failures >= RETRIES:
                raise ServiceUnavailable(f"{exc}; the run goes on in the service: follow it with "
                                         f"'netchange show {change_id}'") from None
            time.sleep(POLL * 2)
            continue
        failures = 0
        lines = page.get("events")
        if not isinstance(lines, list):
            raise ServiceUnavailable(f"{client.server.url}: /api/changes/{change_id}/events answered no events")
        for line in lines:
            if isinstance(line, dict) and isinstance(line.get("seq"), int) and line["seq"] > after:
                after = line["seq"]
                if show is not None:
                    show(line)
        if page.get("more"):
            continue  # more already written: no wait
        status = page.get("run")
        if not isinstance(status, dict):
            raise ServiceUnavailable(f"{client.server.url}: the service does not follow the workflow of {change_id}"
                                     " (is its NETCHANGE_RUNNER temporal?)")
        if status.get("status") != "running":
            return status
        time.sleep(POLL)


def _show(line: dict[str, Any]) -> None:
    """One step as the change page says it: the host, then the page's sentence (a save beneath)."""
    host = escape(str(line.get("host") or ""))
    text = escape(redact.scrub(str(line.get("text", ""))))
    style = TONE.get(str(line.get("tone")))
    if style:
        text = f"[{style}]{text}[/]"
    indent = "    " if line.get("secondary") else "  "
    out.print(f"{indent}{host + ': ' if host else ''}{text}", highlight=False, soft_wrap=True)


def _json_lines() -> Callable[[dict[str, Any]], None]:
    """Each step as the local ``--json-lines`` progress writes it: ``{"t", "host", "status", "detail"}``
    (``status``: the journal event's kind; ``detail``: the page's sentence)."""
    import json

    start = time.monotonic()

    def show(line: dict[str, Any]) -> None:
        record = {"t": round(time.monotonic() - start, 3), "host": str(line.get("host") or ""),
                  "status": str(line.get("kind") or ""), "detail": str(line.get("text") or "")}
        print(redact.scrub(json.dumps(record)), flush=True)

    return show


def _error(message: str, code: object) -> NetchangeError:
    """The workflow's error as netchange's, with the exit code the service gave."""
    if code == 2:
        return BadRequest(message)
    if code == 3:
        return GuardRefused(message)
    return NetchangeError(message)
