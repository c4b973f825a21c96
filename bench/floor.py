"""The floor: the same device work as netchange, hand-written with netmiko and a thread pool.

Run as ``python -m bench.floor SPEC.json`` so that its wall time, like the ``netchange`` command's,
includes starting Python and importing the SSH stack. Per device, in ``ThreadPoolExecutor(20)``:

- ``read``: connect, enable, ``show running-config``;
- ``write``: connect, enable, send the config lines, ``show running-config`` (read back);
- ``write_undo``: as ``write``, then send the undo lines and read back again (a rollback's floor).
- ``careful`` and ``careful_undo``: as ``write`` and ``write_undo`` with ``show running-config``
  first: the careful hand script reads the device before it changes it (the snapshot it would
  restore, the check that it is as expected), configures, reads back. Three round trips per host
  (five with the undo and its read-back): the physical limit of a safe change (issue 27 item 2).

Prints one JSON object: ``{"seconds", "ok", "errors"}``.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from netmiko import ConnectHandler

ERROR_PATTERN = r"% Invalid input|No such command"


def one(device: dict[str, Any], spec: dict[str, Any]) -> str | None:
    conn = ConnectHandler(
        device_type="cisco_ios", host=device["host"], port=device["port"], username=device["username"],
        password=device["password"], secret=device["secret"], ssh_strict=True, system_host_keys=False,
        alt_host_keys=True, alt_key_file=spec["known_hosts"], use_keys=False, allow_agent=False,
    )
    try:
        conn.enable()
        if spec["mode"] in ("careful", "careful_undo"):
            conn.send_command("show running-config")
        if spec["mode"] in ("write", "write_undo", "careful", "careful_undo"):
            conn.send_config_set(spec["lines"], error_pattern=ERROR_PATTERN)
        conn.send_command("show running-config")
        if spec["mode"] in ("write_undo", "careful_undo"):
            conn.send_config_set(spec["undo"], error_pattern=ERROR_PATTERN)
            conn.send_command("show running-config")
        return None
    finally:
        conn.disconnect()


def run(spec: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    errors: list[str] = []

    def guarded(device: dict[str, Any]) -> None:
        try:
            one(device, spec)
        except Exception as exc:
            errors.append(f"{device['name']}: {type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=int(spec.get("workers", 20))) as pool:
        list(pool.map(guarded, spec["devices"]))
    return {"seconds": time.perf_counter() - start, "ok": len(spec["devices"]) - len(errors), "errors": errors}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    spec = json.loads(Path(args[0]).read_text())
    print(json.dumps(run(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
