"""Prometheus metrics: series by route template, counters, one process and several."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Response
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from assistant import metrics
from assistant.limits import BodyLimitMiddleware
from assistant.metrics import MetricsMiddleware, metrics_response

ROOT = Path(__file__).resolve().parents[1]


def make_app(static: Path | None = None) -> FastAPI:
    """A tiny app instrumented as the assistant is meant to be."""
    app = FastAPI()

    @app.post("/api/ask")
    async def ask() -> dict[str, bool]:
        metrics.record_answer(True)
        return {"answered": True}

    @app.get("/article/{doc_id:path}")
    async def article(doc_id: str) -> dict[str, str]:
        return {"doc": doc_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @app.get("/metrics")
    def prometheus() -> Response:
        body, content_type = metrics_response()
        return Response(body, media_type=content_type)

    if static is not None:
        app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=100)
    app.add_middleware(MetricsMiddleware)
    return app


def requests(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("assistant_http_requests_total", labels) or 0.0


def observations(method: str, route: str) -> float:
    labels = {"method": method, "route": route}
    return REGISTRY.get_sample_value("assistant_http_request_duration_seconds_count", labels) or 0.0


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "chat.css").write_text("body {}")
    with TestClient(make_app(tmp_path), raise_server_exceptions=False) as c:
        yield c


def test_requests_are_counted_by_route_template(client: TestClient) -> None:
    before = {
        "ask": requests("POST", "/api/ask", 200),
        "article": requests("GET", "/article/{doc_id}", 200),
        "static": requests("GET", "/static/{path}", 200),
        "missing": requests("GET", "unmatched", 404),
        "too_large": requests("POST", "/api/ask", 413),
        "boom": requests("GET", "/boom", 500),
        "latency": observations("POST", "/api/ask"),
    }
    for _ in range(3):
        assert client.post("/api/ask").status_code == 200
    assert client.get("/article/python-for-backend#p1").status_code == 200
    assert client.get("/article/other/doc").status_code == 200
    assert client.get("/static/chat.css").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    assert client.post("/api/ask", content=b"x" * 101).status_code == 413
    assert client.get("/boom").status_code == 500
    assert requests("POST", "/api/ask", 200) - before["ask"] == 3
    assert requests("GET", "/article/{doc_id}", 200) - before["article"] == 2
    assert requests("GET", "/static/{path}", 200) - before["static"] == 1
    assert requests("GET", "unmatched", 404) - before["missing"] == 1
    assert requests("POST", "/api/ask", 413) - before["too_large"] == 1
    assert requests("GET", "/boom", 500) - before["boom"] == 1
    assert observations("POST", "/api/ask") - before["latency"] == 4


def test_no_raw_paths_and_no_client_methods_in_labels(client: TestClient) -> None:
    client.get("/article/a-very-unique-document-name")
    client.request("BREW", "/api/ask")
    text = client.get("/metrics").text
    assert "a-very-unique-document-name" not in text
    assert 'method="BREW"' not in text
    assert 'method="other"' in text


def test_metrics_endpoint_exposes_every_series(client: TestClient) -> None:
    client.post("/api/ask")
    metrics.record_answer(False)
    metrics.record_reload(True)
    metrics.record_reload(False)
    metrics.record_storage_error()
    metrics.record_question_log_failure()
    body, content_type = metrics_response()
    assert content_type.startswith("text/plain")
    r = client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(r.text)}
    assert {
        "assistant_http_requests",
        "assistant_http_request_duration_seconds",
        "assistant_questions",
        "assistant_reloads",
        "assistant_reload_failures",
        "assistant_storage_errors",
        "assistant_question_log_failures",
    } <= names
    assert 'assistant_questions_total{outcome="unanswered"}' in r.text
    assert 'assistant_http_request_duration_seconds_bucket{le="0.005",method="POST"' in r.text


def test_request_counts_and_latency_buckets_are_exact() -> None:
    """Every request's count, bucket and sum reach the exposition exactly as prometheus_client's
    own Counter.inc and Histogram.observe would put them, also between two scrapes."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    scope = {"method": "PUT", "path": "/nowhere", "root_path": ""}  # unmatched: no app
    seconds = [0.0, 0.004, 0.005, 0.0051, 0.03, 0.3, 0.3, 2.0, 9.99, 10.0, 12.5, 0.0001]
    reference = CollectorRegistry()
    count = Counter("assistant_http_requests_total", "", ["method", "route", "status"],
                    registry=reference)  # fmt: skip
    latency = Histogram("assistant_http_request_duration_seconds", "", ["method", "route"],
                        buckets=metrics.LATENCY_BUCKETS, registry=reference)  # fmt: skip

    def exposed(registry: CollectorRegistry, route: str = "unmatched") -> dict:
        text = generate_latest(registry).decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.labels.get("method") == "PUT" and s.labels.get("route") == route
            and not s.name.endswith("_created")
        }  # fmt: skip

    for half in (seconds[:5], seconds[5:]):
        for s in half:
            metrics.record_request(scope, "", 201, s)
            count.labels("PUT", "unmatched", "201").inc()
            latency.labels("PUT", "unmatched").observe(s)
        ours = exposed(REGISTRY)
        assert ours and ours == exposed(reference)
    assert ours[("assistant_http_requests_total", (("method", "PUT"), ("route", "unmatched"),
                 ("status", "201")))] == len(seconds)  # fmt: skip


def test_reload_and_storage_counters_increase() -> None:
    value = REGISTRY.get_sample_value
    before = [
        value("assistant_reloads_total"),
        value("assistant_reload_failures_total"),
        value("assistant_storage_errors_total"),
        value("assistant_question_log_failures_total"),
        value("assistant_questions_total", {"outcome": "answered"}),
    ]
    metrics.record_reload(True)
    metrics.record_reload(False)
    metrics.record_reload(False)
    metrics.record_storage_error()
    metrics.record_question_log_failure()
    metrics.record_answer(True)
    after = [
        value("assistant_reloads_total"),
        value("assistant_reload_failures_total"),
        value("assistant_storage_errors_total"),
        value("assistant_question_log_failures_total"),
        value("assistant_questions_total", {"outcome": "answered"}),
    ]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 2, 1, 1, 1]


def test_prepare_multiprocess_makes_or_empties_the_folder(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    folder, made = metrics.prepare_multiprocess(env)
    try:
        assert made and folder.is_dir() and env[metrics.MULTIPROC_ENV] == str(folder)
        assert list(folder.iterdir()) == []
    finally:
        metrics.cleanup_multiprocess(folder)
    assert not folder.exists()
    given = tmp_path / "prom"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"stale")
    env = {metrics.MULTIPROC_ENV: str(given)}
    folder, made = metrics.prepare_multiprocess(env)
    assert folder == given and not made
    assert list(given.iterdir()) == []


WORKER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from fastapi.testclient import TestClient
    from assistant import metrics
    from test_metrics import make_app

    assert metrics.MULTIPROCESS
    with TestClient(make_app()) as client:
        for _ in range({n}):
            assert client.post("/api/ask").status_code == 200
    metrics.record_reload(False)
    metrics.mark_process_dead()
    """
)
READER = textwrap.dedent(
    """
    from assistant.metrics import metrics_response
    body, content_type = metrics_response()
    print(body.decode())
    """
)


def test_multiprocess_mode_adds_up_the_workers(tmp_path: Path) -> None:
    env = {**os.environ, metrics.MULTIPROC_ENV: str(tmp_path)}
    tests = str(ROOT / "tests")
    for n in (2, 3):  # two "workers", one after the other (each its own pid)
        script = WORKER.format(tests=tests, n=n)
        subprocess.run([sys.executable, "-c", script], env=env, check=True, cwd=ROOT)
    assert len(list(tmp_path.glob("*.db"))) >= 2
    out = subprocess.run(
        [sys.executable, "-c", READER],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(out)
        for s in family.samples
    }
    ask = (("method", "POST"), ("route", "/api/ask"), ("status", "200"))
    assert samples[("assistant_http_requests_total", ask)] == 5
    assert samples[("assistant_questions_total", (("outcome", "answered"),))] == 5
    assert samples[("assistant_reload_failures_total", ())] == 2
    latency = (("method", "POST"), ("route", "/api/ask"))
    assert samples[("assistant_http_request_duration_seconds_count", latency)] == 5
