"""The staff workspace: sign-in, the /staff page and the staff JSON API (lookup, what visitors
asked, feedback, exports, teaching), every route behind one dependency, ``require_staff``.

Credentials are an API token (``Authorization: Bearer``) or a browser session: a random id in
an HttpOnly, SameSite=Strict cookie, kept hashed in the store with its CSRF token, which every
state-changing request of the session must carry (``X-CSRF-Token`` header or ``csrf`` field).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from . import auth
from .background import TaughtSync
from .bot import Assistant
from .edge import under
from .insights import group_questions, write_csv
from .limits import RateLimiter, client_address
from .reload import ReloadError
from .store import StorageError, Store, utcnow

log = logging.getLogger("assistant.staff")

SESSION_COOKIE = "assistant_session"
LOGIN_COOKIE = "assistant_login"  # the sign-in form's own CSRF token (double submit)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOW_CONFIDENCE = 0.5  # an answer below this counts as unanswered in the staff list
MAX_QUESTION = 1000
NOT_SIGNED_IN = "Sign in, or send a valid API token."
QUESTION_COLUMNS = ("id", "asked_at", "question", "answered", "confidence", "top_id")
FEEDBACK_COLUMNS = ("id", "created_at", "question", "answer_id", "helpful")


@dataclass(frozen=True)
class StaffUser:
    """Who is calling: a staff name, and for a browser session its hash and CSRF token."""

    name: str
    session: str | None = None
    csrf: str | None = None


class NotAllowed(Exception):
    """A staff request refused: 401 (a page redirects to the sign-in form instead) or 403."""

    def __init__(self, status: int, message: str = NOT_SIGNED_IN) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def _not_allowed(request: Request, exc: Exception) -> Response:
    """401/403 as JSON naming nothing but what to do; pages go to the sign-in form."""
    assert isinstance(exc, NotAllowed)
    if exc.status == 401 and not request.url.path.startswith("/api/"):
        return RedirectResponse("/staff/login", status_code=303)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"message": exc.message}, status_code=exc.status, headers=headers)


def staff_store(request: Request) -> Store:
    """The app's storage; 503 until it is open (the taught sync keeps trying to open it)."""
    store = request.app.state.store
    if store is None:
        raise StorageError("storage is not open")
    return store


def staff_assistant(request: Request) -> Assistant:
    """The app's loaded assistant."""
    return request.app.state.assistant


async def require_staff(request: Request) -> StaffUser:
    """The one gate of every staff route: a live API token, or a live session whose
    state-changing requests carry its CSRF token. Raises NotAllowed (401/403)."""
    header = request.headers.get("authorization")
    cookie = request.cookies.get(SESSION_COOKIE)
    if header is None and not cookie:
        raise NotAllowed(401)
    store = staff_store(request)
    if header is not None:  # a bad token is refused even if a session cookie came along
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAllowed(401)
        name = await run_in_threadpool(store.staff_for_token, auth.digest(token.strip()))
        if name is None:
            raise NotAllowed(401)
        return StaffUser(name)
    session_hash = auth.digest(cookie or "")
    session = await run_in_threadpool(store.get_session, session_hash)
    if session is None:
        raise NotAllowed(401)
    user = StaffUser(session["name"], session_hash, session["csrf"])
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token")
        if sent is None and "form" in request.headers.get("content-type", ""):
            field = (await request.form()).get("csrf")
            sent = field if isinstance(field, str) else None
        if not auth.same(sent, user.csrf):
            raise NotAllowed(403, "Missing or wrong CSRF token: reload the page and try again.")
    return user


StaffDep = Annotated[StaffUser, Depends(require_staff)]
StoreDep = Annotated[Store, Depends(staff_store)]
BotDep = Annotated[Assistant, Depends(staff_assistant)]

public = APIRouter(include_in_schema=False)  # the sign-in form: the only open staff routes
pages = APIRouter(dependencies=[Depends(require_staff)], include_in_schema=False)
api = APIRouter(
    prefix="/api/staff",
    tags=["staff"],
    dependencies=[Depends(require_staff)],
    responses={
        401: {"description": "No valid API token or session"},
        413: {"description": "The body is over 64 KB"},
        403: {"description": "A session's write without its CSRF token"},
        503: {"description": "Storage is unavailable"},
    },
)


# ------------------------------------------------------------------ sign in and out


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    templates: Jinja2Templates = request.app.state.staff_templates
    return templates.TemplateResponse(request, name, context, status_code=status)


def _cookie_options(request: Request) -> dict[str, Any]:
    """HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS."""
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


def _login_form(request: Request, error: str = "", status: int = 200, name: str = "") -> Response:
    """The sign-in form with a fresh CSRF token, also set as a cookie for the POST."""
    token = auth.new_secret()
    context = {"csrf": token, "error": error, "name": name}
    response = _render(request, "staff_login.html", context, status)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path="/staff/login", **_cookie_options(request)
    )
    return response


@public.get("/staff/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The sign-in form (it works without JavaScript)."""
    return _login_form(request)


@public.post("/staff/login", response_class=HTMLResponse)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2 * auth.MAX_PASSWORD)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the name and password (rate limited) and start a session."""
    name = name.strip()
    if not auth.same(csrf, request.cookies.get(LOGIN_COOKIE)):
        return _login_form(request, "The form had expired. Please sign in again.", 403, name)
    limiter: RateLimiter = request.app.state.login_limiter
    address = client_address(request.scope, request.app.state.settings.trusted_proxies)
    for key in (f"address:{address}", f"name:{name.casefold()}"):
        wait = limiter.check(key)
        if wait is not None:
            seconds = max(1, round(wait + 0.5))
            message = f"Too many sign-in attempts. Please wait {seconds} s and try again."
            response = _login_form(request, message, 429, name)
            response.headers["Retry-After"] = str(seconds)
            return response
    store = staff_store(request)
    account = store.get_staff(name) if name else None
    if not auth.verify_password(account["password_hash"] if account else None, password):
        return _login_form(request, "Wrong name or password.", 401, name)
    if auth.needs_rehash(account["password_hash"]):
        store.set_password_hash(name, auth.hash_password(password))
    session_id = auth.new_secret()
    hours = request.app.state.settings.session_hours
    expires = utcnow() + timedelta(hours=hours)
    store.create_session(name, auth.digest(session_id), auth.new_secret(), expires)
    response = RedirectResponse("/staff", status_code=303)
    options = _cookie_options(request)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=hours * 3600, path="/", **options)
    response.delete_cookie(LOGIN_COOKIE, path="/staff/login", **options)
    return response


@pages.post("/staff/logout")
def logout(request: Request, user: StaffDep, store: StoreDep) -> Response:
    """End the session (revoked in the store) and forget its cookie."""
    if user.session:
        store.revoke_session(user.session)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", **_cookie_options(request))
    return response


@pages.get("/staff", response_class=HTMLResponse)
def workspace(request: Request, user: StaffDep, bot: BotDep) -> Response:
    """The staff workspace: lookup, what visitors asked, teaching."""
    context = {"user": user, "csrf": user.csrf or "", "title": bot.answerer.title}
    return _render(request, "staff.html", context)


# ------------------------------------------------------------------ lookup


class Result(BaseModel):
    """One passage found by the lookup."""

    id: str
    text: str
    score: float
    document: str
    url: str
    section: str | None = None
    matched_terms: list[str]


class SearchReply(BaseModel):
    """The reply of GET /api/staff/search."""

    results: list[Result]


@api.get("/search", response_model=SearchReply)
async def search(
    bot: BotDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION)],
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, list[dict]]:
    """The k best passages for a question, ranked as visitors' questions are, whether or not
    a visitor would get an answer (passages that share nothing with it are left out)."""
    query = bot.index.parse(q)
    ranked = bot.index.search(query, k=k)
    results = []
    for i, score in zip(ranked.indices.tolist(), ranked.scores.tolist(), strict=True):
        if score <= 0:
            continue
        p = bot.passages[i]
        results.append(
            {
                "id": p.id,
                "text": p.text,
                "score": round(min(1.0, float(score)), 4),
                "document": p.document,
                "url": p.url,
                "section": p.section,
                "matched_terms": bot.index.matched_terms(i, query),
            }
        )
    return {"results": results}


# ------------------------------------------------------------------ insights


class Guess(BaseModel):
    """The passage the assistant ranked first for a logged question."""

    id: str
    text: str
    url: str | None = None


class AskedQuestion(BaseModel):
    """A question visitors asked, near-duplicates folded in."""

    question: str = Field(description="The most asked phrasing.")
    count: int
    last_asked: str
    answered: bool = Field(description="Whether any of these asks got a confident answer.")
    variants: list[str] = Field(description="Other phrasings grouped under this one.")
    taught: bool = Field(description="This question is a taught phrasing now.")
    guess: Guess | None = Field(
        None,
        description="The passage the assistant ranked first when it was last asked (None if "
        "none, or if that passage is no longer in the corpus): often the answer, and then "
        "one click teaches it.",
    )


class QuestionsReply(BaseModel):
    """The reply of GET /api/staff/questions."""

    questions: list[AskedQuestion]
    small_talk: int = Field(
        0,
        description="Asks left out of the unanswered list as small talk (greetings, thanks, "
        'goodbyes, "help", "that\'s wrong"): the assistant replied to them, and there is '
        "nothing to teach.",
    )


@api.get("/questions", response_model=QuestionsReply)
def questions(
    store: StoreDep,
    bot: BotDep,
    kind: Annotated[Literal["unanswered", "all"], Query(alias="filter")] = "unanswered",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Asked questions, most asked first: `unanswered` (not answered, or with confidence
    below 0.5; small talk left out and counted) or `all`. Near-duplicates are grouped."""
    unanswered = kind == "unanswered"
    rows = store.question_stats(unanswered, LOW_CONFIDENCE if unanswered else None, limit=1000)
    small_talk = 0
    if unanswered:  # read now, not when asked: old logs and improved rules alike
        kept = []
        for row in rows:
            if bot.answerer.small_talk(row["question"]):
                small_talk += row["count"]
            else:
                kept.append(row)
        rows = kept
    groups = group_questions(rows, [t["question"] for t in store.taught()])[:limit]
    return {
        "questions": [
            {**g, "last_asked": g["last_asked"].isoformat(), "guess": _guess(bot, g["top_id"])}
            for g in groups
        ],
        "small_talk": small_talk,
    }


def _guess(bot: Assistant, passage_id: str | None) -> dict | None:
    """A logged best passage, if the corpus still has it."""
    p = bot.passage(passage_id) if passage_id else None
    return {"id": p.id, "text": p.text, "url": p.url} if p else None


@api.get("/feedback")
def not_helpful(
    store: StoreDep, bot: BotDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> dict[str, list[dict]]:
    """Passages with the most "not helpful" votes, and the questions they were shown for."""
    out = []
    for row in store.not_helpful_passages(limit):
        p = bot.passage(row["answer_id"])  # None when the passage changed since the vote
        out.append(
            {
                "id": row["answer_id"],
                "not_helpful": int(row["not_helpful"]),
                "helpful": int(row["helpful"]),
                "questions": row["questions"],
                "text": p.text if p else None,
                "document": p.document if p else None,
                "url": p.url if p else None,
            }
        )
    return {"passages": out}


def _csv(rows: Any, columns: tuple[str, ...], filename: str) -> StreamingResponse:
    """A CSV download of the rows (written to a temporary file first, then streamed)."""
    out = write_csv(rows, columns)

    def chunks():
        with out:
            yield from iter(lambda: out.read(1 << 16), "")

    disposition = f'attachment; filename="{filename}"'
    return StreamingResponse(
        chunks(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


@api.get("/export/questions.csv", response_class=StreamingResponse)
def export_questions(store: StoreDep) -> StreamingResponse:
    """The whole question log as CSV, oldest first."""
    return _csv(store.export_questions(), QUESTION_COLUMNS, "questions.csv")


@api.get("/export/feedback.csv", response_class=StreamingResponse)
def export_feedback(store: StoreDep) -> StreamingResponse:
    """All feedback as CSV, oldest first."""
    return _csv(store.export_feedback(), FEEDBACK_COLUMNS, "feedback.csv")


# ------------------------------------------------------------------ teaching


class TeachRequest(BaseModel):
    """The body of POST /api/staff/passages/{id}/questions."""

    model_config = ConfigDict(strict=True)

    question: str = Field(description="A phrasing that this passage answers, 1 to 1000 chars.")

    @field_validator("question")
    @classmethod
    def _trimmed_length(cls, value: str) -> str:
        value = " ".join(value.split())
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
        if not value:
            raise ValueError("must not be empty")
        if len(value) > MAX_QUESTION:
            raise ValueError(f"must be at most {MAX_QUESTION} characters")
        return value


async def _resync(request: Request) -> None:
    """Apply the store's taught phrasings to this process now (other processes poll)."""
    sync: TaughtSync = request.app.state.taught_sync
    version, pairs = await run_in_threadpool(sync.read)
    sync.apply(version, pairs)  # on the event loop, like every search


def _taught_row(row: dict, bot: Assistant) -> dict:
    p = bot.passage(row["passage_id"])
    return {
        **{k: row[k] for k in ("id", "passage_id", "question", "created_by", "removed_by")},
        "created_at": row["created_at"].isoformat(),
        "removed_at": row["removed_at"].isoformat() if row["removed_at"] else None,
        "found": p is not None,  # False when the passage's text changed since
        "document": p.document if p else None,
        "url": p.url if p else None,
    }


@api.post(
    "/passages/{passage_id:path}/questions",
    status_code=201,
    responses={404: {"description": "No such passage"}, 503: {"description": "No storage"}},
)
async def teach(
    request: Request,
    passage_id: Annotated[str, Path(max_length=300)],
    body: TeachRequest,
    user: StaffDep,
    store: StoreDep,
    bot: BotDep,
) -> Response:
    """Save a question as a phrasing of a passage: from now on, in every worker, that
    question finds that passage. The id is percent-encoded in the path ("#" as %23)."""
    if bot.passage(passage_id) is None:
        return JSONResponse({"message": f"No passage with the id {passage_id!r}."}, 404)
    taught_id = await run_in_threadpool(store.add_taught, passage_id, body.question, user.name)
    await _resync(request)
    rows = await run_in_threadpool(store.taught)
    row = next(r for r in rows if r["id"] == taught_id)
    return JSONResponse(_taught_row(row, bot), status_code=201)


@api.get("/taught")
def taught(store: StoreDep, bot: BotDep) -> dict[str, list[dict]]:
    """Every taught phrasing, removed ones too, with who taught (and removed) it and when."""
    return {"taught": [_taught_row(row, bot) for row in store.taught(include_removed=True)]}


@api.delete("/taught/{taught_id}", responses={404: {"description": "Not a live phrasing"}})
async def untaught(
    request: Request,
    taught_id: Annotated[int, Path(ge=1, le=2**62)],
    user: StaffDep,
    store: StoreDep,
) -> JSONResponse:
    """Withdraw a taught phrasing (kept, marked removed by whom and when)."""
    if not await run_in_threadpool(store.remove_taught, taught_id, user.name):
        return JSONResponse({"message": "No live taught phrasing with that id."}, 404)
    await _resync(request)
    return JSONResponse({"id": taught_id, "removed": True})


@api.post(
    "/reload", responses={409: {"description": "The corpus is broken; `message` names the file"}}
)
async def reload(request: Request, user: StaffDep) -> JSONResponse:
    """Re-read the corpus and swap the new index in without downtime; if the corpus is broken,
    409 names the file and the last good index keeps serving."""
    try:
        counts = await request.app.state.reloader.reload()
    except ReloadError as exc:
        return JSONResponse({"message": f"Reload failed: {exc}"}, status_code=409)
    log.info("corpus reloaded by %s", user.name)
    return JSONResponse({"status": "reloaded", **counts})


@api.get("/me")
def me(user: StaffDep) -> dict[str, str]:
    """Who the credentials belong to, and which kind they are."""
    return {"name": user.name, "via": "session" if user.session else "token"}


# ------------------------------------------------------------------ wiring


PRIVATE_PATHS = ("/staff", "/api/staff")  # never cached: the edge middleware says no-store


def is_staff_path(path: str) -> bool:
    """True for /staff, /api/staff and everything under them."""
    return under(path, PRIVATE_PATHS)


def install(app: FastAPI, templates: Jinja2Templates) -> None:
    """Add the staff routes, their refusal handler and the login limiter (the no-store
    header on PRIVATE_PATHS is the edge middleware's)."""
    app.state.staff_templates = templates
    app.state.login_limiter = RateLimiter(app.state.settings.login_rate)
    app.add_exception_handler(NotAllowed, _not_allowed)
    for router in (public, pages, api):
        app.include_router(router)
