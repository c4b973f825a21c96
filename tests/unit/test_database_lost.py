"""The team's database stops in the middle of an apply (issue 24, "done when"): nothing is sent to a
device once the journal cannot be written, the change is recovered once the server is back, and the
chain verifies. A server of this test's own (it is crashed), PostgreSQL's ``immediate`` stop."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netchange.apply import Applier
from netchange.journal import Journal
from tests import fakedriver, pgserver
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING
from tests.unit.test_apply import inventory as fake_inventory
from tests.unit.test_cli_locks import TUESDAY_1930, call, write_change

KEY = "3c" * 32


@pytest.fixture
def own_server() -> Iterator[pgserver.PgServer]:
    parent = Path(tempfile.mkdtemp(prefix="netchange-pg-lost-"))
    parent.chmod(0o755)
    server = pgserver.start(parent / "cluster")
    try:
        yield server
    finally:
        pgserver.stop(server)


def test_the_database_lost_mid_apply_stops_every_write_and_the_change_is_recovered(
        workspace: Path, own_server: pgserver.PgServer, monkeypatch: pytest.MonkeyPatch,
        cli: Callable[..., CliResult], capsys: pytest.CaptureFixture[str]) -> None:
    url = pgserver.journal_database(own_server)
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", url)
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", KEY)
    monkeypatch.setenv("NETCHANGE_LEASE_SECONDS", "2")
    with fakedriver.fake_platform():
        fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, 5)})
        monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, {})))
        assert cli("plan", write_change(workspace, "CHG-2026-0042"), actor="dnguyen").code == 0
        assert cli("approve", "CHG-2026-0042", actor="amoreau").code == 0

        # The apply waits at the start of its rollout (in_progress on record, snapshots taken).
        entered, release = threading.Event(), threading.Event()
        real = Applier.rollout

        def rollout(self: Applier):  # type: ignore[no-untyped-def]
            entered.set()
            assert release.wait(60)
            return real(self)

        monkeypatch.setattr(Applier, "rollout", rollout)
        monkeypatch.setenv("NETCHANGE_ACTOR", "dnguyen")
        monkeypatch.setenv("NETCHANGE_NOW", TUESDAY_1930)
        codes: list[int] = []
        thread = threading.Thread(target=lambda: codes.append(call("apply", "CHG-2026-0042")), daemon=True)
        thread.start()
        assert entered.wait(60)
        pgserver.crash(own_server)
        before = {name: list(calls) for name, calls in fakedriver.CALLS.items()}
        release.set()
        thread.join(120)
        assert codes == [3]
        err = capsys.readouterr().err
        assert "Traceback" not in err and ("could not be checked" in err or "stopped answering" in err), err
        # Not one device call after the journal became unreachable: the fence refused each first.
        assert {name: list(calls) for name, calls in fakedriver.CALLS.items()} == before
        assert all(fakedriver.running_of(f"sw{i}").strip() == SWITCH_RUNNING.strip() for i in range(1, 5))

        pgserver.restart(own_server)
        time.sleep(2.5)  # the dead apply's leases expire (by the database's clock)
        monkeypatch.setattr(Applier, "rollout", real)
        recovered = cli("recover", "CHG-2026-0042", actor="dnguyen")
        assert recovered.code == 0, recovered.err + recovered.out
        with Journal(workspace / "home" / "journal.sqlite", database=url, key=KEY) as journal:
            assert journal.state("CHG-2026-0042") == "rolled_back"
            assert journal.verify() == []
        assert cli("journal", "verify").code == 0
