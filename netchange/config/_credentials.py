"""Credentials injected at run time, never stored in the inventory that lives in git.

A Nornir transform function (``inventory.transform_function: netchange_credentials`` in
``nornir.yaml``). For each host, the first source that has a value wins:

1. the secrets file, ``hosts:`` entry. Which file: ``transform_function_options.secrets_file`` in
   ``nornir.yaml`` when given (the lab names its own), else the invocation's settings (``--home`` >
   ``NETCHANGE_HOME``: ``<home>/secrets.yaml``, or ``NETCHANGE_SECRETS``), passed down by
   :func:`nornir_overrides`;
2. the same file, ``groups:`` entry of the host's first group that has one;
3. environment variables ``NETCHANGE_USERNAME``, ``NETCHANGE_PASSWORD``, ``NETCHANGE_ENABLE_SECRET``
   (read once by :mod:`netchange.config._settings`, :class:`~netchange.config._settings.Logins`, passed down);
4. the same file, ``defaults:``.

A file entry holds ``username``, ``password`` and ``optional_args`` (driver secrets such as
``secret`` for enable or ``tsig_secret``). Every secret value seen is registered with
:mod:`netchange.redact`, which scrubs it from any text netchange writes.

:func:`require_logins` is the pre-check every command that opens devices calls first: a host
without the credentials its platform needs is named (one line each) and nothing is contacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netchange import redact
from netchange.config._secretsfile import load_secrets
from netchange.config._settings import Logins, Settings
from netchange.errors import BadRequest

if TYPE_CHECKING:  # Nornir itself is loaded by the commands that build an inventory
    from nornir.core import Nornir
    from nornir.core.inventory import Host

_SECRET_KEYS = {"password", "secret", "tsig_secret", "key_passphrase", "token"}
def _entry(secrets: dict[str, Any], host: Host, logins: Logins) -> list[dict[str, Any]]:
    """Entries that apply to ``host``, most specific first."""
    found: list[dict[str, Any]] = []
    if host.name in (secrets.get("hosts") or {}):
        found.append(secrets["hosts"][host.name])
    groups = secrets.get("groups") or {}
    found.extend(groups[g.name] for g in host.groups if g.name in groups)
    env = {
        "username": logins.username,
        "password": logins.password,
        "optional_args": {"secret": logins.enable_secret} if logins.enable_secret is not None else {},
    }
    found.append({k: v for k, v in env.items() if v})
    found.append(secrets.get("defaults") or {})
    return found


def apply_credentials(host: Host, secrets: dict[str, Any], logins: Logins | None = None) -> None:
    """Fill ``host``'s login from the secrets file's host, group entries, then ``logins`` (the
    login variables of the settings), then the file's defaults; what the inventory gives stays."""
    entries = _entry(secrets, host, logins or Logins())
    for field in ("username", "password"):
        if getattr(host, field) is None:
            value = next((e[field] for e in entries if e.get(field)), None)
            if value is not None:
                setattr(host, field, str(value))
    optional: dict[str, Any] = {}
    for entry in reversed(entries):
        optional.update(entry.get("optional_args") or {})
    if host.password:
        redact.register(host.password)
    for key, value in optional.items():
        if key in _SECRET_KEYS:
            redact.register(str(value))
    if optional:
        from nornir.core.inventory import ConnectionOptions

        from netchange.inventory import CONNECTION_NAME

        opts = host.connection_options.get(CONNECTION_NAME) or ConnectionOptions(extras={})
        extras = dict(opts.extras or {})
        merged = dict(extras.get("optional_args") or {})
        for key, value in optional.items():
            merged.setdefault(key, value)
        extras["optional_args"] = merged
        opts.extras = extras
        host.connection_options[CONNECTION_NAME] = opts



def _secret_values(node: Any, key: str | None = None) -> Iterator[str]:
    """Every value under a secret key (or inside ``optional_args``) of the secrets file, recursively."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _secret_values(v, str(k))
    elif isinstance(node, list | tuple):
        for v in node:
            yield from _secret_values(v, key)
    elif node is not None and key in _SECRET_KEYS:
        yield str(node)


def register_known_secrets(secrets_file: Path, values: Iterable[str] = ()) -> None:
    """Register every secret netchange knows of with :mod:`netchange.redact`, without the inventory.

    Called by every command before it writes or prints anything (the CLI's root callback): an
    ``approve --comment`` or ``apply --emergency`` text is journaled by commands that never load
    the Nornir inventory, so registering only in the transform function left them unscrubbed.
    ``values``: the secrets of the environment (``Settings.secret_values``).
    """
    for value in values:
        if value:
            redact.register(value)
    for value in _secret_values(load_secrets(secrets_file)):
        redact.register(value)


def inject_credentials(host: Host, secrets_file: str | None = None, logins: Logins | None = None,
                       **_: Any) -> None:
    """Nornir transform function: fill ``host``'s credentials from the secrets file and the login
    variables. Both travel in the transform's options (:func:`nornir_overrides`); a library caller
    that gives neither gets them as :class:`~netchange.config._settings.Settings` resolves them now."""
    if secrets_file is None or not isinstance(logins, Logins):
        resolved = Settings.resolve()
        secrets_file = secrets_file or str(resolved.secrets)
        logins = logins if isinstance(logins, Logins) else resolved.logins
    apply_credentials(host, load_secrets(Path(secrets_file)), logins)


TRANSFORM_FUNCTION = "netchange_credentials"
CHAINED_TRANSFORMS = (TRANSFORM_FUNCTION, "netchange_sot")
"""Transform functions that end with the credentials: this one, and the source-of-truth mapping
(:mod:`netchange.inventory._sot`), which maps a NetBox or Nautobot device and then calls it."""


def nornir_overrides(config_file: Path, secrets: Path, logins: Logins | None = None) -> dict[str, Any]:
    """``InitNornir`` overrides that point the credentials transform at ``secrets``.

    Nornir calls the transform function with the options of ``nornir.yaml`` only, so the secrets
    file of the invocation (which follows ``--home``) has to travel through them; a file named in
    ``nornir.yaml`` itself is kept. Nornir merges overrides section by section, hence the whole
    ``inventory`` section is handed back. An unreadable file is left for Nornir to report.
    """
    import yaml

    try:
        data = yaml.safe_load(config_file.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    inventory = data.get("inventory") if isinstance(data, dict) else None
    if not isinstance(inventory, dict) or inventory.get("transform_function") not in CHAINED_TRANSFORMS:
        return {}
    options = dict(inventory.get("transform_function_options") or {})
    options.setdefault("secrets_file", str(secrets))
    mapping = options.get("mapping")
    if isinstance(mapping, str) and not Path(mapping).expanduser().is_absolute():
        # The source-of-truth mapping's file sits beside nornir.yaml, wherever the command runs.
        options["mapping"] = str(config_file.parent / mapping)
    if logins is not None:
        options["logins"] = logins  # an object whose repr shows no secret
    return {"inventory": {**inventory, "transform_function_options": options}}


# -- the pre-check: every target has what its platform needs to log in -------------------------

_EITHER = "|"
LOGIN_NEEDS: dict[str, tuple[str, ...]] = {
    # platform → fields that must be non-empty; "a|b" means either. Read from the host's final
    # connection parameters (inventory, then the secrets file and environment above).
    "mock": (),  # NAPALM's mock driver answers from files
    "haproxy": (),  # runtime API on loopback or a unix socket: no login
    "gdnsd": (),  # its files and gdnsdctl's control socket, where the driver runs: no login
    "bind": ("tsig_name", "tsig_secret"),  # every read (AXFR) and update is TSIG-signed
    "netconf": ("username",),  # SSH subsystem: a key or an empty password, as the agent's sshd allows
    "nftables": ("password|key_file",),  # the user defaults to root
    "frr": ("password|key_file",),  # SSH to the router's Linux host: the user defaults to root
    "keepalived": ("password|key_file",),
}
DEFAULT_LOGIN_NEEDS = ("username", "password|key_file")
"""ios_cli and NAPALM's SSH drivers (ios, eos, junos, nxos_ssh, ...): a user and a password or key."""


class MissingCredentials(BadRequest):
    """One or more targets lack credentials: nothing was contacted (exit 2)."""

    def __init__(self, missing: dict[str, str]) -> None:
        self.hosts = sorted(missing)
        super().__init__("\n".join(missing[h] for h in self.hosts))


def _present(field: str, username: str | None, password: str | None, optional: dict[str, Any]) -> bool:
    value = {"username": username, "password": password}.get(field, optional.get(field))
    return value is not None and str(value) != ""


def missing_login(host: Host) -> list[str]:
    """What ``host`` lacks to log in (empty: nothing), by its platform's needs."""
    from netchange.inventory import CONNECTION_NAME

    params = host.get_connection_parameters(CONNECTION_NAME)
    optional = dict((params.extras or {}).get("optional_args") or {})
    needs = LOGIN_NEEDS.get(params.platform or "", DEFAULT_LOGIN_NEEDS)
    return [need.replace(_EITHER, " or ") for need in needs
            if not any(_present(f, params.username, params.password, optional) for f in need.split(_EITHER))]


def require_logins(nr: Nornir, hosts: Iterable[str]) -> None:
    """Refuse (exit 2) before any device is contacted if a target lacks credentials: one line per host.

    Call it after the inventory is loaded and the targets are known, before any ``nr.run``: in
    ``plan``, ``apply``, ``rollback`` and ``recover``. Never prints a value, only what is missing.
    """
    options = nr.config.inventory.transform_function_options or {}
    where = str(options.get("secrets_file") or Settings.resolve().secrets)
    missing: dict[str, str] = {}
    for name in dict.fromkeys(hosts):
        host = nr.inventory.hosts[name]
        lacks = missing_login(host)
        if lacks:
            missing[name] = (
                f"{name}: no credentials for platform {host.platform}: missing {', '.join(lacks)} "
                f"(looked in {where}: hosts/groups/defaults, NETCHANGE_USERNAME/NETCHANGE_PASSWORD, the inventory)"
            )
    if missing:
        raise MissingCredentials(missing)
