"""The service's limits over real HTTP (issue 23 item 1), against a real `netchange serve`:

- every parameter of every route (enumerated from ``app.routes``, so a route added later is
  covered) given out-of-range or malformed values answers below 500, with the security headers;
- a 1 MiB body sent chunked (no Content-Length) to every POST route, with no session, token or
  CSRF token, is refused 413 with the security headers: counted before any parsing or
  authentication, never read whole.

On main at 7dfdd60 the first fails on ``/reports?quarter=9999Q4`` (500, no headers) and the
second on every POST route (400: the form or JSON was parsed and validated first).
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import closing
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from netchange.config import Settings
from netchange.journal.testing import make_plan
from netchange.service.app import MAX_BODY, create_app
from netchange.vocabulary import Category
from tests.browser.support import PASSWORD, make_home, netchange, server, set_passwords, store

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")
CHANGE = "CHG-2026-0501"
MIB = 1 << 20

# Out of range, out of type, too long, traversal, NUL, encodings, markup: what a fuzzer sends first.
MALFORMED = (
    "", " ", "0", "-1", "9999Q4", "0000Q1", "2026Q5", "99999999999999999999999999999", "-99999999999999999999",
    "1e309", "NaN", "inf", "0x10", "true", "null", "[]", "{}", "2026-13-45", "9999-12-31T23:59:59+99:00",
    "x" * 5000, "../../../etc/passwd", "..", ".", "\x00", "a\x00b", "\r\nSet-Cookie: x=1", "é", "\U0001f600",
    "'\"<script>alert(1)</script>", "%", "%%", "CHG-2026-0501/../..", "CHG-2026-0501\x00",
)
RAW_ESCAPES = ("%ff", "%c0%af", "%2e%2e", "%00", "%e2%80%ae", "%25")
"""Already percent-encoded: bytes that are not UTF-8 once decoded, and encoded dots and NULs."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("limits")
    home, policy, env = make_home(tmp)
    store(home, policy, make_plan(CHANGE, category=Category.MEDIUM, requester="crenard",
                                  hosts=(("sw-doif-1", "doif"),), policy_digest=policy.digest))
    set_passwords(env, "amoreau")
    done = netchange(env, "users", "token", "amoreau", "--label", "tests")
    assert done.returncode == 0, done.stderr
    # The routes as the server has them: the same factory, over a home of its own.
    other = tmp / "routes-home"
    other.mkdir(mode=0o700)
    app = create_app(Settings.resolve(home=other, policy=tmp / "policy.yaml"))
    with server(env) as base:
        yield {"base": base, "app": app, "token": done.stdout.strip()}


_ADDRESSES = itertools.count(40)


def signed_in(base: str, token: str) -> tuple[httpx.Client, str]:
    """A manager's client: session cookie and bearer token both, so every route is reached signed in.

    Each client connects from a loopback address of its own (127.0.0.40, .41...): the malformed sign-ins
    one test sends slow down its own address, not the next test's sign-in (the throttle is per address).
    """
    transport = httpx.HTTPTransport(local_address=f"127.0.0.{next(_ADDRESSES)}")
    client = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"},
                          transport=transport)
    page = client.get("/signin")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/signin", data={"login": "amoreau", "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 303, answer.text
    queue = client.get("/queue")
    assert queue.status_code == 200
    session_csrf = queue.text.split('name="csrf" value="')[1].split('"')[0]
    return client, session_csrf


def flat(dependant: Dependant) -> Iterator[Dependant]:
    """A route's own parameters and those of every dependency it declares."""
    yield dependant
    for sub in dependant.dependencies:
        yield from flat(sub)


Route = tuple[str, set[str], list[str], list[str], list[str]]


def routes(app: Any) -> list[Route]:
    """(path, methods, path params, query params, body params) of every route the app serves."""
    out = []
    for route in iter_route_contexts(app.routes):  # the routers' routes as included (prefixes applied)
        if isinstance(route.original_route, APIRoute):
            deps = list(flat(route.dependant))
            out.append((route.path, set(route.methods or ()), [p.alias for d in deps for p in d.path_params],
                        [p.alias for d in deps for p in d.query_params],
                        [p.alias for d in deps for p in d.body_params]))
        elif isinstance(route.original_route, Mount):  # the static files: their path is a parameter too
            out.append((route.path + "/{path}", {"GET"}, ["path"], [], []))
    return out


def valid(name: str) -> str:
    return CHANGE if "id" in name else "style.css" if name == "path" else "x"


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: values[m.group(1)], path)


def problems(answer: httpx.Response, what: str) -> list[str]:
    found = []
    if answer.status_code >= 500:
        found.append(f"{what}: {answer.status_code} {answer.text[:200]!r}")
    missing = [h for h in SECURITY_HEADERS if h not in answer.headers]
    if missing:
        found.append(f"{what}: {answer.status_code} without {', '.join(missing)}")
    return found


def malformed_requests(
    client: httpx.Client, csrf: str, route: Route
) -> Iterator[tuple[str, Callable[[], httpx.Response]]]:
    """Each parameter of ``route`` in turn given each malformed value, the others valid."""
    path, methods, path_params, query_params, body_params = route
    good = {p: urllib.parse.quote(valid(p), safe="") for p in path_params}
    raws = (*(urllib.parse.quote(v, safe="") for v in MALFORMED), *RAW_ESCAPES)
    for method in sorted(methods - {"HEAD"}):
        form = {"csrf": csrf, **{p: valid(p) for p in body_params if p != "csrf"}}

        def send(url: str, body: dict[str, str], method: str = method) -> httpx.Response:
            if method == "GET":
                return client.get(url)
            if path.startswith("/api/"):
                return client.request(method, url, json={"plan_hash": body.get("plan_hash", "0" * 64)})
            return client.request(method, url, data=body)

        for name in path_params:
            for raw in raws:
                url = fill(path, {**good, name: raw})
                yield f"{method} {path} {{{name}}} {url[:120]}", partial(send, url, form)
        for name in query_params:
            for raw in raws:
                url = fill(path, good) + f"?{name}={raw}&{name}={raw}"
                yield f"{method} {path} ?{name} {url[:120]}", partial(send, url, form)
        for name in (b for b in body_params if b != "csrf"):
            for value in MALFORMED:
                what = f"{method} {path} form {name} {value[:40]!r}"
                yield what, partial(send, fill(path, good), {**form, name: value})


def test_every_parameter_of_every_route_malformed_is_a_4xx_with_the_security_headers(served):
    client, csrf = signed_in(served["base"], served["token"])
    found: list[str] = []
    covered: set[str] = set()
    sent = 0
    with closing(client):
        for route in routes(served["app"]):
            for what, request in malformed_requests(client, csrf, route):
                covered.add(" ".join(what.split(" ")[:3]))
                sent += 1
                try:
                    found += problems(request(), what)
                except httpx.TransportError as exc:  # no answer at all is the worst answer
                    found.append(f"{what}: no answer ({exc})")
    # The holes the issue names are among what was sent; every route with a parameter was reached.
    assert {"GET /reports ?quarter", "GET /changes/{change_id} {change_id}", "GET /calendar ?weeks",
            "POST /api/changes/{change_id}/approve {change_id}", "GET /static/{path} {path}"} <= covered
    assert sent > 500
    assert found == [], "\n".join(found[:40])


def test_reports_quarter_9999q4_and_0000q1_answer_400_with_the_headers(served):
    client, _ = signed_in(served["base"], served["token"])
    with closing(client):
        for quarter in ("9999Q4", "0000Q1"):
            answer = client.get(f"/reports?quarter={quarter}")
            assert answer.status_code == 400, answer.text[:300]
            assert "is not between 1970 and 9998" in answer.text
            assert not problems(answer, quarter)
        assert client.get("/reports?quarter=2026Q4").status_code == 200


# --- the body limit, chunked ------------------------------------------------------------------------


def post_chunked(base: str, path: str, *, content_type: str, prefix: bytes, total: int = MIB,
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """POST ``total`` bytes to ``path`` with ``Transfer-Encoding: chunked`` over a raw socket.

    The body is written from a thread while the answer is read here, so a server that answers and
    closes before the body is whole is heard (its answer is read before the connection resets).
    """
    url = urllib.parse.urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    sock = socket.create_connection((host, port), timeout=30)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
                  f"Transfer-Encoding: chunked\r\n{extra}\r\n").encode())
    body = prefix + b"a" * (total - len(prefix))

    def write() -> None:
        try:
            for at in range(0, len(body), 16384):
                piece = body[at:at + 16384]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the rest is not read, which is the point

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    data = b""
    try:
        while True:
            if b"\r\n\r\n" in data:
                head, _, rest = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if length and len(rest) >= int(length.group(1)):
                    break
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except ConnectionResetError:
        pass
    finally:
        writer.join(timeout=30)
        sock.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1.1 "), f"{path}: no answer ({data[:200]!r})"
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, fields, rest


def post_routes(app: Any) -> list[str]:
    return sorted(fill(path, dict.fromkeys(params, CHANGE)) for path, methods, params, _, _ in routes(app)
                  if "POST" in methods)


def test_a_chunked_mebibyte_to_every_post_route_is_refused_413_before_anything_is_read(served):
    targets = post_routes(served["app"])
    assert {"/signin", f"/api/changes/{CHANGE}/approve", f"/api/changes/{CHANGE}/reject"} <= set(targets)
    for path in targets:
        is_api = path.startswith("/api/")
        status, fields, body = post_chunked(
            served["base"], path,
            content_type="application/json" if is_api else "application/x-www-form-urlencoded",
            prefix=b'{"plan_hash": "' if is_api else b"login=amoreau&csrf=x&comment=",
        )
        # Not 400 (parsed and validated), 401 (token checked) nor 403 (CSRF checked): 413 first.
        assert status == 413, (path, status, body[:200])
        assert all(h in fields for h in SECURITY_HEADERS), (path, fields)
        assert b"request body too large" in body


def test_the_limit_is_the_bytes_received_not_the_header(served):
    token = served["token"]
    path = f"/api/changes/{CHANGE}/approve"
    # One byte over, chunked, with a valid token: still refused.
    status, _, _ = post_chunked(served["base"], path, content_type="application/json", prefix=b'{"plan_hash": "',
                                total=MAX_BODY + 1, headers={"Authorization": f"Bearer {token}"})
    assert status == 413
    # A small chunked body is read and handed on whole: the JSON is parsed, the token checked, the
    # plan hash compared (a wrong one: 409, nothing recorded).
    status, _, body = post_chunked(served["base"], path, content_type="application/json",
                                   prefix=b'{"plan_hash": "' + b"0" * 64 + b'"}', total=len(b'{"plan_hash": "') + 66,
                                   headers={"Authorization": f"Bearer {token}"})
    assert status == 409, body
    # A declared Content-Length over the limit is refused without waiting for the body.
    with httpx.Client(base_url=served["base"], timeout=30) as client:
        answer = client.post(path, content=b"x" * (MAX_BODY + 1), headers={"Content-Type": "application/json"})
        assert answer.status_code == 413
        assert not problems(answer, "content-length")


def test_an_unexpected_error_still_carries_the_security_headers():
    """What the outermost middleware does with an exception nobody handled: 500, headers, raised on."""
    import asyncio

    from netchange.service.app import SECURITY_HEADERS as HEADERS
    from netchange.service.secheaders import SecurityHeaders

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    middleware = SecurityHeaders(broken, always=HEADERS, defaults={"Cache-Control": "no-store"})
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    with pytest.raises(RuntimeError):
        asyncio.run(middleware(scope, receive, send))
    start = sent[0]
    names = {k.decode().lower() for k, _ in start["headers"]}
    assert start["status"] == 500
    assert set(SECURITY_HEADERS) | {"cache-control"} <= names
