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
