"""Identity from a directory (issue 24 item 6): the policy stays the authority.

The mapping rules (``directory_person``) on the repository's policy with a ``directory.groups``
mapping; LDAP sign-in and the re-check bound against the run's slapd (``tests/ldapserver.py``),
with a clock the test moves; OIDC's re-check against the run's provider (``tests/oidcserver.py``).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from netchange.config import IdentitySettings, LdapSettings, OidcSettings, Settings
from netchange.errors import BadRequest
from netchange.policy import Policy, directory_person, load_policy, seen_by_directory
from netchange.service.directory import DirectoryUnavailable, Found
from netchange.service.directory.holds import Holds
from netchange.service.directory.ldapdir import LdapDirectory
from netchange.service.directory.oidcdir import PENDING_SECONDS, OidcProvider, PendingSeal, SignInRefused
from netchange.service.shared import TokenSeal, token_hash
from tests import ldapserver as directory
from tests.directorypolicy import mapped_policy
from tests.ldapserver import LdapServer
from tests.oidcserver import OidcServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_policy(mapped_policy(tmp_path))


def ldap_settings(server: LdapServer, **changes: object) -> LdapSettings:
    values: dict[str, object] = {
        "url": server.url, "starttls": True, "ca_file": server.ca_file, "bind_dn": directory.SERVICE_DN,
        "bind_password": directory.SERVICE_PASSWORD, "user_base": f"ou=people,{directory.SUFFIX}",
        "user_filter": "(uid={login})", "group_base": f"ou=groups,{directory.SUFFIX}",
        "group_filter": "(member={dn})", "group_attribute": "cn", "timeout": 5.0,
    }
    values.update(changes)
    return LdapSettings(**values)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the policy is the authority -----------------------------------------------------------------


def test_a_person_absent_from_the_policy_gets_nothing_whatever_their_groups(policy: Policy) -> None:
    assert policy.person("zintrus") is None
    assert directory_person(policy, "zintrus", ["netops", "pm", "ops-doif", "requesters"]) is None


def test_groups_narrow_the_policy_entry_never_widen_it(policy: Policy) -> None:
    alice = directory_person(policy, "amoreau", ["ops-doif", "requesters"])
    assert alice is not None
    assert (alice.roles, alice.sites) == (("requester", "ops_manager"), ("doif",))
    # Only the requesters group left: requester, no longer an operations manager.
    requester_only = directory_person(policy, "amoreau", ["requesters"])
    assert requester_only is not None and requester_only.roles == ("requester",)
    # A group granting a role the policy does not give her adds nothing.
    engineer_group = directory_person(policy, "amoreau", ["netops"])
    assert engineer_group is None
    dan = directory_person(policy, "dnguyen", ["netops", "pm"])
    assert dan is not None and dan.roles == ("engineer",)


def test_a_group_for_another_site_grants_nothing(policy: Policy) -> None:
    # Alice answers for doif in the policy; the doso managers' group does not make her one there.
    assert directory_person(policy, "amoreau", ["ops-doso"]) is None


def test_no_mapped_group_means_nothing_and_no_mapping_means_the_policy_entry(tmp_path: Path) -> None:
    policy = load_policy(mapped_policy(tmp_path))
    assert directory_person(policy, "dnguyen", []) is None
    assert directory_person(policy, "dnguyen", ["some-other-group"]) is None
    plain = load_policy(REPO / "policy.yaml")
    assert directory_person(plain, "dnguyen", []) == plain.person("dnguyen")
    assert directory_person(plain, "zintrus", ["netops"]) is None


def test_the_narrowed_view_keeps_the_file_in_force(policy: Policy) -> None:
    person = directory_person(policy, "amoreau", ["requesters"])
    assert person is not None
    view = seen_by_directory(policy, person)
    assert view.digest == policy.digest and view.path == policy.path
    narrowed = view.person("amoreau")
    assert narrowed is not None and narrowed.roles == ("requester",)
    assert view.person("bleroy") == policy.person("bleroy")


@pytest.mark.parametrize(("mapping", "says"), [
    ("directory:\n  groups:\n    netops: {roles: [janitor]}\n", "roles not declared under 'roles': janitor"),
    ("directory:\n  groups:\n    netops: {roles: [engineer], sites: [mars]}\n",
     "directory groups name unknown sites: mars"),
    ("directory:\n  groups:\n    netops: {roles: []}\n", "directory.groups.netops.roles"),
    ("directory:\n  groups:\n    netops: {roles: [engineer], admin: true}\n", "directory.groups.netops.admin"),
])
def test_a_wrong_mapping_is_one_line_naming_the_file(tmp_path: Path, mapping: str, says: str) -> None:
    path = mapped_policy(tmp_path, mapping)
    with pytest.raises(BadRequest) as caught:
        load_policy(path)
    message = str(caught.value)
    assert says in message and str(path) in message and "\n" not in message


# --- settings --------------------------------------------------------------------------------------


def settings_with(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    (tmp_path / "settings.yaml").write_text(text)
    monkeypatch.setenv("NETCHANGE_SETTINGS", str(tmp_path / "settings.yaml"))
    monkeypatch.setenv("NETCHANGE_SECRETS", str(tmp_path / "secrets.yaml"))
    monkeypatch.delenv("NETCHANGE_LDAP_BIND_PASSWORD", raising=False)
    return Settings.resolve(home=tmp_path)


def test_local_accounts_stay_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_with(tmp_path, "mail: {}\n", monkeypatch).identity == IdentitySettings()


@pytest.mark.parametrize(("text", "says"), [
    ("identity:\n  provider: ldap\n  ldap: {url: 'ldap://127.0.0.1:1/', bind_dn: cn=x, user_base: o=x,"
     " starttls: false}\n", "passwords never cross in clear"),
    ("identity:\n  provider: ldap\n  ldap: {url: 'ldap://127.0.0.1:1/', bind_dn: cn=x, user_base: o=x}\n",
     "the service account's password is missing"),
    ("identity:\n  provider: ldap\n  ldap: {url: 'ldap://h/', bind_dn: cn=x, user_base: o=x, bind_password: s}\n",
     "identity.ldap.bind_password belongs in the secrets file"),
    ("identity:\n  provider: oidc\n  oidc: {issuer: 'https://idp', client_id: c}\n", "redirect_url"),
    ("identity:\n  provider: kerberos\n", "identity.provider"),
])
def test_wrong_identity_settings_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                                              says: str) -> None:
    with pytest.raises(BadRequest) as caught:
        _ = settings_with(tmp_path, text, monkeypatch).identity
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_the_secrets_come_from_the_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("identity: {ldap_bind_password: from-the-secrets-file}\n")
    secrets.chmod(0o600)
    settings = settings_with(tmp_path, "identity:\n  provider: ldap\n  ldap: {url: 'ldap://127.0.0.1:1/', "
                                       "bind_dn: cn=x, user_base: o=x}\n", monkeypatch)
    assert settings.identity.ldap is not None
    assert settings.identity.ldap.bind_password == "from-the-secrets-file"
    assert "from-the-secrets-file" not in repr(settings.identity)


# --- LDAP against the run's slapd ----------------------------------------------------------------


def test_ldap_binds_as_the_person_and_reads_their_groups(slapd: LdapServer) -> None:
    ldap_dir = LdapDirectory(ldap_settings(slapd))
    assert ldap_dir.authenticate("amoreau", directory.PASSWORD) == Found("amoreau", ("ops-doif", "requesters"))
    assert ldap_dir.authenticate("amoreau", "not her password") is None
    assert ldap_dir.authenticate("amoreau", "") is None  # an empty bind would be anonymous: refused first
    assert ldap_dir.authenticate("nobody", directory.PASSWORD) is None
    assert ldap_dir.authenticate("amoreau)(uid=*", directory.PASSWORD) is None


def test_the_directory_refuses_a_client_without_starttls(slapd: LdapServer) -> None:
    # slapd answers nothing but TLS sessions (olcSecurity tls=1): the StartTLS the client does is what works.
    with pytest.raises(DirectoryUnavailable, match="confidentiality required"):
        LdapDirectory(ldap_settings(slapd, starttls=False)).lookup("amoreau")


def test_a_directory_certificate_from_another_ca_is_refused(slapd: LdapServer, tmp_path: Path) -> None:
    other_ca, _cert, _key = directory.make_ca_and_server(tmp_path)
    with pytest.raises(DirectoryUnavailable):
        LdapDirectory(ldap_settings(slapd, ca_file=other_ca)).authenticate("amoreau", directory.PASSWORD)


def test_a_person_removed_from_the_directory_cannot_sign_in_on_the_next_attempt(
    slapd: LdapServer, policy: Policy,
) -> None:
    holds = Holds(IdentitySettings(provider="ldap", ldap=ldap_settings(slapd)))
    directory_settings = holds.sign_in(policy, "efaure", directory.PASSWORD)
    assert directory_settings[1] is not None and directory_settings[1].roles == ("engineer",)
    slapd.remove_person("efaure")
    try:
        assert holds.sign_in(policy, "efaure", directory.PASSWORD) == (None, None)
    finally:
        slapd.add_person("efaure", ("netops",))
    assert holds.sign_in(policy, "efaure", directory.PASSWORD)[1] is not None


def test_an_ldap_person_not_in_the_policy_never_signs_in(slapd: LdapServer, policy: Policy) -> None:
    holds = Holds(IdentitySettings(provider="ldap", ldap=ldap_settings(slapd)))
    found, person = holds.sign_in(policy, "zintrus", directory.PASSWORD)
    assert found == Found("zintrus", ("netops",))  # the directory knows him, with a mapped group
    assert person is None


def test_a_removed_persons_session_ends_within_the_recheck_bound(slapd: LdapServer, policy: Policy) -> None:
    clock = Clock()
    holds = Holds(IdentitySettings(provider="ldap", recheck_minutes=5, ldap=ldap_settings(slapd)), clock=clock)
    found, _ = holds.sign_in(policy, "dnguyen", directory.PASSWORD)
    assert found is not None
    holds.opened("sid-1", found)
    slapd.remove_person("dnguyen")
    try:
        clock.now += 5 * 60 - 1
        assert holds.person("sid-1", policy) is not None  # not yet checked again: within the bound
        clock.now += 1
        assert holds.person("sid-1", policy) is None  # the check at the bound: the session ends
        assert holds.token_person("dnguyen", policy) is None  # and his API tokens with it
        slapd.add_person("dnguyen", ("netops",))
        assert holds.person("sid-1", policy) is None  # and stays ended (sign in again)
    finally:
        slapd.add_person("dnguyen", ("netops",))


def test_leaving_a_group_ends_the_role_at_the_next_check(slapd: LdapServer, policy: Policy) -> None:
    clock = Clock()
    holds = Holds(IdentitySettings(provider="ldap", recheck_minutes=1, ldap=ldap_settings(slapd)), clock=clock)
    found, person = holds.sign_in(policy, "amoreau", directory.PASSWORD)
    assert found is not None and person is not None and "ops_manager" in person.roles
    holds.opened("sid-2", found)
    slapd.set_groups("amoreau", ("requesters",))
    try:
        clock.now += 60
        now = holds.person("sid-2", policy)
        assert now is not None and now.roles == ("requester",)
        assert holds.token_person("amoreau", policy) == now  # her API tokens follow the same answer
    finally:
        slapd.set_groups("amoreau", ("ops-doif", "requesters"))


def test_a_person_dropped_from_the_policy_loses_the_session_at_once(
    slapd: LdapServer, policy: Policy, tmp_path: Path,
) -> None:
    holds = Holds(IdentitySettings(provider="ldap", ldap=ldap_settings(slapd)), clock=Clock())
    found, _ = holds.sign_in(policy, "gperrin", directory.PASSWORD)
    assert found is not None
    holds.opened("sid-3", found)
    without = policy.model_copy(update={"people": tuple(p for p in policy.people if p.login != "gperrin")})
    assert holds.person("sid-3", without) is None  # no directory check needed: the policy decides


def test_an_unreachable_directory_ends_sessions_due_a_check(slapd: LdapServer, policy: Policy) -> None:
    clock = Clock()
    holds = Holds(IdentitySettings(provider="ldap", recheck_minutes=1, ldap=ldap_settings(slapd)), clock=clock)
    found, _ = holds.sign_in(policy, "bleroy", directory.PASSWORD)
    assert found is not None
    holds.opened("sid-4", found)
    holds.ldap = LdapDirectory(ldap_settings(slapd, url="ldap://127.0.0.1:9/"))  # nothing listens there
    clock.now += 60
    assert holds.person("sid-4", policy) is None


# --- OIDC against the run's provider ---------------------------------------------------------------


KEY = b"k" * 32
"""The service's session key in these tests (what seals the ``netchange_oidc`` cookie)."""


def oidc_provider_for(server: OidcServer, callback: str = "http://127.0.0.1:9/signin/oidc/callback",
                      clock: Callable[[], float] = time.time, **changes: object) -> OidcProvider:
    client_id, secret = server.register(callback)
    values: dict[str, object] = {
        "issuer": server.issuer, "client_id": client_id, "client_secret": secret, "redirect_url": callback,
        "scopes": "openid profile email", "login_claim": "preferred_username", "groups_claim": "groups",
        "ca_file": None, "timeout": 10.0,
    }
    values.update(changes)
    return OidcProvider(OidcSettings(**values), key=KEY, clock=clock)  # type: ignore[arg-type]


def consent(url: str, sub: str) -> dict[str, str]:
    """What the browser does at the provider: pick the subject; the provider's redirect's query."""
    answer = httpx.post(url, data={"sub": sub})
    assert answer.status_code == 302, answer.text[:300]
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def test_oidc_code_flow_with_pkce_checks_the_id_token(oidc_provider: OidcServer) -> None:
    provider = oidc_provider_for(oidc_provider)
    url, pending, cookie = provider.start()
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] == [pending.nonce]
    assert query["state"] == [pending.state]
    for secret in (pending.state, pending.nonce, pending.verifier):
        assert secret not in cookie  # the cookie is sealed, not merely encoded
    answer = consent(url, "bleroy")
    found, tokens = provider.finish(cookie, answer["state"], answer["code"])
    assert found == Found("bleroy", ("ops-doso", "requesters"))
    assert tokens.access_token


def test_oidc_refuses_a_foreign_state_a_tampered_cookie_and_a_replayed_code(oidc_provider: OidcServer) -> None:
    provider = oidc_provider_for(oidc_provider)
    url, pending, cookie = provider.start()
    other_url, _other, other_cookie = provider.start()
    answer = consent(url, "dnguyen")
    with pytest.raises(SignInRefused, match="did not start"):
        provider.finish(other_cookie, answer["state"], answer["code"])  # another browser's sign-in
    with pytest.raises(SignInRefused, match="did not start"):
        provider.finish("", answer["state"], answer["code"])  # no cookie
    raw = bytearray(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)))
    raw[20] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(SignInRefused, match="altered"):
        provider.finish(tampered, answer["state"], answer["code"])
    # Under another session key (another service) the same cookie does not open either.
    with pytest.raises(SignInRefused, match="altered"):
        OidcProvider(provider.settings, key=b"o" * 32).finish(cookie, answer["state"], answer["code"])
    # What seals a session row's OIDC tokens cannot be presented as a started sign-in.
    row_value = TokenSeal(KEY).seal(json.dumps(asdict(pending)).encode(), token_hash("a session"))
    as_cookie = base64.urlsafe_b64encode(base64.b64decode(row_value)).decode().rstrip("=")
    with pytest.raises(SignInRefused, match="altered"):
        provider.finish(as_cookie, answer["state"], answer["code"])
    found, _tokens = provider.finish(cookie, answer["state"], answer["code"])
    assert found.login == "dnguyen"
    with pytest.raises(SignInRefused, match="invalid_grant"):  # the code is single use (the provider's)
        provider.finish(cookie, answer["state"], answer["code"])
    # The verifier is checked by the provider (PKCE): a code without the right one yields nothing.
    other_answer = consent(other_url, "dnguyen")
    other = PendingSeal(KEY).open(other_cookie)
    assert other is not None
    wrong_verifier = PendingSeal(KEY).seal(replace(other, verifier="x" * 64))
    with pytest.raises(SignInRefused, match="invalid_grant"):
        provider.finish(wrong_verifier, other_answer["state"], other_answer["code"])


def test_oidc_refuses_a_sign_in_started_too_long_ago(oidc_provider: OidcServer) -> None:
    clock = Clock()
    provider = oidc_provider_for(oidc_provider, clock=clock)
    url, _pending, cookie = provider.start()
    answer = consent(url, "dnguyen")
    clock.now += PENDING_SECONDS + 1
    with pytest.raises(SignInRefused, match="too long"):
        provider.finish(cookie, answer["state"], answer["code"])
    clock.now -= 2
    found, _tokens = provider.finish(cookie, answer["state"], answer["code"])  # within the bound: signed in
    assert found.login == "dnguyen"


def test_oidc_refuses_an_id_token_for_another_issuer(oidc_provider: OidcServer) -> None:
    provider = oidc_provider_for(oidc_provider)
    url, _pending, cookie = provider.start()
    answer = consent(url, "dnguyen")
    provider.settings = OidcSettings(**{**provider.settings.__dict__, "issuer": "http://127.0.0.1:1"})
    with pytest.raises(SignInRefused, match="ID token does not hold"):
        provider.finish(cookie, answer["state"], answer["code"])


def test_an_oidc_session_ends_within_the_bound_once_the_provider_drops_the_person(
    oidc_provider: OidcServer, policy: Policy,
) -> None:
    clock = Clock()
    provider = oidc_provider_for(oidc_provider)
    holds = Holds(IdentitySettings(provider="oidc", recheck_minutes=5, oidc=provider.settings), clock=clock)
    assert holds.oidc is not None
    url, _pending, cookie = holds.oidc.start()
    answer = consent(url, "efaure")
    found, tokens = holds.oidc.finish(cookie, answer["state"], answer["code"])
    holds.opened("sid-o", found, tokens)
    assert holds.person("sid-o", policy) is not None
    assert holds.token_person("efaure", policy) is not None  # her API tokens, with the groups seen
    restarted = Holds(holds.settings, clock=clock)
    assert restarted.token_person("efaure", policy) is None  # no groups known since: sign in again
    oidc_provider.revoke("efaure")  # the provider no longer vouches for this grant (nor its refresh token)
    clock.now += 5 * 60 - 1
    assert holds.person("sid-o", policy) is not None
    clock.now += 1
    assert holds.person("sid-o", policy) is None
    assert holds.token_person("efaure", policy) is None  # the session's check ended her tokens too


# --- what the narrowed entry may do ------------------------------------------------------------------


def test_a_manager_out_of_her_group_may_no_longer_approve(policy: Policy, tmp_path: Path) -> None:
    """The service judges a directory person under ``seen_by_directory`` (the queue, the change page,
    decisions): Alice, still an operations manager in the policy file, approves a medium change at
    her site only while her directory groups say she is one."""
    import datetime as dt

    from netchange.errors import GuardRefused
    from netchange.guard import approve
    from netchange.journal import Journal
    from netchange.journal.testing import make_plan
    from netchange.policy import actor_for
    from netchange.service.worklist import Filters, build_worklist
    from netchange.vocabulary import Category

    now = dt.datetime(2026, 12, 2, 18, 10, tzinfo=dt.UTC)
    with Journal(tmp_path / "journal.sqlite", clock=lambda: now) as journal:
        for n in (1, 2):
            plan = make_plan(f"CHG-2026-{n:04d}", category=Category.MEDIUM, requester="crenard",
                             hosts=(("sw-doif-1", "doif"),))
            journal.record_plan(plan, "dnguyen")
        requester_only = directory_person(policy, "amoreau", ["requesters"])
        manager = directory_person(policy, "amoreau", ["ops-doif", "requesters"])
        assert requester_only is not None and manager is not None
        narrowed, full = seen_by_directory(policy, requester_only), seen_by_directory(policy, manager)

        def awaiting(view: Policy) -> list[str]:
            work = build_worklist(view, journal, "amoreau", Filters(), now=now)
            return [i.work.row.id for i in work.awaiting.items]

        assert awaiting(narrowed) == []
        with pytest.raises(GuardRefused, match="cannot approve a medium change"):
            approve(narrowed, journal, "CHG-2026-0001", actor_for(narrowed, "amoreau"))
        assert awaiting(full) == ["CHG-2026-0001", "CHG-2026-0002"]
        approval, _status = approve(full, journal, "CHG-2026-0001", actor_for(full, "amoreau"))
        assert approval.roles == ("requester", "ops_manager")
