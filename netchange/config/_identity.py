"""Who may sign in to the approval service: local accounts, an LDAP directory or an OIDC provider.

``identity:`` of settings.yaml chooses (``provider: local`` by default: today's accounts file,
unchanged). Each value resolves as every setting does (environment > file > default); the two
secrets, the LDAP service account's password and the OIDC client secret, come from the
environment (``NETCHANGE_LDAP_BIND_PASSWORD``, ``NETCHANGE_OIDC_CLIENT_SECRET``) or the secrets
file (``identity.ldap_bind_password``, ``identity.oidc_client_secret``), never settings.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from netchange.errors import BadRequest

if TYPE_CHECKING:
    from netchange.config._file import IdentityFile

Provider = Literal["local", "ldap", "oidc"]

RECHECK_MINUTES = 5
"""Default bound, in minutes, on how long a session outlives its person's removal from the
directory: each session is checked against the directory again at its first request after this."""


@dataclass(frozen=True, kw_only=True)
class LdapSettings:
    url: str
    """``NETCHANGE_LDAP_URL`` > ``identity.ldap.url`` (``ldap://host:port``; ``ldaps://`` also taken)."""
    starttls: bool
    """``identity.ldap.starttls`` > true: an ``ldap://`` URL without StartTLS is refused unless false."""
    ca_file: Path | None
    """``identity.ldap.ca_file``: the CA the directory's certificate is checked against (else the system's)."""
    bind_dn: str
    """``identity.ldap.bind_dn``: the service account that finds a login's entry and groups."""
    bind_password: str = field(repr=False)
    user_base: str
    user_filter: str
    """``identity.ldap.user_filter`` > ``(uid={login})`` (the login is escaped)."""
    group_base: str
    group_filter: str
    """``identity.ldap.group_filter`` > ``(member={dn})``: the groups an entry is in."""
    group_attribute: str
    """``identity.ldap.group_attribute`` > ``cn``: the group name the policy's mapping uses."""
    timeout: float


@dataclass(frozen=True, kw_only=True)
class OidcSettings:
    issuer: str
    """``NETCHANGE_OIDC_ISSUER`` > ``identity.oidc.issuer`` (discovery: its ``/.well-known/openid-configuration``)."""
    client_id: str
    client_secret: str | None = field(repr=False)
    redirect_url: str
    """``identity.oidc.redirect_url``: this service's ``/signin/oidc/callback`` as the browser reaches it."""
    scopes: str
    login_claim: str
    """``identity.oidc.login_claim`` > ``preferred_username``: the claim that is the policy's login."""
    groups_claim: str
    """``identity.oidc.groups_claim`` > ``groups``."""
    ca_file: Path | None
    timeout: float


@dataclass(frozen=True, kw_only=True)
class IdentitySettings:
    provider: Provider = "local"
    recheck_minutes: float = RECHECK_MINUTES
    token_hours: float = 12.0
    """``identity.token_hours``: the life of an API token a directory person makes for themselves."""
    ldap: LdapSettings | None = None
    oidc: OidcSettings | None = None


def resolve_identity(file: IdentityFile | None, env: dict[str, str], secrets: dict[str, object]) -> IdentitySettings:
    """The identity settings from settings.yaml's ``identity:``, the environment and the secrets."""
    if file is None:
        return IdentitySettings()
    provider = file.provider
    ldap = oidc = None
    if provider == "ldap":
        f = file.ldap
        url = env.get("NETCHANGE_LDAP_URL") or (f.url if f else None)
        if f is None or not url or not f.bind_dn or not f.user_base:
            raise BadRequest("identity.ldap: url, bind_dn and user_base are needed with provider: ldap")
        if not url.startswith(("ldap://", "ldaps://")):
            raise BadRequest(f"identity.ldap.url {url!r}: must start with ldap:// or ldaps://")
        if url.startswith("ldap://") and not f.starttls:
            raise BadRequest("identity.ldap: passwords never cross in clear: starttls: true or an ldaps:// URL")
        password = env.get("NETCHANGE_LDAP_BIND_PASSWORD") or _text(secrets.get("ldap_bind_password"))
        if not password:
            raise BadRequest("identity.ldap: the service account's password is missing "
                             "(NETCHANGE_LDAP_BIND_PASSWORD or identity.ldap_bind_password in the secrets file)")
        ldap = LdapSettings(
            url=url, starttls=f.starttls and url.startswith("ldap://"), ca_file=f.ca_file, bind_dn=f.bind_dn,
            bind_password=password, user_base=f.user_base, user_filter=f.user_filter,
            group_base=f.group_base or f.user_base, group_filter=f.group_filter, group_attribute=f.group_attribute,
            timeout=f.timeout,
        )
    elif provider == "oidc":
        o = file.oidc
        issuer = env.get("NETCHANGE_OIDC_ISSUER") or (o.issuer if o else None)
        if o is None or not issuer or not o.client_id or not o.redirect_url:
            raise BadRequest("identity.oidc: issuer, client_id and redirect_url are needed with provider: oidc")
        oidc = OidcSettings(
            issuer=issuer.rstrip("/"), client_id=o.client_id,
            client_secret=env.get("NETCHANGE_OIDC_CLIENT_SECRET") or _text(secrets.get("oidc_client_secret")),
            redirect_url=o.redirect_url, scopes=o.scopes, login_claim=o.login_claim, groups_claim=o.groups_claim,
            ca_file=o.ca_file, timeout=o.timeout,
        )
    return IdentitySettings(provider=provider, recheck_minutes=file.recheck_minutes, token_hours=file.token_hours,
                            ldap=ldap, oidc=oidc)


def _text(value: object) -> str | None:
    return str(value) if value else None
