"""Recover of an apply killed before its rollout (issue 21, found by the crash matrix).

Killed at ``apply.locked``, ``apply.prepare`` or ``apply.prepared`` (the sessions opened, nothing
read: each host is read at its turn since issue 27 item 1), an apply leaves its change ``approved``
with its journal locks held: every other change on those hosts is refused. ``recover`` releases
the locks, journals it and exits 0; the change can be applied again. A host whose snapshot such an
apply journaled (an apply before issue 27 read every host up front) is read again and compared. The kill is played in
process: the point raises and the release the ``finally`` would do never happens, as after a
SIGKILL (the crash matrix kills a real process at the same points on the lab).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from netchange import failpoints
from netchange.failpoints import InjectedFault
from netchange.journal import EventKind, Journal
from netchange.journal.locks import Locks
from netchange.rollback import SnapshotStore
from tests import fakedriver
from tests.conftest import CliResult
from tests.mockdev import SWITCH_RUNNING
from tests.unit.test_apply import inventory as fake_inventory

TUESDAY_1930 = "2026-12-01T19:30:00+01:00"
Cli = Callable[..., CliResult]


def write_change(root: Path, change_id: str, vlan: int) -> str:
    path = root / f"{change_id}.yaml"
    path.write_text(yaml.safe_dump({
        "id": change_id, "title": "New VLAN", "ticket": "INC1", "requester": "crenard", "estimated_duration": "PT20M",
        "steps": [{"type": "vlan", "targets": {"hosts": ["sw1"]}, "params": {"vlan_id": vlan, "name": "servers"}}]}))
    return str(path)


@pytest.fixture
def fake_lab(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with fakedriver.fake_platform():
        fakedriver.reset({f"sw{i}": SWITCH_RUNNING for i in range(1, 5)})
        monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(fake_inventory(workspace, {})))
        yield workspace
    failpoints.arm(None)


def killed_at(point: str, cli: Cli, monkeypatch: pytest.MonkeyPatch, change_id: str) -> None:
    """``apply`` dies at ``point``: nothing after it runs, the journal locks stay."""
    from netchange.cli import main as cli_main

    cli_main._overrides.clear()
    monkeypatch.setenv("NETCHANGE_ACTOR", "dnguyen")
    monkeypatch.setenv("NETCHANGE_NOW", TUESDAY_1930)
    with monkeypatch.context() as m:
        m.setattr(Locks, "release_locks", lambda *a, **k: None)
        failpoints.arm(f"{point}:raise")
        try:
            with pytest.raises((InjectedFault, SystemExit)):  # a per-host point: the host fails
                cli_main.main(["apply", change_id])
        finally:
            failpoints.arm(None)
            monkeypatch.delenv("NETCHANGE_NOW")


def ready(cli: Cli, root: Path, change_id: str, vlan: int) -> None:
    assert cli("plan", write_change(root, change_id, vlan), actor="dnguyen").code == 0
    assert cli("approve", change_id, actor="amoreau").code == 0


@pytest.mark.parametrize("point", ["apply.locked", "apply.prepare", "apply.prepared"])
def test_recover_releases_the_locks_of_an_apply_killed_before_its_rollout(
        fake_lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    ready(cli, fake_lab, "CHG-2026-0042", 20)
    ready(cli, fake_lab, "CHG-2026-0043", 21)
    killed_at(point, cli, monkeypatch, "CHG-2026-0042")
    journal_path = fake_lab / "home" / "journal.sqlite"
    with Journal(journal_path) as journal:
        assert journal.state("CHG-2026-0042") == "approved"
        assert [(lock.host, lock.change_id) for lock in journal.locks()] == [("sw1", "CHG-2026-0042")]
    # The finding: every other change on the host is refused while the dead apply's locks stay.
    refused = cli("apply", "CHG-2026-0043", actor="dnguyen", now=TUESDAY_1930)
    assert refused.code == 3 and "locked by CHG-2026-0042" in refused.err
    recovered = cli("recover", "CHG-2026-0042", actor="dnguyen")
    assert recovered.code == 0, recovered.out + recovered.err
    assert "nothing was changed" in recovered.out and "locks released on sw1" in recovered.out
    with Journal(journal_path) as journal:
        assert journal.state("CHG-2026-0042") == "approved"
        assert journal.locks() == []
        unlocked = [e for e in journal.events("CHG-2026-0042") if e.kind == "recover_unlocked"]
        assert len(unlocked) == 1 and unlocked[0].data["differing"] == {}
        # Nothing was read before the rollout: no snapshot on record, nothing to compare.
        assert unlocked[0].data["checked"] == []
        assert not any(e.kind in ("snapshot", "commit_started") for e in journal.events("CHG-2026-0042"))
    assert fakedriver.running_of("sw1").strip() == SWITCH_RUNNING.strip()
    # A second recover has nothing left to do: refused, as for any approved change.
    assert cli("recover", "CHG-2026-0042", actor="dnguyen").code == 3
    # The same change applies again, to its end; the other one is no longer refused for a lock
    # (it is for drift now: it was planned before VLAN 20).
    assert cli("apply", "CHG-2026-0042", actor="dnguyen", now=TUESDAY_1930).code == 0
    assert "vlan 20" in fakedriver.running_of("sw1")
    other = cli("apply", "CHG-2026-0043", actor="dnguyen", now=TUESDAY_1930)
    # Refused at sw1's turn, nothing changed (the drift is said on the live output, exit 3).
    assert other.code == 3 and "drift from the plan on sw1" in other.out and "locked" not in other.out + other.err
    assert "vlan 21" not in fakedriver.running_of("sw1")
    assert cli("journal", "verify").code == 0


def test_a_host_changed_meanwhile_is_named_and_its_locks_released_all_the_same(
        fake_lab: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, runner: str) -> None:
    ready(cli, fake_lab, "CHG-2026-0042", 20)
    with monkeypatch.context() as here:  # the apply dies in this process; the recover runs with `runner`
        here.delenv("NETCHANGE_RUNNER", raising=False)
        killed_at("apply.prepared", cli, monkeypatch, "CHG-2026-0042")
    # A snapshot on record, as an apply before issue 27 journaled it in its prepare phase.
    with Journal(fake_lab / "home" / "journal.sqlite") as journal:
        sha = SnapshotStore(fake_lab / "home" / "snapshots").save(fakedriver.running_of("sw1"))
        journal.event("CHG-2026-0042", EventKind.SNAPSHOT, actor="dnguyen", host="sw1", data={"sha": sha})
    fakedriver.DEVICES["sw1"].append("banner motd someone")  # another hand, after the snapshot
    recovered = cli("recover", "CHG-2026-0042", "--json", actor="dnguyen")
    assert recovered.code == 1, recovered.out + recovered.err
    document = yaml.safe_load(recovered.out)
    assert document["outcome"] == "approved" and document["alarms"] == ["sw1"]
    assert "+banner motd someone" in document["hosts"][0]["error"]
    with Journal(fake_lab / "home" / "journal.sqlite") as journal:
        assert journal.locks() == []
    assert cli("journal", "verify").code == 0
