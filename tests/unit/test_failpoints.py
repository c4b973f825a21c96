"""The fail points: found in the source by reading it, literal and unique; armed one at a time.

The crash matrix (``tests/integration/test_crash_matrix.py``) arms every point this finds, so a new
step that calls ``fail_point`` is covered without editing a list; a name it cannot read (not a
literal) or one used twice would silently escape it: both fail here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netchange import failpoints
from netchange.failpoints import Armed, InjectedFault, arm, fail_point
from tests.failpoint_sources import calls, problems, registered


def test_every_fail_point_call_has_a_literal_unique_name() -> None:
    points = calls()
    assert problems(points) == []
    names = {p.name for p in points}
    # The steps the safety net stands on (issue 21 item 1): a point lost in a refactor fails here.
    assert {"apply.prepare", "apply.commit_started", "apply.commit", "apply.committed", "apply.post_checks",
            "apply.confirm", "apply.rollback", "restore.read", "restore.write", "restore.verify",
            "recover.started", "recover.finished", "rollback.started", "rollback.finished"} <= names
    assert all(p.per_host for p in points if p.stage == "restore")  # each restore is one host's


def test_a_name_not_literal_or_used_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "netchange").mkdir()
    (tmp_path / "rollback").mkdir()
    (tmp_path / "tasks").mkdir()
    (tmp_path / "netchange" / "a.py").write_text(
        "from netchange.failpoints import fail_point\n"
        "fail_point('apply.one', host='h')\n"
        "fail_point(f'apply.{x}')\n"
        "fail_point('NoStage')\n")
    (tmp_path / "rollback" / "b.py").write_text(
        "from netchange import failpoints\nfailpoints.fail_point('apply.one')\n")
    found = problems(calls(tmp_path))
    assert found == [
        "netchange/a.py:3: fail_point's name is not a literal string",
        "netchange/a.py:4: 'NoStage' is not 'stage.step'",
        "rollback/b.py:2: 'apply.one' already called at netchange/a.py:2",
    ]
    with pytest.raises(AssertionError, match="not a literal"):
        registered(tmp_path)


def test_armed_points_parse_and_act_once_for_their_host() -> None:
    assert Armed.parse("apply.commit@sw1:raise#2") == Armed("apply.commit", "sw1", "raise", 2)
    assert Armed.parse("restore.write") == Armed("restore.write", None, "kill", 1)
    with pytest.raises(ValueError, match="expected NAME"):
        Armed.parse("apply.commit:explode")
    try:
        arm("apply.commit@sw1:raise#2")
        fail_point("apply.commit", host="sw2")  # another host: not counted
        fail_point("apply.commit", host="sw1")  # first hit of sw1: not yet
        with pytest.raises(InjectedFault, match=r"apply\.commit on sw1"):
            fail_point("apply.commit", host="sw1")
        fail_point("apply.commit", host="sw1")  # only the N-th hit acts
    finally:
        arm(None)
    assert failpoints._ARMED is None
    fail_point("apply.commit", host="sw1")  # unarmed: nothing
