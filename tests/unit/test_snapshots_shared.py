"""Snapshots shared through the team's database (issue 24): a change applied on one machine is
recovered from another, whose state directory never held its snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from netchange.errors import RollbackFailed
from netchange.journal import Journal
from netchange.rollback import SnapshotStore
from tests import fakedriver
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING
from tests.pgserver import PgServer, journal_database
from tests.unit.test_apply import inventory as fake_inventory
from tests.unit.test_cli_locks import TUESDAY_1930, write_change

KEY = "1e" * 32


def test_a_snapshot_saved_on_one_machine_is_read_on_another_and_checked(postgres: PgServer, tmp_path: Path) -> None:
    url = journal_database(postgres)
    text = "hostname sw1\ninterface Gi1/0/1\n description uplink\n"
    sha = SnapshotStore(tmp_path / "a", database=url).save(text)
    other = SnapshotStore(tmp_path / "b", database=url)
    assert other.load(sha) == text
    assert not (tmp_path / "b").exists()
    with Journal(tmp_path / "j.sqlite", database=url, key=KEY) as journal:
        assert journal.verify() == []
    with pytest.raises(RollbackFailed, match=r"missing from .* and from the team's database"):
        other.load("0" * 64)
    with pytest.raises(RollbackFailed, match="missing from"):
        SnapshotStore(tmp_path / "c").load(sha)  # a machine without the database has only its files
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(database), autocommit=True) as conn:  # a superuser's edit
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE blobs SET text = 'hostname evil'")
    with pytest.raises(RollbackFailed, match="corrupt"):
        SnapshotStore(tmp_path / "d", database=url).load(sha)
    with Journal(tmp_path / "j.sqlite", database=url, key=KEY) as journal:
        assert any(p.startswith(f"blob {sha[:12]}") for p in journal.verify())


def test_a_change_applied_on_one_machine_is_recovered_from_another(
        workspace: Path, postgres: PgServer, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., CliResult]) -> None:
    from netchange.apply import _applier

    url = journal_database(postgres)
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", url)
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", KEY)
    machine_a, machine_b = ("--home", str(workspace / "home-a")), ("--home", str(workspace / "home-b"))
    with fakedriver.fake_platform():
        fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, 5)})
        monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, {})))
        assert cli(*machine_a, "plan", write_change(workspace, "CHG-2026-0042"), actor="dnguyen").code == 0
        assert cli(*machine_a, "approve", "CHG-2026-0042", actor="amoreau").code == 0
        real = _applier.fail_point

        def abort_after_the_first_commit(name: str, *, host: str | None = None) -> None:
            if name == "apply.committed":
                raise SystemExit(137)  # machine A dies: the change stays in_progress
            real(name, host=host)

        monkeypatch.setattr(_applier, "fail_point", abort_after_the_first_commit)
        applied = cli(*machine_a, "apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930)
        assert applied.code == 137
        monkeypatch.setattr(_applier, "fail_point", real)
        changed = [n for n in (f"sw{i}" for i in range(1, 5)) if "vlan 20" in fakedriver.running_of(n)]
        assert changed  # a device was committed before the machine died
        assert (workspace / "home-a" / "snapshots").exists() and not (workspace / "home-b").joinpath(
            "snapshots").exists()
        recovered = cli(*machine_b, "recover", "CHG-2026-0042", actor="efaure")
        assert recovered.code == 0, recovered.err + recovered.out
        assert all(fakedriver.running_of(f"sw{i}").strip() == SWITCH_RUNNING.strip() for i in range(1, 5))
        with Journal(workspace / "j.sqlite", database=url, key=KEY) as journal:
            assert journal.state("CHG-2026-0042") == "rolled_back"
            kinds: list[Any] = [(e.kind, e.actor) for e in journal.events("CHG-2026-0042")]
            assert ("recover_started", "efaure") in kinds
            assert journal.verify() == []
