"""The repository's policy with a ``directory.groups`` mapping, for the directory sign-in tests.

The groups are those of the test directory (``tests/ldapserver.py``) and of the test OIDC
provider's people (``tests/oidcserver.py``): engineers, one group of operations managers per
site, requesters, project managers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAPPING = """
directory:
  groups:
    netops: {roles: [engineer]}
    ops-doif: {roles: [ops_manager], sites: [doif]}
    ops-doso: {roles: [ops_manager], sites: [doso]}
    requesters: {roles: [requester]}
    pm: {roles: [project_manager]}
"""


def mapped_policy(tmp: Path, mapping: str = MAPPING) -> Path:
    """``tmp/policy.yaml``: the repository's policy with ``mapping`` appended."""
    path = tmp / "policy.yaml"
    shutil.copy(REPO / "policy.yaml", path)
    with path.open("a") as f:
        f.write(mapping)
    return path
