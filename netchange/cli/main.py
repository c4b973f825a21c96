"""Entry point: assembles the command groups and maps errors to exit codes.

Exit codes: 0 done; 1 failed (rolled back or not); 2 bad input; 3 refused by the guard; 4 a CI
gate reached (``plan --fail-on``); 5 changes to apply (``plan --detailed-exitcode``, which makes 0
mean "no change"). Every ``NetchangeError`` becomes one line on stderr, never a
traceback; under ``--json``, a JSON document on stdout (``{"error": {...}}``) with the same code.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from contextvars import ContextVar
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer

from netchange import redact
from netchange.cli._lazy import DeferredCoercionGroup, LazyConsole, typer_help_deferred
from netchange.config import Settings
from netchange.errors import NetchangeError

app = typer.Typer(
    name="netchange",
    help="Plan, classify, guard, apply and roll back network changes, with a journal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    cls=DeferredCoercionGroup,  # start-up: pydantic only for the parameters that need it (cli/_lazy.py)
)
err = LazyConsole(stderr=True)


_overrides: dict[str, Any] = {}
"""Settings an in-process caller fixes for every invocation (the command line's options win)."""

# The settings of the running command, resolved once by the root callback. A context variable,
# not a module global: in-process callers (tests racing two "shells") run commands in threads.
_current: ContextVar[Settings | None] = ContextVar("netchange_settings", default=None)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(help="State directory (env NETCHANGE_HOME).")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Nornir configuration file (env NETCHANGE_NORNIR_CONFIG).")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (env NETCHANGE_POLICY).")] = None,
    lab: Annotated[bool, typer.Option(
        "--lab", help="Use the inventory written by 'netchange lab up' (and the lab's policy if none is found).",
    )] = False,
) -> None:
    """Plan, classify, guard, apply and roll back network changes, with a journal."""
    options = dict(_overrides)
    if home is not None:
        options["home"] = home
    if policy is not None:
        options["policy"] = policy
    if config is not None:
        options["nornir_config"] = config
    elif lab:
        options["nornir_config"] = Settings.resolve(home=options.get("home")).home / "lab" / "nornir.yaml"
    if lab:
        options["lab"] = True  # the lab's policy too, when no other is found (and only then)
    cfg = Settings.resolve(**options)
    token = _current.set(cfg)
    # In-process callers (tests, the demo) run several commands: each resolves its own settings
    # and key file.
    ctx.call_on_close(lambda: _current.reset(token))
    ctx.call_on_close(_forget_key_file)
    _private_and_scrubbed(cfg)
    # Registered last, so it runs first when the command ends (the key file is still known): the
    # one notification hook, whatever the command journaled (netchange.notify).
    started = dt.datetime.now(dt.UTC)
    ctx.call_on_close(lambda: _notify(cfg, started))


def _notify(cfg: Settings, started: dt.datetime) -> None:
    if not (cfg.env.get("NETCHANGE_SMTP_HOST") or cfg.settings_file.exists()):
        return  # no mail configured: nothing imported, nothing opened (start-up time)
    from netchange.notify import after_command

    after_command(cfg, started, lambda text: err.print(f"[yellow]warning:[/] {text}", highlight=False,
                                                        soft_wrap=True))


def _private_and_scrubbed(cfg: Settings) -> None:
    """First thing every command does, before it writes or prints anything.

    The umask makes every file this process creates (the journal's -wal and -shm included)
    private from its creation; every secret of the invocation (settings, secrets files, the
    inventory's and the lab's) is registered for scrubbing without loading the Nornir inventory;
    the journal's key file is located next to the secrets file.
    """
    os.umask(0o077)
    from netchange.config import register_every_secret
    from netchange.journal.key import KEY_FILE_NAME, JournalSetup, configure
    from netchange.privatefile import narrow_state_dir

    narrow_state_dir(cfg.home)

    register_every_secret(cfg)
    configure(JournalSetup(key_file=cfg.secrets.parent / KEY_FILE_NAME, key_material=cfg.journal_key,
                           syslog=cfg.journal_syslog, anchors=cfg.journal_anchors, state_dir=cfg.home,
                           database_url=cfg.database_url))


def _forget_key_file() -> None:
    from netchange.journal.key import configure

    configure(None)


@app.command()
def version(
    as_json: Annotated[bool, typer.Option("--json", help="Print the version as one JSON document.")] = False,
) -> None:
    """Print netchange's version."""
    from netchange import __version__

    if as_json:
        from netchange.cli.jsonface import VersionDocument

        print(VersionDocument(version=__version__).to_json())
        return
    print(__version__)


@app.command()
def schema(
    name: Annotated[str | None, typer.Argument(help="A document's name; none: list them.")] = None,
) -> None:
    """Print the JSON Schema of a command's --json document (docs/schemas/NAME.json holds the same)."""
    import json

    from netchange.cli.jsonface import DOCUMENTS
    from netchange.cli.jsonface import schema as schema_of
    from netchange.errors import BadRequest

    if name is None:
        print("\n".join(DOCUMENTS))
        return
    if name not in DOCUMENTS:
        raise BadRequest(f"unknown document {name!r} (known: {', '.join(DOCUMENTS)})")
    print(json.dumps(schema_of(name), indent=2))


def settings() -> Settings:
    """The settings of this invocation, resolved once by the root callback (options > environment >
    defaults); outside a command (a library caller), resolved now."""
    return _current.get() or Settings.resolve(**_overrides)


MODULES = ("approvals", "changes", "classify", "journal", "lab", "notify", "policy", "reports", "serve", "types",
           "worker")
"""The command modules of ``netchange.cli``, in the order ``--help`` lists their commands."""

COMMANDS = {
    "version": "main", "schema": "main",
    "window": "approvals", "approve": "approvals", "reject": "approvals", "close": "approvals",
    "inventory": "changes", "plan": "changes", "apply": "changes", "rollback": "changes", "recover": "changes",
    "classify": "classify",
    "list": "reports", "show": "reports", "report": "reports",
    "serve": "serve", "users": "serve", "login": "serve", "logout": "serve",
    "types": "types", "worker": "worker",
    "journal": "journal", "lab": "lab", "notify": "notify", "policy": "policy",
}
"""Which module registers each command and command group: a command line loads that module only
(start-up, issue 20 item 5). A name missing here still works (every module is then loaded);
``tests/unit/test_startup_imports.py`` checks the map against what the modules register."""

_ROOT_VALUED = ("--home", "--config", "--policy")
"""The root callback's options that take a value (``--lab`` and ``--help`` do not)."""
_mounting = threading.Lock()


def command_of(args: list[str]) -> str | None:
    """The command a command line names, or ``None`` when it names none the map knows (root help,
    no command, an unknown command or option: those load every module). Shell completion runs
    ``netchange`` without arguments (the words are in ``_NETCHANGE_COMPLETE``'s companions), so
    it sees every command."""
    rest = iter(args)
    for arg in rest:
        if arg in _ROOT_VALUED:
            next(rest, None)
        elif arg.startswith(tuple(f"{option}=" for option in _ROOT_VALUED)) or arg == "--lab":
            continue
        elif arg == "--":
            name = next(rest, None)
            return name if name in COMMANDS else None
        elif arg.startswith("-"):
            return None  # --help, --install-completion, --show-completion or a usage error
        else:
            return arg if arg in COMMANDS else None
    return None


def _mount(command: str | None = None) -> None:
    """Import the module of ``command``, or every command module: each registers its commands on
    ``app`` (or a sub-app) when imported."""
    modules = MODULES if command is None or COMMANDS.get(command) is None else (COMMANDS[command],)
    with _mounting:
        for module in modules:
            if module != "main":
                import_module(f"netchange.cli.{module}")
        # In-process callers (tests, the demo) mount modules in the order they run commands:
        # ``--help`` lists them in one order all the same. New lists, not sorted in place: a
        # command of another thread may be reading the old ones.
        rank = {f"netchange.cli.{name}": i for i, name in enumerate(("main", *MODULES))}
        app.registered_commands = sorted(
            app.registered_commands, key=lambda c: rank.get(getattr(c.callback, "__module__", ""), len(rank)))
        app.registered_groups = sorted(
            app.registered_groups, key=lambda g: rank.get(f"netchange.cli.{COMMANDS.get(g.name or '')}", len(rank)))


def entry() -> None:
    """The ``netchange`` process (the console script, ``python -m netchange``): :func:`main`, then
    the process's exit, which must not depend on Temporal's runtime.

    temporalio's client runs a Rust (tokio) runtime whose threads nothing stops: at interpreter
    exit they race its teardown, and the process died of SIGSEGV about once in forty after a
    ``recover`` through Temporal had done its work and said so (temporalio/sdk-python#300; a bare
    client connecting and exiting does it as often). Once that runtime is loaded, the output is
    flushed and the process ends with ``os._exit`` and the command's own code: the journal, the
    snapshots and the devices were all written before :func:`main` returned.
    """
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        if "temporalio.runtime" not in sys.modules:
            raise
        sys.excepthook(*sys.exc_info())
        code = 1
    if "temporalio.runtime" not in sys.modules:
        sys.exit(code)
    if not isinstance(code, int):  # as sys.exit does it: a message to stderr, exit 1
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what was written is all that could be
            code = code or 120
    os._exit(code)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    _mount(command_of(args))
    if not args or "--help" in args:
        typer_help_deferred()
    if "--json" in args:
        _main_json(args)
        return
    try:
        # Standalone mode: Typer prints usage errors itself and exits 2, and exits 0 on success.
        app(args=args, prog_name="netchange")
    except NetchangeError as exc:
        from rich.markup import escape  # a message quotes what it refused: data, never markup

        err.print(f"[bold red]error:[/] {escape(redact.scrub(str(exc)))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


def _main_json(args: list[str]) -> None:
    """Under ``--json`` an error is a JSON document on stdout too, with the same exit code.

    ``{"error": {"type": ..., "exit_code": ..., "message": ...}}``: ``type`` is the exception's
    class (``BadRequest``, ``GuardRefused``, ``PlanTampered``…) or ``UsageError`` for a command
    line Typer refuses. A pipeline parses stdout whatever happened.
    """
    from typer.exceptions import TyperException

    from netchange.cli.jsonface import error_document

    try:
        code = app(args=args, prog_name="netchange", standalone_mode=False)
    except NetchangeError as exc:
        print(error_document(type(exc).__name__, exc.exit_code, redact.scrub(str(exc))))
        sys.exit(exc.exit_code)
    except typer.Abort:
        print(error_document("Aborted", 1, "aborted"))
        sys.exit(1)
    except TyperException as exc:
        print(error_document("UsageError", exc.exit_code, redact.scrub(exc.format_message())))
        sys.exit(exc.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)
