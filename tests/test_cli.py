"""The `assistant` command through main([...])."""

from __future__ import annotations

import json

from assistant.cli import main


def test_ask_json_prints_the_api_body(capsys, bot):
    assert main(["ask", "What is Intempus?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == bot.ask("What is Intempus?")
    assert "Intempus" in out["answers"][0]["text"]


def test_ask_prints_the_passage_and_its_source(capsys):
    assert main(["ask", "What is Intempus?", "--top-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "time and payroll management platform" in out
    assert "Python for Backend" in out


def test_ask_says_plainly_when_the_article_has_no_answer(capsys):
    assert main(["ask", "How tall is Mount Kilimanjaro?"]) == 0
    out = capsys.readouterr().out
    assert "doesn't mention" in out


def test_ask_with_history(capsys):
    assert (
        main(["ask", "and what about Flask?", "--history", "What is Django good for?", "--json"])
        == 0
    )
    assert "Flask" in json.loads(capsys.readouterr().out)["answers"][0]["text"]


def test_passages_json(capsys, bot):
    assert main(["passages", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(bot.passages)
    assert {"id", "document", "text"} <= set(rows[0])


def test_assistant_corpus_is_honoured(capsys, monkeypatch, write):
    path = write(
        "tea.txt", "Green tea is steamed or pan-fired soon after picking to stop oxidation.\n"
    )
    monkeypatch.setenv("ASSISTANT_CORPUS", str(path))
    assert main(["passages", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["document"] for r in rows] == ["Tea"]


def test_a_broken_corpus_is_a_clear_error(capsys, monkeypatch, write):
    monkeypatch.setenv("ASSISTANT_CORPUS", str(write("bad.txt", b"\xff\xfe\x00")))
    assert main(["ask", "anything?"]) == 1
    err = capsys.readouterr().err
    assert "bad.txt" in err and "not UTF-8" in err and "Traceback" not in err


def test_a_bad_setting_names_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("ASSISTANT_RATE_LIMIT", "lots")
    assert main(["passages"]) == 1
    assert "ASSISTANT_RATE_LIMIT" in capsys.readouterr().err
