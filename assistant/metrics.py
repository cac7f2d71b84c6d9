"""Prometheus metrics (prometheus_client): requests and latency by route, answers, reloads and
storage failures; one process or several (multiprocess mode, PROMETHEUS_MULTIPROC_DIR).

With several workers, the serving command sets PROMETHEUS_MULTIPROC_DIR to a fresh folder
(``prepare_multiprocess``) before the workers start: each worker then writes its values to
files there and GET /metrics (``metrics_response``) adds up every worker's.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
import time
from bisect import bisect_left
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"  # the route label of a request that no route matched (404)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# prometheus_client chose where values live when it was imported (PROMETHEUS_MULTIPROC_DIR set
# or not); exposition must read them from the same place.
MULTIPROCESS = values.ValueClass is not values.MutexValue


class _PendingRequests:
    """Registered before the request metrics, so that every collection of the registry (GET
    /metrics, ``REGISTRY.get_sample_value``) first applies the requests counted since the last
    one (see ``record_request``). It exposes nothing itself."""

    def describe(self) -> list:
        return []

    def collect(self) -> list:
        apply_pending()
        return []


REGISTRY.register(_PendingRequests())
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUESTS = Counter(
    "assistant_http_requests_total",
    "HTTP requests, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "assistant_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
QUESTIONS = Counter(
    "assistant_questions_total",
    "Questions answered by the assistant, by outcome (answered or unanswered).",
    ["outcome"],
)
RELOADS = Counter("assistant_reloads_total", "Corpus reloads that swapped in a new index.")
RELOAD_FAILURES = Counter(
    "assistant_reload_failures_total", "Corpus reloads that failed (the last good index serves)."
)
STORAGE_ERRORS = Counter("assistant_storage_errors_total", "Storage operations that failed.")
QUESTION_LOG_FAILURES = Counter(
    "assistant_question_log_failures_total", "Visitor questions that could not be logged."
)
_ANSWERED, _UNANSWERED = QUESTIONS.labels("answered"), QUESTIONS.labels("unanswered")
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # labels() results, looked up once
# Requests counted since the last collection, by (method, route, status): [requests, seconds,
# then one count per LATENCY bucket]. In one process, ``record_request`` adds to these plain
# numbers (under one lock) and a collection applies them to REQUESTS and LATENCY, instead of
# three locked prometheus_client updates and a bucket scan per request. The exposition is the
# same. In multiprocess mode the values go straight to the workers' files, as before.
_BOUNDS = (*LATENCY_BUCKETS, math.inf)  # the buckets' upper bounds, as LATENCY keeps them
_pending: dict[tuple[str, str, int], list[float]] = {}
_answers = [0, 0]  # questions answered, unanswered since the last collection
_pending_lock = threading.Lock()


def _can_defer() -> bool:
    """One process (multiprocess values live in files, written as they come), and this
    prometheus_client keeps a histogram series' sum and buckets where apply_pending adds to
    them (seen on a histogram that is not registered); else each request updates them."""
    if MULTIPROCESS:
        return False
    probe = Histogram("assistant_probe", "", buckets=_BOUNDS, registry=None)
    buckets = getattr(probe, "_buckets", None)
    bounds = getattr(probe, "_upper_bounds", None)
    return hasattr(probe, "_sum") and isinstance(buckets, list) and bounds == list(_BOUNDS)


_DEFER = _can_defer()


def record_answer(answered: bool) -> None:
    """Count one question by whether the corpus answered it (as record_request: added at the
    next collection, in one process)."""
    if not _DEFER:
        (_ANSWERED if answered else _UNANSWERED).inc()
        return
    with _pending_lock:
        _answers[0 if answered else 1] += 1


def record_reload(ok: bool) -> None:
    """Count one corpus reload, successful or not."""
    (RELOADS if ok else RELOAD_FAILURES).inc()


def record_storage_error() -> None:
    """Count one failed storage operation."""
    STORAGE_ERRORS.inc()


def record_question_log_failure() -> None:
    """Count one visitor question the (best-effort) question log could not keep."""
    QUESTION_LOG_FAILURES.inc()


def metrics_response() -> tuple[bytes, str]:
    """The body and content type of GET /metrics: every worker's values in multiprocess mode."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def prepare_multiprocess(env: MutableMapping[str, str] = os.environ) -> tuple[Path, bool]:
    """Before the workers start: an empty PROMETHEUS_MULTIPROC_DIR, set in ``env``.

    An operator's folder (the variable already set) is emptied of the last run's files; else
    a new temporary folder is made. Returns the folder and whether it was made here (then
    remove it with ``cleanup_multiprocess`` when the server stops).
    """
    given = env.get(MULTIPROC_ENV, "").strip()
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
        return folder, False
    folder = Path(tempfile.mkdtemp(prefix="assistant-metrics-"))
    env[MULTIPROC_ENV] = str(folder)
    return folder, True


def cleanup_multiprocess(folder: Path) -> None:
    """Remove a folder that prepare_multiprocess made."""
    shutil.rmtree(folder, ignore_errors=True)


def mark_process_dead(pid: int | None = None) -> None:
    """At a worker's exit (lifespan shutdown): drop its live-gauge files, if in multiprocess
    mode. Its counters stay, so totals never go backwards."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid() if pid is None else pid)


def route_label(scope: Scope, root_path: str = "") -> str:
    """The route template a request matched ("/article/{doc_id}"), never the raw path."""
    route = scope.get("route")
    if route is not None:
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if template:
            mounted = scope.get("root_path", "")
            prefix = mounted[len(root_path) :] if mounted.startswith(root_path) else ""
            # a route inside a mounted app: its mount point, then its own template
            return prefix + template if prefix and not template.startswith(prefix) else template
    mounted = scope.get("root_path", "")
    if len(mounted) > len(root_path):  # a mounted app without routes (StaticFiles)
        return mounted[len(root_path) :] + "/{path}"
    # answered before routing (a middleware's 413 or 429): match the app's routes here
    for candidate in getattr(getattr(scope.get("app"), "router", None), "routes", ()):
        try:
            match, _ = candidate.matches(scope)
        except Exception:  # a route that cannot read this scope: not ours to fail on
            continue
        if match is not Match.NONE:
            return getattr(candidate, "path_format", None) or UNMATCHED
    return UNMATCHED


class MetricsMiddleware:
    """Counts every HTTP request and times it, by method, route template and status.

    Add it outside the app's other middleware (just inside RequestIdMiddleware): the 413 and
    429 answers of the limits middleware are counted too. A request whose exception escapes
    is counted as 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            record_request(scope, root_path, status, time.perf_counter() - start)


def record_request(scope: Scope, root_path: str, status: int, seconds: float) -> None:
    """Count and time one answered HTTP request (``root_path``: the scope's before routing)."""
    method = scope["method"] if scope["method"] in METHODS else "other"
    route = route_label(scope, root_path)
    key = (method, route, status)
    series = _series.get(key)
    if series is None:  # the series exist from the first request on, as with inc()
        series = _series[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
    if not _DEFER:
        series[0].inc()
        series[1].observe(seconds)
        return
    with _pending_lock:
        counts = _pending.get(key)
        if counts is None:
            counts = _pending[key] = [0.0] * (2 + len(_BOUNDS))
        counts[0] += 1
        counts[1] += seconds
        counts[2 + bisect_left(_BOUNDS, seconds)] += 1  # the first bucket with seconds <= bound


def apply_pending() -> None:
    """Add the requests and questions counted since the last call to REQUESTS, LATENCY and
    QUESTIONS (what each collection of the registry does first)."""
    global _pending
    with _pending_lock:
        answered, unanswered = _answers
        _answers[:] = [0, 0]
        pending, _pending = _pending, {}
    if answered:
        _ANSWERED.inc(answered)
    if unanswered:
        _UNANSWERED.inc(unanswered)
    for key, counts in pending.items():
        requests, latency = _series[key]
        requests.inc(counts[0])
        latency._sum.inc(counts[1])
        for bucket, n in zip(latency._buckets, counts[2:], strict=True):
            if n:
                bucket.inc(n)
