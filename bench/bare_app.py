"""The HTTP baseline: a bare FastAPI endpoint that validates the same body as POST /api/ask
and returns a constant reply of the same shape, with the same response class.

Served by bench/http_load.py with the uvicorn settings of ``assistant serve``:
``python -m uvicorn bench.bare_app:app --host 127.0.0.1 --port P --log-level info``.
"""

from __future__ import annotations

import json
import os
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from assistant.app import AskReply, AskRequest

_TEXT = (
    "Modern Python for backend development thrives on a rich ecosystem of frameworks and "
    "libraries that simplify complex tasks. Django, known for its batteries-included approach, "
    "provides everything from an ORM to authentication, admin interfaces and security features "
    "out of the box, which makes it a natural choice for larger applications and teams."
)
# About the size of a real reply on the article (~2 kB: three passages with highlights).
REPLY = {
    "answered": True,
    "confidence": 0.9949,
    "answers": [
        {
            "id": f"python-for-backend#p{n:08x}",
            "text": _TEXT,
            "score": round(0.61 - 0.1 * n, 4),
            "document": "Python for Backend",
            "url": f"/article/python-for-backend#p{n:08x}",
            "section": None,
            "highlight": _TEXT.split(". ")[1] + ".",
            "matched_terms": ["django"],
        }
        for n in range(3)
    ],
    "message": "",
    "suggestions": [],
    "context": "",
}
BODY = json.dumps(AskReply.model_validate(REPLY).model_dump(), ensure_ascii=False)

# Ablation only (bench/http_load.py --ablation), never in the baseline: "dep" adds a sync
# dependency (FastAPI runs it in the thread pool, as the real endpoint's get_assistant),
# "mw" the real app's two middlewares. Comma-separated.
VARIANT = set(filter(None, os.environ.get("BENCH_BARE_VARIANT", "").split(",")))

app = FastAPI(title="bare baseline", docs_url=None, redoc_url=None)


def _sync_dependency(request: Request) -> object:
    return request.app


if "mw" in VARIANT:
    from assistant.security import ScopedCORSMiddleware, SecurityHeadersMiddleware

    app.add_middleware(ScopedCORSMiddleware, paths=("/api/ask",), allow_origins=())
    app.add_middleware(SecurityHeadersMiddleware)

if "dep" in VARIANT:

    @app.post("/api/ask", response_model=AskReply)
    async def ask_with_dependency(
        body: AskRequest, dep: Annotated[object, Depends(_sync_dependency)]
    ) -> Response:
        """As `ask`, with a sync dependency."""
        return Response(BODY, media_type="application/json")

else:

    @app.post("/api/ask", response_model=AskReply)
    async def ask(body: AskRequest) -> Response:
        """Validate the body like the real endpoint, answer a constant."""
        return Response(BODY, media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness."""
    return {"status": "ok"}
