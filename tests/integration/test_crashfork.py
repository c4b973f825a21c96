"""The crash matrix's command runner (tests/integration/crashfork.py) under its lanes' concurrency.

Each lane is a thread of pytest that runs ``netchange`` commands one after the other, forked from
the one warm forkserver. ``multiprocessing`` is not made for that: ``Process.start()`` reads the
exit code of every other unfinished child, and a lane's ``join()`` racing it saw EOF, reported as
exit code 255 (a crash-matrix case failed on it in CI). Here four lanes run a command whose exit
code is known (a usage error: 2) many times each; every end must be that code.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.integration import crashfork

LANES = 4
RUNS = 40


def test_lanes_each_read_their_own_exit_code(tmp_path: Path) -> None:
    def lane(n: int) -> list[int]:
        workdir = tmp_path / f"lane-{n}"
        workdir.mkdir()
        return [crashfork.run(["--no-such-option"], env={"PATH": "/usr/bin:/bin"}, workdir=workdir).returncode
                for _ in range(RUNS)]

    with ThreadPoolExecutor(max_workers=LANES) as pool:
        codes = [code for lane_codes in pool.map(lane, range(LANES)) for code in lane_codes]
    assert codes == [2] * (LANES * RUNS), sorted(set(codes))
