"""Production hardening of the REAL app (create_app, every middleware as wired): body limits,
rate limit and client address, security headers on every route, API docs, the OpenAPI error
codes, generic 500s, secret-free JSON logs, metrics, corpus reload and broken storage.

The middlewares have unit tests of their own (test_limits.py, test_logs.py, test_metrics.py);
these tests check that the app puts them together as the issue asks.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from assistant import Assistant, auth
from assistant.app import create_app
from assistant.background import QuestionLog
from assistant.config import Settings
from assistant.logs import GENERIC_ERROR, configure_logging
from assistant.staff import is_staff_path
from assistant.store import Store

NAME, PASSWORD = "hardening-admin", "a long and secret passphrase 7391"
QUESTION = {"question": "What is Django?"}
BIG = 70 * 1024  # over the 64 KB cap
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def password_hash() -> str:
    """PASSWORD hashed once (argon2id is slow on purpose)."""
    return auth.hash_password(PASSWORD)


def add_staff(settings: Settings, password_hash: str) -> str:
    """An account (NAME, PASSWORD) in the settings' database; returns a fresh API token."""
    store = Store.from_settings(settings)
    try:
        store.add_staff(NAME, password_hash)
        token = auth.new_secret()
        store.add_token(NAME, auth.digest(token))
    finally:
        store.close()
    return token


@pytest.fixture()
def make_client(tmp_path: Path, bot: Assistant) -> Iterator[Callable[..., TestClient]]:
    """make_client(env=..., bot=..., **TestClient kwargs): a started TestClient on a fresh
    app whose settings are Settings.from_env({ASSISTANT_DB: <tmp>, **env})."""
    opened: list[TestClient] = []

    def _make(env: dict[str, str] | None = None, assistant: Assistant | None = bot, **kw):
        values = {"ASSISTANT_DB": str(tmp_path / "assistant.db"), **(env or {})}
        client = TestClient(create_app(Settings.from_env(values), assistant), **kw)
        client.__enter__()
        opened.append(client)
        return client

    yield _make
    for client in reversed(opened):
        client.__exit__(None, None, None)


def metric(name: str, **labels: str) -> float:
    """A sample of this process's default registry (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy of a response as {directive: [sources]}."""
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_security_headers(response, frame_ancestors: list[str] | None = None) -> None:
    """The headers every response must carry, whatever its status."""
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    policy = csp(response)
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("script-src") == ["'self'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert policy.get("base-uri") == ["'none'"], where
    assert policy.get("frame-ancestors") == (frame_ancestors or ["'none'"]), where
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (where, name)
    assert re.fullmatch(r"[A-Za-z0-9-]{1,64}", response.headers.get("x-request-id", "")), where


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    """A JSON body of about ``total`` bytes, in pieces (httpx sends it chunked)."""
    yield b'{"question": "'
    sent = 0
    while sent < total:
        yield b"y" * size
        sent += size
    yield b'"}'


# ---------------------------------------------------------------- 413


@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback"])
def test_a_large_plain_body_gets_413_and_the_next_request_works(make_client, bot, path) -> None:
    client = make_client()
    body = json.dumps({"question": "x" * BIG, "answer_id": bot.passages[0].id, "helpful": True})
    assert len(body) > 65536
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert "too large" in r.json()["message"]
    assert_security_headers(r)
    # the connection (here: the app) is fine afterwards
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    ok = {"question": "What is Django?", "answer_id": bot.passages[0].id, "helpful": True}
    assert client.post("/api/feedback", json=ok).status_code == 201


@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback"])
def test_a_large_chunked_body_gets_413_and_the_next_request_works(make_client, path) -> None:
    client = make_client()
    r = client.post(path, content=chunks(BIG), headers={"Content-Type": "application/json"})
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert "too large" in r.json()["message"]
    assert_security_headers(r)
    assert client.post("/api/ask", json=QUESTION).status_code == 200


def test_a_chunked_body_under_the_limit_is_answered(make_client) -> None:
    client = make_client()
    body = json.dumps({"question": "What is Django? " + " " * 60_000}).encode()
    pieces = iter([body[:30_000], body[30_000:]])
    r = client.post("/api/ask", content=pieces, headers={"Content-Type": "application/json"})
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 200 and r.json()["answered"] is True


# ---------------------------------------------------------------- 429 and the client address


def test_429_with_retry_after_past_the_rate_limit(make_client) -> None:
    client = make_client({"ASSISTANT_RATE_LIMIT": "3"})
    assert [client.post("/api/ask", json=QUESTION).status_code for _ in range(3)] == [200] * 3
    r = client.post("/api/ask", json=QUESTION)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert "Too many requests" in r.json()["message"]
    assert_security_headers(r)
    # only POST /api/ask is limited: the rest of the site still answers this client
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/suggest", params={"q": "djan"}).status_code == 200


def test_the_limit_is_per_client(make_client) -> None:
    client = make_client({"ASSISTANT_RATE_LIMIT": "3"})
    for _ in range(4):
        client.post("/api/ask", json=QUESTION)
    assert client.post("/api/ask", json=QUESTION).status_code == 429
    # another client of the same app (same limiter, same store) is not affected
    other = TestClient(client.app, client=("192.0.2.10", 40000))
    assert [other.post("/api/ask", json=QUESTION).status_code for _ in range(3)] == [200] * 3
    assert other.post("/api/ask", json=QUESTION).status_code == 429


def test_x_forwarded_for_from_a_non_ip_peer_is_ignored(make_client) -> None:
    # TestClient's peer is "testclient": not an IP address, so limits._ip gives None and it is
    # never a trusted proxy, even when every address is trusted; the limiter's key is the
    # peer itself ("testclient"), whatever X-Forwarded-For says.
    env = {"ASSISTANT_RATE_LIMIT": "3", "ASSISTANT_TRUSTED_PROXIES": "0.0.0.0/0,::/0"}
    client = make_client(env)
    codes = [
        client.post(
            "/api/ask", json=QUESTION, headers={"X-Forwarded-For": f"198.51.100.{i}"}
        ).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy_only(make_client) -> None:
    client = make_client({"ASSISTANT_RATE_LIMIT": "3", "ASSISTANT_TRUSTED_PROXIES": "10.0.0.0/8"})
    proxy = TestClient(client.app, client=("10.0.0.2", 5000))
    stranger = TestClient(client.app, client=("203.0.113.9", 5000))

    def ask(via: TestClient, xff: str) -> int:
        return via.post("/api/ask", json=QUESTION, headers={"X-Forwarded-For": xff}).status_code

    # behind the proxy, each forwarded client has its own allowance
    assert [ask(proxy, "198.51.100.1") for _ in range(4)] == [200, 200, 200, 429]
    assert [ask(proxy, "198.51.100.2") for _ in range(3)] == [200, 200, 200]
    # a forged hop before the real client does not give a new key: the right-most untrusted
    # address is the client
    assert ask(proxy, "1.1.1.1, 198.51.100.1") == 429
    # a stranger's XFF is ignored: its own address is its key
    assert [ask(stranger, f"198.51.100.{i}") for i in range(3, 7)] == [200, 200, 200, 429]


# ---------------------------------------------------------------- security headers everywhere


def get_paths(app, bot: Assistant, static: Path) -> list[str]:
    """A concrete URL for every GET route of the app (path parameters filled with real values,
    required query parameters given); fails on a route it does not know how to fill."""
    queries = {"/api/suggest": "?q=django", "/api/staff/search": "?q=django"}
    fill = {"doc_id": bot.documents[0].doc_id}
    urls = []
    for route in iter_route_contexts(app.routes):
        methods = getattr(route, "methods", None)
        if methods is None:  # a mount: StaticFiles
            assert route.path == "/static", route.path
            urls += [f"/static/{f.name}" for f in sorted(static.iterdir()) if f.is_file()]
            continue
        if "GET" not in methods:
            continue
        path = route.path
        for name in re.findall(r"\{(\w+)(?::\w+)?\}", path):
            assert name in fill, f"no value to fill {{{name}}} of {path}"
            path = re.sub(r"\{" + name + r"(?::\w+)?\}", fill[name], path)
        urls.append(path + queries.get(route.path, ""))
    return urls


def test_security_headers_on_every_get_route(make_client, bot, password_hash) -> None:
    client = make_client({"ASSISTANT_FRAME_ANCESTORS": "'self' https://www.example.org"})
    token = add_staff(client.app.state.settings, password_hash)
    bearer = {"Authorization": f"Bearer {token}"}
    urls = get_paths(client.app, bot, client.app.state.settings.web / "static")
    assert {"/", "/healthz", "/readyz", "/metrics", "/widget.js", "/openapi.json"} <= set(urls)
    assert "/article/python-for-backend" in urls and "/static/chat.js" in urls
    assert "/staff" in urls and "/api/staff/me" in urls
    frame = ["'self'", "https://www.example.org"]
    for url in urls:
        r = client.get(url, headers=bearer, follow_redirects=False)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
        assert_security_headers(r, frame)
        if is_staff_path(url):
            assert r.headers["cache-control"] == "no-store", url
        # and without credentials: staff routes refuse (401 / 303), the others still answer
        r = client.get(url, follow_redirects=False)
        assert_security_headers(r, frame)
        if is_staff_path(url) and url != "/staff/login":
            assert r.status_code == (401 if url.startswith("/api/") else 303), url
            assert r.headers["cache-control"] == "no-store", url


def test_security_headers_on_error_responses(make_client, bot) -> None:
    client = make_client({"ASSISTANT_RATE_LIMIT": "1"})
    staff_401 = client.get("/api/staff/questions")
    client.post("/api/ask", json=QUESTION)
    responses = [
        (404, client.get("/no/such/page")),
        (404, client.get("/article/no-such-document")),
        (404, client.get("/static/no-such-file.js")),
        (422, client.post("/api/feedback", json={"question": ""})),
        (422, client.get("/api/suggest")),
        (413, client.post("/api/feedback", content=b"x" * BIG)),
        (401, staff_401),
        (405, client.put("/api/ask", json=QUESTION)),
        (429, client.post("/api/ask", json=QUESTION)),
    ]
    for status, r in responses:
        assert r.status_code == status, (r.request.url, r.status_code)
        assert_security_headers(r)
    assert staff_401.headers["cache-control"] == "no-store"
    assert staff_401.headers["www-authenticate"] == "Bearer"


def test_the_login_page_and_staff_redirects_are_not_cached(make_client) -> None:
    client = make_client()
    for r in (
        client.get("/staff/login"),
        client.get("/staff", follow_redirects=False),
        client.post("/staff/logout", follow_redirects=False),
        client.post("/staff/login", data={"name": "x", "password": "y", "csrf": "z"}),
    ):
        assert r.headers["cache-control"] == "no-store", r.request.url
        assert_security_headers(r)


# ---------------------------------------------------------------- API docs and the schema


def test_interactive_docs_are_off_unless_dev(make_client) -> None:
    prod = make_client()
    assert prod.get("/docs").status_code == 404
    assert prod.get("/redoc").status_code == 404
    assert prod.get("/openapi.json").status_code == 200
    dev = make_client({"ASSISTANT_DEV": "1"})
    docs = dev.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert dev.get("/openapi.json").status_code == 200
    # the docs page loads its scripts from a CDN: it alone goes without the CSP
    assert "content-security-policy" not in docs.headers
    assert docs.headers["x-content-type-options"] == "nosniff"
    assert_security_headers(dev.get("/openapi.json"))


def test_the_schema_declares_the_error_codes(make_client) -> None:
    spec = make_client().get("/openapi.json").json()
    paths = spec["paths"]
    assert {"413", "422", "429"} <= set(paths["/api/ask"]["post"]["responses"])
    assert {"413", "422", "503"} <= set(paths["/api/feedback"]["post"]["responses"])
    assert "422" in paths["/api/suggest"]["get"]["responses"]
    staff_ops = [
        (method, path, op)
        for path, ops in paths.items()
        if path.startswith("/api/staff/")
        for method, op in ops.items()
    ]
    assert len(staff_ops) >= 10
    for method, path, op in staff_ops:
        assert {"401", "503"} <= set(op["responses"]), (method, path)
    assert "409" in paths["/api/staff/reload"]["post"]["responses"]
    assert "404" in paths["/api/staff/passages/{passage_id}/questions"]["post"]["responses"]


def test_every_operation_with_a_body_declares_413(make_client, password_hash) -> None:
    client = make_client()
    token = add_staff(client.app.state.settings, password_hash)
    spec = client.get("/openapi.json").json()
    with_body = [
        (method, path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    ]
    assert ("post", "/api/staff/passages/{passage_id}/questions") in with_body
    # the cap really applies to the staff operation...
    r = client.post(
        "/api/staff/passages/x/questions",
        content=b"x" * BIG,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    # ...so every operation with a body should say so
    missing = [(m, p) for m, p in with_body if "413" not in spec["paths"][p][m]["responses"]]
    assert missing == []


# ---------------------------------------------------------------- a forced 500


def test_a_forced_exception_is_a_generic_500_with_headers_and_a_metric(
    make_client, monkeypatch
) -> None:
    client = make_client()
    root = logging.getLogger()
    stream = io.StringIO()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO", stream)
    secret_detail = "SELECT password_hash FROM staff -- internal detail 4417"

    def broken(*args, **kwargs):
        raise RuntimeError(secret_detail)

    try:
        before = metric(
            "assistant_http_requests_total", method="POST", route="/api/ask", status="500"
        )
        monkeypatch.setattr(client.app.state.assistant, "ask", broken)
        r = client.post("/api/ask", json=QUESTION, headers={"X-Request-ID": "forced-500"})
        monkeypatch.undo()
        assert r.status_code == 500
        assert r.json() == GENERIC_ERROR
        assert "Traceback" not in r.text and "RuntimeError" not in r.text
        assert "SELECT" not in r.text and "4417" not in r.text
        assert r.headers["x-request-id"] == "forced-500"
        assert r.headers["content-type"] == "application/json"
        assert_security_headers(r)
        after = metric(
            "assistant_http_requests_total", method="POST", route="/api/ask", status="500"
        )
        assert after == before + 1
        exposed = text_string_to_metric_families(client.get("/metrics").text)
        samples = [s for family in exposed for s in family.samples]
        assert any(
            s.name == "assistant_http_requests_total"
            and s.labels == {"method": "POST", "route": "/api/ask", "status": "500"}
            and s.value == after
            for s in samples
        )
        # logged, with its traceback and the request id, for the operator only
        entries = [json.loads(line) for line in stream.getvalue().splitlines() if line]
        error = next(e for e in entries if e["logger"] == "assistant.error")
        assert error["request_id"] == "forced-500" and "RuntimeError" in error["exception"]
        # the app is fine afterwards
        assert client.post("/api/ask", json=QUESTION).status_code == 200
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


def test_an_exception_in_an_added_route_is_a_generic_500(make_client) -> None:
    client = make_client()

    @client.app.get("/test-boom")
    def boom() -> None:
        raise ValueError("internal path /etc/assistant/secret.toml")

    r = client.get("/test-boom")
    assert r.status_code == 500 and r.json() == GENERIC_ERROR
    assert "secret.toml" not in r.text
    assert_security_headers(r)


# ---------------------------------------------------------------- logs without secrets


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_no_password_token_or_cookie_in_the_logs(make_client, password_hash, level) -> None:
    root = logging.getLogger()
    handlers, old_level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(level, stream)
    try:
        client = make_client()
        token = add_staff(client.app.state.settings, password_hash)
        # a wrong password first, then the right one
        form = client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        wrong = client.post(
            "/staff/login",
            data={"name": NAME, "password": PASSWORD + "-wrong", "csrf": csrf},
            follow_redirects=False,
        )
        assert wrong.status_code == 401
        form = client.get("/staff/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        login = client.post(
            "/staff/login",
            data={"name": NAME, "password": PASSWORD, "csrf": csrf},
            follow_redirects=False,
        )
        assert login.status_code == 303
        session = client.cookies.get("assistant_session")
        assert session
        # a session cookie call (the cookie jar sends it), a bearer call, a refused bearer
        page = client.get("/staff")
        assert page.status_code == 200
        session_csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        assert client.get("/api/staff/me").json()["via"] == "session"
        assert client.post("/api/staff/reload").status_code == 403  # without its CSRF token
        client.cookies.clear()
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/staff/me", headers=bearer).json()["via"] == "token"
        assert client.get("/api/staff/search?q=django", headers=bearer).status_code == 200
        bad = {"Authorization": f"Bearer {token}x"}
        assert client.get("/api/staff/me", headers=bad).status_code == 401
        # a secret in a query string, and a 500 while credentials are on the request
        client.get(f"/api/suggest?q=django&token={token}")
        client.app.add_api_route("/test-boom", _boom)
        client.cookies.set("assistant_session", session)
        assert client.get("/test-boom", headers=bearer).status_code == 500
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]  # JSON lines
    assert len(entries) >= 10
    assert any(e["logger"] == "assistant.access" and e["path"] == "/staff/login" for e in entries)
    assert any(e["logger"] == "assistant.error" for e in entries)
    for secret in (PASSWORD, token, session, session_csrf, csrf):
        assert secret not in text, f"a secret reached the log: {secret[:6]}..."


def _boom() -> None:
    raise RuntimeError("failed while handling a staff request")


# ---------------------------------------------------------------- metrics


def test_metrics_exposes_requests_by_route_and_questions(make_client) -> None:
    client = make_client()
    client.post("/api/ask", json=QUESTION)
    client.post("/api/ask", json={"question": "What is the capital of Mongolia?"})
    client.post("/api/ask", json={"question": ""})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert_security_headers(r)
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    requests = families["assistant_http_requests"].samples
    ask = {
        s.labels["status"]: s.value
        for s in requests
        if s.labels.get("route") == "/api/ask"
        and s.labels.get("method") == "POST"
        and s.name.endswith("_total")
    }
    assert ask.get("200", 0) >= 2 and ask.get("422", 0) >= 1
    questions = {
        s.labels["outcome"]: s.value
        for s in families["assistant_questions"].samples
        if s.name.endswith("_total")
    }
    assert questions["answered"] >= 1 and questions["unanswered"] >= 1
    for name in (
        "assistant_http_request_duration_seconds",
        "assistant_reloads",
        "assistant_reload_failures",
        "assistant_storage_errors",
        "assistant_question_log_failures",
    ):
        assert name in families, name


# ---------------------------------------------------------------- reload


PARAGRAPHS = [
    "Zebrafrost is the codename of our internal billing service written in Python.",
    "The billing service runs on three servers in the Oslo data centre at night.",
    "Invoices are generated every Monday morning and mailed to customers by noon.",
]
NEW = "Quokkaline is the name of the support chat robot that answers questions at night."


def test_reload_swaps_in_the_new_corpus_and_a_broken_one_keeps_the_last_good(
    tmp_path: Path, make_client, password_hash
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = corpus / "billing.txt"
    doc.write_text("Billing\n\n" + "\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    env = {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    client = make_client(env, assistant=None)  # the lifespan loads ASSISTANT_CORPUS
    token = add_staff(client.app.state.settings, password_hash)
    bearer = {"Authorization": f"Bearer {token}"}
    before = len(client.app.state.assistant.passages)
    assert client.post("/api/staff/reload").status_code == 401

    doc.write_text("Billing\n\n" + "\n\n".join([*PARAGRAPHS, NEW]) + "\n", encoding="utf-8")
    reloads = metric("assistant_reloads_total")
    r = client.post("/api/staff/reload", headers=bearer)
    assert r.status_code == 200, r.text
    assert r.json()["passages"] == before + 1
    assert r.headers["cache-control"] == "no-store"
    assert metric("assistant_reloads_total") == reloads + 1
    reply = client.post("/api/ask", json={"question": "What is Quokkaline?"}).json()
    assert reply["answered"] and "Quokkaline" in reply["answers"][0]["text"]

    # now a file that is not UTF-8: 409 naming it, the last good index keeps serving
    bad = corpus / "notes.txt"
    bad.write_bytes(b"Caf\xe9 notes in Latin-1, which is not UTF-8 at all.\n")
    failures = metric("assistant_reload_failures_total")
    r = client.post("/api/staff/reload", headers=bearer)
    assert r.status_code == 409, r.text
    assert "notes.txt" in r.json()["message"] and "UTF-8" in r.json()["message"]
    assert "Traceback" not in r.text
    assert metric("assistant_reload_failures_total") == failures + 1
    reply = client.post("/api/ask", json={"question": "What is Quokkaline?"})
    assert reply.status_code == 200
    assert "Quokkaline" in reply.json()["answers"][0]["text"]
    assert len(client.app.state.assistant.passages) == before + 1
    assert client.get("/readyz").status_code == 200


def test_reload_of_an_emptied_folder_names_the_folder(tmp_path, make_client, password_hash):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = corpus / "billing.txt"
    doc.write_text("Billing\n\n" + "\n\n".join(PARAGRAPHS) + "\n", encoding="utf-8")
    env = {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    client = make_client(env, assistant=None)
    token = add_staff(client.app.state.settings, password_hash)
    doc.unlink()
    r = client.post("/api/staff/reload", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 409
    assert str(corpus) in r.json()["message"]
    reply = client.post("/api/ask", json={"question": "What is Zebrafrost?"}).json()
    assert "Zebrafrost" in reply["answers"][0]["text"]


# ---------------------------------------------------------------- broken storage


@pytest.mark.parametrize("db", ["/proc/nope/a.db", "/dev/null/a.db"])
def test_broken_storage_keeps_answering_visitors(make_client, bot, db) -> None:
    client = make_client({"ASSISTANT_DB": db}, raise_server_exceptions=False)
    assert client.app.state.store is None  # it could not be opened in the lifespan
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["storage"] is False
    assert client.get("/healthz").status_code == 200
    failures = metric("assistant_question_log_failures_total")
    storage_errors = metric("assistant_storage_errors_total")
    r = client.post("/api/ask", json=QUESTION)
    assert r.status_code == 200 and r.json()["answered"] is True
    client.app.state.question_log.flush()
    assert metric("assistant_question_log_failures_total") == failures + 1
    body = {"question": "What is Django?", "answer_id": bot.passages[0].id, "helpful": True}
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/json"
    assert "unavailable" in r.json()["message"]
    assert db not in r.text and "sqlite" not in r.text.lower()
    assert r.headers["retry-after"]
    assert_security_headers(r)
    assert metric("assistant_storage_errors_total") > storage_errors
    # the chat page and the form still work
    assert client.get("/").status_code == 200
    assert client.post("/", data={"question": "What is Django?"}).status_code == 200


# ---------------------------------------------------------------- bugs found by fuzzing


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "caf\xe9"}',
        b'{"question": "a", "history": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"question": "a", "top_k": ' + b"9" * 5000 + b"}",
    ],
    ids=["latin-1", "nested", "huge-int"],
)
@pytest.mark.parametrize("path", ["/api/ask", "/api/feedback"])
def test_an_unparsable_body_is_a_422_naming_the_body(make_client, path, body) -> None:
    client = make_client()
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.json()["message"].startswith("body")


@pytest.mark.parametrize("taught_id", [2**63, -(2**63) - 1, 10**30])
def test_a_huge_taught_id_is_not_a_500(make_client, password_hash, taught_id) -> None:
    client = make_client(raise_server_exceptions=False)
    token = add_staff(client.app.state.settings, password_hash)
    r = client.delete(
        f"/api/staff/taught/{taught_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code in (404, 422), r.status_code


def surrogate_body(**fields) -> bytes:
    """A JSON body whose "question" holds a lone surrogate: valid JSON, not valid Unicode."""
    return json.dumps({"question": "\ud800 What is Django?", **fields}).encode()


def test_a_lone_surrogate_in_a_question_is_a_422_naming_it(make_client) -> None:
    """Found by fuzzing: such text could not be stored, so it is refused up front."""
    client = make_client()
    r = client.post(
        "/api/ask", content=surrogate_body(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert "question" in r.json()["message"]


@pytest.mark.parametrize("operation", ["feedback", "teach"])
def test_a_lone_surrogate_in_a_stored_question_is_not_a_500(
    make_client, bot, password_hash, operation
) -> None:
    client = make_client(raise_server_exceptions=False)
    token = add_staff(client.app.state.settings, password_hash)
    passage = bot.passages[0].id
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if operation == "feedback":
        path, body = "/api/feedback", surrogate_body(answer_id=passage, helpful=True)
    else:
        path, body = f"/api/staff/passages/{quote(passage, safe='')}/questions", surrogate_body()
    r = client.post(path, content=body, headers=headers)
    assert r.status_code in (201, 422), r.status_code


def test_one_unstorable_question_does_not_lose_the_rest_of_its_batch(make_client) -> None:
    client = make_client()
    question_log = QuestionLog(lambda: client.app.state.store)  # the app's store, not started
    reply = {"answered": True, "answers": [{"id": "x"}], "confidence": 0.9}
    for question in ("What is Django?", "\ud800 sneaky", "What is Flask?"):
        question_log.record(question, reply)
    question_log.start()
    question_log.flush()
    question_log.close()
    assert (question_log.written, question_log.failed) == (2, 1)
