"""The settings of one invocation: where netchange finds its files, and who acts when.

Every setting resolves in one order: command-line argument > environment variable > file >
default. No setting has a file of its own yet (the secrets file is read by ``credentials``, the
policy by ``policy``), so today that is argument > environment > default, and each field below says
its variable and default. The CLI resolves them once, in its root callback, and passes them down:
no other module reads these variables (``tests/unit/test_settings.py`` keeps that true).
The defaults are relative to the working directory so that a checkout is a self-contained
workspace (the demo and the tests rely on that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _pick(arg: str | Path | None, env: str, default: Path) -> Path:
    if arg is not None:
        return Path(arg)
    value = os.environ.get(env)
    return Path(value) if value else default


def _text(arg: str | None, env: str) -> str | None:
    if arg is not None:
        return arg
    return os.environ.get(env, "").strip() or None


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    """State directory: plans, snapshots, the journal, the lab's generated files.
    ``--home`` > ``NETCHANGE_HOME`` > ``.netchange``."""
    nornir_config: Path
    """``--config`` (or ``--lab``: ``<home>/lab/nornir.yaml``) > ``NETCHANGE_NORNIR_CONFIG`` > ``nornir.yaml``."""
    policy: Path
    """``--policy`` > ``NETCHANGE_POLICY`` > ``policy.yaml``."""
    journal: Path
    """``NETCHANGE_JOURNAL`` > ``<home>/journal.sqlite``."""
    secrets: Path
    """``NETCHANGE_SECRETS`` > ``<home>/secrets.yaml``."""
    now: str | None = None
    """``NETCHANGE_NOW`` (ISO 8601 with an offset) > the wall clock. Honoured only by a policy that
    allows it (``identity.allow_override``); see :func:`netchange.clock.now`."""
    actor: str | None = None
    """``NETCHANGE_ACTOR`` > the OS account. Honoured only by a policy that allows it; see
    :func:`netchange.identity.current_actor`."""

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
    ) -> Settings:
        home_path = _pick(home, "NETCHANGE_HOME", Path(".netchange"))
        return cls(
            home=home_path,
            nornir_config=_pick(nornir_config, "NETCHANGE_NORNIR_CONFIG", Path("nornir.yaml")),
            policy=_pick(policy, "NETCHANGE_POLICY", Path("policy.yaml")),
            journal=_pick(journal, "NETCHANGE_JOURNAL", home_path / "journal.sqlite"),
            secrets=_pick(secrets, "NETCHANGE_SECRETS", home_path / "secrets.yaml"),
            now=_text(now, "NETCHANGE_NOW"),
            actor=_text(actor, "NETCHANGE_ACTOR"),
        )

    @property
    def plans_dir(self) -> Path:
        return self.home / "plans"

    @property
    def snapshots_dir(self) -> Path:
        return self.home / "snapshots"
