"""NetBox as the inventory (issue 22 item 10), through nornir_netbox's ``NetBoxInventory2`` and
netchange's mapping, against NetBox's REST API as NetBox serves it: the answers of a NetBox 2.8.9
server recorded by nornir_netbox's own test suite (tests/recorded/netbox-2.8.9/SOURCE.md), served
over HTTP on 127.0.0.1 with NetBox's token check and its ``site`` filter. NetBox is not on PyPI
(a Django project run from its Git checkout), so no real NetBox runs here; Nautobot, its fork, does
(test_sot_nautobot.py).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CliResult

Cli = Callable[..., CliResult]
RECORDED = Path(__file__).resolve().parent.parent / "recorded" / "netbox-2.8.9"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
ENV_TOKEN = "e2" * 20  # another valid token, given through NB_TOKEN
# A team's mapping over NetBox 2.8's device JSON (``device_role``; NetBox 3.6+ says ``role``).
MAPPING = {
    "role": {"from": "device_role.slug", "values": {"rt": "router", "sw": "switch"}},
    "site": {"from": "site.slug", "values": {"sunnyvale-ca": "doif", "san-jose-ca": "doso"}},
    "platform": {"from": "platform.slug", "values": {"ios": "ios_cli", "junos": "junos"}},
    "data": {"criticality": "custom_fields.user_defined"},
}


class _NetBox(BaseHTTPRequestHandler):
    """``GET /api/dcim/{devices,platforms}/``: the recorded answers; NetBox's 403 without the token;
    ``?site=<slug>`` filtered as NetBox filters it."""

    def do_GET(self) -> None:
        url = urllib.parse.urlparse(self.path)
        resource = {"/api/dcim/devices/": "devices", "/api/dcim/platforms/": "platforms"}.get(url.path)
        if self.headers.get("Authorization") not in (f"Token {TOKEN}", f"Token {ENV_TOKEN}"):
            self._send(403, {"detail": "Invalid token"})
            return
        if resource is None:
            self._send(404, {"detail": "Not found."})
            return
        body = json.loads((RECORDED / f"{resource}.json").read_text())
        sites = urllib.parse.parse_qs(url.query).get("site")
        if sites:
            body["results"] = [d for d in body["results"] if d["site"]["slug"] in sites]
            body["count"] = len(body["results"])
        self._send(200, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def netbox() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NetBox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def use(workspace: Path, netbox: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    monkeypatch.setenv("NETCHANGE_SECRETS", str(workspace / "no-secrets.yaml"))
    monkeypatch.chdir(workspace)  # NetBoxInventory2 reads ./groups.yaml and ./defaults.yaml when present

    def _use(mapping: dict[str, Any] = MAPPING, token: str = TOKEN, **filters: str) -> Path:
        root = workspace / "netbox"
        root.mkdir(exist_ok=True)
        (root / "mapping.yaml").write_text(yaml.safe_dump(mapping))
        options: dict[str, Any] = {"nb_url": netbox, "nb_token": token}
        if filters:
            options["filter_parameters"] = filters
        config = root / "nornir.yaml"
        config.write_text(yaml.safe_dump({
            "inventory": {"plugin": "NetBoxInventory2", "options": options, "transform_function": "netchange_sot",
                          "transform_function_options": {"mapping": "mapping.yaml"}},
            "runner": {"plugin": "threaded", "options": {"num_workers": 2}}, "logging": {"enabled": False}}))
        monkeypatch.setenv("NETCHANGE_NORNIR_CONFIG", str(config))
        return config

    return _use


def test_netbox_devices_are_listed_with_netchanges_role_site_and_platform(use: Callable[..., Path], cli: Cli) -> None:
    use(site="san-jose-ca")
    result = cli("inventory", "--json")
    assert result.code == 0, result.err
    assert [(h["name"], h["site"], h["role"], h["platform"], h["hostname"], h["criticality"])
            for h in json.loads(result.out)["hosts"]] == [("3-Access", "doso", "switch", "ios_cli", "192.168.3.1", "1")]


def test_every_recorded_device_with_a_default_platform(use: Callable[..., Path], cli: Cli) -> None:
    use({**MAPPING, "platform": {**MAPPING["platform"], "default": "junos"}})
    result = cli("inventory", "--json")
    assert result.code == 0, result.err
    hosts = {h["name"]: (h["site"], h["role"], h["platform"]) for h in json.loads(result.out)["hosts"]}
    assert hosts == {"1-Core": ("doif", "router", "junos"), "2-Distribution": ("doif", "router", "junos"),
                     "3-Access": ("doso", "switch", "ios_cli"),
                     "4": ("doif", "router", "junos")}  # a device without a name is named by its id (the plugin)
    routers = cli("inventory", "--role", "router", "--site", "doif", "--json")
    assert len(json.loads(routers.out)["hosts"]) == 3


def test_a_device_netbox_gives_no_platform_is_one_line_naming_it(use: Callable[..., Path], cli: Cli) -> None:
    use(site="sunnyvale-ca")
    result = cli("inventory")
    assert result.code == 2
    assert "2-Distribution" in result.err and "no platform" in result.err and "platform.slug" in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_netbox_refusing_the_token_is_one_line(use: Callable[..., Path], cli: Cli) -> None:
    use(token="f" * 40)
    result = cli("inventory", "--json")
    assert result.code == 2
    assert json.loads(result.out)["error"]["exit_code"] == 2
    assert "f" * 40 not in result.out + result.err


def test_the_api_token_is_scrubbed_from_what_netchange_writes(use: Callable[..., Path], cli: Cli,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from netchange import redact

    in_config = "a1" * 20
    use(token=in_config)  # refused by this NetBox: the token still counts as a secret
    assert cli("inventory").code == 2
    assert redact.scrub(f"token {in_config}") == f"token {redact.MASK}"

    # The token in NB_TOKEN, as the plugin reads it when nornir.yaml names none.
    config = use(site="san-jose-ca")
    config.write_text(config.read_text().replace(f"nb_token: {TOKEN}", "nb_token: null"))
    monkeypatch.setenv("NB_TOKEN", ENV_TOKEN)
    result = cli("inventory", "--json")
    assert result.code == 0, result.err
    assert redact.scrub(f"token {ENV_TOKEN}") == f"token {redact.MASK}"
