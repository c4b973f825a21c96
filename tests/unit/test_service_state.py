"""The service reads the policy file as it is now: an edited (adopted) policy is seen at once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from netchange.config import Settings
from netchange.service.state import Service

REPO = Path(__file__).resolve().parents[2]


def test_the_policy_is_read_again_when_its_file_changes(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    shutil.copy(REPO / "policy.yaml", policy_file)
    service = Service(settings=Settings.resolve(home=tmp_path / "home", policy=policy_file))
    first = service.policy()
    assert service.policy() is first  # unchanged file: not parsed again
    text = policy_file.read_text().replace('version: "', 'version: "x-', 1)
    policy_file.write_text(text)
    os.utime(policy_file, ns=(1, 1))  # even with an old time stamp: size and inode count too
    second = service.policy()
    assert second.version.startswith("x-")
    assert second.digest != first.digest
