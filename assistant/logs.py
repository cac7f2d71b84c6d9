"""JSON-lines logging with a request id and redaction of secrets; the request-id, access-log
and unhandled-error middlewares; uvicorn's log configuration in the same format."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import sys
import threading
import time
from contextvars import ContextVar
from functools import lru_cache
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REDACTED = "[REDACTED]"
REQUEST_ID_HEADER = b"x-request-id"
_VALID_ID = re.compile(r"[A-Za-z0-9-]{1,64}")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

access_log = logging.getLogger("assistant.access")
error_log = logging.getLogger("assistant.error")

# ---------------------------------------------------------------- redaction

# A key whose value is never logged: compared lower-cased, "-" read as "_", by substring.
_SECRET_KEY = re.compile(
    r"passw|pwd|secret|token|authoriz|cookie|csrf|xsrf|session|^sid$|api_?key|credential"
    r"|private_?key"
)
_KEYS = (
    r"password|passwd|pwd|secret|[\w-]*token|authorization|proxy-authorization|cookie|set-cookie"
    r"|csrf[\w-]*|xsrf[\w-]*|session[\w-]*|sid|api[_-]?key"
)
_MESSAGE_PATTERNS = [
    # an Authorization scheme and its credentials: "Bearer abc.def", "Basic dXNlcjpw"
    (re.compile(r"\b((?i:bearer)|Basic|Digest)(\s+)[A-Za-z0-9._~+/=:-]{4,}"), r"\1\2"),
    # a header line or dict entry whose whole value is secret (a cookie holds several pairs)
    (
        re.compile(
            r"(?i)\b((?:proxy-)?authorization|(?:set-)?cookie)(['\"]?\s*[:=]\s*)"
            r"(?:b?\"[^\"]*\"|b?'[^']*'|[^\n]*)"
        ),
        r"\1\2",
    ),
    # an ASGI header tuple: (b'cookie', b'sid=1')
    (
        re.compile(
            r"(?i)(b?['\"](?:(?:proxy-)?authorization|(?:set-)?cookie)['\"]\s*,\s*)"
            r"(?:b?\"[^\"]*\"|b?'[^']*')"
        ),
        r"\1",
    ),
    # key=value, key: value, "key": "value" (form bodies, query strings, reprs, cookies)
    (
        re.compile(
            rf"(?i)\b({_KEYS})(['\"]?\s*[:=]\s*)(?!\[REDACTED\])"
            r"(?:\"[^\"]*\"|'[^']*'|[^\s,;&}\])'\"]+)"
        ),
        r"\1\2",
    ),
]


# Text without any of these words holds no credential the patterns above would find.
_TRIGGER = re.compile(
    r"(?i)bearer|basic|digest|authoriz|cookie|passw|pwd|secret|token|csrf|xsrf|session|sid"
    r"|api.?key"
)


def secret_key(key: object) -> bool:
    """Whether a field of this name holds a secret (password, token, cookie, ...)."""
    return bool(_SECRET_KEY.search(str(key).lower().replace("-", "_")))


def redact_text(text: str) -> str:
    """The text with credentials replaced by [REDACTED]."""
    if not text or not _TRIGGER.search(text):
        return text
    for pattern, keep in _MESSAGE_PATTERNS:
        text = pattern.sub(keep + REDACTED, text)
    return text


def redact(value: Any) -> Any:
    """A copy of a value (dicts, lists, header tuples, strings) with its secrets redacted."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {k: REDACTED if secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        if len(items) == 2 and isinstance(items[0], str | bytes):
            name = items[0].decode("latin-1") if isinstance(items[0], bytes) else items[0]
            if secret_key(name):  # a (header name, value) pair
                return [name, REDACTED]
        return [redact(v) for v in items]
    return value


# The attributes every LogRecord has; anything else came in through `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's coloured copy of the message
    "_redacted",
}


class RedactionFilter(logging.Filter):
    """Rewrites a record so that no password, token, cookie or Authorization value remains in
    its message, its extra fields or its traceback. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact_text(message), ()
        fields = vars(record)
        for key in fields.keys() - _STANDARD:
            fields[key] = REDACTED if secret_key(key) else redact(fields[key])
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        record._redacted = True
        return True


_redaction = RedactionFilter()


# json.dumps(..., ensure_ascii=False) builds a new encoder on every call; one made once is
# twice as fast and writes the same text.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode
_STRING = json.encoder.encode_basestring  # a str as that encoder writes it


class UtcSeconds:
    """A Unix second as UTC text in a strftime format, formatted once per second: log lines
    and question-log rows come many to a second."""

    def __init__(self, fmt: str):
        self.fmt = fmt
        self._last: tuple[int, str] = (-1, "")  # replaced whole: safe across threads

    def __call__(self, second: int) -> str:
        last = self._last
        if last[0] != second:
            last = self._last = (second, time.strftime(self.fmt, time.gmtime(second)))
        return last[1]


_iso_second = UtcSeconds("%Y-%m-%dT%H:%M:%S")


def _iso_time(created: float, msecs: float) -> str:
    """A record's time in UTC, ISO 8601 with milliseconds: 2026-11-26T02:55:01.123Z."""
    return f"{_iso_second(int(created))}.{int(msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the extra
    fields (and ``exception`` with the traceback); redacted as by RedactionFilter."""

    def format(self, record: logging.LogRecord) -> str:
        _redaction.filter(record)
        entry: dict[str, Any] = {
            "time": _iso_time(record.created, record.msecs),
            "level": record.levelname,
            "logger": record.name,
            "message": record.msg,
            "request_id": request_id.get(),
        }
        fields = vars(record)
        for key in fields.keys() - _STANDARD:
            if key not in entry:
                entry[key] = fields[key]
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _ENCODE(entry)


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as JSON lines, redacted; returns the handler.

    Replaces the handler a previous call installed, so calling it twice is harmless.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_assistant", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    handler._assistant = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``log_config`` for ``uvicorn.run``: uvicorn's and the app's records as JSON lines.

    uvicorn's own access log is off (it would log query strings); RequestIdMiddleware writes
    one line per request instead. Applied in every worker process.
    """
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "assistant.logs.RedactionFilter"}},
        "formatters": {"json": {"()": "assistant.logs.JsonFormatter"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["default"], "level": level},
    }


# ---------------------------------------------------------------- middleware


class RequestIdMiddleware:
    """Gives each HTTP request an id and writes one access-log line for it.

    The id is the client's ``X-Request-ID`` when valid (1-64 of ``[A-Za-z0-9-]``), else a new
    uuid4 hex. It is in ``logs.request_id`` (a contextvar: every log line of the request
    carries it) and in the response's ``X-Request-ID`` header. The access line (logger
    ``assistant.access``, INFO) has method, path (no query string), status, duration_ms and
    the request id. Add it last, so that it wraps everything.
    """

    def __init__(self, app: ASGIApp, access: bool = True) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        rid = None
        for key, value in scope["headers"]:
            if key == REQUEST_ID_HEADER:
                text = value.decode("latin-1")
                rid = text if _VALID_ID.fullmatch(text) else None
                break
        rid = rid or new_request_id()
        token = request_id.set(rid)
        raw_id = rid.encode()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", ()) if k.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, raw_id))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access and access_log.isEnabledFor(logging.INFO):
                access_line(scope, status, time.perf_counter() - start)
            request_id.reset(token)


def new_request_id() -> str:
    """A new request id: a random (version 4) UUID as 32 hex digits, as ``uuid4().hex`` makes
    it, from os.urandom, but taken from a pool filled 256 at a time (one system call, no UUID
    objects: 5 us -> under 1 us a request)."""
    try:
        return _ids.pop()
    except IndexError:
        _refill_ids()
        return _ids.pop()


_ids: list[str] = []


def _refill_ids(n: int = 256) -> None:
    raw = bytearray(os.urandom(16 * n))
    for i in range(0, len(raw), 16):
        raw[i + 6] = (raw[i + 6] & 0x0F) | 0x40  # version 4
        raw[i + 8] = (raw[i + 8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = raw.hex()
    _ids.extend(text[i : i + 32] for i in range(0, len(text), 32))


os.register_at_fork(after_in_child=_ids.clear)  # a forked worker never reuses its parent's


# The paths of a server are few: remember their redacted form (a miss costs what it did).
_redacted_path = lru_cache(maxsize=1024)(redact_text)


def access_line(scope: Scope, status: int, seconds: float) -> None:
    """Log the access line (logger ``assistant.access``, INFO): method, path, status,
    duration_ms and the request id.

    When every handler it reaches is one of ours (a plain StreamHandler with JsonFormatter and
    only RedactionFilters, as configure_logging and uvicorn_log_config make them), the JSON
    line is written to their streams directly, as they would write it, and on a server under
    load in batches (see ``_emit``: a line waits at most ACCESS_FLUSH_INTERVAL); else the
    record goes through the logging machinery, built by hand (no caller look-up, no ``extra``
    checks), at once.
    """
    method, path = scope["method"], _redacted_path(scope["path"])
    message = f"{method} {path} {status}"
    duration = round(seconds * 1000, 2)
    handlers = _json_stream_handlers(access_log)
    if handlers and type(status) is int:
        now = time.time()
        rid = request_id.get()
        line = (
            f'{{"time": "{_iso_time(now, (now - int(now)) * 1000)}", "level": "INFO", '
            f'"logger": "{access_log.name}", "message": {_STRING(message)}, '
            f'"request_id": {"null" if rid is None else _STRING(rid)}, '
            f'"method": {_STRING(method)}, "path": {_STRING(path)}, "status": {status}, '
            f'"duration_ms": {duration!r}}}'
        )
        _emit(handlers, line, now)
        return
    if logging.getLogRecordFactory() is logging.LogRecord:
        record = logging.LogRecord(access_log.name, logging.INFO, "", 0, message, (), None)
    else:
        record = access_log.makeRecord(access_log.name, logging.INFO, "", 0, message, (), None)
    record.method = method
    record.path = path
    record.status = status
    record.duration_ms = duration
    record._redacted = True  # nothing secret in it: the path was redacted above
    access_log.handle(record)


# ---------------------------------------------------------------- access-line batches

ACCESS_FLUSH_INTERVAL = 0.1  # seconds an access line may wait to be written with others
ACCESS_BATCH = 1000  # lines written at once at the latest
_batch: list[str] = []  # lines waiting, all for the handlers in _batch_to
_batch_to: list[logging.StreamHandler] = []
_batch_lock = threading.Lock()
_last_write = 0.0  # time.time() of the last write of access lines
_get_running_loop = asyncio._get_running_loop  # the running loop or None (no exception)


def _emit(handlers: list[logging.StreamHandler], line: str, now: float) -> None:
    """Write an access line to our handlers' streams, at once if none was written in the last
    ACCESS_FLUSH_INTERVAL (a quiet server: every line shows up as it happens), else with the
    lines that follow it, when that interval is over (a timer on the event loop), or when
    ACCESS_BATCH lines wait: under load, one write and one flush per interval instead of one
    per request (a system call of ~10-20 us each). ``flush_access_log`` writes what waits; the
    app's lifespan calls it at shutdown, and so does an ``atexit`` hook.

    Outside an event loop (no timer to rely on) the line is written at once.
    """
    global _last_write
    loop = _get_running_loop()
    with _batch_lock:
        if _batch and (handlers != _batch_to or loop is None or len(_batch) >= ACCESS_BATCH):
            _write_batch()  # (in order: what waited first)
        if loop is None or (not _batch and now - _last_write >= ACCESS_FLUSH_INTERVAL):
            _write_lines(handlers, line + "\n")
            _last_write = now
            return
        if not _batch:  # the first line of a batch: written when the interval is over
            _batch_to[:] = handlers
            delay = max(0.0, _last_write + ACCESS_FLUSH_INTERVAL - now)
            loop.call_later(delay, flush_access_log)
        elif now - _last_write >= 2 * ACCESS_FLUSH_INTERVAL:  # the timer's loop stopped
            _batch.append(line)
            _write_batch()
            return
        _batch.append(line)


def flush_access_log() -> None:
    """Write the access lines that are waiting for their batch (see ``_emit``)."""
    with _batch_lock:
        if _batch:
            _write_batch()


def _write_batch() -> None:
    """Write _batch to _batch_to and empty both (_batch_lock held)."""
    global _last_write
    text = "\n".join(_batch) + "\n"
    handlers = list(_batch_to)
    _batch.clear()
    _batch_to.clear()
    _write_lines(handlers, text)
    _last_write = time.time()


def _write_lines(handlers: list[logging.StreamHandler], text: str) -> None:
    """Write lines to each handler's stream and flush it, as StreamHandler.emit would."""
    for handler in handlers:
        handler.acquire()
        try:
            if handler.terminator != "\n":
                handler.stream.write(text.replace("\n", handler.terminator))
            else:
                handler.stream.write(text)
            handler.flush()
        except RecursionError:
            raise
        except Exception:  # as StreamHandler.emit: report it, never fail the request
            handler.handleError(logging.makeLogRecord({"msg": text, "name": access_log.name}))
        finally:
            handler.release()


atexit.register(flush_access_log)


def _json_stream_handlers(logger: logging.Logger) -> list[logging.StreamHandler] | None:
    """The handlers an INFO record of ``logger`` reaches (as Logger.callHandlers finds them),
    if the logger has no filter and each is a plain StreamHandler writing JsonFormatter lines
    through RedactionFilters only; else None."""
    if logger.filters:
        return None
    found = []
    node: logging.Logger | None = logger
    while node is not None:
        for handler in node.handlers:
            if type(handler) is not logging.StreamHandler:
                return None
            if type(handler.formatter) is not JsonFormatter:
                return None
            for f in handler.filters:
                if type(f) is not RedactionFilter:
                    return None
            if logging.INFO >= handler.level:
                found.append(handler)
        node = node.parent if node.propagate else None
    return found or None


GENERIC_ERROR = {"message": "Something went wrong on our side. Please try again later."}


class UnhandledErrorMiddleware:
    """Turns an exception that escaped the app into a generic 500 JSON body (no traceback, no
    SQL), logged with its traceback and the request id (logger ``assistant.error``).

    Starlette runs an ``Exception`` handler outside every user middleware, so its 500 would miss
    the security headers and the request id: add this one just inside them instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            error_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:  # the response is broken already; the server closes the connection
                return
            await send_generic_error(send)


async def send_generic_error(send: Send) -> None:
    """The generic 500: a JSON body with GENERIC_ERROR's message, nothing about the error."""
    body = json.dumps(GENERIC_ERROR).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
