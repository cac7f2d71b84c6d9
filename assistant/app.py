"""create_app(settings) -> FastAPI: the public routes (chat page, article page, widget, visitor
API: ask, suggest, feedback; health), the staff routes (staff.py) and the background work
(question log, taught-phrasings sync)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import numbers
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import logs, metrics, staff
from .background import QuestionLog, TaughtSync
from .bot import Assistant
from .config import Settings
from .edge import EdgeMiddleware
from .limits import MAX_BODY, RateLimiter
from .marks import passage_parts
from .reload import Reloader
from .store import StorageError, Store
from .suggest import MAX_SUGGESTIONS, Suggester

MAX_QUESTION = 1000
VISITOR_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The body is over 64 KB"},
    422: {"description": "Invalid input; `message` names the field"},
    429: {"description": "Too many requests; see Retry-After"},
}
MAX_HISTORY = 10
MAX_SUGGEST_QUERY = 200
MAX_ANSWER_ID = 300
VISITOR_API = ("/api/ask", "/api/suggest", "/api/feedback")  # reachable from allowed origins
WIDGET_CACHE = "public, max-age=300"

log = logging.getLogger("assistant")


def _plain_number(value: Any) -> int | float:
    """For orjson, which writes Python's own types only: any other number (a numpy scalar)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode_reply(reply: dict[str, Any]) -> bytes:
    """The reply of POST /api/ask as UTF-8 JSON. orjson: ~2 us for a ~2 kB reply where
    json.dumps takes ~15-35 us (compact: no space after ":" and ","; NaN would be null)."""
    return orjson.dumps(reply, default=_plain_number)


_opening = threading.Lock()


def unicode_text(value: str) -> str:
    """The value, if it is text that can be stored (no lone surrogate from a JSON escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _question(value: str) -> str:
    """A question trimmed of white space, 1 to MAX_QUESTION characters."""
    value = unicode_text(value).strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_QUESTION:
        raise ValueError(f"must be at most {MAX_QUESTION} characters")
    return value


class AskRequest(BaseModel):
    """The body of POST /api/ask."""

    model_config = ConfigDict(strict=True)

    question: str = Field(description="The visitor's question, 1 to 1000 characters.")
    top_k: int = Field(3, ge=1, le=10, description="How many passages to return, 1 to 10.")
    history: list[Annotated[str, Field(max_length=MAX_QUESTION)]] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="The visitor's earlier questions in this conversation, oldest first.",
    )

    @field_validator("question")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        return _question(value)


class FeedbackRequest(BaseModel):
    """The body of POST /api/feedback: was this answer helpful for this question?"""

    model_config = ConfigDict(strict=True)

    question: str = Field(description="The question the answer was for, 1 to 1000 characters.")
    answer_id: str = Field(
        min_length=1, max_length=MAX_ANSWER_ID, description="The id of the passage shown."
    )
    helpful: bool = Field(description="true: it helped; false: it did not.")

    @field_validator("question")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        return _question(value)


class FeedbackReply(BaseModel):
    """The reply of POST /api/feedback."""

    id: int


class SuggestReply(BaseModel):
    """The reply of GET /api/suggest."""

    suggestions: list[str]


class Answer(BaseModel):
    """One ranked passage."""

    id: str
    text: str
    score: float
    document: str
    url: str
    section: str | None = None
    highlight: str
    matched_terms: list[str]


class AskReply(BaseModel):
    """The reply of POST /api/ask."""

    answered: bool
    confidence: float
    answers: list[Answer]
    message: str
    suggestions: list[str]
    context: str = Field("", description="Topic taken from the history for a follow-up.")


def _field_name(loc: tuple | list) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 whose message names the field(s), in plain words, never echoing huge inputs."""
    errors = []
    for err in exc.errors():
        loc = err.get("loc", ())
        field = "body" if err.get("type") == "json_invalid" else _field_name(loc)
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        errors.append({"loc": list(loc), "field": field, "msg": msg, "type": err.get("type")})
    message = "; ".join(f"{e['field']}: {e['msg']}" for e in errors)
    return JSONResponse({"detail": errors, "message": message}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own 400 for a JSON body it cannot decode (not UTF-8, nested too deep, a huge
    integer) becomes our 422 naming the body, like any other malformed JSON."""
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        error = {
            "loc": ["body"],
            "field": "body",
            "msg": "the body is not valid JSON",
            "type": "json_invalid",
        }
        return JSONResponse(
            {"detail": [error], "message": "body: the body is not valid JSON"}, status_code=422
        )
    return await http_exception_handler(request, exc)


async def _storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with a plain message when the database fails; details go to the log only."""
    log.warning("storage failed on %s: %s", request.url.path, exc)
    metrics.record_storage_error()
    return JSONResponse(
        {"message": "Storage is unavailable right now; please try again later."},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def confidence_hint(confidence: float) -> str:
    """A quiet, plain-words hint of how sure the assistant is (web/static/chat.js agrees)."""
    percent = round(confidence * 100)
    if confidence >= 0.8:
        return f"Confident ({percent}%)"
    if confidence >= 0.6:
        return f"Fairly confident ({percent}%)"
    return f"Not entirely sure ({percent}%)"


async def get_assistant(request: Request) -> Assistant:
    """The loaded assistant of this app."""
    return request.app.state.assistant


def open_store(state: Any) -> Store:
    """The app's storage: opened in the lifespan, or now if it could not be then."""
    if state.store is None:
        with _opening:
            if state.store is None:
                state.store = Store.from_settings(state.settings)
    return state.store


async def get_store(request: Request) -> Store:
    """The storage opened in the lifespan (opened here if it could not be then)."""
    return open_store(request.app.state)


async def get_suggester(request: Request) -> Suggester:
    """Typing suggestions over the loaded assistant."""
    suggester = getattr(request.app.state, "suggester", None)
    if suggester is None or suggester.bot is not request.app.state.assistant:
        suggester = request.app.state.suggester = Suggester(request.app.state.assistant)
    return suggester


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
StoreDep = Annotated[Store, Depends(get_store)]
SuggesterDep = Annotated[Suggester, Depends(get_suggester)]


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """Build the web app; the corpus is loaded in the lifespan unless an assistant is given."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        sync = state.taught_sync = TaughtSync(lambda: state.assistant, lambda: open_store(state))
        version, taught = None, []
        try:
            state.store = Store.from_settings(settings)
            state.store.purge(settings.retention_days)
            version, taught = sync.read()
        except StorageError as exc:  # keep answering; staff and feedback get 503 until it opens
            log.error("storage unavailable at start: %s", exc)
        if getattr(state, "assistant", None) is None:
            state.assistant = await asyncio.to_thread(
                Assistant.load,
                settings.corpus,
                index_dir=settings.index_dir,
                extra_questions=taught,
                build_in_child=True,
                cache_size=settings.answer_cache,
            )
            sync.version = version
        elif version is not None:
            sync.apply(version, taught)
        state.question_log = QuestionLog(lambda: open_store(state)).start()
        loop = asyncio.get_running_loop()
        sync.start(loop)
        state.reloader = Reloader(state)
        state.reloader.install_sighup(loop)
        try:
            yield
        finally:
            sync.stop()
            state.question_log.close()
            if state.store is not None:
                state.store.close()
            metrics.mark_process_dead()
            logs.flush_access_log()  # the access lines still waiting for their batch

    app = FastAPI(
        title="FAQ assistant",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.dev else None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.store = None
    app.state.question_log = None  # started in the lifespan
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StorageError, _storage_unavailable)
    # One pure-ASGI layer for what every request goes through (assistant/edge.py): request id
    # and access line, metrics, security headers, CORS on the visitor API, 413 before the app
    # reads a body, 429, and a generic 500 that still gets the request id, the headers and a
    # metric (Starlette runs an `Exception` handler outside every middleware). As seven
    # stacked middlewares it cost about a fifth of a bare endpoint's throughput.
    docs = {"/docs", "/docs/oauth2-redirect"} if settings.dev else set()
    app.add_middleware(
        EdgeMiddleware,
        max_body=MAX_BODY,
        limiter=RateLimiter(settings.rate_limit) if settings.rate_limit else None,
        trusted_proxies=settings.trusted_proxies,
        cors_paths=VISITOR_API,
        allow_origins=settings.allowed_origins,
        csp_exempt=docs,
        frame_ancestors=settings.frame_ancestors,
        no_store=staff.PRIVATE_PATHS,
    )
    templates = Jinja2Templates(directory=str(settings.web / "templates"))
    templates.env.globals.update(passage_parts=passage_parts, confidence_hint=confidence_hint)
    static = settings.web / "static"

    @functools.cache
    def widget_sources() -> tuple[str, str]:
        """chat.js and widget.js, read once (they ship with the package and do not change)."""
        return tuple((static / n).read_text(encoding="utf-8") for n in ("chat.js", "widget.js"))

    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    def log_question(question: str, reply: dict[str, Any]) -> None:
        """Queue a visitor's question for the log; never waits, never fails the request."""
        if app.state.question_log is not None:
            app.state.question_log.record(question, reply)

    state = app.state

    @app.post("/api/ask", response_model=AskReply, responses=VISITOR_ERRORS)
    async def ask(body: AskRequest) -> Response:
        """Answer a question with the best passages of the article."""
        # state.assistant directly (a reload swaps it): a dependency costs a solve per request
        reply = state.assistant.ask(body.question, body.history, body.top_k)
        log_question(body.question, reply)
        metrics.record_answer(reply["answered"])
        return Response(encode_reply(reply), media_type="application/json")

    @app.get("/api/suggest", response_model=SuggestReply)
    async def suggest(
        suggester: SuggesterDep,
        q: Annotated[str, Query(min_length=1, max_length=MAX_SUGGEST_QUERY)],
    ) -> dict[str, list[str]]:
        """Up to five questions the article answers, for what the visitor is typing."""
        return {"suggestions": suggester.suggest(q, MAX_SUGGESTIONS)}

    @app.post(
        "/api/feedback",
        status_code=201,
        response_model=FeedbackReply,
        responses={**VISITOR_ERRORS, 503: {"description": "Storage is unavailable"}},
    )
    def feedback(body: FeedbackRequest, bot: AssistantDep, store: StoreDep) -> dict[str, int]:
        """Record whether an answer (a passage id) helped with a question."""
        if bot.passage(body.answer_id) is None:
            raise RequestValidationError(
                [{"loc": ("body", "answer_id"), "msg": "unknown passage", "type": "value_error"}]
            )
        return {"id": store.add_feedback(body.question, body.answer_id, body.helpful)}

    @app.get("/widget.js", include_in_schema=False)
    async def widget(bot: AssistantDep) -> Response:
        """The embeddable chat: chat.js and widget.js bundled in one private scope."""
        config = {"title": bot.answerer.title, "starters": bot.answerer.suggestions([], n=3)}
        parts = widget_sources()
        body = (
            f'(() => {{\n"use strict";\nconst CONFIG = {json.dumps(config)};\n'
            f"{parts[0]}\n{parts[1]}\n}})();\n"
        )
        return Response(
            body,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": WIDGET_CACHE},
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus text format (summed over all workers)."""
        body, content_type = metrics.metrics_response()
        return Response(body, media_type=content_type)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "Not ready"}})
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the index is loaded and storage answers."""
        state = request.app.state
        try:
            store_ok = open_store(request.app.state).ping()
        except StorageError:
            store_ok = False
        ready = state.assistant is not None and store_ok
        body = {"status": "ready" if ready else "unavailable", "storage": store_ok}
        return JSONResponse(body, status_code=200 if ready else 503)

    def render_chat(
        request: Request,
        bot: Assistant,
        turns: list[dict[str, Any]],
        question: str = "",
        error: str = "",
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "index.html",
            {
                "turns": turns,
                "question": question,
                "error": error,
                "title": bot.answerer.title,
                "suggestions": bot.answerer.suggestions([], n=4),
            },
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page(request: Request, bot: AssistantDep) -> HTMLResponse:
        """The chat page."""
        return render_chat(request, bot, [])

    @app.post("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_form(
        request: Request,
        bot: AssistantDep,
        question: Annotated[str, Form(max_length=MAX_QUESTION * 2)] = "",
        history: Annotated[list[str] | None, Form()] = None,
        suggestion: Annotated[str, Form(max_length=MAX_QUESTION * 2)] = "",
    ) -> HTMLResponse:
        """The chat without JavaScript: the form posts here and the conversation is rendered.

        A suggestion button posts its question as `suggestion`, in place of the typed one.
        """
        history = [h[:MAX_QUESTION] for h in (history or []) if h.strip()][-MAX_HISTORY:]
        # the server keeps no state: the earlier turns are answered again, as they were
        turns = [
            {"question": h, "reply": bot.ask(h, history[:i], 3)} for i, h in enumerate(history)
        ]
        question = (suggestion if suggestion.strip() else question).strip()
        if not question or len(question) > MAX_QUESTION:
            error = (
                "Please type a question."
                if not question
                else (f"Please keep the question under {MAX_QUESTION} characters.")
            )
            return render_chat(request, bot, turns, question, error)
        reply = bot.ask(question, history, 3)
        log_question(question, reply)
        metrics.record_answer(reply["answered"])
        turns.append({"question": question, "reply": reply})
        return render_chat(request, bot, turns)

    @app.get("/article/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    async def article(request: Request, doc_id: str, bot: AssistantDep) -> HTMLResponse:
        """The cleaned document, an anchor per passage."""
        doc = next((d for d in bot.documents if d.doc_id == doc_id), None)
        if doc is None:
            raise HTTPException(404, "No such document")
        return templates.TemplateResponse(request, "article.html", {"doc": doc})

    # After the public routes: routing tries routes in order, and every request to the visitor
    # API would otherwise first be matched against each staff route (no path is shared).
    staff.install(app, templates)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and worker processes."""
    return create_app(Settings.from_env())
