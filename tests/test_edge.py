"""EdgeMiddleware answers exactly as the seven middlewares it replaces, stacked in their order."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from assistant.edge import EdgeMiddleware, _vary_origin
from assistant.limits import BodyLimitMiddleware, RateLimiter, RateLimitMiddleware
from assistant.logs import RequestIdMiddleware, UnhandledErrorMiddleware, configure_logging
from assistant.metrics import MetricsMiddleware
from assistant.security import ScopedCORSMiddleware, SecurityHeadersMiddleware

ALLOWED = "https://partner.example"
PATHS = ("/api/ask", "/api/vary")
LIMIT = 100


def make_app(edge: bool) -> FastAPI:
    app = FastAPI(docs_url="/docs")

    @app.post("/api/ask")
    async def ask(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/api/vary")
    async def vary() -> Response:
        headers = [("vary", "Accept"), ("vary", "Cookie"), ("x-request-id", "from-the-app")]
        response = Response("v")
        response.raw_headers.extend((k.encode(), v.encode()) for k, v in headers)
        return response

    @app.get("/page")
    async def page() -> Response:
        return Response("<p>hi</p>", media_type="text/html", headers={"X-Frame-Options": "DENY"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/late-boom")
    async def late_boom() -> StreamingResponse:
        async def chunks() -> Iterator[bytes]:
            yield b"a"
            raise RuntimeError("late")

        return StreamingResponse(chunks())

    options = {"csp_exempt": {"/docs"}, "frame_ancestors": "'self'"}
    if edge:
        app.add_middleware(
            EdgeMiddleware,
            max_body=LIMIT,
            limiter=RateLimiter(3),
            cors_paths=PATHS,
            allow_origins=[ALLOWED],
            **options,
        )
        return app
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RateLimitMiddleware, limiter=RateLimiter(3))
    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT)
    app.add_middleware(ScopedCORSMiddleware, paths=PATHS, allow_origins=[ALLOWED])
    app.add_middleware(SecurityHeadersMiddleware, **options)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app


def chunked(n: int) -> Iterator[bytes]:
    for _ in range(n):
        yield b"x" * 40


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-y"}
REQUESTS = [  # (method, path, keyword arguments of the test client's request)
    ("POST", "/api/ask", {"json": {"question": "q"}}),
    ("POST", "/api/ask", {"json": {"q": 1}, "headers": {"Origin": ALLOWED}}),
    ("POST", "/api/ask", {"json": {"q": 1}, "headers": {"Origin": "https://evil.example"}}),
    ("OPTIONS", "/api/ask", {"headers": {"Origin": ALLOWED, **PREFLIGHT}}),
    ("OPTIONS", "/api/ask", {"headers": {"Origin": "https://evil.example", **PREFLIGHT}}),
    ("OPTIONS", "/api/ask", {"headers": PREFLIGHT}),
    ("POST", "/api/ask", {"content": b"x" * (LIMIT + 1)}),
    ("POST", "/api/ask", {"content": chunked(5), "headers": {"Origin": ALLOWED}}),
    ("POST", "/api/ask", {"content": chunked(2)}),
    ("POST", "/api/ask", {"json": {"question": "q"}, "headers": {"X-Request-ID": "given-1"}}),
    ("POST", "/api/ask", {"json": {"question": "q"}, "headers": {"Origin": ALLOWED}}),
    ("GET", "/api/vary", {}),
    ("GET", "/api/vary", {"headers": {"Origin": ALLOWED}}),
    ("GET", "/page", {"headers": {"Origin": ALLOWED, "X-Request-ID": "bad id"}}),
    ("GET", "/docs", {}),
    ("GET", "/boom", {"headers": {"X-Request-ID": "req-boom"}}),
    ("GET", "/missing", {}),
    ("DELETE", "/page", {}),
]


@pytest.fixture()
def lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging("INFO", stream)
    yield stream
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def counts() -> dict[tuple, float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in REGISTRY.collect()
        if family.name == "assistant_http_requests"
        for s in family.samples
        if s.name == "assistant_http_requests_total"
    }


def answers(edge: bool, stream: io.StringIO) -> list:
    out: list = []
    before = counts()
    with TestClient(make_app(edge), raise_server_exceptions=False) as client:
        for method, path, kwargs in REQUESTS:
            r = client.request(method, path, **kwargs)
            headers = [
                (k, v if k != "x-request-id" or v == "given-1" else "*")
                for k, v in r.headers.multi_items()
            ]
            out.append((method, path, r.status_code, headers, r.content))
        r = client.get("/late-boom")  # broken after its start: logged, not a 500
        out.append((r.status_code, r.content))
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    stream.seek(0)
    stream.truncate()
    keep = ("logger", "level", "message", "method", "path", "status")
    out.append([{k: e.get(k) for k in keep} for e in entries])
    after = counts()
    out.append({k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)})
    return out


def test_the_edge_answers_as_the_stacked_middlewares(lines: io.StringIO) -> None:
    stacked, edge = answers(False, lines), answers(True, lines)
    assert edge == stacked
    statuses = [a[2] for a in edge[:-3]]
    assert {200, 400, 404, 405, 413, 429, 500} <= set(statuses)  # the cases are all covered


def test_the_edge_makes_no_request_id_from_a_bad_one_and_keeps_a_good_one() -> None:
    with TestClient(make_app(True)) as client:
        assert client.get("/page", headers={"X-Request-ID": "ok-1"}).headers["x-request-id"] == (
            "ok-1"
        )
        made = client.get("/page", headers={"X-Request-ID": "bad id"}).headers["x-request-id"]
        assert len(made) == 32 and made != "bad id"


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"content-type", b"text/plain")],
        [(b"vary", b"Accept")],
        [(b"vary", b"Accept"), (b"x", b"1"), (b"vary", b"Cookie")],
    ],
)
def test_vary_origin_is_what_starlette_writes(headers: list[tuple[bytes, bytes]]) -> None:
    from starlette.datastructures import MutableHeaders

    expected = MutableHeaders(raw=list(headers))
    expected["Vary"] = ", ".join([*expected.getlist("Vary"), "Origin"])
    ours = list(headers)
    _vary_origin(ours)
    assert ours == expected.raw
