"""settings.yaml's models: ``mail:`` and ``server:``, validated when the file exists.

Apart from :mod:`netchange.config._settings` because they need pydantic, which a command that
finds no settings file never loads (start-up, issue 20 item 5).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from netchange.basemodels import FrozenModel
from netchange.config._settings import Security
from netchange.errors import BadRequest


class MailFile(FrozenModel):
    """``mail:`` of settings.yaml (no password here: the secrets file or the environment)."""

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    security: Security | None = None
    user: str | None = None
    sender: str | None = None
    base_url: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=120)
    interval: float | None = Field(default=None, gt=0, le=3600)


class ServerFile(FrozenModel):
    """``server:`` of settings.yaml: the approval service the CLI's approve/show/list talk to."""

    url: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=120)


class LdapFile(FrozenModel):
    """``identity.ldap:`` (see :class:`netchange.config._identity.LdapSettings`; no password here)."""

    url: str | None = None
    starttls: bool = True
    ca_file: Path | None = None
    bind_dn: str = ""
    user_base: str = ""
    user_filter: str = "(uid={login})"
    group_base: str = ""
    group_filter: str = "(member={dn})"
    group_attribute: str = "cn"
    timeout: float = Field(default=10.0, gt=0, le=120)


class OidcFile(FrozenModel):
    """``identity.oidc:`` (see :class:`netchange.config._identity.OidcSettings`; no secret here)."""

    issuer: str | None = None
    client_id: str = ""
    redirect_url: str = ""
    scopes: str = "openid profile email"
    login_claim: str = "preferred_username"
    groups_claim: str = "groups"
    ca_file: Path | None = None
    timeout: float = Field(default=10.0, gt=0, le=120)


class IdentityFile(FrozenModel):
    """``identity:`` of settings.yaml: who may sign in to the approval service."""

    provider: Literal["local", "ldap", "oidc"] = "local"
    recheck_minutes: float = Field(default=5, gt=0, le=24 * 60)
    token_hours: float = Field(default=12, gt=0, le=24 * 90)
    ldap: LdapFile | None = None
    oidc: OidcFile | None = None


class SettingsFile(FrozenModel):
    mail: MailFile = MailFile()
    server: ServerFile = ServerFile()
    identity: IdentityFile | None = None


def parse_settings(path: Path, data: bytes) -> SettingsFile:
    """settings.yaml's text, validated; every problem is a :class:`BadRequest` naming ``path``."""
    import yaml

    try:
        raw: Any = yaml.safe_load(data.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadRequest(f"{path}: not valid YAML text: {exc}") from None
    if isinstance(raw, dict):
        for section, key in (("mail", "password"), ("server", "token")):
            if isinstance(raw.get(section), dict) and key in raw[section]:
                raise BadRequest(f"{path}: {section}.{key} belongs in the secrets file (or the environment),"
                                 " never in settings.yaml")
        identity = raw.get("identity")
        for section, key in (("ldap", "bind_password"), ("oidc", "client_secret")):
            part = identity.get(section) if isinstance(identity, dict) else None
            if isinstance(part, dict) and key in part:
                raise BadRequest(f"{path}: identity.{section}.{key} belongs in the secrets file "
                                 f"(identity.{section}_{key}) or the environment, never in settings.yaml")
    try:
        return SettingsFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise BadRequest(f"{path}: {problems}") from None
