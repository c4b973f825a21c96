"""Where netchange finds its files.

Every setting resolves in one order: command-line argument > environment variable > default.
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


@dataclass(frozen=True, kw_only=True)
class Settings:
    home: Path
    """State directory: plans, snapshots, the journal, the lab's generated files."""
    nornir_config: Path
    policy: Path
    journal: Path
    secrets: Path

    @classmethod
    def resolve(
        cls,
        *,
        home: str | Path | None = None,
        nornir_config: str | Path | None = None,
        policy: str | Path | None = None,
        journal: str | Path | None = None,
        secrets: str | Path | None = None,
    ) -> Settings:
        home_path = _pick(home, "NETCHANGE_HOME", Path(".netchange"))
        return cls(
            home=home_path,
            nornir_config=_pick(nornir_config, "NETCHANGE_NORNIR_CONFIG", Path("nornir.yaml")),
            policy=_pick(policy, "NETCHANGE_POLICY", Path("policy.yaml")),
            journal=_pick(journal, "NETCHANGE_JOURNAL", home_path / "journal.sqlite"),
            secrets=_pick(secrets, "NETCHANGE_SECRETS", home_path / "secrets.yaml"),
        )

    @property
    def plans_dir(self) -> Path:
        return self.home / "plans"

    @property
    def snapshots_dir(self) -> Path:
        return self.home / "snapshots"
