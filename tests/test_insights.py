"""Grouping near-duplicate questions and safe CSV (assistant/insights.py)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

from assistant.insights import group_questions, safe_cell, write_csv

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(question: str, count: int, minutes: int = 0, answered: bool = False) -> dict:
    return {
        "question": question,
        "count": count,
        "last_asked": T0 + timedelta(minutes=minutes),
        "answered": answered,
    }


def test_near_duplicates_are_grouped_under_the_most_asked_phrasing():
    groups = group_questions(
        [
            row("Who builds the salary software?", 3, minutes=1),
            row("who builds salary software", 2, minutes=9),
            row("Who builds the salary softwre", 1, minutes=5),  # a typo
            row("software salary who builds the", 1, minutes=2, answered=True),  # word order
            row("What is Django?", 4),
        ]
    )
    assert [g["question"] for g in groups] == ["Who builds the salary software?", "What is Django?"]
    salary = groups[0]
    assert salary["count"] == 7
    assert salary["last_asked"] == T0 + timedelta(minutes=9)
    assert salary["answered"] is True
    assert sorted(salary["variants"]) == sorted(
        [
            "who builds salary software",
            "Who builds the salary softwre",
            "software salary who builds the",
        ]
    )


def test_a_question_that_adds_words_is_not_folded_into_a_shorter_one():
    groups = group_questions([row("What is Django?", 2), row("What is Django security?", 1)])
    assert [g["count"] for g in groups] == [2, 1]


def test_ties_go_to_the_most_recent_and_taught_questions_are_marked():
    groups = group_questions(
        [row("What is Flask?", 1, minutes=1), row("Is the snake language fast?", 1, minutes=5)],
        taught=["is the snake language FAST"],
    )
    assert [(g["question"], g["taught"]) for g in groups] == [
        ("Is the snake language fast?", True),
        ("What is Flask?", False),
    ]


def test_cells_that_a_spreadsheet_would_run_get_a_quote():
    for evil in ('=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(evil) == "'" + evil
    assert safe_cell("What is Django?") == "What is Django?"
    assert safe_cell(3) == 3 and safe_cell(None) is None
    assert safe_cell(T0) == "2026-01-01T00:00:00+00:00"


def test_write_csv_quotes_commas_and_newlines_and_defuses_formulas():
    out = write_csv(
        [{"id": 1, "question": 'a, "b"\nc', "extra": "ignored"}, {"id": 2, "question": "=1+1"}],
        ["id", "question"],
    )
    assert list(csv.reader(out)) == [["id", "question"], ["1", 'a, "b"\nc'], ["2", "'=1+1"]]
