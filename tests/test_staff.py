"""The staff workspace through TestClient: auth on every route, sessions, CSRF, the lookup,
insights, exports and teaching; the staff CLI, purge and backup; and, against live servers,
teaching across two workers and across a restart."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shutil
import sqlite3
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from browser import serve, server_env
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from assistant import Assistant, auth
from assistant.app import create_app
from assistant.cli import main
from assistant.config import Settings
from assistant.staff import is_staff_path, require_staff
from assistant.store import StorageError, Store, feedback, sessions, utcnow

NAME, PASSWORD = "alice", "correct horse battery staple"
REFUSED = "Who builds the salary software?"  # the article never says "salary"
INTEMPUS = "python-for-backend#p544a6c2f"  # ...but this passage is about a payroll platform
OPEN_PATHS = {"/staff/login"}


@pytest.fixture(scope="module")
def staff_bot() -> Assistant:
    """An assistant of this module's own: teaching it leaves the shared one alone."""
    return Assistant.load(index_dir=Settings.from_env().index_dir)


@pytest.fixture(scope="module")
def password_hash() -> str:
    """PASSWORD hashed once (argon2id takes a quarter of a second, by design)."""
    return auth.hash_password(PASSWORD)


@pytest.fixture()
def token(settings: Settings, password_hash: str) -> str:
    """An account (NAME, PASSWORD) with an API token, in the test's database."""
    store = Store.from_settings(settings)
    store.add_staff(NAME, password_hash)
    secret = auth.new_secret()
    store.add_token(NAME, auth.digest(secret))
    store.close()
    return secret


@pytest.fixture()
def staff(settings: Settings, staff_bot: Assistant, token: str):
    """A TestClient on a fresh app with an account, and the account's bearer headers."""
    with TestClient(create_app(settings, staff_bot)) as c:
        c.bearer = {"Authorization": f"Bearer {token}"}
        yield c


def login(client: TestClient, name: str = NAME, password: str = PASSWORD):
    """Sign in through the form as a browser does; the response of the POST."""
    form = client.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/staff/login",
        data={"name": name, "password": password, "csrf": csrf},
        follow_redirects=False,
    )


def page_csrf(client: TestClient) -> str:
    """The CSRF token of the signed-in workspace page."""
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/staff").text).group(1)


def registered_routes(app) -> list:
    """Every route of the app, those of included routers too."""
    try:  # FastAPI >= 0.16x includes routers lazily: app.routes holds the routers themselves
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI copies the routes in
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [r for r in iter_route_contexts(app.routes) if getattr(r, "dependant", None)]


def staff_routes(app) -> list[tuple[str, str]]:
    """Every (method, path) of the app under /staff and /api/staff but the sign-in form."""
    return [
        (method, route.path)
        for route in registered_routes(app)
        if is_staff_path(route.path) and route.path not in OPEN_PATHS
        for method in sorted(route.methods)
    ]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def refused(client: TestClient, method: str, path: str, **kwargs) -> None:
    """The request got nothing: 401 for the API (JSON saying only what to do), 303 to the
    sign-in form for pages."""
    r = client.request(method, concrete(path), follow_redirects=False, **kwargs)
    assert r.headers["cache-control"] == "no-store", path
    if path.startswith("/api/"):
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.json() == {"message": "Sign in, or send a valid API token."}
        assert r.headers["www-authenticate"] == "Bearer"
    else:
        assert r.status_code == 303, (method, path, r.status_code)
        assert r.headers["location"] == "/staff/login"


# ------------------------------------------------------------------ auth on every route


def test_one_dependency_guards_every_staff_route(staff):
    routes = staff_routes(staff.app)
    paths = {p for _, p in routes}
    assert {"/staff", "/staff/logout", "/api/staff/search", "/api/staff/questions"} <= paths
    assert "/api/staff/passages/{passage_id:path}/questions" in paths
    assert len(routes) >= 11
    for route in registered_routes(staff.app):
        if is_staff_path(route.path):
            calls = [d.call for d in route.dependant.dependencies]
            assert (require_staff in calls) == (route.path not in OPEN_PATHS), route.path


def test_every_staff_route_refuses_without_credentials(staff):
    for method, path in staff_routes(staff.app):
        refused(staff, method, path)
        refused(staff, method, path, json={"question": "sneaky"})


def test_every_staff_route_refuses_a_bad_token_or_session(staff, token):
    bad = [
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": "Bearer "},
        {"Cookie": "assistant_session=forged"},
    ]
    for method, path in staff_routes(staff.app):
        for headers in bad:
            refused(staff, method, path, headers=headers)


def test_a_revoked_token_is_refused_everywhere(staff, token):
    assert staff.get("/api/staff/me", headers=staff.bearer).json() == {"name": NAME, "via": "token"}
    assert staff.app.state.store.revoke_tokens(NAME) == 1
    for method, path in staff_routes(staff.app):
        refused(staff, method, path, headers=staff.bearer)


def test_a_removed_account_loses_its_token_and_sessions(staff):
    assert login(staff).status_code == 303
    staff.app.state.store.remove_staff(NAME)
    refused(staff, "GET", "/api/staff/search", headers=staff.bearer)
    refused(staff, "GET", "/staff")


# ------------------------------------------------------------------ sessions


def test_signing_in_sets_a_strict_http_only_session_cookie(staff):
    assert staff.get("/staff", follow_redirects=False).headers["location"] == "/staff/login"
    r = login(staff)
    assert r.status_code == 303 and r.headers["location"] == "/staff"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("assistant_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/;" in cookie
    assert "Max-Age=28800" in cookie and "Secure" not in cookie  # 8 hours; plain HTTP here
    stored = staff.app.state.store.get_session(auth.digest(staff.cookies["assistant_session"]))
    assert stored["name"] == NAME  # the store keeps only the id's hash
    page = staff.get("/staff")
    assert page.status_code == 200 and "Signed in as <strong>alice</strong>" in page.text
    assert staff.get("/api/staff/me").json() == {"name": NAME, "via": "session"}


def test_the_session_cookie_is_secure_over_https(settings, staff_bot, token):
    with TestClient(create_app(settings, staff_bot), base_url="https://testserver") as c:
        r = login(c)
        assert r.status_code == 303
        assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


def test_a_wrong_password_or_name_signs_nobody_in(staff):
    for name, password in ((NAME, "wrong password"), ("mallory", PASSWORD), ("", "")):
        r = login(staff, name, password)
        assert r.status_code == 401 and "Wrong name or password." in r.text
        assert "assistant_session" not in staff.cookies
    refused(staff, "GET", "/staff")


def test_the_sign_in_form_needs_its_own_csrf_token(staff):
    staff.get("/staff/login")
    r = staff.post("/staff/login", data={"name": NAME, "password": PASSWORD, "csrf": "guess"})
    assert r.status_code == 403 and "assistant_session" not in staff.cookies


def test_sign_in_attempts_are_rate_limited_per_address_and_per_name(settings, staff_bot, token):
    app = create_app(dataclasses.replace(settings, login_rate=2), staff_bot)
    with TestClient(app, client=("10.0.0.1", 1000)) as first:
        for _ in range(2):
            assert login(first, NAME, "wrong password").status_code == 401
        r = login(first)  # the right password, but too late
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "Too many sign-in attempts" in r.text
        other = TestClient(app, client=("10.0.0.2", 1000))  # another address, the same name
        assert login(other).status_code == 429
        third = TestClient(app, client=("10.0.0.3", 1000))  # one address, many names
        assert login(third, "bob", "x").status_code == 401
        assert login(third, "carol", "x").status_code == 401
        assert login(third, "dave", "x").status_code == 429


def test_an_expired_session_is_refused(staff):
    login(staff)
    assert staff.get("/api/staff/me").status_code == 200
    store = staff.app.state.store
    with store.engine.begin() as conn:
        conn.execute(sa.update(sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused(staff, "GET", "/api/staff/me")
    refused(staff, "GET", "/staff")


def test_signing_out_revokes_the_session(staff):
    login(staff)
    cookie = staff.cookies["assistant_session"]
    r = staff.post("/staff/logout", data={"csrf": page_csrf(staff)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    assert 'assistant_session=""' in r.headers["set-cookie"]
    assert staff.app.state.store.get_session(auth.digest(cookie)) is None
    # the old cookie, replayed, gets nothing
    replay = TestClient(staff.app, cookies={"assistant_session": cookie})
    refused(replay, "GET", "/api/staff/me")


# ------------------------------------------------------------------ CSRF


def test_session_writes_without_the_csrf_token_are_refused(staff, staff_bot):
    login(staff)
    url = f"/api/staff/passages/{quote(INTEMPUS, safe='')}/questions"
    for headers in ({}, {"X-CSRF-Token": "guess"}, {"X-CSRF-Token": ""}):
        r = staff.post(url, json={"question": REFUSED}, headers=headers)
        assert r.status_code == 403 and "CSRF" in r.json()["message"]
    assert staff.delete("/api/staff/taught/1").status_code == 403
    r = staff.post("/staff/logout", data={"csrf": "guess"}, follow_redirects=False)
    assert r.status_code == 403
    assert staff.app.state.store.taught() == []
    assert staff.get("/api/staff/me").status_code == 200  # still signed in
    r = staff.post(url, json={"question": REFUSED}, headers={"X-CSRF-Token": page_csrf(staff)})
    assert r.status_code == 201


def test_a_token_needs_no_csrf_token(staff):
    url = f"/api/staff/passages/{quote(INTEMPUS, safe='')}/questions"
    assert staff.post(url, json={"question": REFUSED}, headers=staff.bearer).status_code == 201


# ------------------------------------------------------------------ the pages


def test_staff_pages_are_never_cached_and_run_no_inline_code(staff):
    login(staff)
    for r in (staff.get("/staff/login"), staff.get("/staff")):
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text) == []
        assert "<style" not in r.text and "style=" not in r.text
        assert re.search(r"\son[a-z]+=", r.text) is None
    assert staff.get("/api/staff/me").headers["cache-control"] == "no-store"


def test_the_staff_page_escapes_the_account_name(settings, staff_bot, password_hash):
    store = Store.from_settings(settings)
    store.add_staff("<b>eve</b>", password_hash)
    store.close()
    with TestClient(create_app(settings, staff_bot)) as c:
        login(c, "<b>eve</b>")
        assert "&lt;b&gt;eve&lt;/b&gt;" in c.get("/staff").text


# ------------------------------------------------------------------ lookup


def test_the_lookup_ranks_passages_whether_or_not_a_visitor_gets_an_answer(staff, staff_bot):
    r = staff.get("/api/staff/search", params={"q": REFUSED}, headers=staff.bearer)
    assert r.status_code == 200
    results = r.json()["results"]
    assert 1 <= len(results) <= 10 and not staff_bot.ask(REFUSED)["answered"]
    assert set(results[0]) == {"id", "text", "score", "document", "url", "matched_terms", "section"}
    scores = [x["score"] for x in results]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    top = staff.get("/api/staff/search?q=neuroscience&k=3", headers=staff.bearer).json()["results"]
    assert len(top) <= 3 and "Diagnostic Biochips" in top[0]["text"]
    assert top[0]["matched_terms"] == ["neuroscience"]
    assert top[0]["url"] == "/article/" + top[0]["id"]


@pytest.mark.parametrize(
    "query", ["q=django&k=0", "q=django&k=51", "q=django&k=ten", "k=10", "q=", "q=" + "x" * 1001]
)
def test_the_lookup_refuses_bad_parameters_with_422(staff, query):
    r = staff.get(f"/api/staff/search?{query}", headers=staff.bearer)
    assert r.status_code == 422 and r.json()["message"]


def test_the_lookup_may_ask_for_50(staff):
    r = staff.get("/api/staff/search?q=python backend&k=50", headers=staff.bearer)
    assert 10 < len(r.json()["results"]) <= 50


# ------------------------------------------------------------------ the question log


def test_every_visitor_question_is_logged_without_address_or_cookie(staff, staff_bot):
    staff.post("/api/ask", json={"question": REFUSED})
    staff.post("/api/ask", json={"question": "Is it secure?", "history": ["What is Django?"]})
    staff.post("/", data={"question": "What is Flask?", "history": ["What is Django?"]})
    staff.app.state.question_log.flush()
    rows = list(staff.app.state.store.export_questions())
    assert [r["question"] for r in rows] == [REFUSED, "Is it secure?", "What is Flask?"]
    assert rows[0]["answered"] is False and rows[0]["confidence"] < 0.5
    assert (
        rows[2]["answered"] is True
        and rows[2]["top_id"] == staff_bot.ask("What is Flask?")["answers"][0]["id"]
    )
    assert set(rows[0]) == {
        "id",
        "question",
        "normalized",
        "answered",
        "top_id",
        "confidence",
        "asked_at",
    }


def test_a_failing_question_log_never_fails_the_visitor(staff, monkeypatch):
    def broken(rows):
        raise StorageError("sqlite storage failed: disk I/O error")

    monkeypatch.setattr(staff.app.state.store, "log_questions", broken)
    r = staff.post("/api/ask", json={"question": "What is Django?"})
    assert r.status_code == 200 and r.json()["answered"]
    assert staff.post("/", data={"question": "What is Django?"}).status_code == 200
    staff.app.state.question_log.flush()
    assert staff.app.state.question_log.failed == 2


# ------------------------------------------------------------------ insights


def log(store: Store, question: str, n: int, answered: bool = False, confidence: float = 0.1):
    store.log_questions(
        [{"question": question, "answered": answered, "top_id": INTEMPUS, "confidence": confidence}]
        * n
    )


def test_unanswered_questions_are_grouped_most_asked_first(staff):
    store = staff.app.state.store
    log(store, "What is Django?", 9, answered=True, confidence=0.95)
    log(store, "Is there an example for brain research labs?", 2)
    log(store, "is there an example for brain research lab", 1)
    log(store, REFUSED, 1)
    log(store, "Is Python any good?", 3, answered=True, confidence=0.3)  # answered, unsure
    r = staff.get("/api/staff/questions?filter=unanswered", headers=staff.bearer)
    got = r.json()["questions"]
    assert [(q["question"], q["count"]) for q in got] == [
        ("Is Python any good?", 3),  # a tie goes to the question asked last
        ("Is there an example for brain research labs?", 3),
        (REFUSED, 1),
    ]
    brain = next(q for q in got if q["question"].startswith("Is there"))
    assert brain["variants"] == ["is there an example for brain research lab"]
    assert brain["answered"] is False and brain["taught"] is False
    assert set(brain) >= {"question", "count", "last_asked"}
    # what the assistant ranked first, for staff to confirm with one click
    assert brain["guess"]["id"] == INTEMPUS and "Intempus" in brain["guess"]["text"]
    assert "top_id" not in brain  # the guess, not the log's column
    store.log_questions(
        [{"question": "Where is the office?", "answered": False, "top_id": None, "confidence": 0}]
    )
    store.log_questions(
        [{"question": "Who owns it?", "answered": False, "top_id": "gone#p1", "confidence": 0}]
    )
    got = staff.get("/api/staff/questions?filter=unanswered", headers=staff.bearer).json()
    guesses = {q["question"]: q["guess"] for q in got["questions"]}
    assert guesses["Where is the office?"] is None  # nothing ranked
    assert guesses["Who owns it?"] is None  # a passage the corpus no longer has
    everything = staff.get("/api/staff/questions?filter=all", headers=staff.bearer).json()
    assert everything["questions"][0] == {
        **everything["questions"][0],
        "question": "What is Django?",
        "count": 9,
    }
    assert staff.get("/api/staff/questions?filter=some", headers=staff.bearer).status_code == 422


def test_small_talk_is_counted_not_listed_among_unanswered_questions(staff):
    store = staff.app.state.store
    for said, n in (("hello", 4), ("Thanks!", 2), ("help", 1), ("ha det bra", 1)):
        log(store, said, n, confidence=0.0)
    log(store, "Do you build mobile games?", 2)
    r = staff.get("/api/staff/questions?filter=unanswered", headers=staff.bearer).json()
    assert [q["question"] for q in r["questions"]] == ["Do you build mobile games?"]
    assert r["small_talk"] == 8
    everything = staff.get("/api/staff/questions?filter=all", headers=staff.bearer).json()
    assert {"hello", "Thanks!", "help"} <= {q["question"] for q in everything["questions"]}


def test_passages_with_the_most_not_helpful_votes(staff, staff_bot):
    store = staff.app.state.store
    other = staff_bot.passages[3].id
    for question, answer_id, helpful in (
        (REFUSED, INTEMPUS, False),
        ("Who pays the builders?", INTEMPUS, False),
        ("What is Intempus?", INTEMPUS, True),
        ("What is Django?", other, False),
    ):
        store.add_feedback(question, answer_id, helpful)
    passages = staff.get("/api/staff/feedback", headers=staff.bearer).json()["passages"]
    assert [(p["id"], p["not_helpful"], p["helpful"]) for p in passages] == [
        (INTEMPUS, 2, 1),
        (other, 1, 0),
    ]
    assert sorted(passages[0]["questions"]) == sorted([REFUSED, "Who pays the builders?"])
    assert "Intempus" in passages[0]["text"] and passages[0]["url"].endswith("#p544a6c2f")


def test_csv_exports_are_complete_and_defuse_formulas(staff):
    store = staff.app.state.store
    log(store, '=HYPERLINK("http://evil.example","click")', 1)
    log(store, "What is Django, really?\nTell me.", 1, answered=True, confidence=0.9)
    store.add_feedback("@SUM(1+1)", INTEMPUS, False)
    r = staff.get("/api/staff/export/questions.csv", headers=staff.bearer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="questions.csv"' == r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["question"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "What is Django, really?\nTell me.",
    ]
    assert set(rows[0]) == {"id", "asked_at", "question", "answered", "confidence", "top_id"}
    fb = staff.get("/api/staff/export/feedback.csv", headers=staff.bearer)
    rows = list(csv.DictReader(io.StringIO(fb.text)))
    assert rows[0]["question"] == "'@SUM(1+1)" and rows[0]["answer_id"] == INTEMPUS


# ------------------------------------------------------------------ teaching


def teach(client: TestClient, passage_id: str, question: str, **kwargs):
    url = f"/api/staff/passages/{quote(passage_id, safe='')}/questions"
    return client.post(url, json={"question": question}, **kwargs)


def test_teaching_takes_effect_at_once_and_records_who_and_when(staff):
    before = staff.post("/api/ask", json={"question": REFUSED}).json()
    assert not before["answered"]
    r = teach(staff, INTEMPUS, f"  {REFUSED} ", headers=staff.bearer)
    assert r.status_code == 201
    row = r.json()
    assert row["passage_id"] == INTEMPUS and row["question"] == REFUSED
    assert row["created_by"] == NAME and row["created_at"] and row["removed_at"] is None
    after = staff.post("/api/ask", json={"question": REFUSED}).json()
    assert after["answered"] and after["answers"][0]["id"] == INTEMPUS
    # the no-JavaScript page gives the same answer
    assert "payroll" in staff.post("/", data={"question": REFUSED}).text
    # the question is marked taught in the staff list
    staff.post("/api/ask", json={"question": "Who builds the salary software"})
    staff.app.state.question_log.flush()
    questions = staff.get("/api/staff/questions?filter=all", headers=staff.bearer).json()
    assert questions["questions"][0]["taught"] is True


def test_a_taught_phrasing_can_be_removed_and_the_removal_is_recorded(staff):
    taught_id = teach(staff, INTEMPUS, REFUSED, headers=staff.bearer).json()["id"]
    login(staff)  # removed through the browser session this time
    r = staff.delete(f"/api/staff/taught/{taught_id}", headers={"X-CSRF-Token": page_csrf(staff)})
    assert r.status_code == 200 and r.json() == {"id": taught_id, "removed": True}
    assert not staff.post("/api/ask", json={"question": REFUSED}).json()["answered"]
    rows = staff.get("/api/staff/taught").json()["taught"]
    assert rows[0]["removed_by"] == NAME and rows[0]["removed_at"] >= rows[0]["created_at"]
    again = staff.delete(
        f"/api/staff/taught/{taught_id}", headers={"X-CSRF-Token": page_csrf(staff)}
    )
    assert again.status_code == 404


def test_teaching_an_unknown_passage_or_an_empty_question_is_refused(staff):
    r = teach(staff, "python-for-backend#pdeadbeef", REFUSED, headers=staff.bearer)
    assert r.status_code == 404 and "pdeadbeef" in r.json()["message"]
    r = teach(staff, INTEMPUS, "   ", headers=staff.bearer)
    assert r.status_code == 422 and r.json()["message"] == "question: must not be empty"
    r = teach(staff, INTEMPUS, "x" * 1001, headers=staff.bearer)
    assert r.status_code == 422
    assert staff.app.state.store.taught() == []


def test_a_passage_id_with_a_slash_is_taught_through_the_encoded_path(settings, write, token):
    write("guides/coffee.txt", "Espresso is brewed by forcing hot water through fine coffee.\n")
    corpus = write(
        "guides/tea.txt", "Green tea is steamed or pan-fired soon after picking.\n"
    ).parents[1]
    bot = Assistant.load(corpus)
    tea = next(p for p in bot.passages if "tea" in p.text)
    assert tea.id.startswith("guides/tea#p")
    with TestClient(create_app(dataclasses.replace(settings, corpus=corpus), bot)) as c:
        headers = {"Authorization": f"Bearer {token}"}
        assert teach(c, tea.id, "How is sencha processed?", headers=headers).status_code == 201
        answer = c.post("/api/ask", json={"question": "How is sencha processed?"}).json()
        assert answer["answers"][0]["id"] == tea.id


def test_staff_writes_answer_503_when_storage_fails(staff, monkeypatch):
    def broken(*args):
        raise StorageError("sqlite storage failed: database is locked")

    monkeypatch.setattr(staff.app.state.store, "add_taught", broken)
    r = teach(staff, INTEMPUS, REFUSED, headers=staff.bearer)
    assert r.status_code == 503
    assert "unavailable" in r.json()["message"] and "locked" not in r.json()["message"]


# ------------------------------------------------------------------ CLI


def test_staff_cli_accounts_and_tokens(settings, staff_bot, monkeypatch, capsys):
    monkeypatch.setenv("ASSISTANT_DB", str(settings.db_path))
    for password, why in (("\n", "empty"), ("too short\n", "at least 10")):
        monkeypatch.setattr("sys.stdin", io.StringIO(password))
        assert main(["staff", "add", "bob"]) == 1
        assert why in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "bob"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "bob"]) == 1 and "already exists" in capsys.readouterr().err
    assert main(["staff", "token", "bob"]) == 0
    token = capsys.readouterr().out.splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    with sqlite3.connect(settings.db_path) as db:  # only the hash is kept
        assert db.execute("SELECT token_hash FROM api_token").fetchall() == [(auth.digest(token),)]
    with TestClient(create_app(settings, staff_bot)) as c:
        headers = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/staff/me", headers=headers).json()["name"] == "bob"
        assert login(c, "bob", PASSWORD).status_code == 303
        assert main(["staff", "revoke", "bob"]) == 0 and "1 token(s)" in capsys.readouterr().out
        assert c.get("/api/staff/me", headers=headers).status_code == 401
        assert main(["staff", "remove", "bob"]) == 0
        assert c.get("/api/staff/me").status_code == 401  # its session went with it
    assert main(["staff", "remove", "bob"]) == 1 and "no staff account" in capsys.readouterr().err
    assert main(["staff", "token", "nobody"]) == 1


def insert_old(store: Store, days: int) -> None:
    """A question and a feedback row from `days` ago, and a fresh one of each."""
    old = utcnow() - timedelta(days=days)
    row = {"question": "old", "answered": False, "top_id": None, "confidence": 0.0}
    store.log_questions([{**row, "asked_at": old}, {**row, "question": "new"}])
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(feedback).values(
                question="old", answer_id=INTEMPUS, helpful=False, created_at=old
            )
        )
    store.add_feedback("new", INTEMPUS, True)


def test_purge_keeps_the_retention_period(settings, monkeypatch, capsys):
    store = Store.from_settings(settings)
    insert_old(store, 91)
    monkeypatch.setenv("ASSISTANT_DB", str(settings.db_path))
    assert main(["purge"]) == 0
    assert "2 rows older than 90 days deleted" in capsys.readouterr().out
    assert [r["question"] for r in store.export_questions()] == ["new"]
    assert [r["question"] for r in store.export_feedback()] == ["new"]
    monkeypatch.setenv("ASSISTANT_RETENTION_DAYS", "zero")
    assert main(["purge"]) == 1 and "ASSISTANT_RETENTION_DAYS" in capsys.readouterr().err
    store.close()


def test_retention_is_enforced_when_the_app_starts(settings, staff_bot):
    store = Store.from_settings(settings)
    insert_old(store, 31)
    with TestClient(create_app(dataclasses.replace(settings, retention_days=30), staff_bot)):
        assert [r["question"] for r in store.export_questions()] == ["new"]
        assert [r["question"] for r in store.export_feedback()] == ["new"]
    store.close()


def test_backup_and_restore_through_the_cli(
    settings, staff_bot, token, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("ASSISTANT_DB", str(settings.db_path))
    with TestClient(create_app(settings, staff_bot)) as c:
        assert (
            teach(c, INTEMPUS, REFUSED, headers={"Authorization": f"Bearer {token}"}).status_code
            == 201
        )
        c.post("/api/ask", json={"question": REFUSED})
        c.app.state.question_log.flush()
        copy = tmp_path / "backups" / "copy.db"
        assert main(["backup", str(copy)]) == 0  # while the app has the database open
        assert "backed up" in capsys.readouterr().out
        assert main(["backup", str(copy)]) == 1 and "exists already" in capsys.readouterr().err
        c.post("/api/ask", json={"question": "asked after the backup"})
    # restore: stop the server, put the copy in place of ASSISTANT_DB
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, settings.db_path)
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with TestClient(create_app(settings, staff_bot)) as c:
        headers = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/staff/me", headers=headers).status_code == 200
        answer = c.post("/api/ask", json={"question": REFUSED}).json()
        assert answer["answered"] and answer["answers"][0]["id"] == INTEMPUS
        logged = c.get("/api/staff/questions?filter=all", headers=headers).json()["questions"]
        assert [q["question"] for q in logged] == [REFUSED]


def test_the_cli_answers_with_the_taught_phrasings(settings, monkeypatch, capsys):
    store = Store.from_settings(settings)
    store.add_taught(INTEMPUS, REFUSED, NAME)
    store.close()
    monkeypatch.setenv("ASSISTANT_DB", str(settings.db_path))
    assert main(["ask", REFUSED, "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["answered"] and reply["answers"][0]["id"] == INTEMPUS


# ------------------------------------------------------------------ live servers


def http(method: str, url: str, body: dict | None = None, token: str = "") -> tuple[int, dict]:
    """One request on a new connection (so that the workers share them out)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Connection", "close")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status, json.loads(r.read())


def test_teaching_reaches_every_worker_and_survives_a_restart(tmp_path, password_hash):
    db = tmp_path / "live.db"
    store = Store.open(db)
    store.add_staff(NAME, password_hash)
    token = auth.new_secret()
    store.add_token(NAME, auth.digest(token))
    env = server_env(db)
    log_file = tmp_path / "server.log"
    asked = 0

    def ask(url: str) -> dict:
        nonlocal asked
        asked += 1
        return http("POST", f"{url}/api/ask", {"question": REFUSED})[1]

    with serve(env, log_file, workers=2) as url:
        assert not any(ask(url)["answered"] for _ in range(6))
        status, row = http(
            "POST",
            f"{url}/api/staff/passages/{quote(INTEMPUS, safe='')}/questions",
            {"question": REFUSED},
            token,
        )
        taught_at = time.monotonic()
        assert status == 201 and row["created_by"] == NAME
        first = ask(url)  # the worker that was taught may not be the one that answers
        late = []
        while time.monotonic() - taught_at < 4.0:
            reply = ask(url)
            if time.monotonic() - taught_at > 1.5:  # each worker checks every second
                late.append(reply["answers"][0]["id"] if reply["answered"] else None)
        assert len(late) >= 20 and set(late) == {INTEMPUS}, late
        assert first["answers"][0]["id"] == INTEMPUS or not first["answered"]

        # four clients write feedback and questions at once through both workers
        def client(n: int) -> None:
            for i in range(25):
                http(
                    "POST",
                    f"{url}/api/feedback",
                    {"question": f"c{n} q{i}", "answer_id": INTEMPUS, "helpful": i % 2 == 0},
                )
                http("POST", f"{url}/api/ask", {"question": f"client {n} question {i}"})

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        asked += 100
    # stopped: each worker wrote what it had queued before it exited
    assert len(list(store.export_feedback())) == 100
    assert len(list(store.export_questions())) == asked

    with serve(env, log_file) as url:  # after a restart: loaded at start-up
        reply = ask(url)
        assert reply["answered"] and reply["answers"][0]["id"] == INTEMPUS
    store.close()
