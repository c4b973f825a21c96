"""Helpers of the lab integration tests: run a change type against an open driver, freeze an apply."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from netchange.changetype import ChangeType, Context, get_change_type
from netchange.platforms import syntax_of
from netchange.vocabulary import Role


def context(nornir: Any, name: str, driver: Any, change_type: str, params: dict[str, Any]) -> tuple[Any, Any]:
    """(change type, context) for ``name`` as the engine builds them at plan time."""
    host = nornir.inventory.hosts[name]
    ct: ChangeType[Any] = get_change_type(change_type)
    ctx: Context[Any] = Context(
        host=name,
        platform=host.platform,
        syntax=syntax_of(host.platform),
        role=Role(host.data["role"]),
        site=host.data["site"],
        data=dict(host.data),
        params=ct.validate(params),
        driver=driver,
        running=driver.get_config(retrieve="running")["running"],
    )
    return ct, ctx


def failed(checks: list[Any]) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in checks if not c.passed]


def freeze_outside_a_transaction(proc: subprocess.Popen[str], journal: Path) -> None:
    """SIGSTOP ``proc`` at a moment it holds no journal write lock (else every other command waits)."""
    for _ in range(500):
        proc.send_signal(signal.SIGSTOP)
        try:
            with closing(sqlite3.connect(journal, timeout=0.05, isolation_level=None)) as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            proc.send_signal(signal.SIGCONT)
            time.sleep(0.003)
    raise AssertionError("could not freeze the apply outside a journal transaction")
