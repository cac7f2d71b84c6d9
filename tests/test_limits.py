"""The input limits: body cap (413, plain and chunked), rate limit (429), client address."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from assistant import limits
from assistant.limits import (
    BodyLimitMiddleware,
    RateLimiter,
    RateLimitMiddleware,
    TrustedProxies,
    client_address,
)

LIMIT = 1024


class Item(BaseModel):
    text: str


def make_app(seen: list[int], **limit: int) -> FastAPI:
    """A tiny app: /echo reads the raw body, /item parses JSON (FastAPI's own body reading)."""
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            seen.append(total)
        return {"bytes": total}

    @app.post("/item")
    async def item(body: Item) -> dict[str, int]:
        seen.append(len(body.text))
        return {"length": len(body.text)}

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    app.add_middleware(BodyLimitMiddleware, **(limit or {"max_bytes": LIMIT}))
    return app


@pytest.fixture()
def seen() -> list[int]:
    return []


@pytest.fixture()
def client(seen: list[int]) -> Iterator[TestClient]:
    with TestClient(make_app(seen)) as c:
        yield c


# ---------------------------------------------------------------- 413, plain


def test_body_at_the_limit_passes(client: TestClient) -> None:
    r = client.post("/echo", content=b"x" * LIMIT)
    assert r.status_code == 200
    assert r.json() == {"bytes": LIMIT}


def test_declared_body_over_the_limit_is_refused_without_calling_the_app(client, seen) -> None:
    r = client.post("/echo", content=b"x" * (LIMIT + 1))
    assert r.status_code == 413
    assert "too large" in r.json()["message"]
    assert r.headers["content-type"] == "application/json"
    assert seen == []


def test_json_endpoint_gets_413_not_422_or_500(client: TestClient, seen) -> None:
    r = client.post("/item", json={"text": "y" * 2000})
    assert r.status_code == 413
    assert seen == []


def test_default_limit_is_64_kb() -> None:
    with TestClient(make_app([], max_bytes=65536)) as c:
        assert BodyLimitMiddleware(c.app).max_bytes == 65536
        assert c.post("/echo", content=b"x" * 65536).status_code == 200
        assert c.post("/echo", content=b"x" * 65537).status_code == 413


def test_requests_without_body_pass(client: TestClient) -> None:
    assert client.get("/hello").json() == {"hello": "world"}


# ---------------------------------------------------------------- 413, chunked, at the ASGI level


def fake_receive(chunks: list[bytes]):
    """A receive callable delivering the chunks as a chunked body; records how many it gave."""
    given = []

    async def receive():
        i = len(given)
        given.append(i)
        if i >= len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[i], "more_body": i + 1 < len(chunks)}

    receive.given = given  # type: ignore[attr-defined]
    return receive


def run_asgi(app, chunks: list[bytes], path: str = "/echo") -> tuple[list[dict], list[int]]:
    """Call the app with a chunked POST; returns the messages it sent and receive's calls."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []
    receive = fake_receive(chunks)

    async def send(message):
        sent.append(message)

    anyio.run(app, scope, receive, send)
    return sent, receive.given  # type: ignore[attr-defined]


def test_chunked_body_over_the_limit_stops_early_asgi(seen) -> None:
    chunks = [b"x" * 400] * 10  # 4000 bytes in all, the limit is 1024
    sent, given = run_asgi(make_app(seen), chunks)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 413
    assert len([m for m in sent if m["type"] == "http.response.start"]) == 1
    assert max(seen, default=0) <= LIMIT  # the app never saw more than the limit
    # 400 + 400 + 400 > 1024: the app got nothing after that; the rest of the upload was read
    # and dropped before the 413, so that closing the connection does not reset it
    assert len(given) == 10


def test_an_oversized_upload_is_drained_only_up_to_a_bound(seen, monkeypatch) -> None:
    monkeypatch.setattr(limits, "DRAIN_BYTES", 2000)
    chunks = [b"x" * 400] * 20  # 8000 bytes; limit 1024, then at most 2000 more are read
    sent, given = run_asgi(make_app(seen), chunks)
    assert sent[0]["status"] == 413
    assert max(seen, default=0) <= LIMIT
    assert len(given) == 3 + 5  # 3 chunks to pass the limit, 5 to drain 2000 bytes


def test_chunked_json_body_over_the_limit_is_413_not_400(seen) -> None:
    body = b'{"text": "' + b"y" * 3000 + b'"}'
    chunks = [body[i : i + 256] for i in range(0, len(body), 256)]
    sent, _ = run_asgi(make_app(seen), chunks, path="/item")
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]
    assert seen == []


def test_chunked_body_under_the_limit_passes(seen) -> None:
    sent, _ = run_asgi(make_app(seen), [b"x" * 300] * 3)
    assert sent[0]["status"] == 200
    assert b'{"bytes":900}' in b"".join(m.get("body", b"") for m in sent)


def test_an_app_that_already_answered_just_stops_getting_the_body() -> None:
    seen: list[int] = []

    async def streaming_app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            seen.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.body", "body": b"done"})

    sent, given = run_asgi(BodyLimitMiddleware(streaming_app, max_bytes=LIMIT), [b"x" * 400] * 10)
    assert sent[0]["status"] == 200  # no 413 once the response has started, and no 500
    assert sum(seen) <= LIMIT
    assert len(given) == 3


# ---------------------------------------------------------------- 413, chunked, through a real server


@pytest.fixture()
def live_url(seen: list[int]) -> Iterator[str]:
    """The tiny app served by uvicorn on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(make_app(seen), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_chunked_body_through_httpx_and_uvicorn(live_url: str, seen: list[int]) -> None:
    sent = []

    def body() -> Iterator[bytes]:
        for _ in range(6):
            sent.append(512)
            yield b"x" * 512

    with httpx.Client(timeout=10) as http:
        small = http.post(f"{live_url}/echo", content=iter([b"a" * 500, b"b" * 500]))
        assert small.status_code == 200 and small.json() == {"bytes": 1000}
        assert "content-length" not in small.request.headers
        assert small.request.headers["transfer-encoding"] == "chunked"
        seen.clear()
        r = http.post(f"{live_url}/echo", content=body())
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 413
    assert "too large" in r.json()["message"]
    assert max(seen, default=0) <= LIMIT


# ---------------------------------------------------------------- rate limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limited_app(limiter: RateLimiter, trusted=()) -> FastAPI:
    app = FastAPI()

    @app.post("/api/ask")
    async def ask() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/api/ask")
    async def ask_get() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/other")
    async def other() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(RateLimitMiddleware, limiter=limiter, trusted_proxies=trusted)
    return app


def test_429_with_retry_after_then_recovery() -> None:
    clock = Clock()
    with TestClient(limited_app(RateLimiter(2, clock=clock))) as c:
        assert [c.post("/api/ask").status_code for _ in range(2)] == [200, 200]
        r = c.post("/api/ask")
        assert r.status_code == 429
        assert r.headers["retry-after"] == "30"  # 2 a minute: the next one in 30 s
        assert "try again" in r.json()["message"]
        assert c.post("/other").status_code == 200  # only the listed paths and methods
        assert c.get("/api/ask").status_code == 200
        clock.now += 29.5
        assert c.post("/api/ask").status_code == 429
        assert c.post("/api/ask").headers["retry-after"] == "1"  # whole seconds, at least 1
        clock.now += 0.5
        assert c.post("/api/ask").status_code == 200
        assert c.post("/api/ask").status_code == 429
        clock.now += 60  # a whole window later: the full allowance again
        assert [c.post("/api/ask").status_code for _ in range(3)] == [200, 200, 429]


def test_limiter_allows_a_burst_of_per_minute_then_the_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    assert all(limiter.check("a") is None for _ in range(60))
    wait = limiter.check("a")
    assert wait == pytest.approx(1.0)
    assert limiter.check("b") is None  # another client is not affected
    clock.now += 1.0
    assert limiter.check("a") is None
    assert limiter.check("a") is not None


def test_limiter_is_thread_safe() -> None:
    limiter = RateLimiter(500, clock=Clock())
    allowed = []

    def hammer() -> None:
        allowed.append(sum(limiter.check("k") is None for _ in range(1000)))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 500


def test_limiter_memory_is_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(10, max_keys=100, clock=clock)
    for i in range(5000):
        limiter.check(f"10.0.{i // 256}.{i % 256}")
        assert len(limiter) <= 101
    clock.now += 61  # every client idle past a window: all forgotten at the next sweep
    limiter.check("late")
    assert len(limiter) == 1


def test_limiter_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_limit_is_per_forwarded_client_behind_a_trusted_proxy() -> None:
    app = limited_app(RateLimiter(1, clock=Clock()), trusted=["10.0.0.0/8"])
    with TestClient(app, client=("10.1.2.3", 4000)) as proxy:
        one = {"X-Forwarded-For": "203.0.113.1"}
        two = {"X-Forwarded-For": "203.0.113.2"}
        assert proxy.post("/api/ask", headers=one).status_code == 200
        assert proxy.post("/api/ask", headers=one).status_code == 429
        assert proxy.post("/api/ask", headers=two).status_code == 200
        # a client cannot escape by forging the left of the header: the proxy appends the peer
        forged = {"X-Forwarded-For": "198.51.100.9, 203.0.113.1"}
        assert proxy.post("/api/ask", headers=forged).status_code == 429


def test_untrusted_peer_cannot_escape_with_x_forwarded_for() -> None:
    app = limited_app(RateLimiter(1, clock=Clock()), trusted=["10.0.0.0/8"])
    with TestClient(app, client=("203.0.113.7", 4000)) as c:
        assert c.post("/api/ask", headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200
        assert c.post("/api/ask", headers={"X-Forwarded-For": "2.2.2.2"}).status_code == 429


def test_limiter_none_is_off() -> None:
    with TestClient(limited_app(None)) as c:  # type: ignore[arg-type]
        assert all(c.post("/api/ask").status_code == 200 for _ in range(5))


# ---------------------------------------------------------------- client address


def scope_with(peer: str | None, *forwarded: str) -> dict:
    return {
        "type": "http",
        "client": (peer, 1234) if peer else None,
        "headers": [(b"x-forwarded-for", f.encode()) for f in forwarded],
    }


def test_client_address_ignores_forwarded_for_from_an_untrusted_peer() -> None:
    s = scope_with("203.0.113.5", "1.2.3.4")
    assert client_address(s, ["10.0.0.0/8"]) == "203.0.113.5"
    assert client_address(s, []) == "203.0.113.5"


def test_client_address_takes_the_right_most_untrusted_hop() -> None:
    trusted = ["10.0.0.0/8", "192.0.2.1"]
    assert client_address(scope_with("10.0.0.2", "1.2.3.4"), trusted) == "1.2.3.4"
    assert client_address(scope_with("10.0.0.2", "6.6.6.6, 1.2.3.4, 192.0.2.1"), trusted) == (
        "1.2.3.4"
    )
    # several header lines are one list, in order
    assert client_address(scope_with("10.0.0.2", "6.6.6.6", "1.2.3.4"), trusted) == "1.2.3.4"
    # every hop trusted: the left-most is the client
    assert client_address(scope_with("10.0.0.2", "10.9.9.9, 10.0.0.3"), trusted) == "10.9.9.9"
    # no header: the proxy itself
    assert client_address(scope_with("10.0.0.2"), trusted) == "10.0.0.2"


def test_client_address_formats_and_garbage() -> None:
    trusted = TrustedProxies(["10.0.0.0/8", "::1"])
    assert client_address(scope_with("::1", "[2001:db8::1]:443"), trusted) == "2001:db8::1"
    assert client_address(scope_with("::1", "198.51.100.1:5555"), trusted) == "198.51.100.1"
    assert client_address(scope_with("::ffff:10.0.0.1", "198.51.100.2"), trusted) == (
        "198.51.100.2"
    )
    # an entry that is no address: the last trusted hop, never the forged text
    assert client_address(scope_with("10.0.0.1", "evil, unknown"), trusted) == "10.0.0.1"
    assert client_address(scope_with(None, "1.2.3.4"), trusted) == "unknown"
    assert client_address(scope_with("testclient", "1.2.3.4"), trusted) == "testclient"


def test_trusted_proxies_names_a_bad_value() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        TrustedProxies(["10.0.0.0/8", "not-an-ip"])
