"""Read the team lab's devices by their own means (IOS switches: a plain netmiko session's
``show running-config``; the NETCONF switch: a raw ncclient ``<get-config>``), from
whichever network namespace this script is run in: the team lab's devices are reachable only from
their site's jump namespace, so the tests run it there (``ip netns exec <jump> python team_reader.py``).

Usage: ``team_reader.py HOSTS_YAML SECRETS_YAML NAME...``; prints one JSON object, name →
``{"running": text}`` or ``{"error": "<exception class>: <message>"}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def read(host: dict[str, Any], secret: dict[str, Any]) -> str:
    if host["platform"] == "netconf":
        return read_netconf(host, secret)
    from netmiko import ConnectHandler

    conn = ConnectHandler(device_type="cisco_ios", host=host["hostname"], port=host["port"],
                          username=secret["username"], password=secret["password"],
                          secret=(secret.get("optional_args") or {}).get("secret", ""),
                          use_keys=False, allow_agent=False, fast_cli=True, conn_timeout=5)
    try:
        conn.enable()
        return str(conn.send_command("show running-config", read_timeout=30))
    finally:
        conn.disconnect()


def read_netconf(host: dict[str, Any], secret: dict[str, Any]) -> str:
    """A raw ncclient ``<get-config>`` of running."""
    from ncclient import manager

    key = host["connection_options"]["netchange"]["extras"]["optional_args"]["key_file"]
    with manager.connect(host=host["hostname"], port=host["port"], username=secret["username"], key_filename=key,
                         hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=20) as session:
        return str(session.get_config(source="running").data_xml)


def main(argv: list[str]) -> int:
    hosts = yaml.safe_load(Path(argv[0]).read_text())
    secrets = yaml.safe_load(Path(argv[1]).read_text())["hosts"]
    out: dict[str, dict[str, str]] = {}
    for name in argv[2:]:
        try:
            out[name] = {"running": read(hosts[name], secrets.get(name) or {})}
        except Exception as exc:  # the test asserts on the kind of failure (unreachable, refused)
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
