"""Browser-facing security: strict headers on every response, CORS only on the visitor API."""

from __future__ import annotations

from collections.abc import Collection

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    """Our pages' CSP; ``frame_ancestors`` says who may frame them (ASSISTANT_FRAME_ANCESTORS)."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}; form-action 'self'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
}


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set them itself.

    ``csp_exempt`` paths (the interactive API docs in development, which load their own
    scripts) get every header but the Content-Security-Policy.
    """

    def __init__(
        self, app: ASGIApp, csp_exempt: Collection[str] = (), frame_ancestors: str = "'none'"
    ) -> None:
        self.app = app
        self.csp_exempt = frozenset(csp_exempt)
        self.headers = {
            **HEADERS,
            "content-security-policy": content_security_policy(frame_ancestors),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (name.encode(), value.encode())
            for name, value in self.headers.items()
            if not (name == "content-security-policy" and scope["path"] in self.csp_exempt)
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ScopedCORSMiddleware:
    """Starlette's CORSMiddleware, applied only to the given paths (the visitor API).

    Only the listed origins get CORS headers; any other origin gets none, so the browser
    refuses to hand it the reply. Credentials (cookies) are never allowed.
    """

    def __init__(self, app: ASGIApp, paths: Collection[str], allow_origins: Collection[str]):
        self.app = app
        self.paths = frozenset(paths)
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(allow_origins),
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
