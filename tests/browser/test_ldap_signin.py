"""LDAP sign-in in Chromium (issue 24 item 6) against the run's slapd (``tests/ldapserver.py``).

StartTLS with a CA made by the tests, a bind as the person. A person of the policy signs in with
their directory password and sees the roles their groups grant; someone the directory knows but
the policy does not is refused; a person removed from the directory cannot sign in on the next
attempt, and their open session ends at the first request after the re-check bound (here 3 s,
``identity.recheck_minutes: 0.05``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import ldapserver as directory
from tests.browser.support import CHROMIUM, directory_home, in_chromium
from tests.ldapserver import LdapServer

if not CHROMIUM.exists() and not os.environ.get("NETCHANGE_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (make lab-deps installs it)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

RECHECK_MINUTES = 0.05  # 3 s: the bound a removed person's open session outlives the removal


@pytest.fixture(scope="module")
def ldap_service(tmp_path_factory: pytest.TempPathFactory, slapd: LdapServer) -> Iterator[tuple[str, Any, Path]]:
    tmp = tmp_path_factory.mktemp("ldap-signin")
    _home, env = directory_home(tmp, {
        "provider": "ldap", "recheck_minutes": RECHECK_MINUTES,
        "ldap": {"url": slapd.url, "ca_file": str(slapd.ca_file), "bind_dn": directory.SERVICE_DN,
                 "user_base": f"ou=people,{directory.SUFFIX}", "group_base": f"ou=groups,{directory.SUFFIX}"},
    })
    env["NETCHANGE_LDAP_BIND_PASSWORD"] = directory.SERVICE_PASSWORD
    with in_chromium(env, tmp) as world:
        yield world


def ldap_sign_in(page: Any, base: str, login: str, password: str = directory.PASSWORD) -> None:
    page.goto(base + "/signin")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_ldap_sign_in_gives_the_roles_the_groups_grant(ldap_service: tuple[str, Any, Path]) -> None:
    base, browser, shots = ldap_service
    page = browser.new_context().new_page()
    page.goto(base + "/signin")
    assert "directory (LDAP) login and password" in page.inner_text("main")
    ldap_sign_in(page, base, "amoreau")
    assert page.url == base + "/queue"
    who = page.inner_text(".who")
    assert "Alice Moreau" in who and "requester/ops_manager" in who and "doif" in who
    page.screenshot(path=str(shots / "ldap-signed-in.png"), full_page=True)
    page.goto(base + "/account")
    assert "your password is managed there" in page.inner_text("main")
    assert page.locator("form[action='/account/password']").count() == 0


def test_ldap_someone_the_policy_does_not_list_is_refused(ldap_service: tuple[str, Any, Path]) -> None:
    base, browser, shots = ldap_service
    page = browser.new_context().new_page()
    ldap_sign_in(page, base, "zintrus")  # in the directory, in the engineers' group, not in the policy
    assert page.url == base + "/signin"
    assert page.inner_text("[role=alert]") == "Wrong login or password."
    page.screenshot(path=str(shots / "ldap-not-in-policy.png"), full_page=True)
    page.goto(base + "/queue")
    assert page.url == base + "/signin"


def test_ldap_a_removed_person_is_signed_out_within_the_bound(
    ldap_service: tuple[str, Any, Path], slapd: LdapServer,
) -> None:
    base, browser, shots = ldap_service
    page = browser.new_context().new_page()
    ldap_sign_in(page, base, "efaure")
    assert page.url == base + "/queue" and "Elise Faure" in page.inner_text(".who")
    slapd.remove_person("efaure")
    try:
        other = browser.new_context().new_page()
        ldap_sign_in(other, base, "efaure")  # the next attempt: refused at once
        assert other.url == base + "/signin" and other.inner_text("[role=alert]") == "Wrong login or password."
        page.wait_for_timeout(RECHECK_MINUTES * 60 * 1000 + 500)
        page.goto(base + "/queue")  # the first request after the bound: the directory is asked, she is gone
        assert page.url == base + "/signin"
        page.screenshot(path=str(shots / "ldap-removed-signed-out.png"), full_page=True)
    finally:
        slapd.add_person("efaure", ("netops",))
