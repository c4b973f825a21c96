"""Two replicas of the service in Chromium (issue 24 item 5): a browser's cookie is the host's,
whatever the port (RFC 6265 §8.5), so the session opened on replica A (127.0.0.1:PORT_A) goes with
the browser to replica B (127.0.0.1:PORT_B): signed in on A, the change approved on B's page (the
form's CSRF token is the session's, made when A opened it), signed out on B, and A then asks for
a sign-in. The replicas, their database and home: ``tests.unit.test_service_replicas``."""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser.support import CHROMIUM
from tests.unit.test_service_replicas import (  # noqa: F401 - the fixtures
    PASSWORD,
    _set_password,
    replica_args,
    replicas,
    smtp,
)


def test_signed_in_on_a_approved_and_signed_out_on_b(
        replicas: tuple[list[str], str], tmp_path: Path) -> None:  # noqa: F811 - the imported fixture, by name
    from playwright import sync_api

    (a, b), _url = replicas
    _set_password([a, b])
    shots = Path(os.environ.get("NETCHANGE_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(a + "/signin")
            page.fill("input[name=login]", "amoreau")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(a + "/queue")

            page.goto(b + "/changes/CHG-2026-0042")  # B: no sign-in asked
            assert page.url == b + "/changes/CHG-2026-0042"
            page.fill("textarea[name=comment]", "approved on the other replica")
            page.click("button.approve")
            page.wait_for_url(b + "/changes/CHG-2026-0042?done=approved")
            assert "Your approval is recorded" in page.inner_text("main")
            page.screenshot(path=str(shots / "replicas-approved-on-b.png"), full_page=True)

            page.click("form.signout button")
            page.wait_for_url(b + "/signin")
            page.goto(a + "/queue")
            page.wait_for_url(a + "/signin")  # the session ended on A too
        finally:
            browser.close()
