"""``netchange`` with one forced post-check failure: ``python -m bench.failpoint apply ID --json``.

The host named by ``BENCH_FAIL_POSTCHECK_HOST`` gets one more post-check for the ``vlan`` change
type, which fails. Everything else (commit, journal, rollback, verification) is netchange's own:
this only decides *where* the failure happens, so that B2 can time a full rollback.
"""

from __future__ import annotations

import os
from typing import Any

from netchange.cli.main import main
from netchange.models import CheckResult
from netchange.tasks.vlan import Vlan

VICTIM = os.environ.get("BENCH_FAIL_POSTCHECK_HOST", "")
_original = Vlan.post_checks


def _post_checks(self: Vlan, ctx: Any) -> list[CheckResult]:
    checks = _original(self, ctx)
    if ctx.host == VICTIM:
        checks.append(CheckResult(name="bench forced failure", passed=False, detail="injected by bench"))
    return checks


Vlan.post_checks = _post_checks  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
