"""The cost of an unarmed fail point (issue 21 item 1): ``python -m bench.failpoints [--calls N]``.

Every step of apply, rollback and recover that journals an event or talks to a device calls
:func:`netchange.failpoints.fail_point`; with ``NETCHANGE_FAILPOINT`` unset (everywhere but in the
crash-matrix tests) the call must cost nothing that matters next to the step itself (a journal
write, a device round trip: milliseconds). Prints nanoseconds per call, best of five runs, for an
unarmed point, a point armed elsewhere (another name: the tests' case), and an empty function call
as the floor of any Python call.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from netchange import failpoints
from netchange.failpoints import fail_point


def _per_call(body: Callable[[int], None], calls: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter_ns()
        body(calls)
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def _fail_points(calls: int) -> None:
    for _ in range(calls):
        fail_point("apply.commit", host="sw-doif-core1")


def _empty(name: str, *, host: str | None = None) -> None:
    return None


def _empty_calls(calls: int) -> None:
    for _ in range(calls):
        _empty("apply.commit", host="sw-doif-core1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    failpoints.arm(None)
    unarmed = _per_call(_fail_points, args.calls)
    failpoints.arm("restore.write@other-host")
    try:
        elsewhere = _per_call(_fail_points, args.calls)
    finally:
        failpoints.arm(None)
    floor = _per_call(_empty_calls, args.calls)
    print(f"fail_point unarmed:            {unarmed:6.1f} ns/call")
    print(f"fail_point armed elsewhere:    {elsewhere:6.1f} ns/call")
    print(f"empty function (the floor):    {floor:6.1f} ns/call")
    print(f"{args.calls} calls per run, best of 5")


if __name__ == "__main__":
    main()
