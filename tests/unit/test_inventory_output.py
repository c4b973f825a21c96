"""Loading an inventory never takes another thread's output (``contextlib.redirect_stdout`` swaps
``sys.stdout`` for the whole process: it is kept for the source-of-truth plugins that print their
refusals, never used for the file inventory that every lab and most installs have)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

from netchange.inventory._nornir import load_inventory


def test_a_thread_loading_the_inventory_takes_nothing_another_thread_prints(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An apply's --json document was lost this way (one run in three) while a Temporal worker
    # thread of the same process loaded its inventory for the change's last step.
    (tmp_path / "hosts.yaml").write_text(
        "sw1: {hostname: 127.0.0.1, platform: ios_cli, data: {role: switch, site: doif}}\n")
    config = tmp_path / "nornir.yaml"
    config.write_text(yaml.safe_dump({"inventory": {
        "plugin": "SimpleInventory", "options": {"host_file": str(tmp_path / "hosts.yaml")}}}))
    done = threading.Event()

    def loading() -> None:
        while not done.is_set():
            load_inventory(config)

    loader = threading.Thread(target=loading)
    loader.start()
    try:
        for n in range(1000):  # over about a second, while the other thread loads it again and again
            print(f"line {n}")
            time.sleep(0.001)
    finally:
        done.set()
        loader.join(30)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"line {n}" for n in range(1000)]
