"""``netchange notify``: send the queued notifications now, or see where they stand."""

from __future__ import annotations

from typing import Annotated

import typer

from netchange.cli.common import out
from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest

notify_app = typer.Typer(help="Mail notifications: flush the outbox, show its state.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@notify_app.command("flush")
def flush(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Queue what the journal holds and send every pending mail now, due or not (exit 1 if any fails)."""
    from netchange.notify import notifier

    n = notifier(settings())
    if n is None:
        raise BadRequest("no SMTP host set (NETCHANGE_SMTP_HOST or mail.smtp_host in settings.yaml)")
    report = n.run(force=True)
    if as_json:
        from netchange.cli.jsonface import NotifyFlushDocument

        print(NotifyFlushDocument(queued=report.queued, sent=report.sent, failed=list(dict.fromkeys(report.failed)),
                                  abandoned=report.abandoned, exit_code=1 if report.failed else 0).to_json())
        if report.failed:
            raise typer.Exit(1)
        return
    out.print(f"queued {report.queued}, sent {report.sent}, failed {len(report.failed)}"
              + (f", abandoned {report.abandoned}" if report.abandoned else ""))
    for error in dict.fromkeys(report.failed):
        err.print(f"[red]not delivered:[/] {error}", highlight=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)


@notify_app.command("status")
def status(
    change_id: Annotated[str | None, typer.Argument(help="Only this change.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The outbox: each mail with its notice, recipients (logins), state, attempts and last error."""
    from netchange.notify.outbox import Mail, Outbox, outbox_path

    path = outbox_path(settings().journal)
    database = settings().database_url
    mails: list[Mail] = []
    if database is not None or path.exists():
        with Outbox(path, database=database) as outbox:
            mails = outbox.mails(change_id=change_id)
    if as_json:
        from netchange.cli.jsonface import NotifyStatusDocument

        rows = [{"id": m.id, "change_id": m.change_id, "notice": m.notice, "to": m.logins, "state": m.state,
                 "attempts": m.attempts, "next_attempt_at": m.next_attempt_at, "last_error": m.last_error,
                 "subject": m.subject} for m in mails]
        print(NotifyStatusDocument.model_validate({"mails": rows}).to_json())
        return
    for m in mails:
        extra = f" — {m.last_error}" if m.last_error and m.state != "sent" else ""
        out.print(f"{m.id:>5} {m.change_id} {m.notice:<18} {m.state:<9} x{m.attempts} "
                  f"to {', '.join(m.logins)}{extra}", soft_wrap=True)
