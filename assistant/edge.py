"""EdgeMiddleware: what every HTTP request of the app goes through, in one pure-ASGI layer.

It does, in one ``send`` wrapper and one ``receive`` wrapper, what these middlewares do when
stacked outermost first (each is still there, for apps that want only some):

    RequestIdMiddleware, MetricsMiddleware, SecurityHeadersMiddleware, ScopedCORSMiddleware,
    BodyLimitMiddleware, RateLimitMiddleware, UnhandledErrorMiddleware

- a request id (the client's ``X-Request-ID`` when valid, else a new one) in ``logs.request_id``
  and in the response; one access line per request (logger ``assistant.access``);
- the request counted and timed by method, route template and status (413, 429, 500 too);
- the security headers on every response that does not set them itself;
- CORS on the ``cors_paths`` only, for the allowed origins only (Starlette's CORSMiddleware
  answers preflights and cross-origin requests; a request without ``Origin`` gets its
  ``Vary: Origin`` here, as Starlette would add it);
- ``Cache-Control: no-store`` on every response under the ``no_store`` prefixes (staff);
- 413 for a body over ``max_body`` (declared, or counted as it arrives), 429 with Retry-After
  past the rate limit, a generic 500 for an exception that escapes the app.

Seven layers cost seven coroutine calls, seven ``send`` closures and seven copies of the
header list per request; this one does the same work once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection, Iterable

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs, metrics
from .limits import MAX_BODY, BodyGuard, RateLimiter, TrustedProxies, send_json, too_large
from .security import HEADERS, content_security_policy

_REQUEST_ID = logs.REQUEST_ID_HEADER
_VALID_ID = logs._VALID_ID


def under(path: str, prefixes: Iterable[str]) -> bool:
    """Whether path is one of the prefixes or below one of them ("/staff", "/staff/x")."""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class EdgeMiddleware:
    """Request id, access line, metrics, security headers, scoped CORS, body limit, rate limit
    and the generic 500, as one layer (see the module's docstring). Add it last (outermost)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = MAX_BODY,
        limiter: RateLimiter | None = None,
        limited_paths: Collection[str] = ("/api/ask",),
        limited_methods: Collection[str] = ("POST",),
        trusted_proxies: TrustedProxies | Iterable[str] = (),
        cors_paths: Collection[str] = (),
        allow_origins: Collection[str] = (),
        csp_exempt: Collection[str] = (),
        frame_ancestors: str = "'none'",
        access: bool = True,
        no_store: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.too_large = too_large(max_body)
        self.limiter = limiter
        self.limited_paths = frozenset(limited_paths)
        self.limited_methods = frozenset(m.upper() for m in limited_methods)
        self.trusted = (
            trusted_proxies
            if isinstance(trusted_proxies, TrustedProxies)
            else TrustedProxies(trusted_proxies)
        )
        self.cors_paths = frozenset(cors_paths)
        self.cors = CORSMiddleware(  # as ScopedCORSMiddleware configures it
            app,
            allow_origins=list(allow_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )
        security = {**HEADERS, "content-security-policy": content_security_policy(frame_ancestors)}
        self.security = tuple((k.encode(), v.encode()) for k, v in security.items())
        self.security_no_csp = tuple(h for h in self.security if h[0] != b"content-security-policy")
        self.csp_exempt = frozenset(csp_exempt)
        # paths under these prefixes (the staff pages and API) are never cached, errors too
        self.no_store = frozenset(no_store)
        self.no_store_below = tuple(p + "/" for p in no_store)  # as under(path, no_store)
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path, method = scope["path"], scope["method"]
        root_path = scope.get("root_path", "")  # routing may change it in the scope
        rid = declared = origin = None
        preflight = False
        for key, value in scope["headers"]:
            key = key.lower()
            if key == _REQUEST_ID:
                if rid is None:
                    text = value.decode("latin-1")
                    rid = text if _VALID_ID.fullmatch(text) else ""
            elif key == b"content-length":
                if declared is None:
                    declared = value
            elif key == b"origin":
                if origin is None:
                    origin = value
            elif key == b"access-control-request-method":
                preflight = True
        rid = rid or logs.new_request_id()
        token = logs.request_id.set(rid)
        raw_id = rid.encode()
        cors = path in self.cors_paths
        security = self.security_no_csp if path in self.csp_exempt else self.security
        private = bool(self.no_store) and (
            path in self.no_store or path.startswith(self.no_store_below)
        )
        status = 500
        cross_origin: Headers | None = None  # a visitor-API request with an Origin

        async def edge_send(message: Message) -> None:
            """Every response start gets CORS (on the visitor API), the security headers
            and the request id, in that order; its status is kept for the metrics."""
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if cross_origin is not None:  # Starlette's CORS decides, on a copy
                    start_message = {**message, "headers": headers}
                    await self.cors.send(start_message, _ignore, cross_origin)
                    headers = start_message["headers"]
                names = [k.lower() for k, _ in headers]
                if cors and cross_origin is None:
                    _vary_origin(headers, names)
                if _REQUEST_ID in names or (private and b"cache-control" in names):
                    drop = (_REQUEST_ID, b"cache-control") if private else (_REQUEST_ID,)
                    headers = [(k, v) for k, v in headers if k.lower() not in drop]
                headers += [h for h in security if h[0] not in names]
                headers.append((_REQUEST_ID, raw_id))
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if cors and origin is not None:
                cross_origin = Headers(scope=scope)
                if method == "OPTIONS" and preflight:  # answered by CORS: no CORS on top
                    response = self.cors.preflight_response(request_headers=cross_origin)
                    cors, cross_origin = False, None
                    await response(scope, receive, edge_send)
                    return
            await self._limited(scope, receive, edge_send, declared)
        finally:
            metrics.record_request(scope, root_path, status, time.perf_counter() - start)
            if self.access and logs.access_log.isEnabledFor(logging.INFO):
                logs.access_line(scope, status, time.perf_counter() - start)
            logs.request_id.reset(token)

    async def _limited(
        self, scope: Scope, receive: Receive, send: Send, declared: bytes | None
    ) -> None:
        """The body limit, the rate limit and the generic 500 around the app."""
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body:
            await self._refuse(send)
            return
        if (
            self.limiter is not None
            and scope["method"] in self.limited_methods
            and scope["path"] in self.limited_paths
        ):
            wait = self.limiter.check(self.trusted.client(scope))
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                body = {"message": f"Too many requests; please try again in {seconds} s."}
                await send_json(send, 429, body, [("retry-after", str(seconds))])
                return
        guard = BodyGuard(receive, send, self.max_body, self.too_large)
        app_started = False  # the app began its response (even if it was dropped)

        async def app_send(message: Message) -> None:
            nonlocal app_started
            if message["type"] == "http.response.start":
                app_started = True
                if guard.answered:
                    return
                guard.started = True
            elif guard.answered:
                return
            await send(message)

        try:
            await self.app(scope, guard.receive, app_send)
        except Exception:
            logs.error_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if app_started or guard.answered:  # broken already (the server closes), or answered
                return
            await logs.send_generic_error(send)

    async def _refuse(self, send: Send) -> None:
        await send_json(send, 413, self.too_large, [("connection", "close")])


async def _ignore(message: Message) -> None:
    """A ``send`` for Starlette's CORS: it edits the message given; the edge sends it on."""


def _vary_origin(headers: list[tuple[bytes, bytes]], names: list[bytes] | None = None) -> None:
    """``Vary: Origin`` added (to any Vary already there) as Starlette's CORSMiddleware does
    for a request without an Origin: one Vary header, in the place of the first. ``names``:
    the headers' names, lower-cased, if the caller has them (kept in step)."""
    if names is None:
        names = [k.lower() for k, _ in headers]
    if b"vary" not in names:
        headers.append((b"vary", b"Origin"))
        names.append(b"vary")
        return
    found = [i for i, (k, _) in enumerate(headers) if k == b"vary"]
    if not found:  # (a "Vary" not lower-cased: as Starlette, which looks for "vary" only)
        headers.append((b"vary", b"Origin"))
        return
    values = [headers[i][1].decode("latin-1") for i in found]
    headers[found[0]] = (b"vary", ", ".join([*values, "Origin"]).encode("latin-1"))
    for i in reversed(found[1:]):
        del headers[i]
