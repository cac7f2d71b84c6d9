"""Text primitives: tokens, stems, sentences, languages."""

from assistant.text import (
    compounds,
    is_foreign,
    main_language,
    normalize,
    split_sentences,
    stem,
    tokenize,
    written_names,
)


def test_tokens_keep_dotted_names_and_drop_possessives():
    assert tokenize(normalize("Python’s web3.py and Node.js, real-time!")) == [
        "python",
        "web3.py",
        "and",
        "node.js",
        "real",
        "time",
    ]


def test_stems_join_word_forms():
    assert stem("scaling") == stem("scales") == stem("scale")
    assert stem("node.js") == "node.js"


def test_sentences_split_at_full_stops_but_not_abbreviations():
    text = "Django is big, e.g. for CMS work. Flask is small! Is FastAPI fast? Yes."
    assert split_sentences(text) == [
        "Django is big, e.g. for CMS work.",
        "Flask is small!",
        "Is FastAPI fast?",
        "Yes.",
    ]


def test_norwegian_lines_are_foreign_in_an_english_document():
    assert is_foreign(tokenize("La oss bygge noe ekstraordinært sammen."), "en")
    assert is_foreign(tokenize("Pålitelighet, ytelse og innovasjon i alle ledd."), "en")
    assert not is_foreign(tokenize("Endelig, GivePayments shows Python's impact in fintech."), "en")


def test_main_language_is_the_majority():
    lines = [tokenize("This is the text of the article."), tokenize("Vi er her og der.")]
    assert main_language(lines + lines[:1]) == "en"


def test_hyphenated_words_are_found_whole_and_lower_cased():
    text = normalize("Django’s “Batteries-included” approach — state-of-the-art, not x- y.")
    assert compounds(text) == ["batteries-included", "state-of-the-art"]
    assert compounds("no hyphen here") == []


def test_a_closing_quote_or_bracket_stays_with_its_sentence():
    text = 'He said "Stop here." Then he left. (See the map.) Done.'
    assert split_sentences(text) == [
        'He said "Stop here."',
        "Then he left.",
        "(See the map.)",
        "Done.",
    ]
    assert " ".join(split_sentences(text)) == text


def test_names_are_words_with_a_capital_inside_a_sentence():
    def names(text):
        return written_names(normalize(text))

    assert names("Does Django support MongoDB? Or Redis?") == ["Django", "MongoDB", "Redis"]
    assert names("is there an iPhone app? i use Xcode") == ["iPhone", "Xcode"]
    assert names("Can I deploy to Heroku?") == ["Heroku"]  # "I" is no name
    # a capital says nothing in a title-cased or shouted message
    assert names("What Does Django Provide Out Of The Box?") == []
    assert names("DOES DJANGO SUPPORT MONGODB") == []
    # who asks is no name of what they ask about
    assert names("As a CTO, should I pick Django?") == ["Django"]
    assert names("I'm the CEO of a startup. Does Django fit?") == ["Django"]
    assert names("Is Python as fast as Rust?") == ["Python", "Rust"]
