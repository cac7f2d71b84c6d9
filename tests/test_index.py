"""The ranker: ids and scores, channels, typo correction, alternates added at run time."""

from __future__ import annotations

import numpy as np

from assistant.index import Index

TEXTS = [
    "Django ships an ORM, authentication and an admin out of the box.",
    "Flask is a lightweight framework for microservices and small APIs.",
    "FastAPI offers automatic documentation and high performance.",
    "Kubernetes orchestrates containers built with Docker at scale.",
]


def first(index: Index, question: str) -> int:
    """The passage the index ranks first for a question."""
    return int(index.search(index.parse(question), k=1).indices[0])


def without_and_with(texts: list[str], question: str, **off) -> tuple[int, int]:
    """The passage ranked first with a method switched off (``off``), then with it on."""
    return first(Index(**off).fit(texts), question), first(Index().fit(texts), question)


def fitted(**kw) -> Index:
    return Index(**kw).fit(TEXTS, alternates=[(1, "Which framework is tiny?")])


def test_ranks_the_passage_that_holds_the_words_first_with_scores_in_0_1():
    idx = fitted()
    r = idx.search(idx.parse("Does FastAPI generate documentation?"), k=4)
    assert r.indices[0] == 2
    assert list(r.scores) == sorted(r.scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in r.scores)


def test_results_are_deterministic():
    a, b = fitted(), fitted()
    q = "containers at scale"
    ra, rb = a.search(a.parse(q), k=4), b.search(b.parse(q), k=4)
    assert ra.indices.tolist() == rb.indices.tolist()
    assert np.allclose(ra.scores, rb.scores)


def test_unknown_words_are_corrected_to_the_corpus_vocabulary():
    idx = fitted()
    q = idx.parse("kubernetis contaners")
    assert [t.correction for t in q.terms] == ["kubernetes", "containers"]
    assert idx.search(q, k=1).indices[0] == 3


def test_typos_of_small_words_are_not_read_as_topics():
    idx = fitted()
    # a stop word with two letters swapped is a stop word, not an unknown topic
    q = idx.parse("how dose flask scale")
    assert [t.token for t in q.terms if t.content] == ["flask", "scale"]
    # a near miss of a question word is that word, also when it is short
    short, swapped = idx.parse("hwo waht").terms
    assert short.correction in ("how", "who") and swapped.correction == "what"
    assert not short.content and not swapped.content
    # but a content word two edits from a question word is not corrected into one
    (term,) = idx.parse("pannel").terms
    assert term.content and term.correction is None


def test_british_spellings_find_the_american_ones_in_the_corpus():
    idx = Index().fit(["organizations optimize their behavior", "modeling data", "cooking"])
    q = idx.parse("how do organisations optimise behaviour when modelling")
    fixed = {t.token: t.correction for t in q.terms if t.correction}
    assert fixed == {
        "organisations": "organizations",
        "optimise": "optimize",
        "behaviour": "behavior",
    }  # "modelling" needs nothing: its stem is "model" either way
    assert all(q.weights[stem] == 1.0 for stem in ("organiz", "optim", "behavior"))
    assert idx.search(q, k=1).indices[0] == 0


def test_comparatives_and_superlatives_meet_their_adjective():
    idx = Index().fit(
        [
            "Flask suits smaller APIs and microservices.",
            "Django ships an admin for the easiest start.",
            "Each user can use the admin.",
        ]
    )
    # the visitor's "small" is the passage's "smaller", and "easy" its "easiest": no typo
    # correction involved, the words are known as they are
    for question, passage, word in [("small apis", 0, "small"), ("easy start", 1, "easy")]:
        q = idx.parse(question)
        assert all(t.known and t.correction is None for t in q.terms)
        assert idx.search(q, k=1).indices[0] == passage
        assert word in idx.matched_terms(passage, q)
    # agent nouns are not comparatives: "user" stays apart from "use"
    assert idx.parse("user").terms[0].stem != idx.parse("use").terms[0].stem


def test_a_passage_that_names_what_the_question_names_comes_first():
    texts = [
        "The Flask framework is lightweight for small APIs.",
        "Small APIs and large APIs get automatic API documentation.",
        "Django ships an admin. Kubernetes runs containers.",
    ]
    # on words alone the passage with more of them wins; the one naming Flask is the answer
    assert without_and_with(texts, "Does Flask document small APIs?", name_factor=1.0) == (1, 0)
    # a common word sharing a name's stem is not a name ("last" / "Lasting Dynamics")
    idx = Index().fit(["At Lasting Dynamics we test.", "The last step is testing.", *texts])
    assert first(idx, "what is the last step") == 1


def test_a_question_that_compares_prefers_a_passage_that_compares():
    texts = [
        "Our Rust services reach the Elixir services of other teams over different protocols "
        "and message queues.",
        "Rust offers raw speed, whereas Elixir excels at many connections.",
        "Docker packs different services into images.",
        "Tests run on different machines.",
    ]
    q = "How does Rust differ from Elixir?"
    # "differ" meets "different" (one stem), so on words the first passage wins; the
    # question compares, and the second is the one that weighs one against the other
    assert without_and_with(texts, q, contrast_factor=1.0) == (0, 1)
    idx = Index().fit(texts)
    assert idx.comparing(idx.parse(q))
    for text in ("rust vs elixir", "Is Rust better than Elixir?", "Er Rust bedre enn Elixir?"):
        assert idx.comparing(idx.parse(text)), text
    # a comparison of nothing the corpus names is left alone; "different" never compares
    for text in ("better speed for services", "queues vs images", "different protocols"):
        assert not idx.comparing(idx.parse(text)), text
    # a passage taught a comparing question counts as one that compares
    taught = Index().fit(texts, alternates=[(0, "Which one is faster than the other?")])
    assert first(taught, q) == 0


def test_a_name_that_is_also_an_everyday_word_is_a_name_only_when_written_as_one():
    idx = Index().fit(
        [
            "We compared Python, Java and Go for the backend.",
            "To start a project, plan it step by step.",
            "The REST style and GraphQL both serve APIs.",
        ]
    )
    assert {"go", "rest"} <= idx.everyday_names_ and "graphql" not in idx.everyday_names_
    verb = idx.parse("how do I go about starting a project")
    assert idx.names(verb) == [] and not next(t for t in verb.terms if t.token == "go").content
    assert idx.search(verb, k=1).indices[0] == 1
    assert [w for w, _ in idx.names(idx.parse("Is Go fast?"))] == ["go"]
    assert [w for w, _ in idx.names(idx.parse("what is REST"))] == ["rest"]
    # compared, it is the name whatever its case: typed on a phone, "faster than go"
    for text in ("is python faster than go", "go vs python", "java or go"):
        assert "go" in [w for w, _ in idx.names(idx.parse(text))], text
    assert idx.names(idx.parse("should i go or stay")) == []


def test_a_word_in_every_passage_weighs_nothing():
    idx = Index().fit(["python web apps", "python data science", "python scripting tools"])
    assert float(idx.idf_[idx.vocabulary_["python"]]) == 0.0


def test_alternate_questions_find_their_passage_and_can_be_replaced():
    idx = fitted()
    assert first(idx, "which framework is tiny") == 1
    idx.set_alternates([(3, "how do I run many copies of my app")])
    assert first(idx, "run many copies of my app") == 3


def test_glossary_expansions_reach_corpus_words_below_the_originals():
    idx = Index().fit(TEXTS, expansions={"hva er": ["what is"], "rammeverk": ["framework"]})
    q = idx.parse("hva er et lett rammeverk")
    assert q.weights["framework"] < 1.0
    assert idx.search(q, k=1).indices[0] == 1


def test_a_synonym_entry_serves_every_form_of_its_word():
    idx = Index().fit(TEXTS, synonyms={"heading": ["framework"]})
    for word in ("heading", "headed", "heads"):
        (term,) = [t for t in idx.parse(f"where is it {word}").terms if t.token == word]
        assert set(term.expansions) == {"framework"} and term.related
    assert first(idx, "where is it headed") == 1


def test_inflected_norwegian_words_and_compounds_meet_the_glossary():
    glossary = {
        "rammeverk": ["framework"],
        "komme i gang": ["getting started"],
        "sikkerhet": ["security"],
        "stabil": ["stable"],
        "funksjoner": ["features"],
    }
    idx = Index().fit(
        ["a stable framework", "getting started guide", "security features", "cooking"],
        expansions=glossary,
    )

    def translated(word):
        (term,) = [t for t in idx.parse(word).terms if t.token == word]
        return set(term.expansions)

    assert translated("rammeverkene") == {"framework"}  # definite plural
    assert translated("stabilt") == {"stabl"}  # neuter adjective -> "stable"
    assert translated("sikkerhetsfunksjoner") == {"secur", "featur"}  # compound with -s-
    assert first(idx, "hvordan kommer jeg i gang") == 1
    # words that are not a form of a glossary entry stay unknown, and so do English words
    assert translated("kokebok") == set()
    assert translated("frameworks") == set()


def test_an_english_questions_unknown_word_is_not_read_as_a_norwegian_form():
    idx = Index().fit(["time to market", "cooking"], expansions={"tid": ["time"]})

    def expansions(question, word):
        (term,) = [t for t in idx.parse(question).terms if t.token == word]
        return set(term.expansions)

    # "tide" would be "tid" + the adjective ending "-e"
    assert expansions("what is the tide in the harbour", "tide") == set()
    assert expansions("hva er tiden", "tiden") == {"time"}
    assert expansions("tiden", "tiden") == {"time"}  # no language told: read as Norwegian


def test_a_question_reads_the_same_after_alternates_change_as_in_a_fresh_index():
    glossary = {"rammeverk": ["framework"]}
    taught = [(1, "er rammeverkene små")]
    idx = Index().fit(TEXTS, expansions=glossary)
    idx.parse("rammeverkene")  # read once before the alternates change (cached)
    idx.set_alternates(taught)
    fresh = Index().fit(TEXTS, alternates=taught, expansions=glossary)
    assert idx.parse("rammeverkene") == fresh.parse("rammeverkene")


def test_factors_demote_or_leave_passages_out():
    idx = fitted()
    q = idx.parse("FastAPI documentation")
    full = idx.search(q, k=4)
    assert 2 not in idx.search(q, k=4, factors={2: 0.0}).indices.tolist()
    half = idx.search(q, k=4, factors={2: 0.5})
    assert half.scores[half.indices.tolist().index(2)] == 0.5 * full.scores[0]


def test_char_ngrams_are_sklearns_char_wb_ngrams():
    from sklearn.feature_extraction.text import CountVectorizer

    from assistant.index import char_wb_ngrams

    sk = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False).build_analyzer()
    for word in ["a", "ab", "abc", "flask", "node.js", "sikkerhet", "x" * 12]:
        assert char_wb_ngrams(word, (3, 5)) == sk(word)


def test_the_dense_fast_path_ranks_exactly_like_the_general_one(bot):
    """Small corpora take a dense shortcut; large ones the general (sparse-capable) path."""
    idx = bot.index
    assert idx._small
    questions = [
        "Is Django secure?",
        "djnago vs flsk",
        "Hva er FastAPI?",
        "How much does a pizza cost?",
        "Can Python run in Docker and Kubernetes?",
        "python",
        "When is Java a good fit, and how?",
        "hvordan og hvorfor",
    ]
    for q in questions:
        query = idx.parse(q)
        fast = idx.search(query, k=5, factors={0: 0.5, 3: 0}, bonus={3: 0.5, 7: 0.1})
        try:
            idx._small = False
            general = idx.search(query, k=5, factors={0: 0.5, 3: 0}, bonus={3: 0.5, 7: 0.1})
        finally:
            idx._small = True
        assert fast.indices.tolist() == general.indices.tolist(), q
        for a, b in zip(fast[1:], general[1:], strict=True):
            assert np.allclose(a, b, atol=1e-6), q


COMPOUND_TEXTS = [
    "Django is a batteries-included framework.",
    "A backend includes the server logic, the databases and the APIs behind an app.",
    "Tools like spike-sorting and time-tracking run in the cloud.",
    "Sorting spikes by hand takes weeks.",
]


def test_a_hyphenated_word_is_a_word_of_its_own_and_its_parts_count_less_inside_it():
    idx = Index().fit(COMPOUND_TEXTS)
    plain = Index(compound_part_weight=1.0).fit(COMPOUND_TEXTS)

    def top(index, q):
        r = index.search(index.parse(q), k=4)
        return r.indices[0], dict(zip(r.indices.tolist(), r.scores.tolist(), strict=True))

    # "include" is what a backend does, not what Django's "batteries-included" says
    first, scores = top(idx, "What does a backend include?")
    _, plain_scores = top(plain, "What does a backend include?")
    assert first == 1 and scores[0] < plain_scores[0]
    # the visitor's own compound finds it; the same words apart find the plain sentence
    assert top(idx, "spike-sorting")[0] == 2
    assert top(idx, "spike sorting")[0] == 3


def test_a_question_in_the_very_words_of_an_alternate_is_recognised():
    idx = Index().fit(TEXTS, alternates=[(3, "Who runs the boxes of the cargo ship?")])
    assert idx.phrasing(idx.parse("who runs the cargo ship boxes")) == 3
    assert idx.phrasing(idx.parse("who runs the cargo shipp boxxes")) == 3  # typos corrected
    assert idx.phrasing(idx.parse("Who runs the boxes?")) is None
    idx.set_alternates(
        [(3, "Who runs the boxes of the cargo ship?"), (0, "boxes cargo ship runs who")]
    )
    assert idx.phrasing(idx.parse("Who runs the boxes of the cargo ship?")) == 0  # last wins


def test_glossary_phrases_of_the_same_stems_are_one_term():
    # "fall over" and "falls over" (or "keep up" and "keeps up") match the same words: one
    # term of the question, with both entries' targets, not the same phrase counted twice
    idx = Index().fit(
        ["The site stays available and resilient.", "Ensure it scales."],
        expansions={"falls over": ["available"], "fall over": ["resilient"]},
    )
    query = idx.parse("Does the site fall over?")
    phrases = [t for t in query.terms if " " in t.token]
    assert [t.token for t in phrases] == ["fall over"]
    assert set(phrases[0].expansions) == {"avail", "resili"}
