"""Suggestions while typing: ranked answerable questions, fast, following taught phrasings."""

from __future__ import annotations

import time

import pytest

from assistant.suggest import MAX_SUGGESTIONS, Suggester


@pytest.fixture(scope="module")
def suggester(bot) -> Suggester:
    return Suggester(bot)


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("djan", "django"),  # the last word is a prefix while typing
        ("is flask good", "flask"),
        ("djnago security", "django"),  # a typo
        ("node", "node"),
        ("hva er fastapi", "fastapi"),  # Norwegian
    ],
)
def test_suggestions_relate_to_what_is_typed(suggester, typed, word):
    found = suggester.suggest(typed)
    assert 1 <= len(found) <= MAX_SUGGESTIONS
    assert word in found[0].lower()


def test_every_suggestion_is_a_curated_or_taught_question(suggester, bot):
    known = {q.lower() for _, q in bot.index.alternates_}
    for typed in ("what is", "python", "secure", "fast"):
        for s in suggester.suggest(typed):
            assert s.lower() in known


def test_the_language_typed_comes_first(suggester):
    assert not suggester.suggest("flask")[0].lower().startswith("hva")
    assert suggester.suggest("hva er")[0].lower().startswith("hva er")


def test_nothing_sensible_to_suggest(suggester):
    assert suggester.suggest("") == []
    assert suggester.suggest("   ") == []
    assert suggester.suggest("qzxv wvvk") == []
    assert len(suggester.suggest("how", n=2)) <= 2


def test_no_duplicates(suggester):
    for typed in ("python", "is python secure", "what is django"):
        found = [s.lower().rstrip("?") for s in suggester.suggest(typed)]
        assert len(found) == len(set(found))


def test_a_newly_taught_phrasing_is_suggested_without_a_restart(tmp_path, write):
    from assistant import Assistant

    doc = write("faq.md", "# FAQ\n\nOur office cat is called Turing and sleeps all day.\n")
    bot = Assistant.load(doc.parent)
    suggester = Suggester(bot)
    assert suggester.suggest("where does the cat sle") == []
    bot.set_taught([(bot.passages[0].id, "Where does the cat sleep?")])
    assert suggester.suggest("where does the cat sle") == ["Where does the cat sleep?"]


def test_it_is_fast(suggester):
    suggester.suggest("warm up")
    start = time.perf_counter()
    for typed in ("how do i deploy djan", "is python secure for", "web3", "kan python"):
        suggester.suggest(typed)
    assert (time.perf_counter() - start) / 4 < 0.02  # generous: < 1 ms is typical
