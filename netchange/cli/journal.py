"""The journal commands: verify its keyed chain and heads, print its head, key an old journal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from netchange.cli.common import open_journal as _journal
from netchange.cli.common import out
from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest

journal_app = typer.Typer(help="The journal: verify its keyed chain, print its head.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")


@journal_app.command("verify")
def verify(
    heads: Annotated[
        Path | None,
        typer.Option("--heads", help="A file of 'SEQ HASH' lines collected elsewhere ('netchange journal head')."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Check the keyed chain, every table against it, and the heads kept elsewhere; exit 1 naming the first bad row."""
    anchors = _read_heads(heads) if heads is not None else []
    with _journal(warn=False) as journal:
        problems = journal.verify(heads=anchors)
        seq, head = journal.head()
        layout = journal.layout()
    if as_json:
        from netchange.cli.jsonface import JournalVerifyDocument

        print(JournalVerifyDocument(intact=not problems, events=seq, head=head, heads_checked=len(anchors),
                                    problems=[str(p) for p in problems], key=layout.key,
                                    key_in_state_dir=layout.key_in_state_dir, anchors=layout.anchors,
                                    anchored_heads=layout.anchored_heads, proves=layout.proves,
                                    cannot_prove=layout.cannot_prove).to_json())
        if problems:
            raise typer.Exit(1)
        return
    # What this verify proves depends on where the key and the heads are (issue 21 item 7): said
    # on every run, intact or not.
    said = (f"[dim]proves:[/] {layout.proves}", f"[dim]cannot prove:[/] {layout.cannot_prove}")
    if problems:
        err.print(f"[red]first bad row:[/] {problems[0]}", highlight=False, soft_wrap=True)
        for p in problems[1:]:
            err.print(f"[red]broken:[/] {p}", highlight=False, soft_wrap=True)
        for line in said:
            err.print(line, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    checked = f"; {len(anchors)} head(s) from {heads} match" if heads is not None else ""
    out.print(f"journal intact: {seq} events, head {head[:16]}{checked}")
    for line in said:
        out.print(line, highlight=False, soft_wrap=True)


_HEAD = re.compile(r"(?:^|\s)(\d+) ([0-9a-f]{64})(?:\s|$)")


def _read_heads(path: Path) -> list[tuple[int, str]]:
    """``SEQ HASH`` per line, as ``netchange journal head`` prints it or inside a syslog line
    (``NETCHANGE_JOURNAL_SYSLOG``); ``#`` comments and blank lines skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path}: cannot read: {exc}") from None
    heads = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        if not text.strip():
            continue
        found = _HEAD.search(text)
        if found is None:
            raise BadRequest(f"{path}:{number}: expected 'SEQ HASH' (as printed by 'netchange journal head')")
        heads.append((int(found.group(1)), found.group(2)))
    return heads


@journal_app.command("head")
def head(
    as_json: Annotated[bool, typer.Option("--json", help="Print the head as one JSON document.")] = False,
) -> None:
    """Print the journal's head as 'SEQ HASH': append it to a file kept elsewhere to anchor the chain."""
    with _journal(warn=False) as journal:
        seq, digest = journal.head()
    if as_json:
        from netchange.cli.jsonface import JournalHeadDocument

        print(JournalHeadDocument(seq=seq, head=digest).to_json())
        return
    print(f"{seq} {digest}")


@journal_app.command("migrate")
def migrate(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
    to: Annotated[str | None, typer.Option(
        "--to", help="Copy this SQLite journal, verified, into the PostgreSQL database at this postgresql:// URL.")
    ] = None,
    app_role: Annotated[str | None, typer.Option(
        "--app-role", help="With --to, when the schema is created: the role the application connects as.")
    ] = None,
) -> None:
    """Key a journal written before keyed chains (its past keeps plain hashes, sealed by the keying event);
    with --to, copy the journal into PostgreSQL, its chain intact (verified before and after)."""
    from netchange.journal import Journal

    if to is not None:
        if as_json:
            raise BadRequest("journal migrate: --json is not available with --to")
        _copy_to(to, app_role)
        return
    if app_role is not None:
        raise BadRequest("journal migrate: --app-role goes with --to")
    with Journal(settings().journal, migrate_unkeyed=True) as journal:
        seq = journal.migrate_unkeyed()
    if as_json:
        from netchange.cli.jsonface import JournalMigrateDocument

        print(JournalMigrateDocument(keyed_from=seq).to_json())
        return
    out.print(f"journal keyed from event {seq}")


def _copy_to(url: str, app_role: str | None) -> None:
    from netchange.journal import Journal
    from netchange.journal.database import check_url, where
    from netchange.journal.migration import copy_to_postgresql

    check_url(url)
    if app_role is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", app_role):
        raise BadRequest(f"--app-role {app_role!r}: expected a PostgreSQL role name (lower case, digits, _)")
    with Journal(settings().journal, database="") as journal:  # the file, whatever NETCHANGE_DATABASE_URL says
        copied = copy_to_postgresql(journal, url, app_role=app_role)
    out.print(f"journal copied to {where(url)}: {copied.events} events, head {copied.head[1][:16]}"
              f" (verified before and after; {', '.join(f'{n} {t}' for t, n in copied.rows.items())})",
              highlight=False, soft_wrap=True)
