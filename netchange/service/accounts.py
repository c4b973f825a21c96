"""Local accounts of the approval service: argon2 password hashes and hashed API tokens.

The people are the policy's (``policy.yaml``); this file only holds how each proves who they are.
It lives under the netchange home (``<home>/service/accounts.json``), never in git, written
atomically and 0600 from creation (``netchange.privatefile``). A password is stored as an
argon2id hash (argon2-cffi's defaults); an API token is 32 random bytes shown once and stored as
its SHA-256 (a token is random, so a fast hash is enough and lookups stay cheap).
With a directory (``identity: ldap`` or ``oidc``) nobody has a password here; a person signed in
makes their own API tokens (``/account``), which expire (``identity.token_hours``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from netchange.errors import BadRequest
from netchange.policy import Policy
from netchange.privatefile import write_private

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_ACCOUNTS_BYTES = 4 * 1024 * 1024
TOKEN_PREFIX = "nct_"  # noqa: S105 (a marker, not a secret)

_hasher = PasswordHasher()
# Verified against when the login is unknown, so that an unknown login costs the same time.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))


def accounts_path(home: Path) -> Path:
    return home / "service" / "accounts.json"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Accounts:
    """The accounts file, read when made and written back by the admin commands."""

    path: Path
    data: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, home: Path) -> Accounts:
        path = accounts_path(home)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path, {})
        if len(raw) > MAX_ACCOUNTS_BYTES:
            raise BadRequest(f"{path}: larger than {MAX_ACCOUNTS_BYTES // 2**20} MiB; refused")
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"{path}: not JSON ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("accounts"), dict):
            raise BadRequest(f"{path}: not an accounts file")
        return cls(path, doc["accounts"])

    def save(self) -> None:
        write_private(self.path, json.dumps({"version": 1, "accounts": self.data}, indent=2, sort_keys=True))

    # --- admin ---------------------------------------------------------------------------------

    def set_password(self, policy: Policy, login: str, password: str) -> None:
        _require_person(policy, login)
        check_new_password(password)
        self.data.setdefault(login, {})["password"] = _hasher.hash(password)

    def change_password(self, policy: Policy, login: str, current: str, new: str) -> None:
        """``login`` replaces their own password: the current one is required (``WrongPassword``)."""
        if not self.check_password(login, current):
            raise WrongPassword(f"{login}: the current password is wrong")
        if new == current:
            raise BadRequest("the new password is the current one")
        self.set_password(policy, login, new)

    def password_stamp(self, login: str) -> str:
        """What changes whenever ``login``'s password does ("" without one): sessions and feed links
        made before a new password are refused by comparing it."""
        stored = self.data.get(login, {}).get("password")
        return hashlib.sha256(stored.encode()).hexdigest()[:32] if isinstance(stored, str) else ""

    def new_token(self, policy: Policy, login: str, *, label: str = "", expires: float | None = None) -> str:
        """A new API token for ``login`` (returned once; only its digest is kept), valid until
        ``expires`` (seconds since the epoch) when given."""
        _require_person(policy, login)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        tokens = self.data.setdefault(login, {}).setdefault("tokens", [])
        entry: dict[str, Any] = {"sha256": token_digest(token), "label": label[:80]}
        if expires is not None:
            entry["expires"] = int(expires)
        # Expired tokens are dropped as new ones are made: the file does not grow with every sign-in.
        now = time.time()
        tokens[:] = [t for t in tokens if not (isinstance(t, dict) and t.get("expires", now + 1) <= now)]
        tokens.append(entry)
        return token

    def revoke_tokens(self, login: str) -> int:
        tokens = self.data.get(login, {}).pop("tokens", [])
        return len(tokens)

    # --- sign-in -------------------------------------------------------------------------------

    def check_password(self, login: str, password: str) -> bool:
        """True when ``password`` is ``login``'s; as slow for an unknown login as for a known one."""
        stored = self.data.get(login, {}).get("password")
        if len(password) > MAX_PASSWORD:
            return False
        try:
            if not isinstance(stored, str):
                _hasher.verify(_DUMMY, password + "x")
                return False
            return _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def token_owner(self, token: str) -> str | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = token_digest(token)
        now = time.time()
        for login, account in self.data.items():
            for entry in account.get("tokens", []):
                if isinstance(entry, dict) and secrets.compare_digest(str(entry.get("sha256", "")), digest):
                    expires = entry.get("expires")
                    return None if isinstance(expires, int) and expires <= now else login
        return None


def check_new_password(password: str) -> None:
    """A password may be set: its length is within bounds (else ``BadRequest``)."""
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"the password must have at most {MAX_PASSWORD} characters")


class WrongPassword(BadRequest):
    """The current password given to change it is not the person's."""


def _require_person(policy: Policy, login: str) -> None:
    if policy.person(login) is None:
        raise BadRequest(f"{login!r} is not a person of the policy ({policy.path or 'policy.yaml'})")
