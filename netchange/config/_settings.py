"""The settings of one invocation: where netchange finds its files, and who acts when.

Every setting resolves in one order: command-line argument > environment variable > file >
default, and each field below says its variable and default. The file is ``settings.yaml``
(``NETCHANGE_SETTINGS`` > ``<home>/settings.yaml``, optional): today it holds the mail
(``mail:``, SMTP for notifications) and the approval service the CLI talks to (``server:``); their
password and token never go in it, only in the secrets file (``mail.password``,
``server.token``) or the environment. The CLI resolves them once, in its root callback, and passes them down:
this is the one module of the package that reads the environment
(``tests/unit/test_settings.py`` keeps that true, with a short allow-list and its reasons).
The defaults are relative to the working directory so that a checkout is a self-contained
workspace (the demo and the tests rely on that).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from netchange.config._secretsfile import load_secrets
from netchange.errors import BadRequest
from netchange.journal.database import check_url, password_of

if TYPE_CHECKING:  # settings.yaml's models load when there is one (pydantic: start-up, issue 20 item 5)
    from netchange.config._file import SettingsFile
    from netchange.config._identity import IdentitySettings

MAX_SETTINGS_BYTES = 64 * 1024
_ENV_PREFIXES = ("NETCHANGE_SMTP_", "NETCHANGE_MAIL_", "NETCHANGE_BASE_URL", "NETCHANGE_SERVER_URL",
                 "NETCHANGE_API_TOKEN", "NETCHANGE_LDAP_", "NETCHANGE_OIDC_")


Security = Literal["starttls", "ssl", "none"]


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    """SMTP for notifications. ``NETCHANGE_SMTP_HOST`` > ``mail.smtp_host``: none, no mail."""

    host: str
    port: int
    """``NETCHANGE_SMTP_PORT`` > ``mail.smtp_port`` > 587 (465 with ``ssl``, 25 with ``none``)."""
    security: Security
    """``NETCHANGE_SMTP_SECURITY`` > ``mail.security`` > ``starttls``: STARTTLS, TLS from the first
    byte (``ssl``), or ``none`` (a local relay only: a password is then refused)."""
    user: str | None
    """``NETCHANGE_SMTP_USER`` > ``mail.user``: log in when given."""
    password: str | None = field(repr=False)
    """``NETCHANGE_SMTP_PASSWORD`` > ``mail.password`` of the secrets file."""
    sender: str
    """``NETCHANGE_MAIL_FROM`` > ``mail.sender`` > ``netchange@<host name>``."""
    base_url: str
    """``NETCHANGE_BASE_URL`` > ``mail.base_url`` > the server's URL > ``http://127.0.0.1:8000``:
    the change page each mail links to is ``<base_url>/changes/<id>``."""
    timeout: float = 10.0
    """``mail.timeout`` seconds for one SMTP conversation step (a dead relay costs at most this)."""
    interval: float = 15.0
    """``mail.interval``: seconds between two turns of ``netchange serve``'s notifier."""


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """The approval service: ``NETCHANGE_SERVER_URL`` > ``server.url``; none, the local journal."""

    url: str
    token: str | None = field(repr=False)
    """``NETCHANGE_API_TOKEN`` > ``server.token`` of the secrets file: the person's API token."""
    timeout: float = 30.0


def _pick(arg: str | Path | None, env: str, default: Path) -> Path:
    if arg is not None:
        return Path(arg)
    value = os.environ.get(env)
    return Path(value) if value else default


def _text(arg: str | None, env: str) -> str | None:
    if arg is not None:
        return arg
    return os.environ.get(env, "").strip() or None


LAB_POLICY = Path(__file__).resolve().parent.parent / "policy" / "default_policy.yaml"
"""The lab's policy shipped with the package (fictitious people and client): used only with ``--lab``."""


def _found_policy(home: Path, *, lab: bool) -> Path | None:
    """The policy file when neither ``--policy`` nor ``NETCHANGE_POLICY`` names one (see ``Settings.policy``)."""
    for candidate in (Path("policy.yaml"), home / "policy.yaml"):
        if candidate.is_file():
            return candidate
    return LAB_POLICY if lab and LAB_POLICY.is_file() else None


_SECRET_ENV = ("NETCHANGE_PASSWORD", "NETCHANGE_ENABLE_SECRET", "NETCHANGE_JOURNAL_KEY",
               # the source-of-truth plugins' API tokens when nornir.yaml names none (netchange.config._known)
               "NAUTOBOT_TOKEN", "NB_TOKEN")
# ... and any other NETCHANGE_* variable named like a secret (a future token, a TSIG key).
_SECRET_ENV_NAME = re.compile(r"^NETCHANGE_\w*(PASSWORD|SECRET|TOKEN|PASSPHRASE|_KEY)$")


@dataclass(frozen=True)
class Logins:
    """Login values for every device, from the environment (below the secrets file's hosts and
    groups, above its defaults: see :mod:`netchange.config._credentials`). Never printed (no repr)."""

    username: str | None = None
    """``NETCHANGE_USERNAME``."""
    password: str | None = field(default=None, repr=False)
    """``NETCHANGE_PASSWORD``."""
    enable_secret: str | None = field(default=None, repr=False)
    """``NETCHANGE_ENABLE_SECRET`` (the driver's ``optional_args.secret``)."""

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Logins:
        return cls(username=env.get("NETCHANGE_USERNAME") or None,
                   password=env.get("NETCHANGE_PASSWORD") or None,
                   enable_secret=env.get("NETCHANGE_ENABLE_SECRET"))


def default_lock_dir(env: Mapping[str, str], *, euid: int, uid: int) -> Path:
    """``/run/netchange/locks`` for root, else ``$XDG_RUNTIME_DIR/netchange/locks``, else
    ``/tmp/netchange-<uid>/locks`` (see :mod:`netchange.apply.locks`)."""
    if euid == 0:
        return Path("/run/netchange/locks")
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "netchange" / "locks"
    return Path(f"/tmp/netchange-{uid}") / "locks"  # noqa: S108 - per-uid, 0700, checked by devicelock


def default_anchors(env: Mapping[str, str]) -> Path | None:
    """The directory of the journal heads kept outside the state directory (``None``: ``off``).

    Per account, beside its other state (XDG): outside any netchange home, so that whoever can
    write a home, key included, cannot make its journal's rewrite match (issue 21 item 7)."""
    named = env.get("NETCHANGE_JOURNAL_ANCHORS", "").strip()
    if named:
        return None if named.lower() in ("off", "none", "0") else Path(named).expanduser()
    state = env.get("XDG_STATE_HOME", "").strip()
    if state and Path(state).is_absolute():
        return Path(state) / "netchange" / "journal-heads"
    try:
        return Path.home() / ".local" / "state" / "netchange" / "journal-heads"
    except RuntimeError:  # no home directory to be found: nowhere, and verify says so
        return None


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    """State directory: plans, snapshots, the journal, the lab's generated files.
    ``--home`` > ``NETCHANGE_HOME`` > ``.netchange``."""
    nornir_config: Path
    """``--config`` (or ``--lab``: ``<home>/lab/nornir.yaml``) > ``NETCHANGE_NORNIR_CONFIG`` > ``nornir.yaml``."""
    policy: Path | None
    """The first of: ``--policy`` > ``NETCHANGE_POLICY`` > ``policy.yaml`` in the working directory
    (a checkout) > ``<home>/policy.yaml`` (a CI runner's or an operator's state directory) > with
    ``--lab`` only, the lab's policy shipped with the package (:data:`LAB_POLICY`, fictitious people).
    ``None``: none of them; a command that needs a policy then stops (:meth:`policy_file`), never
    judging a change by the lab's people (issue 22 item 8). The plan records which (version, digest)."""
    lab: bool = False
    """``--lab``: the lab's inventory and, when no other is found, the lab's policy."""
    journal: Path
    """``NETCHANGE_JOURNAL`` > ``<home>/journal.sqlite``."""
    secrets: Path
    """``NETCHANGE_SECRETS`` > ``<home>/secrets.yaml``."""
    now: str | None = None
    """``NETCHANGE_NOW`` (ISO 8601 with an offset) > the wall clock. Honoured only by a policy that
    allows it (``identity.allow_override``); see :func:`netchange.policy.clock.now`."""
    actor: str | None = None
    """``NETCHANGE_ACTOR`` > the OS account. Honoured only by a policy that allows it; see
    :func:`netchange.policy._identity.current_actor`."""
    settings_file: Path = Path(".netchange/settings.yaml")
    """``NETCHANGE_SETTINGS`` > ``<home>/settings.yaml`` (optional)."""
    env: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The mail and server variables, read once by :meth:`resolve` (``mail``/``server`` use them)."""
    lock_dir: Path = Path("/run/netchange/locks")
    """Machine-wide device locks: ``NETCHANGE_LOCK_DIR`` > :func:`default_lock_dir`."""
    journal_key: str | None = field(default=None, repr=False)
    """``NETCHANGE_JOURNAL_KEY``: the journal key itself, else the key file beside the secrets
    (see :mod:`netchange.journal.key`)."""
    journal_syslog: bool = False
    """``NETCHANGE_JOURNAL_SYSLOG`` (anything but empty or ``0``): each committed journal head also
    goes to syslog."""
    journal_anchors: Path | None = None
    """Where each committed journal head is kept, outside the state directory, for ``journal
    verify`` to compare (see :mod:`netchange.journal.anchors`): ``NETCHANGE_JOURNAL_ANCHORS`` (a
    directory; ``off``: nowhere) > ``$XDG_STATE_HOME/netchange/journal-heads`` >
    ``~/.local/state/netchange/journal-heads`` (:func:`default_anchors`)."""
    database_url: str | None = field(default=None, repr=False)
    """``NETCHANGE_DATABASE_URL``: a ``postgresql://`` URL, the team's shared database (issue 24,
    docs/team-setup.md): device leases with fencing tokens instead of the OS locks. Unset (the
    default): everything stays on this machine (SQLite, OS locks). Its password, if written in it,
    is scrubbed from every output."""
    lease_seconds: float = 60.0
    """``NETCHANGE_LEASE_SECONDS`` > 60: how long a device lease lasts without renewal (a holder
    renews it every third of that while it runs; a paused or cut-off one loses it then)."""
    runner: str = "inprocess"
    """``NETCHANGE_RUNNER``: ``inprocess`` (the default: apply, rollback and recover run in this
    process) or ``temporal`` (they run as Temporal workflows on the control and site workers:
    :mod:`netchange.workflow`, docs/team-setup.md "Temporal")."""
    temporal_address: str = "127.0.0.1:7233"
    """``NETCHANGE_TEMPORAL_ADDRESS`` > ``127.0.0.1:7233``: the Temporal frontend (host:port)."""
    temporal_namespace: str = "default"
    """``NETCHANGE_TEMPORAL_NAMESPACE`` > ``default``."""
    logins: Logins = Logins()
    """The login variables (``NETCHANGE_USERNAME``, ``NETCHANGE_PASSWORD``, ``NETCHANGE_ENABLE_SECRET``)."""
    secret_values: tuple[str, ...] = field(default=(), repr=False)
    """Values of every ``NETCHANGE_*`` variable that holds a secret (by name), registered for
    scrubbing before any command writes or prints."""

    @classmethod
    def resolve(
        cls,
        *,
        home: str | Path | None = None,
        nornir_config: str | Path | None = None,
        policy: str | Path | None = None,
        journal: str | Path | None = None,
        secrets: str | Path | None = None,
        now: str | None = None,
        actor: str | None = None,
        lock_dir: str | Path | None = None,
        lab: bool = False,
    ) -> Settings:
        env = os.environ
        home_path = _pick(home, "NETCHANGE_HOME", Path(".netchange"))
        named = policy if policy is not None else (env.get("NETCHANGE_POLICY") or None)
        return cls(
            home=home_path,
            nornir_config=_pick(nornir_config, "NETCHANGE_NORNIR_CONFIG", Path("nornir.yaml")),
            policy=Path(named) if named is not None else _found_policy(home_path, lab=lab),
            lab=lab,
            journal=_pick(journal, "NETCHANGE_JOURNAL", home_path / "journal.sqlite"),
            secrets=_pick(secrets, "NETCHANGE_SECRETS", home_path / "secrets.yaml"),
            now=_text(now, "NETCHANGE_NOW"),
            actor=_text(actor, "NETCHANGE_ACTOR"),
            settings_file=_pick(None, "NETCHANGE_SETTINGS", home_path / "settings.yaml"),
            env={k: v.strip() for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES) and v.strip()},
            lock_dir=_pick(lock_dir, "NETCHANGE_LOCK_DIR",
                           default_lock_dir(env, euid=os.geteuid(), uid=os.getuid())),
            journal_key=env.get("NETCHANGE_JOURNAL_KEY", "").strip() or None,
            journal_syslog=env.get("NETCHANGE_JOURNAL_SYSLOG", "") not in ("", "0"),
            journal_anchors=default_anchors(env),
            database_url=_database_url(env),
            lease_seconds=_lease_seconds(env),
            runner=_runner(env),
            temporal_address=env.get("NETCHANGE_TEMPORAL_ADDRESS", "").strip() or "127.0.0.1:7233",
            temporal_namespace=env.get("NETCHANGE_TEMPORAL_NAMESPACE", "").strip() or "default",
            logins=Logins.from_environment(env),
            secret_values=tuple(value for name, value in env.items()
                                if value and (name in _SECRET_ENV or _SECRET_ENV_NAME.match(name)))
            + tuple(filter(None, [password_of(env.get("NETCHANGE_DATABASE_URL"))])),
        )

    def policy_file(self) -> Path:
        """The policy file in force, or ``BadRequest`` (exit 2) naming where none was found."""
        if self.policy is None:
            raise BadRequest(
                f"no policy: none given (--policy, NETCHANGE_POLICY) and no policy.yaml in the working directory "
                f"nor in {self.home}; the lab's policy (fictitious people) is used only with --lab")
        return self.policy

    @property
    def plans_dir(self) -> Path:
        return self.home / "plans"

    @property
    def snapshots_dir(self) -> Path:
        return self.home / "snapshots"

    # --- mail and server (read when first asked for: most commands need neither) -----------------

    @cached_property
    def file(self) -> SettingsFile | None:
        """settings.yaml, validated (an unknown key is an error naming the file); ``None`` if absent."""
        data = _read_settings_bytes(self.settings_file)
        if data is None:
            return None  # most machines: neither YAML nor pydantic is loaded
        from netchange.config._file import parse_settings

        return parse_settings(self.settings_file, data)

    @cached_property
    def mail(self) -> MailSettings | None:
        """SMTP for notifications, or ``None`` when no SMTP host is set (nothing is mailed)."""
        file = self.file
        host = self.env.get("NETCHANGE_SMTP_HOST") or (file.mail.smtp_host if file is not None else None)
        if not host:
            return None
        from netchange.config._file import MailFile

        f = file.mail if file is not None else MailFile()
        security = self.env.get("NETCHANGE_SMTP_SECURITY") or f.security or "starttls"
        if security not in ("starttls", "ssl", "none"):
            raise BadRequest(f"NETCHANGE_SMTP_SECURITY: {security!r} is not starttls, ssl or none")
        port_text = self.env.get("NETCHANGE_SMTP_PORT")
        try:
            port = int(port_text) if port_text else f.smtp_port or {"ssl": 465, "none": 25}.get(security, 587)
        except ValueError:
            raise BadRequest(f"NETCHANGE_SMTP_PORT: {port_text!r} is not a port number") from None
        password = self.env.get("NETCHANGE_SMTP_PASSWORD") or _secret(self.secrets, "mail", "password")
        if password and security == "none":
            raise BadRequest("mail: a password is never sent over an unencrypted SMTP session (security: none)")
        server = self.server
        import socket

        return MailSettings(
            host=host,
            port=port,
            security=security,  # type: ignore[arg-type]  # checked above
            user=self.env.get("NETCHANGE_SMTP_USER") or f.user,
            password=password,
            sender=self.env.get("NETCHANGE_MAIL_FROM") or f.sender or f"netchange@{socket.getfqdn()}",
            base_url=(self.env.get("NETCHANGE_BASE_URL") or f.base_url or (server.url if server else "")
                      or "http://127.0.0.1:8000").rstrip("/"),
            timeout=f.timeout or 10.0,
            interval=f.interval or 15.0,
        )

    @property
    def login_file(self) -> Path:
        """Where ``netchange login`` keeps the service's URL and this person's API token (0600): below
        ``NETCHANGE_SERVER_URL``/``server.url`` and ``NETCHANGE_API_TOKEN``/``server.token``."""
        return self.home / "login.json"

    @cached_property
    def server(self) -> ServerSettings | None:
        """The approval service the CLI's approve, show and list use, or ``None`` (the local journal).

        URL: ``NETCHANGE_SERVER_URL`` > ``server.url`` > ``netchange login``'s; token:
        ``NETCHANGE_API_TOKEN`` > ``server.token`` (secrets file) > ``netchange login``'s, for its URL only."""
        f = self.file.server if self.file is not None else None
        url = (self.env.get("NETCHANGE_SERVER_URL") or (f.url if f is not None else None)
               or read_login(self.login_file).get("url"))
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise BadRequest(f"server url {url!r}: must start with http:// or https://")
        token = self.env.get("NETCHANGE_API_TOKEN") or _secret(self.secrets, "server", "token")
        if not token:
            saved = read_login(self.login_file)
            token = saved.get("token") if saved.get("url") == url.rstrip("/") else None
        return ServerSettings(url=url.rstrip("/"), token=token, timeout=(f.timeout if f is not None else None) or 30.0)


    @cached_property
    def identity(self) -> IdentitySettings:
        """Who may sign in to the approval service (``identity:``; local accounts by default)."""
        from netchange.config._identity import resolve_identity

        file = self.file.identity if self.file is not None else None
        return resolve_identity(file, self.env, load_secrets(self.secrets).get("identity") or {})


def _database_url(env: Mapping[str, str]) -> str | None:
    """``NETCHANGE_DATABASE_URL``, checked (a ``postgresql://`` URL), or ``None`` when unset."""
    value = env.get("NETCHANGE_DATABASE_URL", "").strip()
    return check_url(value) if value else None


def _runner(env: Mapping[str, str]) -> str:
    value = env.get("NETCHANGE_RUNNER", "").strip() or "inprocess"
    if value not in ("inprocess", "temporal"):
        raise BadRequest(f"NETCHANGE_RUNNER: {value!r} is not inprocess or temporal")
    return value


def _lease_seconds(env: Mapping[str, str]) -> float:
    text = env.get("NETCHANGE_LEASE_SECONDS", "").strip()
    if not text:
        return 60.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 86400:
        raise BadRequest(f"NETCHANGE_LEASE_SECONDS: {text!r} is not a number of seconds from 1 to 86400")
    return seconds


def read_login(path: Path) -> dict[str, str]:
    """``netchange login``'s file: ``{"url", "token"}``, or ``{}`` (none, or not one; refused when
    others may read it, as the secrets file is)."""
    import json

    try:
        if path.stat().st_mode & 0o077:
            raise BadRequest(f"{path}: must not be readable by group or others (chmod 600)")
        data = json.loads(path.read_bytes()[:8192])
    except (FileNotFoundError, ValueError):
        return {}
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read it ({exc.strerror})") from None
    if not isinstance(data, dict):
        return {}
    return {k: str(v) for k, v in data.items() if k in ("url", "token") and isinstance(v, str)}


def _read_settings_bytes(path: Path) -> bytes | None:
    """settings.yaml's bytes (bounded), or ``None`` when there is no such file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SETTINGS_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadRequest(f"{path}: cannot read the settings ({exc.strerror})") from None
    if len(data) > MAX_SETTINGS_BYTES:
        raise BadRequest(f"{path}: larger than {MAX_SETTINGS_BYTES} bytes")
    return data


def _secret(secrets_file: Path, section: str, key: str) -> str | None:
    value = (load_secrets(secrets_file).get(section) or {}).get(key)
    return str(value) if value else None
