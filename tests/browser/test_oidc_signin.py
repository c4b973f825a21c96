"""OIDC sign-in in Chromium (issue 24 item 6) against the run's provider (``tests/oidcserver.py``).

The provider is oidc-provider-mock from PyPI, with PKCE enforced. The browser goes to the provider
and back (authorization code with PKCE); a subject the policy does not list is refused. The person
makes an API token on their account page, and the CLI signs in with it (``netchange login``) and
lists changes through the service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netchange.service.launch import free_port
from tests.browser.support import CHROMIUM, directory_home, in_chromium, netchange
from tests.oidcserver import OidcServer

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

RECHECK_MINUTES = 0.05  # 3 s: the bound a removed person's open session outlives the removal


@pytest.fixture(scope="module")
def oidc_service(tmp_path_factory: pytest.TempPathFactory,
                 oidc_provider: OidcServer) -> Iterator[tuple[str, Any, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("oidc-signin")
    port = free_port()
    callback = f"http://127.0.0.1:{port}/signin/oidc/callback"
    client_id, secret = oidc_provider.register(callback)
    _home, env = directory_home(tmp, {
        "provider": "oidc", "recheck_minutes": RECHECK_MINUTES,
        "oidc": {"issuer": oidc_provider.issuer, "client_id": client_id, "redirect_url": callback},
    })
    env["NETCHANGE_OIDC_CLIENT_SECRET"] = secret
    with in_chromium(env, tmp, port=port) as (base, browser, shots):
        yield base, browser, shots, env


def oidc_sign_in(page: Any, base: str, subject: str, shots: Path | None = None) -> None:
    page.goto(base + "/signin")
    page.click("text=Sign in with the identity provider")
    page.wait_for_selector("input[name=sub]")  # the provider's own page
    if shots is not None:
        page.screenshot(path=str(shots / "oidc-provider-page.png"), full_page=True)
    page.fill("input[name=sub]", subject)
    page.click("form:has(input[name=sub]) button[type=submit]")  # the provider's "Authorize"
    page.wait_for_load_state()


def test_oidc_sign_in_through_the_provider_and_back(oidc_service: tuple[str, Any, Path, dict[str, str]]) -> None:
    base, browser, shots, _env = oidc_service
    page = browser.new_context().new_page()
    page.goto(base + "/signin")
    page.screenshot(path=str(shots / "oidc-signin.png"), full_page=True)
    oidc_sign_in(page, base, "bleroy", shots)
    page.wait_for_url(base + "/queue")
    who = page.inner_text(".who")
    assert "Bruno Leroy" in who and "requester/ops_manager" in who and "doso" in who
    page.screenshot(path=str(shots / "oidc-signed-in.png"), full_page=True)


def test_oidc_someone_the_policy_does_not_list_is_refused(
    oidc_service: tuple[str, Any, Path, dict[str, str]],
) -> None:
    base, browser, shots, _env = oidc_service
    page = browser.new_context().new_page()
    oidc_sign_in(page, base, "zintrus")
    assert "zintrus is not allowed to use this service" in page.inner_text("[role=alert]")
    page.screenshot(path=str(shots / "oidc-not-in-policy.png"), full_page=True)
    page.goto(base + "/queue")
    assert page.url == base + "/signin"


def test_the_cli_signs_in_with_a_token_made_on_the_account_page(
    oidc_service: tuple[str, Any, Path, dict[str, str]], tmp_path: Path,
) -> None:
    base, browser, shots, env = oidc_service
    page = browser.new_context().new_page()
    oidc_sign_in(page, base, "dnguyen")
    page.wait_for_url(base + "/queue")
    page.goto(base + "/account")
    page.fill("input[name=label]", "laptop")
    page.click("text=Make an API token for the CLI")
    token = page.inner_text("#api-token").strip()
    assert token.startswith("nct_")
    page.screenshot(path=str(shots / "oidc-api-token.png"), full_page=True)

    cli_home = tmp_path / "cli-home"
    cli_env = {**env, "NETCHANGE_HOME": str(cli_home)}
    wrong = netchange(cli_env, "login", "--server", base, stdin="nct_not-a-token\n")
    assert wrong.returncode == 2 and "the API token was refused" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1 and not (cli_home / "login.json").exists()
    done = netchange(cli_env, "login", "--server", base, "--json", stdin=token + "\n")
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["login"] == "dnguyen"
    assert (cli_home / "login.json").stat().st_mode & 0o777 == 0o600
    assert token not in done.stdout + done.stderr
    listed = netchange(cli_env, "list", "--json")  # through the service, with the kept token
    assert listed.returncode == 0, listed.stderr
    out = netchange(cli_env, "logout")
    assert out.returncode == 0 and not (cli_home / "login.json").exists()
