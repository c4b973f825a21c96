"""Entry point: assembles the command groups and maps errors to exit codes.

Exit codes: 0 done; 1 failed (rolled back or not); 2 bad input; 3 refused by the guard.
Every ``NetchangeError`` becomes one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from netchange import redact
from netchange.errors import NetchangeError

app = typer.Typer(
    name="netchange",
    help="Plan, classify, guard, apply and roll back network changes, with a journal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Plan, classify, guard, apply and roll back network changes, with a journal."""


def _mount() -> None:
    # Imported here so that each module registers its commands on ``app`` (or a sub-app).
    from netchange.cli import changes, classify, guard, lab  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    _mount()
    try:
        # Standalone mode: Typer prints usage errors itself and exits 2, and exits 0 on success.
        app(args=argv, prog_name="netchange")
    except NetchangeError as exc:
        err.print(f"[bold red]error:[/] {redact.scrub(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
