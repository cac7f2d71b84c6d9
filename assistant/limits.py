"""Input limits: a request-body cap (413) and a per-client rate limit (429), as pure ASGI
middleware, with the client address taken from trusted proxies' headers only."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import threading
import time
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 65536
# After the limit, what a client is still uploading is read and dropped (up to this much, for
# this long) before the 413: a connection closed with unread data is reset by the kernel,
# and the client would see "connection reset" instead of the 413 (a "lingering close").
DRAIN_BYTES = 1 << 20
DRAIN_SECONDS = 2.0
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def send_json(
    send: Send, status: int, body: dict, headers: Iterable[tuple[str, str]] = ()
) -> None:
    """Send a whole small JSON response (the middlewares' own 413 and 429)."""
    data = json.dumps(body).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *((name.encode(), value.encode()) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a request header (name in lower case)."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


def too_large(max_bytes: int) -> dict[str, str]:
    """The body of a 413."""
    return {"message": f"The request body is too large (at most {max_bytes} bytes)."}


class BodyGuard:
    """A request's body counted as it arrives (a declared length is not trusted): past
    ``max_bytes`` the app gets a disconnect instead of more body, and the client a 413 unless
    the response has begun. The caller's ``send`` wrapper sets ``started`` when the app
    begins its response and drops what the app sends once ``answered``."""

    __slots__ = ("_receive", "_send", "max_bytes", "body", "total", "cut", "answered", "started")

    def __init__(self, receive: Receive, send: Send, max_bytes: int, body: dict) -> None:
        self._receive, self._send = receive, send
        self.max_bytes, self.body = max_bytes, body
        self.total = 0
        self.cut = False  # the body passed the limit: the app gets no more of it
        self.answered = False  # we sent the 413 ourselves: whatever the app sends is dropped
        self.started = False  # the response began (by the app or by us)

    async def receive(self) -> Message:
        if self.cut:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.total += len(message.get("body", b""))
            if self.total > self.max_bytes:
                self.cut = True
                if not self.started:
                    self.started = self.answered = True
                    if message.get("more_body", False):
                        await self._drain()
                    await send_json(self._send, 413, self.body, [("connection", "close")])
                return {"type": "http.disconnect"}
        return message

    async def _drain(self) -> None:
        """Read and drop the rest of the body, within DRAIN_BYTES and DRAIN_SECONDS."""
        left = DRAIN_BYTES
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while left > 0:
                    message = await self._receive()
                    if message["type"] != "http.request":
                        return
                    left -= len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
        except TimeoutError:
            pass


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 before they are read in full.

    A declared Content-Length over the limit is refused up front, without calling the app. Any
    body (``Transfer-Encoding: chunked`` has no length) is also counted as it arrives: once the
    running total passes the limit, the client gets 413 at once and the app is told the client left
    (``http.disconnect``), so it never sees more than ``max_bytes``. If the app had already
    started its response, the body simply stops being delivered. Either way, nothing the app
    sends afterwards reaches the client, and it never becomes a 500.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = too_large(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        guard = BodyGuard(receive, send, self.max_bytes, self.message)

        async def guarded_send(message: Message) -> None:
            if guard.answered:
                return
            if message["type"] == "http.response.start":
                guard.started = True
            await send(message)

        try:
            await self.app(scope, guard.receive, guarded_send)
        except Exception:
            if not guard.answered:  # not our doing: let the error handling deal with it
                raise

    async def _refuse(self, send: Send) -> None:
        await send_json(send, 413, self.message, [("connection", "close")])


# ---------------------------------------------------------------- client address


def _ip(text: str) -> IPAddress | None:
    """An address as written in X-Forwarded-For: bare, "[v6]:port" or "v4:port"; else None."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies whose X-Forwarded-For is believed: IP addresses and networks.

    ``TrustedProxies(["10.0.0.0/8", "::1"])``; a value that is neither raises ValueError
    naming it. Parsed addresses are remembered (a bounded cache), so a request costs a dict
    look-up or two.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        networks = []
        for value in values:
            if not str(value).strip():
                continue
            try:
                networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {value!r}") from None
        self.networks: tuple[IPNetwork, ...] = tuple(networks)
        self._lookup = lru_cache(maxsize=4096)(self._parse)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def _parse(self, text: str) -> tuple[str | None, bool]:
        """(the address in canonical form or None, whether it is a trusted proxy)."""
        address = _ip(text)
        if address is None:
            return None, False
        return str(address), any(address in net for net in self.networks)

    def client(self, scope: Scope) -> str:
        """The client address of a request (see client_address)."""
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        if not self.networks or not self._lookup(peer)[1]:
            return peer
        forwarded = [
            value.decode("latin-1")
            for key, value in scope.get("headers", ())
            if key.lower() == b"x-forwarded-for"
        ]
        address = peer
        for hop in reversed(",".join(forwarded).split(",")):
            if not hop.strip():
                continue
            canonical, trusted = self._lookup(hop.strip())
            if canonical is None:
                return address
            address = canonical
            if not trusted:
                return address
        return address


@lru_cache(maxsize=32)
def _trusted_proxies(values: tuple[str, ...]) -> TrustedProxies:
    return TrustedProxies(values)


def client_address(scope: Scope, trusted_proxies: TrustedProxies | Iterable[str] = ()) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the right-most
    X-Forwarded-For address that is not itself a trusted proxy.

    An untrusted peer's X-Forwarded-For is ignored (anyone can send one). If every forwarded
    address is trusted, the left-most is the client; an unparsable entry stops the walk at the
    last trusted hop, so a forged value never becomes a key of its own choosing.
    """
    if not isinstance(trusted_proxies, TrustedProxies):
        trusted_proxies = _trusted_proxies(tuple(str(v) for v in trusted_proxies))
    return trusted_proxies.client(scope)


# ---------------------------------------------------------------- rate limit


class RateLimiter:
    """``per_minute`` requests per client, in memory, thread-safe (GCRA, a token bucket).

    A client may send a burst of up to ``per_minute`` requests, then one every
    ``60 / per_minute`` seconds; after a minute without requests it has its full allowance
    again. Each client costs one float; a client whose allowance is full again is forgotten
    (it would be treated the same as a new one), and at most ``max_keys`` are kept.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.max_keys = max_keys
        self.clock = clock
        self._interval = 60.0 / per_minute
        self._window = 60.0  # the longest a client may be "ahead" of its steady rate
        self._due: dict[str, float] = {}  # key -> theoretical arrival time of its next request
        self._lock = threading.Lock()
        self._next_sweep = clock() + self._window

    def check(self, key: str) -> float | None:
        """Count a request of ``key``: None when allowed, else the seconds to wait."""
        now = self.clock()
        with self._lock:
            due = max(self._due.get(key, now), now) + self._interval
            if due - now > self._window + 1e-9:
                return due - now - self._window
            self._due[key] = due
            if now >= self._next_sweep or len(self._due) > self.max_keys:
                self._sweep(now)
        return None

    def __len__(self) -> int:
        return len(self._due)

    def _sweep(self, now: float) -> None:
        """Forget the clients whose allowance is full again; past max_keys, the nearest to full."""
        self._due = {k: due for k, due in self._due.items() if due > now}
        if len(self._due) > self.max_keys:  # keep 90%: the next sweep is far off again
            keep = sorted(self._due.items(), key=lambda item: item[1])
            self._due = dict(keep[len(keep) - self.max_keys * 9 // 10 :])
        self._next_sweep = now + self._window


class RateLimitMiddleware:
    """Answers 429 with Retry-After to a client past the limiter on the given paths/methods.

    The client is ``client_address(scope, trusted_proxies)``. The limiter lives in this
    process: with several workers each counts on its own. ``limiter=None`` turns it off.
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter | None,
        paths: Collection[str] = ("/api/ask",),
        methods: Collection[str] = ("POST",),
        trusted_proxies: TrustedProxies | Iterable[str] = (),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.paths = frozenset(paths)
        self.methods = frozenset(m.upper() for m in methods)
        self.trusted = (
            trusted_proxies
            if isinstance(trusted_proxies, TrustedProxies)
            else TrustedProxies(trusted_proxies)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.limiter is not None
            and scope["type"] == "http"
            and scope["method"] in self.methods
            and scope["path"] in self.paths
        ):
            wait = self.limiter.check(self.trusted.client(scope))
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                body = {"message": f"Too many requests; please try again in {seconds} s."}
                await send_json(send, 429, body, [("retry-after", str(seconds))])
                return
        await self.app(scope, receive, send)
