"""The settings of one invocation and the credentials injected at run time.

The stage's public face; its ``_`` modules are private (why lazy: :mod:`netchange._face`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names

if TYPE_CHECKING:
    from netchange.config._credentials import apply_credentials as apply_credentials
    from netchange.config._credentials import inject_credentials as inject_credentials
    from netchange.config._credentials import nornir_overrides as nornir_overrides
    from netchange.config._credentials import register_known_secrets as register_known_secrets
    from netchange.config._credentials import require_logins as require_logins
    from netchange.config._identity import IdentitySettings as IdentitySettings
    from netchange.config._identity import LdapSettings as LdapSettings
    from netchange.config._identity import OidcSettings as OidcSettings
    from netchange.config._known import register_every_secret as register_every_secret
    from netchange.config._secretsfile import load_secrets as load_secrets
    from netchange.config._settings import LAB_POLICY as LAB_POLICY
    from netchange.config._settings import Logins as Logins
    from netchange.config._settings import MailSettings as MailSettings
    from netchange.config._settings import ServerSettings as ServerSettings
    from netchange.config._settings import Settings as Settings

_WHERE = {
    "inject_credentials": "_credentials",
    "IdentitySettings": "_identity",
    "LdapSettings": "_identity",
    "OidcSettings": "_identity",
    "LAB_POLICY": "_settings",
    "Logins": "_settings",
    "MailSettings": "_settings",
    "ServerSettings": "_settings",
    "Settings": "_settings",
    "apply_credentials": "_credentials",
    "load_secrets": "_secretsfile",
    "nornir_overrides": "_credentials",
    "register_every_secret": "_known",
    "register_known_secrets": "_credentials",
    "require_logins": "_credentials",
}

__all__ = [
    "LAB_POLICY",
    "IdentitySettings",
    "LdapSettings",
    "Logins",
    "MailSettings",
    "OidcSettings",
    "ServerSettings",
    "Settings",
    "apply_credentials",
    "inject_credentials",
    "load_secrets",
    "nornir_overrides",
    "register_every_secret",
    "register_known_secrets",
    "require_logins",
]

__getattr__, __dir__ = lazy_names(__name__, _WHERE)
