"""create_app(settings) -> FastAPI: the public routes (chat page, article page, ask API, health)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .bot import Assistant
from .config import Settings

MAX_QUESTION = 1000
MAX_HISTORY = 10


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
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        if len(value) > MAX_QUESTION:
            raise ValueError(f"must be at most {MAX_QUESTION} characters")
        return value


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


def get_assistant(request: Request) -> Assistant:
    """The loaded assistant of this app."""
    return request.app.state.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """Build the web app; the corpus is loaded in the lifespan unless an assistant is given."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "assistant", None) is None:
            app.state.assistant = Assistant.load(settings.corpus)
        yield

    app = FastAPI(
        title="FAQ assistant",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.dev else None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.add_exception_handler(RequestValidationError, _validation_error)
    templates = Jinja2Templates(directory=str(settings.web / "templates"))
    app.mount("/static", StaticFiles(directory=str(settings.web / "static")), name="static")

    @app.post(
        "/api/ask", response_model=AskReply, responses={422: {"description": "Invalid input"}}
    )
    async def ask(body: AskRequest, bot: AssistantDep) -> Response:
        """Answer a question with the best passages of the article."""
        reply = bot.ask(body.question, body.history, body.top_k)
        return Response(json.dumps(reply, ensure_ascii=False), media_type="application/json")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

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
    ) -> HTMLResponse:
        """The chat without JavaScript: the form posts here and the conversation is rendered."""
        history = [h[:MAX_QUESTION] for h in (history or []) if h.strip()][-MAX_HISTORY:]
        turns = [{"question": h, "reply": None} for h in history]
        question = question.strip()
        if not question or len(question) > MAX_QUESTION:
            error = (
                "Please type a question."
                if not question
                else (f"Please keep the question under {MAX_QUESTION} characters.")
            )
            return render_chat(request, bot, turns, question, error)
        turns.append({"question": question, "reply": bot.ask(question, history, 3)})
        return render_chat(request, bot, turns)

    @app.get("/article/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    async def article(request: Request, doc_id: str, bot: AssistantDep) -> HTMLResponse:
        """The cleaned document, an anchor per passage."""
        doc = next((d for d in bot.documents if d.doc_id == doc_id), None)
        if doc is None:
            raise HTTPException(404, "No such document")
        return templates.TemplateResponse(request, "article.html", {"doc": doc})

    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and worker processes."""
    return create_app(Settings.from_env())
