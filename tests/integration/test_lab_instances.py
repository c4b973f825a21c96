"""Two labs started at the same moment get distinct instances and both come up healthy.

Before the machine-wide reservation, both picked instance 0 (check-then-create): one failed on
``ip netns add`` or, worse, a re-created lab's firewall sshd died under the other. Only the firewall
and load-balancer components are started: the firewalls' namespaces and subnet carry the instance
number, the load balancers listen on ports the kernel picked (reserved for the lab until down).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from netchange.lab.firewalls import Firewalls
from netchange.lab.haproxy import HaproxyLab
from netchange.lab.manager import LabManager
from tests.integration.conftest import _missing

pytestmark = pytest.mark.lab


def test_two_labs_started_together_do_not_collide(tmp_path: Path) -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    labs = [LabManager(tmp_path / f"home{i}" / "lab", components=[Firewalls(per_site=1), HaproxyLab()])
            for i in range(2)]
    errors: list[BaseException] = []

    def start(lab: LabManager) -> None:
        try:
            lab.up()
        except BaseException as exc:  # reported below, after both are torn down
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(lab,)) for lab in labs]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        states = [lab.load_state() or {} for lab in labs]
        assert states[0]["instance"] != states[1]["instance"]
        assert not set(states[0]["namespaces"]) & set(states[1]["namespaces"])
        assert [lab.problems() for lab in labs] == [[], []]
        ports = [{h["port"] for h in state["inventory"] if h["hostname"] == "127.0.0.1"} for state in states]
        assert ports[0] and ports[1] and not ports[0] & ports[1]
    finally:
        downs = [lab.down() for lab in labs]
    assert [d.leftovers for d in downs] == [[], []]
    assert [d.errors for d in downs] == [[], []]
