"""The approval service on two replicas (issue 24 item 5): two real ``netchange serve`` processes
on two ports, one home (its policy, accounts and session key) and one PostgreSQL database. The
test alternates its requests between the two base URLs (what a round-robin proxy in front of them
does; no proxy process runs here): a session opened on A is one on B, the CSRF token A issued is
accepted by B, signing out on B ends the session on A, failed sign-ins count across both, and the
notifier running in both mails each event once (a real SMTP server receives them)."""

from __future__ import annotations

import json
import os
import re
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
import pytest

from netchange.service.launch import serving
from tests.conftest import CliResult
from tests.ldapserver import LdapServer
from tests.oidcserver import OidcServer
from tests.pgserver import PgServer, journal_database
from tests.smtpsink import Received, SmtpServer
from tests.unit.test_notify import _by_notice, _change, _mail_env, _mock

Cli = Callable[..., CliResult]
KEY = "3e" * 32
PASSWORD = "correct horse battery staple"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def replica_args() -> tuple[str, ...]:
    """``netchange serve``'s options on each replica (a test behind the proxy adds its own)."""
    return ()


@pytest.fixture
def replicas(workspace: Path, smtp: SmtpServer, postgres: PgServer, monkeypatch: pytest.MonkeyPatch,
             cli: Cli, replica_args: tuple[str, ...]) -> Iterator[tuple[list[str], str]]:
    """A change waiting for approval in the team's database, and two replicas serving it."""
    _mock(workspace, monkeypatch, post_check_passes=True)
    _mail_env(monkeypatch, smtp.port)
    url = journal_database(postgres)
    monkeypatch.setenv("NETCHANGE_DATABASE_URL", url)
    monkeypatch.setenv("NETCHANGE_JOURNAL_KEY", KEY)
    (workspace / "home" / "settings.yaml").write_text("mail:\n  interval: 0.5\n")
    assert cli("plan", str(_change(workspace)), actor="dnguyen").code == 0
    assert set(_by_notice(smtp.sink.take())) == {"taken", "approval requested"}
    env = dict(os.environ)
    with ExitStack() as stack:
        # One after the other: the first makes the home's session key, the second reads it.
        bases = [stack.enter_context(serving(env, args=replica_args)) for _ in range(2)]
        yield bases, url


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


class RoundRobin:
    """One browser's cookies, its requests sent to each replica in turn."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.cookies = httpx.Cookies()
        self.turn = 0

    def to(self, which: int, method: str, path: str, **kw: object) -> httpx.Response:
        with httpx.Client(base_url=self.bases[which], cookies=self.cookies, follow_redirects=False,
                          timeout=30) as client:
            response = client.request(method, path, **kw)  # type: ignore[arg-type]
            self.cookies = client.cookies
        return response

    def next(self, method: str, path: str, **kw: object) -> httpx.Response:
        self.turn += 1
        return self.to(self.turn % len(self.bases), method, path, **kw)


def _sign_in(rr: RoundRobin, which: int, password: str, login: str = "amoreau") -> httpx.Response:
    form = rr.to(which, "GET", "/signin")
    return rr.to(which, "POST", "/signin", data={"login": login, "password": password, "csrf": _csrf(form.text)})


def test_a_session_opened_on_one_replica_is_open_on_the_other(replicas: tuple[list[str], str],
                                                              smtp: SmtpServer) -> None:
    bases, url = replicas
    _set_password(bases)
    rr = RoundRobin(bases)
    assert _sign_in(rr, 0, PASSWORD).status_code == 303  # on A
    page = rr.to(1, "GET", "/changes/CHG-2026-0042")  # the cookie works on B
    assert page.status_code == 200, page.text[:300]
    on_a = rr.to(0, "GET", "/changes/CHG-2026-0042")
    token_from_a = _csrf(on_a.text)
    plan_hash = re.search(r'name="plan_hash" value="([0-9a-f]{64})"', on_a.text)
    assert plan_hash is not None
    approved = rr.to(1, "POST", "/changes/CHG-2026-0042/decide",  # on B, with A's token
                     data={"csrf": token_from_a, "plan_hash": plan_hash.group(1), "decision": "approve"})
    assert approved.status_code == 303, approved.text[:500]
    assert "approved" in rr.to(0, "GET", "/changes/CHG-2026-0042").text

    # The notifier of both replicas (every 0.5 s): each event's mails once.
    deadline = time.monotonic() + 30
    mails: list[Received] = []
    while time.monotonic() < deadline and len({m.subject for m in mails}) < 2:
        mails += smtp.sink.take()
        time.sleep(0.2)
    time.sleep(3)  # six more turns of each notifier: nothing may come again
    mails += smtp.sink.take()
    assert set(_by_notice(mails)) == {"approved", "scheduled"}  # _by_notice refuses a second mail

    # The table keeps the token's hash, never the token.
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT token_hash, login FROM service_sessions").fetchall()
    cookie = rr.cookies.get("netchange_session") or ""
    assert [r[1] for r in rows] == ["amoreau"]
    assert all(r[0] not in cookie and len(r[0]) == 64 for r in rows)

    # Signing out on B ends the session on A.
    out = rr.to(1, "POST", "/signout", data={"csrf": token_from_a})
    assert out.status_code == 303
    rr.cookies.set("netchange_session", cookie)  # a copy of the cookie kept by someone
    assert rr.to(0, "GET", "/queue").headers.get("location") == "/signin"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM service_sessions").fetchone() == (0,)


def test_failed_sign_ins_count_across_replicas(replicas: tuple[list[str], str]) -> None:
    bases, _url = replicas
    _set_password(bases)
    rr = RoundRobin(bases)
    # Three wrong passwords (the pair's free ones), A, B, A: the pair is slowed everywhere.
    assert [_sign_in(rr, i, "wrong").status_code for i in (0, 1, 0)] == [401, 401, 401]
    slowed = _sign_in(rr, 1, PASSWORD)  # B heard one failure itself: shared counts slow it down
    assert slowed.status_code == 429, slowed.text[:300]
    assert "Too many failed sign-ins" in slowed.text


def _set_password(bases: list[str]) -> None:
    """amoreau's password, set as ``netchange users set-password`` does (the replicas read the
    accounts file at each sign-in)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "netchange", "users", "set-password", "amoreau"],
                          input=PASSWORD + "\n", capture_output=True, text=True, env=dict(os.environ),
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "replicas" / "haproxy.cfg"


@pytest.fixture
def haproxy(replicas: tuple[list[str], str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Debian's HAProxy running examples/replicas/haproxy.cfg (TLS, round robin) in front of the two
    replicas: ``(its https URL, the certificate to trust)``. Stopped by its PID."""
    import shutil
    import socket
    import subprocess

    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (make lab-deps installs it)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                           "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                           "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    pem = tmp_path / "proxy.pem"
    pem.write_text(cert.read_text() + key.read_text())
    pem.chmod(0o600)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    bases, _url = replicas
    config = EXAMPLE.read_text()
    for word, value in {"@BIND@": f"127.0.0.1:{port}", "@PEM@": str(pem),
                        "@REPLICA_A@": bases[0].removeprefix("http://"),
                        "@REPLICA_B@": bases[1].removeprefix("http://")}.items():
        config = config.replace(word, value)
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config)
    proc = subprocess.Popen(["haproxy", "-f", str(cfg), "-db"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "haproxy did not listen"
                time.sleep(0.1)
        yield f"https://127.0.0.1:{port}", cert
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("replica_args", [("--behind-tls-proxy",)])
def test_two_replicas_behind_haproxy_terminating_tls(haproxy: tuple[str, Path], replicas: tuple[list[str], str],
                                                     smtp: SmtpServer) -> None:
    proxy, cert = haproxy
    _bases, url = replicas
    _set_password(_bases)
    trust = ssl.create_default_context(cafile=str(cert))
    with httpx.Client(base_url=proxy, verify=trust, follow_redirects=False, timeout=30) as browser:
        served = [browser.get("/signin").headers["x-netchange-replica"] for _ in range(4)]
        assert served in (["a", "b", "a", "b"], ["b", "a", "b", "a"])  # one address, each replica in turn
        form = browser.get("/signin")
        signed = browser.post("/signin", data={"login": "amoreau", "password": PASSWORD, "csrf": _csrf(form.text)})
        assert signed.status_code == 303, signed.text[:300]
        assert form.headers["x-netchange-replica"] != signed.headers["x-netchange-replica"]
        cookie = signed.headers["set-cookie"]
        assert "netchange_session=" in cookie
        assert "secure" in cookie.lower()  # behind a TLS proxy the session cookie is Secure
        pages = [browser.get("/changes/CHG-2026-0042") for _ in range(2)]
        assert [p.status_code for p in pages] == [200, 200]
        assert {p.headers["x-netchange-replica"] for p in pages} == {"a", "b"}
        token = _csrf(pages[0].text)
        approved = browser.post("/changes/CHG-2026-0042/decide", data={
            "csrf": token, "decision": "approve",
            "plan_hash": re.search(r'name="plan_hash" value="([0-9a-f]{64})"', pages[0].text).group(1)})  # type: ignore[union-attr]
        assert approved.status_code == 303, approved.text[:300]
        # A client's own X-Forwarded-For is dropped by the proxy: the failure is journaled with
        # the address the proxy saw, not the one claimed.
        form = browser.get("/signin")
        wrong = browser.post("/signin", headers={"X-Forwarded-For": "203.0.113.66"},
                             data={"login": "bleroy", "password": "wrong", "csrf": _csrf(form.text)})
        assert wrong.status_code == 401
        assert browser.post("/signout", data={"csrf": token}).status_code == 303
        assert browser.get("/queue").headers.get("location") == "/signin"
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT data FROM events WHERE kind = 'signin_failed'").fetchall()
    assert [json.loads(r[0])["client"] for r in rows] == ["127.0.0.1"]


def test_an_ldap_session_and_its_bound_hold_on_both_replicas(tmp_path: Path, postgres: PgServer,
                                                             slapd: LdapServer) -> None:
    """With LDAP, the directory's hold on a session is in its row: B knows whom A's sign-in found
    (her groups), and the re-check bound (3 s here) ends her session on both once she is removed."""
    from tests import ldapserver as directory
    from tests.browser.support import directory_home

    _home, env = directory_home(tmp_path, {
        "provider": "ldap", "recheck_minutes": 0.05,
        "ldap": {"url": slapd.url, "ca_file": str(slapd.ca_file), "bind_dn": directory.SERVICE_DN,
                 "user_base": f"ou=people,{directory.SUFFIX}", "group_base": f"ou=groups,{directory.SUFFIX}"},
    })
    url = journal_database(postgres)
    env.update(NETCHANGE_LDAP_BIND_PASSWORD=directory.SERVICE_PASSWORD, NETCHANGE_DATABASE_URL=url,
               NETCHANGE_JOURNAL_KEY=KEY)
    env.pop("NETCHANGE_NOW", None)
    with serving(env) as a, serving(env) as b:
        rr = RoundRobin([a, b])
        assert _sign_in(rr, 0, directory.PASSWORD, login="efaure").status_code == 303
        on_b = rr.to(1, "GET", "/queue")
        assert on_b.status_code == 200, on_b.text[:300]
        assert "Elise Faure" in on_b.text
        with psycopg.connect(url) as conn:
            holds = [json.loads(r[0]) for r in conn.execute("SELECT hold FROM service_sessions").fetchall()]
        assert [(h["login"], h["groups"]) for h in holds] == [("efaure", ["netops"])]
        slapd.remove_person("efaure")
        try:
            time.sleep(0.05 * 60 + 0.5)
            assert rr.to(1, "GET", "/queue").headers.get("location") == "/signin"  # B asked: she is gone
            assert rr.to(0, "GET", "/queue").headers.get("location") == "/signin"  # and A knows it
        finally:
            slapd.add_person("efaure", ("netops",))


def test_an_oidc_session_shared_by_both_replicas_with_its_tokens_sealed(tmp_path: Path, postgres: PgServer,
                                                                      oidc_provider: OidcServer) -> None:
    """With OIDC, the hold and the provider's tokens are in the session's row, the tokens encrypted
    under the home's session key: signed in on A (the code flow through HTTP), B shows her; the
    provider revokes her grant, and after the 3 s bound the session ends on B and on A. No token is
    in the table in clear."""
    from netchange.service.launch import free_port
    from netchange.service.shared import TokenSeal, token_hash
    from tests.browser.support import directory_home
    from tests.unit.test_directory_signin import consent

    port = free_port()
    callback = f"http://127.0.0.1:{port}/signin/oidc/callback"  # the provider sends her back to A
    client_id, secret = oidc_provider.register(callback)
    home, env = directory_home(tmp_path, {
        "provider": "oidc", "recheck_minutes": 0.05,
        "oidc": {"issuer": oidc_provider.issuer, "client_id": client_id, "redirect_url": callback},
    })
    url = journal_database(postgres)
    env.update(NETCHANGE_OIDC_CLIENT_SECRET=secret, NETCHANGE_DATABASE_URL=url, NETCHANGE_JOURNAL_KEY=KEY)
    env.pop("NETCHANGE_NOW", None)
    with serving(env, port=port) as a, serving(env) as b:
        rr = RoundRobin([a, b])
        to_provider = rr.to(0, "GET", "/signin/oidc")
        assert to_provider.status_code == 303, to_provider.text[:300]
        answer = consent(to_provider.headers["location"], "efaure")
        back = rr.to(0, "GET", "/signin/oidc/callback", params=answer)
        assert back.status_code == 200, back.text[:300]
        on_b = rr.to(1, "GET", "/queue")
        assert on_b.status_code == 200, on_b.text[:300]
        assert "Elise Faure" in on_b.text
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT token_hash, hold FROM service_sessions").fetchall()
            dump = "\n".join(str(r[0]) for r in conn.execute(
                "SELECT row_to_json(s)::text FROM service_sessions s").fetchall())
        assert len(rows) == 1
        hold = json.loads(rows[0][1])
        assert (hold["login"], hold["groups"]) == ("efaure", ["netops"])
        # What the row seals opens with the home's key (and only for its own row): the tokens, absent in clear.
        seal = TokenSeal((home / "service" / "session.key").read_bytes())
        plain = seal.open(hold["tokens"], rows[0][0])
        assert plain is not None and seal.open(hold["tokens"], token_hash("another session")) is None
        tokens = json.loads(plain)
        assert len(tokens["access"]) >= 16
        for token in (tokens["access"], tokens["refresh"]):
            if token:
                assert token not in dump
        oidc_provider.revoke("efaure")  # the provider no longer vouches for her grant
        time.sleep(0.05 * 60 + 0.5)
        assert rr.to(1, "GET", "/queue").headers.get("location") == "/signin"  # B asked the provider: gone
        assert rr.to(0, "GET", "/queue").headers.get("location") == "/signin"  # and A knows it


def test_an_oidc_sign_in_started_on_one_replica_is_finished_by_the_other(tmp_path: Path, postgres: PgServer,
                                                                       oidc_provider: OidcServer) -> None:
    """The started sign-in (state, nonce, PKCE verifier) travels sealed in the browser's cookie, not in
    A's memory: sent to the provider by A, the provider's answer delivered to B signs her in; the
    cookie is HttpOnly, Lax, for the sign-in path only, sealed (none of its secrets readable), and
    gone once used."""
    from tests.browser.support import directory_home
    from tests.unit.test_directory_signin import consent

    client_id, secret = oidc_provider.register("http://127.0.0.1:9/signin/oidc/callback")
    _home, env = directory_home(tmp_path, {
        "provider": "oidc",
        "oidc": {"issuer": oidc_provider.issuer, "client_id": client_id,
                 "redirect_url": "http://127.0.0.1:9/signin/oidc/callback"},
    })
    url = journal_database(postgres)
    env.update(NETCHANGE_OIDC_CLIENT_SECRET=secret, NETCHANGE_DATABASE_URL=url, NETCHANGE_JOURNAL_KEY=KEY)
    env.pop("NETCHANGE_NOW", None)
    with serving(env) as a, serving(env) as b:
        rr = RoundRobin([a, b])
        to_provider = rr.to(0, "GET", "/signin/oidc")
        assert to_provider.status_code == 303, to_provider.text[:300]
        set_cookie = to_provider.headers["set-cookie"]
        assert set_cookie.startswith("netchange_oidc=")
        attributes = {part.strip().lower() for part in set_cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/signin/oidc"} <= attributes
        location = to_provider.headers["location"]
        answer = consent(location, "efaure")
        sealed = rr.cookies["netchange_oidc"]
        assert answer["state"] not in sealed  # the state (and nonce, verifier) are sealed, not encoded
        back = rr.to(1, "GET", "/signin/oidc/callback", params=answer)  # the provider's redirect reaches B
        assert back.status_code == 200, back.text[:300]
        assert "netchange_oidc=" in back.headers["set-cookie"] and "Max-Age=0" in back.headers["set-cookie"]
        assert "netchange_oidc" not in rr.cookies
        for which in (0, 1):
            page = rr.to(which, "GET", "/queue")
            assert page.status_code == 200, page.text[:300]
            assert "Elise Faure" in page.text
        # The same answer again (the cookie kept by a copy of the browser): the provider's code is spent.
        replay = httpx.get(f"{a}/signin/oidc/callback", params=answer, cookies={"netchange_oidc": sealed})
        assert replay.status_code == 401, replay.text[:300]
