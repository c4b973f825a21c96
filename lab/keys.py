"""Credentials and SSH keys generated at ``lab up``: never committed, never printed.

Every lab start makes fresh passwords and keys under ``$NETCHANGE_HOME/lab`` (git-ignored), and
writes one ``known_hosts`` file with every device's host key, so that drivers verify host keys
(``ssh_strict``) instead of accepting whatever answers on the port.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netchange import redact


def password(nbytes: int = 18) -> str:
    """A random password, registered with :mod:`netchange.redact` so no output shows it."""
    value = secrets.token_urlsafe(nbytes)
    redact.register(value)
    return value


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (created 0600, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def ed25519_keypair(private_path: Path, comment: str) -> str:
    """Create an OpenSSH ed25519 key at ``private_path`` (and ``.pub``); return the public line."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    write_private(private_path, private)
    public_line = f"{public.decode()} {comment}"
    private_path.with_name(private_path.name + ".pub").write_text(public_line + "\n")
    return public_line


def known_hosts_line(host: str, port: int, public_line: str) -> str:
    """One known_hosts entry in the ``[host]:port`` form that paramiko looks up for non-22 ports."""
    key_type, key_b64 = public_line.split()[:2]
    where = host if port == 22 else f"[{host}]:{port}"
    return f"{where} {key_type} {key_b64}"
