"""The HTTP interface through TestClient: the ask API, its errors, the pages."""

from __future__ import annotations

import pytest


def ask(client, **body):
    return client.post("/api/ask", json=body)


def test_ask_returns_the_contract_shape(client):
    r = ask(client, question="Does FastAPI generate documentation automatically?")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"answered", "confidence", "answers", "message", "suggestions"}
    assert body["answered"] is True and 0 <= body["confidence"] <= 1
    best = body["answers"][0]
    assert set(best) >= {"id", "text", "score", "document", "url", "highlight", "matched_terms"}
    assert "automatic documentation" in best["text"]
    assert best["document"] == "Python for Backend"
    assert best["url"] == f"/article/{best['id']}"
    assert len(body["answers"]) == 3


def test_ask_uses_history_for_follow_ups(client):
    r = ask(client, question="and what about Flask?", history=["What is Django good for?"], top_k=1)
    assert "Flask offers a lightweight alternative" in r.json()["answers"][0]["text"]


def test_a_question_the_article_does_not_answer(client):
    body = ask(client, question="How tall is the Eiffel tower?").json()
    assert body["answered"] is False
    assert body["message"] and body["suggestions"]


def test_the_api_and_the_python_api_give_the_same_answer(client, bot):
    q = "How can Python talk to Node.js services?"
    assert ask(client, question=q).json() == bot.ask(q)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   \n "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": 42}, "question"),
        ({}, "question"),
        ({"question": "ok?", "top_k": 0}, "top_k"),
        ({"question": "ok?", "top_k": 11}, "top_k"),
        ({"question": "ok?", "top_k": "3"}, "top_k"),
        ({"question": "ok?", "history": "not a list"}, "history"),
        ({"question": "ok?", "history": ["q"] * 11}, "history"),
        ({"question": "ok?", "history": [1, 2]}, "history.0"),
    ],
)
def test_bad_input_gets_422_naming_the_field(client, body, field):
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422
    assert field in r.json()["message"]
    assert any(e["field"] == field for e in r.json()["detail"])


def test_malformed_json_gets_422(client):
    r = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "JSON" in r.json()["message"]


def test_a_question_of_exactly_1000_characters_is_accepted(client):
    assert ask(client, question="django " * 142 + "djang").status_code == 200


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_chat_page_works_as_a_plain_form(client):
    page = client.get("/")
    assert page.status_code == 200 and '<form method="post"' in page.text
    r = client.post("/", data={"question": "What is web3.py used for?"})
    assert r.status_code == 200
    assert "Ethereum" in r.text
    assert "Source:" in r.text and "/article/python-for-backend#" in r.text


def test_the_form_escapes_what_the_visitor_typed(client):
    r = client.post("/", data={"question": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_the_form_keeps_the_conversation_for_follow_ups(client):
    r = client.post(
        "/", data={"question": "and what about Flask?", "history": ["What is Django good for?"]}
    )
    assert "Flask offers a lightweight alternative" in r.text
    assert 'name="history" value="What is Django good for?"' in r.text


def test_the_article_page_has_an_anchor_per_passage(client, bot):
    p = bot.passages[5]
    r = client.get(f"/article/{p.doc_id}")
    assert r.status_code == 200
    assert f'id="{p.anchor}"' in r.text
    assert client.get("/article/nope").status_code == 404


# ------------------------------------------------------------------ visitor chat (issue 4)

ALLOWED = "https://partner.example"


@pytest.fixture()
def cors_client(tmp_path, bot):
    """A client on an app that lets ALLOWED embed the widget."""
    from fastapi.testclient import TestClient

    from assistant.app import create_app
    from assistant.config import Settings

    settings = Settings.from_env(
        {"ASSISTANT_DB": str(tmp_path / "a.db"), "ASSISTANT_ALLOWED_ORIGINS": ALLOWED}
    )
    with TestClient(create_app(settings, bot)) as c:
        yield c


def test_suggest_offers_answerable_questions_for_what_is_typed(client):
    r = client.get("/api/suggest", params={"q": "djan"})
    assert r.status_code == 200
    suggestions = r.json()["suggestions"]
    assert 1 <= len(suggestions) <= 5
    assert all("django" in s.lower() for s in suggestions)
    assert client.get("/api/suggest", params={"q": "zzqxv"}).json() == {"suggestions": []}


@pytest.mark.parametrize("q", ["", "x" * 201])
def test_suggest_rejects_an_empty_or_long_query(client, q):
    r = client.get("/api/suggest", params={"q": q})
    assert r.status_code == 422 and "q" in r.json()["message"]
    assert client.get("/api/suggest").status_code == 422


def test_feedback_is_stored(client, bot):
    answer_id = bot.passages[3].id
    r = client.post(
        "/api/feedback",
        json={"question": " Is Django secure? ", "answer_id": answer_id, "helpful": True},
    )
    assert r.status_code == 201
    first = r.json()["id"]
    r = client.post(
        "/api/feedback",
        json={"question": "Is Django secure?", "answer_id": answer_id, "helpful": False},
    )
    assert r.status_code == 201 and r.json()["id"] > first
    rows = list(client.app.state.store.export_feedback())
    assert [(f["question"], f["answer_id"], bool(f["helpful"])) for f in rows] == [
        ("Is Django secure?", answer_id, True),
        ("Is Django secure?", answer_id, False),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answer_id": "x", "helpful": True}, "question"),
        ({"question": "  ", "answer_id": "x", "helpful": True}, "question"),
        ({"question": "q" * 1001, "answer_id": "x", "helpful": True}, "question"),
        ({"question": "q", "helpful": True}, "answer_id"),
        ({"question": "q", "answer_id": "", "helpful": True}, "answer_id"),
        ({"question": "q", "answer_id": "x" * 301, "helpful": True}, "answer_id"),
        ({"question": "q", "answer_id": "x"}, "helpful"),
        ({"question": "q", "answer_id": "x", "helpful": "yes"}, "helpful"),
        ({"question": "q", "answer_id": "x", "helpful": 1}, "helpful"),
    ],
)
def test_feedback_with_bad_input_gets_422_naming_the_field(client, body, field):
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 422
    assert field in r.json()["message"]


def test_feedback_on_an_unknown_passage_gets_422(client):
    r = client.post(
        "/api/feedback", json={"question": "q", "answer_id": "nope#p0", "helpful": True}
    )
    assert r.status_code == 422
    assert r.json()["message"] == "answer_id: unknown passage"


def test_feedback_when_storage_fails_gets_503(client, bot, monkeypatch):
    from assistant.store import StorageError

    def broken(*args):
        raise StorageError("sqlite storage failed: disk I/O error")

    monkeypatch.setattr(client.app.state.store, "add_feedback", broken)
    r = client.post(
        "/api/feedback", json={"question": "q", "answer_id": bot.passages[0].id, "helpful": True}
    )
    assert r.status_code == 503
    assert "unavailable" in r.json()["message"] and "disk" not in r.json()["message"]


def test_readyz_when_the_index_and_storage_answer(client):
    assert client.get("/readyz").status_code == 200


def test_every_response_has_the_security_headers(client):
    for r in (
        client.get("/"),
        client.get("/article/python-for-backend"),
        client.post("/api/ask", json={"question": "What is Django?"}),
        client.get("/static/chat.js"),
        client.get("/widget.js"),
        client.get("/nope"),
    ):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "set-cookie" not in r.headers


def test_the_pages_have_no_inline_script_or_style(client, bot):
    import re

    for page in (
        client.get("/").text,
        client.post("/", data={"question": "What is Django?"}).text,
        client.post("/", data={"question": "How tall is the Eiffel tower?"}).text,
        client.get(f"/article/{bot.passages[0].doc_id}").text,
    ):
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
        assert "<style" not in page and "style=" not in page
        assert re.search(r"\son[a-z]+=", page) is None
        urls = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert [u for u in urls if "//" in u] == []  # no CDN, no web fonts: all from us


def test_cors_lets_only_the_allowed_origins_call_the_visitor_api(cors_client):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    for path in ("/api/ask", "/api/feedback", "/api/suggest"):
        r = cors_client.options(path, headers={"Origin": ALLOWED, **preflight})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == ALLOWED
        assert "access-control-allow-credentials" not in r.headers
        r = cors_client.options(path, headers={"Origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in r.headers
    r = cors_client.post(
        "/api/ask", json={"question": "What is Django?"}, headers={"Origin": ALLOWED}
    )
    assert r.headers["access-control-allow-origin"] == ALLOWED
    r = cors_client.get(
        "/api/suggest", params={"q": "dja"}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    # only the visitor API: not the pages, not the staff or health routes
    for path in ("/", "/healthz", "/widget.js"):
        assert (
            "access-control-allow-origin"
            not in cors_client.get(path, headers={"Origin": ALLOWED}).headers
        )


def test_without_allowed_origins_no_origin_gets_cors_headers(client):
    r = client.options(
        "/api/ask",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers


def test_the_widget_script(client, bot):
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert "document.currentScript" in r.text and "attachShadow" in r.text
    assert bot.answerer.title in r.text
    assert r.text.startswith("(() => {") and r.text.rstrip().endswith("})();")  # no globals
    assert "innerHTML" not in r.text and "insertAdjacentHTML" not in r.text
    assert client.get("/static/widget.css").status_code == 200


def test_the_chat_page_marks_up_an_answer_and_its_runners_up(client):
    r = client.post("/", data={"question": "What is web3.py used for?"})
    assert '<strong class="best">' in r.text
    assert "Other answers (2)" in r.text
    assert 'aria-live="polite"' in r.text and 'lang="en"' in r.text
    assert '<label for="question">' in r.text


def test_the_form_offers_suggestions_as_buttons_that_ask_them(client):
    r = client.post("/", data={"question": "How tall is the Eiffel tower?"})
    assert "doesn&#39;t mention" in r.text or "doesn't mention" in r.text
    assert 'name="suggestion"' in r.text and "formnovalidate" in r.text
    r = client.post("/", data={"question": "", "suggestion": "What is Flask good for?"})
    assert "Flask offers a lightweight alternative" in r.text
    assert "Please type a question." not in r.text


def test_the_form_renders_the_whole_conversation(client):
    r = client.post("/", data={"question": "Is it secure?", "history": ["What is Django?"]})
    assert r.text.count('class="turn bot"') == 2
    assert "About: Django" in r.text


def test_the_article_page_lets_a_passage_take_the_focus(client, bot):
    p = bot.passages[5]
    r = client.get(f"/article/{p.doc_id}")
    assert f'id="{p.anchor}" class="passage" tabindex="-1"' in r.text
    assert '<script src="/static/article.js" defer></script>' in r.text
