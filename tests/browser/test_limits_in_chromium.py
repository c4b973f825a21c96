"""Issue 23 items 1 and 2 as a person meets them in Chromium (Playwright on Debian's chromium),
against a real `netchange serve` on 127.0.0.1 (the HTTP-level tests are test_service_limits.py
and test_signin_throttle.py):

- a malformed report quarter (``/reports?quarter=9999Q4``) is a readable, styled 400 page, and the
  response the browser received carries the security headers;
- an attacker's browser types wrong passwords for a manager, more than the old lock-out's ten: it
  is told to slow down; the manager, in another browser, signs in on the first try and reaches
  the queue; the journal has the ``signin_guessing`` event naming the attacker's address.

The service counts failures per socket peer address (``auth.client_address``: uvicorn's
``request.client``, proxy headers only with ``--behind-tls-proxy``), and every loopback
connection leaves from 127.0.0.1 whatever 127/8 address it goes to. So the attacker's browser
reaches the server through a small TCP relay that connects from 127.0.0.2, as a NAT or another
host would: two clients, two addresses, no header the service would have to trust.

Screenshots (``report-400.png``, ``signin-slowed.png``, ``signin-not-locked-out.png``) go to
``NETCHANGE_SCREENSHOTS`` or the module's temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from netchange.journal.testing import make_plan
from netchange.service.throttle import FREE, GUESSING
from netchange.vocabulary import Category
from tests.browser.support import CHROMIUM, PASSWORD, in_chromium, journal_of, make_home, set_passwords, store

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")
ATTACKER = "127.0.0.2"
WRONG = "Tr0ub4dor&3-not-it"
CHANGE = "CHG-2026-2301"
ATTEMPTS = 12
"""Wrong passwords the attacker types: more than the ten after which main at 7dfdd60 locked the login."""


class Relay:
    """A TCP relay on 127.0.0.1 that opens each upstream connection from ``source``.

    What the server sees of a client behind it is ``source``: another machine's address, as far as
    the socket is concerned (Linux routes all of 127/8 to ``lo``).
    """

    def __init__(self, upstream: str, source: str) -> None:
        url = urllib.parse.urlsplit(upstream)
        self._to = (url.hostname or "127.0.0.1", url.port or 80)
        self._source = source
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self._to, timeout=30, source_address=(self._source, 0))
            except OSError:
                return  # closed
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                s.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("limits-chromium")
    home, policy, env = make_home(tmp)
    # A change awaiting the manager's decision: what she signs in for.
    store(home, policy, make_plan(CHANGE, category=Category.MEDIUM, requester="crenard",
                                  hosts=(("sw-doif-1", "doif"),), policy_digest=policy.digest))
    set_passwords(env, "amoreau", "bleroy")
    with in_chromium(env, tmp) as (base, browser, shots):
        relay = Relay(base, ATTACKER)
        try:
            yield {"base": base, "relay": relay.base, "home": home, "browser": browser, "shots": shots}
        finally:
            relay.close()


def new_page(world: dict[str, Any]) -> Any:
    """A page in a browser context of its own: its own cookies, as another person's browser."""
    return world["browser"].new_context(viewport={"width": 1280, "height": 800}).new_page()


def submit(page: Any, base: str, login: str, password: str) -> tuple[int, str]:
    """Sign in through the form as a person does; the status of the answer and the alert shown."""
    page.goto(base + "/signin")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/signin")) as posted:
        page.click("button[type=submit]")
    page.wait_for_load_state()
    alert = page.locator("p.alert")
    return posted.value.status, alert.inner_text() if alert.count() else ""


def styled(page: Any) -> bool:
    """The service's stylesheet was applied (not the browser's defaults: Times, white, no card)."""
    return bool(page.evaluate(
        """() => {
            const sheets = [...document.styleSheets].filter(s => s.href && s.href.endsWith('/static/service.css'));
            const card = document.querySelector('.card');
            return sheets.length === 1 && sheets[0].cssRules.length > 10 && card !== null
                && !getComputedStyle(document.body).fontFamily.toLowerCase().includes('times')
                && getComputedStyle(card).paddingTop !== '0px';
        }"""
    ))


def test_a_malformed_report_quarter_is_a_readable_400_page_with_the_security_headers(world):
    page = new_page(world)
    status, _ = submit(page, world["base"], "bleroy", PASSWORD)
    assert status == 303 and page.url.endswith("/queue")

    for quarter in ("9999Q4", "0000Q1"):
        answer = page.goto(f"{world['base']}/reports?quarter={quarter}")
        assert answer is not None and answer.status == 400, answer and answer.status
        headers = answer.all_headers()  # as received by the browser, security headers included
        assert all(h in headers for h in SECURITY_HEADERS), headers
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["content-type"].startswith("text/html")
        # A page a person can read: the service's own error page, styled, saying what was wrong.
        assert page.locator("h1").inner_text() == "Cannot show this"
        message = page.locator("p.alert.bad").inner_text()
        assert quarter in message and "is not between 1970 and 9998" in message, message
        assert "Traceback" not in page.content() and "Internal Server Error" not in page.content()
        assert page.locator("a[href='/queue']", has_text="Back to my queue").is_visible()
        assert page.locator("a[href='/signout'], form[action='/signout']").count() >= 1  # still signed in
        assert styled(page)
        if quarter == "9999Q4":
            page.screenshot(path=str(world["shots"] / "report-400.png"), full_page=True)

    # The same page with a quarter that exists is the report.
    answer = page.goto(f"{world['base']}/reports?quarter=2026Q4")
    assert answer is not None and answer.status == 200
    page.context.close()


def test_an_attacker_slowed_down_cannot_lock_the_manager_out(world):
    attacker = new_page(world)
    seen = [submit(attacker, world["relay"], "amoreau", WRONG) for _ in range(ATTEMPTS)]
    statuses = [status for status, _ in seen]
    # The first wrong passwords are heard and said wrong; then that address is slowed for that login.
    assert statuses[:FREE] == [401] * FREE, seen
    assert all(alert == "Wrong login or password." for _, alert in seen[:FREE]), seen
    assert statuses[FREE] == 429, seen
    assert statuses.count(429) >= ATTEMPTS - FREE - 2, seen  # a wait of 2 s, 4 s…: few more are heard
    status, alert = seen[-1]
    assert status == 429 and alert.startswith("Too many failed sign-ins from here: try again in "), seen
    assert attacker.locator("p.alert.bad[role=alert]").is_visible()
    assert attacker.url.endswith("/signin") and styled(attacker)
    attacker.screenshot(path=str(world["shots"] / "signin-slowed.png"), full_page=True)

    # The manager, from her own browser and address, signs in on the first try and has her queue.
    manager = new_page(world)
    status, alert = submit(manager, world["base"], "amoreau", PASSWORD)
    assert (status, alert) == (303, "")
    assert manager.url == world["base"] + "/queue"
    assert manager.locator("h1").first.is_visible()
    awaiting = manager.locator("section", has_text="Awaiting my decision")
    assert awaiting.locator("a", has_text=CHANGE).is_visible()
    assert styled(manager)
    manager.screenshot(path=str(world["shots"] / "signin-not-locked-out.png"), full_page=True)

    # The journal: the guessing pattern once, naming the attacker's address (what the server saw),
    # and the manager's sign-in from another one.
    with journal_of(world["home"]) as journal:
        events = list(journal.events())
    guessing = [e for e in events if e.kind == "signin_guessing"]
    assert len(guessing) == 1, guessing
    assert guessing[0].data["login"] == "amoreau"
    assert guessing[0].data["addresses"] == [ATTACKER]
    assert guessing[0].data["failures"] == GUESSING
    signins = [e for e in events if e.kind == "signin" and e.actor == "amoreau"]
    assert [e.data["client"] for e in signins] == ["127.0.0.1"]
    failed = [e for e in events if e.kind == "signin_failed" and e.actor == "amoreau"]
    assert len(failed) == ATTEMPTS and {e.data["client"] for e in failed} == {ATTACKER}
    assert all(WRONG not in str(e.data) for e in [*guessing, *failed])
    attacker.context.close()
    manager.context.close()
