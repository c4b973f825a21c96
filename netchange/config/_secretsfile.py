"""The secrets file's one reader: its mode checked as ssh checks a key's, parsed once per version.

Its own module because both the settings (the SMTP password and the service token live in it) and
the credentials (the devices' logins) read it, and the credentials build on the settings: here,
neither imports the other inside a function to dodge a cycle.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from netchange.errors import BadRequest

_SECTIONS = {"defaults", "groups", "hosts", "identity", "mail", "server"}
"""Devices' credentials (defaults, groups, hosts), the SMTP password (``mail.password``) and the
person's token for the approval service (``server.token``), the service's directory secrets
(``identity.ldap_bind_password``, ``identity.oidc_client_secret``), see :mod:`netchange.config._settings`."""


def load_secrets(path: Path) -> dict[str, Any]:
    """The parsed secrets file; treat it as read-only (it is shared between hosts, see below)."""
    if not path.exists():
        return {}
    stat = path.stat()
    if stat.st_mode & 0o077:
        # Same stance as ssh: a secrets file others can read is refused, not used.
        raise BadRequest(f"{path}: secrets file must not be readable by group or others (chmod 600)")
    return _parse_secrets(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parse_secrets(path: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    # The transform function runs once per host: parsing the whole file each time made loading
    # a 200-host inventory take seconds (issue 8). Keyed on mtime and size, so an edit is seen.
    import yaml  # here: a command run without a secrets file does not load YAML (start-up)

    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict) or set(data) - _SECTIONS:
        raise BadRequest(f"{path}: secrets file must be a mapping with {'/'.join(sorted(_SECTIONS))}")
    return data
