"""JSON-lines logs: shape, redaction of secrets, request ids, access lines, generic 500s."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import free_port, wait_ready
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from assistant.logs import (
    GENERIC_ERROR,
    RequestIdMiddleware,
    UnhandledErrorMiddleware,
    configure_logging,
    flush_access_log,
    redact,
    redact_text,
    request_id,
    uvicorn_log_config,
)

SECRETS = [f"S3CRET{i}xyz" for i in range(12)]
log = logging.getLogger("assistant.test")


class Lines:
    """The JSON lines written so far to a stream (access lines still waiting for their batch
    written first, as the batch timer would a moment later)."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        flush_access_log()
        return self.stream.getvalue()

    def __call__(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture()
def lines() -> Iterator[Lines]:
    """configure_logging() into a StringIO; the root logger is restored afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging("INFO", stream)
    yield Lines(stream)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_every_line_is_json_with_the_standard_fields(lines: Lines) -> None:
    log.info("hello %s", "world", extra={"passages": 3, "detail": {"a": [1, 2]}})
    log.warning("a warning")
    log.debug("not shown at INFO")
    entries = lines()
    assert len(entries) == 2
    first = entries[0]
    assert first["message"] == "hello world"
    assert first["level"] == "INFO"
    assert first["logger"] == "assistant.test"
    assert first["request_id"] is None
    assert first["passages"] == 3 and first["detail"] == {"a": [1, 2]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])


def test_configure_logging_twice_does_not_double_lines(lines: Lines) -> None:
    configure_logging("INFO", lines.stream)
    log.info("once")
    assert len(lines()) == 1


def test_no_secret_reaches_the_log(lines: Lines) -> None:
    s = SECRETS
    log.info("request headers: Authorization: Bearer %s", s[0])
    log.info("login attempt", extra={"password": s[1], "username": "bob"})
    log.info("form body %s", f"username=bob&password={s[2]}&csrf_token={s[3]}")
    log.info(
        "headers",
        extra={"headers": {"Authorization": f"Basic {s[4]}", "Cookie": f"session={s[5]}; a=1"}},
    )
    log.info("asgi headers %s", [(b"cookie", f"sid={s[6]}".encode()), (b"host", b"example")])
    log.info("set-cookie: session=%s; HttpOnly; Path=/", s[7])
    log.info("new token", extra={"token": s[8], "api_key": s[9]})
    log.info("settings %s", {"password": s[10], "user": "bob"})
    try:
        raise RuntimeError(f"login failed for token={s[11]}")
    except RuntimeError:
        log.exception("boom")
    text = lines.text
    for secret in SECRETS:
        assert secret not in text
    entries = lines()  # still JSON after redaction
    assert len(entries) == 9
    assert entries[1]["password"] == "[REDACTED]" and entries[1]["username"] == "bob"
    assert "username=bob" in entries[2]["message"]
    assert entries[3]["headers"] == {"Authorization": "[REDACTED]", "Cookie": "[REDACTED]"}
    assert "Traceback" in entries[-1]["exception"]
    assert "[REDACTED]" in entries[-1]["exception"]


def test_redaction_keeps_ordinary_words() -> None:
    for text in ("the token was invalid", "basic idea", "a session ended", "GET /api/ask 200"):
        assert redact_text(text) == text
    assert redact({"question": "What is Django?", "top_k": 3}) == {
        "question": "What is Django?",
        "top_k": 3,
    }
    assert redact([(b"authorization", b"Bearer abcdef")]) == [["authorization", "[REDACTED]"]]


# ---------------------------------------------------------------- middleware


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    async def hello(request: Request) -> dict[str, str | None]:
        log.info("inside the handler")
        return {"request_id": request_id.get()}

    @app.get("/sync")
    def sync() -> dict[str, str | None]:  # runs in a thread: the id must follow
        log.info("inside a sync handler")
        return {"request_id": request_id.get()}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("SELECT * FROM staff WHERE password='hunter2'")

    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app


@pytest.fixture()
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def test_request_id_round_trip(client: TestClient, lines: Lines) -> None:
    r = client.get("/hello", headers={"X-Request-ID": "abc-123-DEF"})
    assert r.headers["x-request-id"] == "abc-123-DEF"
    assert r.json() == {"request_id": "abc-123-DEF"}
    handler_line = next(e for e in lines() if e["message"] == "inside the handler")
    assert handler_line["request_id"] == "abc-123-DEF"
    assert request_id.get() is None  # reset after the request


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "<script>", "a_b", "é"])
def test_invalid_request_id_is_replaced(client: TestClient, bad: str) -> None:
    r = client.get("/hello", headers={"X-Request-ID": bad.encode("utf-8")})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_request_id_is_made_and_follows_into_threads(client: TestClient, lines: Lines) -> None:
    r = client.get("/sync")
    rid = r.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert r.json() == {"request_id": rid}
    assert next(e for e in lines() if e["message"] == "inside a sync handler")["request_id"] == rid
    assert client.get("/sync").headers["x-request-id"] != rid


def test_access_line_per_request(client: TestClient, lines: Lines) -> None:
    r = client.get("/hello?q=secret-search&token=abc", headers={"X-Request-ID": "req-1"})
    access = [e for e in lines() if e["logger"] == "assistant.access"]
    assert len(access) == 1
    line = access[0]
    assert line["method"] == "GET"
    assert line["path"] == "/hello"  # never the query string
    assert line["status"] == r.status_code == 200
    assert line["request_id"] == "req-1"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert "secret-search" not in json.dumps(access)  # (the test client logs its own URL)
    client.get("/missing")
    assert [e["status"] for e in lines() if e["logger"] == "assistant.access"] == [200, 404]


def test_unhandled_error_is_a_generic_500_logged_with_the_request_id(
    client: TestClient, lines: Lines
) -> None:
    r = client.get("/boom", headers={"X-Request-ID": "req-boom"})
    assert r.status_code == 500
    assert r.json() == GENERIC_ERROR
    assert "SELECT" not in r.text and "Traceback" not in r.text
    assert r.headers["x-request-id"] == "req-boom"
    error = next(e for e in lines() if e["logger"] == "assistant.error")
    assert error["level"] == "ERROR"
    assert error["request_id"] == "req-boom"
    assert "RuntimeError" in error["exception"]
    assert "hunter2" not in lines.text
    access = next(e for e in lines() if e["logger"] == "assistant.access")
    assert access["status"] == 500


def test_uvicorn_log_config_writes_json(capsys: pytest.CaptureFixture[str]) -> None:
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {
        n: (
            logging.getLogger(n).level,
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).propagate,
        )
        for n in names
    }
    try:
        logging.config.dictConfig(uvicorn_log_config("info"))
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        logging.getLogger("uvicorn.access").info("GET /?token=abc 200")  # off: we log our own
        logging.getLogger("assistant.x").warning("cookie: sid=%s", SECRETS[0])
    finally:
        for n, (level, handlers, propagate) in saved.items():
            logger = logging.getLogger(n)
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [e["logger"] for e in entries] == ["uvicorn.error", "assistant.x"]
    assert entries[0]["message"] == "Started server process [42]"
    assert SECRETS[0] not in json.dumps(entries)


def test_the_access_line_written_directly_is_the_formatted_one() -> None:
    """With only our JSON handlers, access_line writes the line itself: the same JSON as the
    logging machinery writes through JsonFormatter (as with any other handler set)."""
    from assistant import logs

    root = logging.getLogger()
    saved = list(root.handlers), root.level
    paths = ["/api/ask", '/a"b\\c', "/é/✓/\u2028", "/staff/x?token=abc", "/api/x/token=s3cret"]
    written = {}
    try:
        for direct in (True, False):
            root.handlers[:] = []
            stream = io.StringIO()
            handler = configure_logging("INFO", stream)
            if not direct:
                handler.addFilter(logging.Filter())  # not ours: the machinery writes it
            assert bool(logs._json_stream_handlers(logs.access_log)) is direct
            token = request_id.set("req-1")
            for i, path in enumerate(paths):
                logs.access_line({"method": "POST", "path": path}, 200 + i, 0.0123456)
            request_id.reset(token)
            logs.access_line({"method": "GET", "path": "/"}, 404, 1.5)  # no request id
            written[direct] = [json.loads(ln) for ln in stream.getvalue().split("\n") if ln]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    for entry in written[True] + written[False]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("time"))
    assert written[True] == written[False]
    assert len(written[True]) == len(paths) + 1
    assert written[True][0] == {
        "level": "INFO",
        "logger": "assistant.access",
        "message": "POST /api/ask 200",
        "request_id": "req-1",
        "method": "POST",
        "path": "/api/ask",
        "status": 200,
        "duration_ms": 12.35,
    }
    assert "s3cret" not in json.dumps(written[True])
    assert written[True][-1]["request_id"] is None


def test_access_lines_go_through_other_handlers_too(caplog: pytest.LogCaptureFixture) -> None:
    """A handler that is not ours (pytest's here) still gets the access line as a record."""
    from assistant import logs

    with caplog.at_level(logging.INFO, logger="assistant.access"):
        logs.access_line({"method": "GET", "path": "/healthz"}, 200, 0.001)
    record = next(r for r in caplog.records if r.name == "assistant.access")
    assert record.getMessage() == "GET /healthz 200"
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)


def test_new_request_ids_are_distinct_version_4_uuids() -> None:
    import uuid

    from assistant.logs import new_request_id

    ids = [new_request_id() for _ in range(1000)]  # more than one pool
    assert len(set(ids)) == len(ids)
    for rid in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
        assert uuid.UUID(rid).version == 4 and uuid.UUID(rid).variant == uuid.RFC_4122


# ---------------------------------------------------------------- access lines in batches


def access_paths(text: str) -> list[str]:
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [e["path"] for e in entries if e["logger"] == "assistant.access"]


def test_access_lines_waiting_in_a_batch_are_written_without_further_requests() -> None:
    """Under load the access lines are written in batches; the lines of a burst show up on
    their own (the batch timer), in order, without another request or a flush."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        root.handlers[:] = []
        configure_logging("INFO", stream)
        with TestClient(make_app()) as client:
            paths = [f"/hello/{i}" for i in range(30)]  # 404s: the path is in the line
            for path in paths:
                client.get(path)
            deadline = time.monotonic() + 30  # generous: the batch interval is 0.1 s
            while access_paths(stream.getvalue()) != paths and time.monotonic() < deadline:
                time.sleep(0.02)
            assert access_paths(stream.getvalue()) == paths
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


SERVE_WITH_LONG_BATCHES = """
import sys
from assistant import logs
from assistant.cli import main
logs.ACCESS_FLUSH_INTERVAL = 60.0
sys.exit(main(sys.argv[1:]))
"""


def test_no_access_line_is_lost_when_the_server_stops(tmp_path: Path) -> None:
    """`assistant serve` under a burst of requests, stopped with SIGTERM at once: the log has
    an access line for every request (the waiting batch is written at shutdown). The batch
    interval is made a minute long here, so that no timer writes the lines before it."""
    port, log = free_port(), tmp_path / "serve.log"
    env = {
        **os.environ,
        "ASSISTANT_DB": str(tmp_path / "assistant.db"),
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
    }
    for name in ("ASSISTANT_CORPUS", "ASSISTANT_RATE_LIMIT", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE_WITH_LONG_BATCHES, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc, log)
        n = 200
        for i in range(n):
            body = json.dumps({"question": f"What is Django? ({i})"}).encode()
            request = urllib.request.Request(
                url + "/api/ask", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    text = log.read_text()
    assert "Finished server process" in text
    assert access_paths(text).count("/api/ask") == n
