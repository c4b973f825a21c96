"""``netchange serve`` (the approval service) and ``netchange users`` (its accounts and tokens)."""

from __future__ import annotations

import getpass
import ipaddress
import sys
from pathlib import Path
from typing import Annotated

import typer

from netchange.cli.common import out
from netchange.cli.common import policy as _policy
from netchange.cli.main import app, err, settings
from netchange.errors import BadRequest

users = typer.Typer(help="Accounts of the approval service: passwords and API tokens (people of the policy).",
                    no_args_is_help=True)
app.add_typer(users, name="users")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8080,
    tls_cert: Annotated[Path | None, typer.Option("--tls-cert", help="PEM certificate (HTTPS).")] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key (HTTPS).")] = None,
    behind_tls_proxy: Annotated[
        bool, typer.Option("--behind-tls-proxy", help="A reverse proxy terminates TLS in front of this service.")
    ] = False,
) -> None:
    """Start the approval service over this journal, plan store and policy (Ctrl-C stops it)."""
    import uvicorn

    from netchange.service.app import create_app

    if bool(tls_cert) != bool(tls_key):
        raise BadRequest("give both --tls-cert and --tls-key, or neither")
    tls = tls_cert is not None
    if not _loopback(host) and not (tls or behind_tls_proxy):
        raise BadRequest(
            f"listening on {host} (not loopback) needs --tls-cert/--tls-key, or --behind-tls-proxy "
            "when a reverse proxy terminates TLS: passwords and sessions must not cross a network in clear"
        )
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise BadRequest(f"{path}: no such file")
    cfg = settings()
    _policy()  # a broken policy is one line and exit 2 now, not an error page later
    application = create_app(cfg, secure_cookies=tls or behind_tls_proxy)
    scheme = "https" if tls else "http"
    out.print(f"netchange approval service on {scheme}://{host}:{port}/ (journal {cfg.journal})")
    from netchange.notify import in_background

    # The notifications of every step journaled here or by any CLI on this journal, and their retries.
    stop_notifier = in_background(cfg, warn=lambda text: err.print(f"[yellow]warning:[/] {text}", highlight=False))
    try:
        uvicorn.run(
            application,
            host=host,
            port=port,
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
            proxy_headers=behind_tls_proxy,
            log_level="warning",
            access_log=False,
            server_header=False,
        )
    finally:
        stop_notifier()


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise BadRequest("the two passwords differ")
        return first
    line = sys.stdin.readline(2048)
    return line.rstrip("\r\n")


@users.command("set-password")
def set_password(
    login: Annotated[str, typer.Argument(help="A person of the policy.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Set LOGIN's password (asked at the prompt, or one line on stdin); stored argon2-hashed, 0600.

    An administrator's reset: journaled (``password_reset``, or ``password_set`` for a first one, with
    who ran it), and LOGIN's sessions in a running service end at their next request."""
    from netchange.cli.common import open_journal
    from netchange.journal import EventKind
    from netchange.policy import current_actor
    from netchange.service.accounts import Accounts

    policy = _policy()
    accounts = Accounts.load(settings().home)
    had = bool(accounts.password_stamp(login))
    accounts.set_password(policy, login, _read_password())
    accounts.save()
    with open_journal(warn=False) as journal:
        journal.event(None, EventKind.PASSWORD_RESET if had else EventKind.PASSWORD_SET,
                      actor=current_actor(policy, settings().actor).login,
                      data={"login": login, "by": "netchange users set-password"})
    if as_json:
        from netchange.cli.jsonface import UserPasswordDocument

        print(UserPasswordDocument(login=login, accounts_file=str(accounts.path)).to_json())
        return
    out.print(f"password set for {login} ({accounts.path})")


@users.command("token")
def token(
    login: Annotated[str, typer.Argument(help="A person of the policy.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke every token of LOGIN instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Create an API token for LOGIN (printed once; only its hash is kept), or revoke them all."""
    from netchange.service.accounts import Accounts

    policy = _policy()
    accounts = Accounts.load(settings().home)
    if revoke:
        n = accounts.revoke_tokens(login)
        accounts.save()
        if as_json:
            from netchange.cli.jsonface import UserTokenDocument

            print(UserTokenDocument(login=login, token=None, revoked=n).to_json())
            return
        out.print(f"{n} token(s) of {login} revoked")
        return
    value = accounts.new_token(policy, login, label=label)
    accounts.save()
    if as_json:
        from netchange.cli.jsonface import UserTokenDocument

        print(UserTokenDocument(login=login, token=value, revoked=None).to_json())
        return
    print(value)


@app.command()
def login(
    server: Annotated[str, typer.Option("--server", help="The approval service's URL (https://...).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")] = False,
) -> None:
    """Sign this CLI in to the approval service with an API token (asked at the prompt, or one line on stdin).

    The token is the one the service's "My account" page makes for a person signed in through the
    directory (or ``netchange users token LOGIN`` for a local account). It is checked against the
    service, then kept with the URL in ``<home>/login.json`` (0600): approve, reject, show and list
    then go through the service. ``netchange logout`` forgets it."""
    import json

    from netchange.cli.apiclient import ServiceClient
    from netchange.config import ServerSettings
    from netchange.privatefile import write_private

    url = server.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise BadRequest(f"--server {url!r}: must start with http:// or https://")
    token = (getpass.getpass("API token: ") if sys.stdin.isatty() else sys.stdin.readline(400)).strip()
    if not token:
        raise BadRequest("no token given")
    from netchange import redact

    redact.register(token)
    with ServiceClient(ServerSettings(url=url, token=token)) as client:
        who = client.me()
    path = settings().login_file
    write_private(path, json.dumps({"url": url, "token": token}))
    if as_json:
        print(json.dumps({"server": url, "login": who.get("login"), "roles": who.get("roles", []),
                          "login_file": str(path)}))
        return
    out.print(f"signed in to {url} as {who.get('login')} ({'/'.join(who.get('roles', [])) or 'no role'}); "
              f"token kept in {path} (0600)")


@app.command()
def logout() -> None:
    """Forget the token ``netchange login`` kept (the service's sessions are not affected)."""
    path = settings().login_file
    try:
        path.unlink()
    except FileNotFoundError:
        out.print("not signed in (no login file)")
        return
    out.print(f"signed out: {path} removed")
