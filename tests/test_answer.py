"""The answer rules on the bundled article: answered or not, message, suggestions, follow-ups,
highlight and matched terms."""

from __future__ import annotations

import pytest


def top_text(reply) -> str:
    return reply["answers"][0]["text"] if reply["answers"] else ""


def answered(bot, question: str, history: list[str] | None = None) -> dict:
    """The reply to a question, which must be an answer (the refusal's message if not)."""
    reply = bot.ask(question, history)
    assert reply["answered"], (question, reply["message"])
    return reply


def test_a_covered_question_is_answered_with_the_passage(bot):
    reply = bot.ask("What does Django provide out of the box?")
    assert reply["answered"] is True
    assert "batteries-included" in top_text(reply)
    assert 0.5 <= reply["confidence"] <= 1.0
    assert reply["message"] == "" and reply["suggestions"] == []


def test_an_uncovered_question_is_refused_naming_the_missing_words(bot):
    reply = bot.ask("How much does a pizza cost in Rome?")
    assert reply["answered"] is False
    assert "pizza" in reply["message"] and "rome" in reply["message"].lower()
    assert reply["suggestions"], "a refusal offers questions the article does answer"
    assert reply["confidence"] < 0.5


def test_a_refusal_never_names_a_pronoun_contraction(bot):
    reply = bot.ask("Is Python a fad we'll regret?")
    assert not reply["answered"]
    assert reply["message"] == "The article doesn't mention fad."


def test_sharing_only_common_words_is_not_enough(bot):
    reply = bot.ask("Who is the CEO of the python backend company?")
    assert reply["answered"] is False
    assert "ceo" in reply["message"].lower()


def test_a_question_about_a_name_no_passage_relates_to_its_topic_is_refused(bot):
    # the article names Node.js (a JavaScript runtime), and it talks about libraries for
    # security, but never about the two together: no answer, and it says about what
    reply = bot.ask("Which JavaScript libraries help with security?")
    assert not reply["answered"]
    assert "JavaScript" in reply["message"] and reply["suggestions"]
    # a question whose best passage names what it asks about is answered as before
    reply = answered(bot, "What do Docker and Kubernetes do?")
    assert "Kubernetes" in top_text(reply)


def test_a_name_typed_wrong_with_its_capital_is_still_that_name(bot):
    # a capital mid-sentence marks a name: corrected only to one of the article's names
    for typo, right in (("Djnago", "Django"), ("Intmpus", "Intempus"), ("Flsk", "Flask")):
        reply = answered(bot, f"What is {typo} good for?")
        assert (
            reply["answers"][0]["id"] == bot.ask(f"What is {right} good for?")["answers"][0]["id"]
        )
    # and a place stays a place: "Rome" is not corrected to a word of the article
    assert "Rome" in bot.ask("Do you have an office in Rome?")["message"]
    # in a title-cased question a capital marks no name: its typos are corrected as usual
    assert (
        answered(bot, "How Do I Secure My Bakend?")["answers"][0]["id"]
        == (bot.ask("How do I secure my backend?")["answers"][0]["id"])
    )


def test_a_name_the_article_never_mentions_is_what_the_question_is_about(bot):
    # "Django", "support" and "out of the box" match a passage well; MongoDB is nowhere
    reply = bot.ask("Does Django support MongoDB out of the box?")
    assert not reply["answered"]
    assert reply["message"] == "The article doesn't mention MongoDB."
    assert reply["suggestions"]
    # written as the visitor wrote it, not lower-cased
    assert bot.ask("Can I deploy to Heroku?")["message"] == "The article doesn't mention Heroku."
    # capitals in a title-cased or shouted question say nothing: answered on its words
    for question in ("What Does Django Provide Out Of The Box?", "WHAT DOES DJANGO PROVIDE?"):
        assert "batteries-included" in top_text(answered(bot, question))


@pytest.mark.parametrize(
    "question",
    [
        "How much does it cost to build an app with you?",
        "What's the price of a Django project?",
        "Hvor mye koster en nettbutikk i Python?",
    ],
)
def test_a_price_question_is_refused_when_the_article_gives_no_prices(bot, question):
    reply = bot.ask(question)
    assert not reply["answered"]
    assert "price" in reply["message"] and reply["suggestions"]


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("How many developers work at Lasting Dynamics?", "doesn't give that number"),
        ("Hvor mange utviklere har dere?", "doesn't give that number"),
        ("How long does it take to build a backend?", "doesn't say how long"),
        # the best passage says "in the years to come": a unit of time, but no span
        ("How long does it take to deliver a backend?", "doesn't say how long"),
        ("Hvor lang tid tar et prosjekt?", "doesn't say how long"),
    ],
)
def test_a_count_or_a_time_span_the_article_never_states_is_refused(bot, question, says):
    reply = bot.ask(question)
    assert not reply["answered"]
    assert says in reply["message"] and reply["suggestions"]


def test_a_question_wanting_a_figure_is_answered_where_the_text_states_it(tmp_path):
    from assistant import Assistant

    path = tmp_path / "team.txt"
    path.write_text(
        "Our team\n\nThe studio has 40 developers and designers in two offices, working "
        "on mobile apps, web shops and booking systems for clients.\n\n"
        "A new booking system usually takes six to eight weeks from the first meeting to "
        "launch, and a web shop about three months.\n\n"
        "We write tests for every feature and deploy every day.\n",
        encoding="utf-8",
    )
    fresh = Assistant.load(path, index_dir=tmp_path / "ix")
    count = answered(fresh, "How many developers does the studio have?")
    assert "40 developers" in top_text(count)
    span = answered(fresh, "How long does a booking system take?")
    assert "weeks" in top_text(span)


def test_asking_how_quickly_is_no_figure_wanted(bot):
    reply = answered(bot, "How quickly do security holes in Python get fixed?")
    assert "fixed quickly" in top_text(reply)


def test_a_glossary_word_for_a_topic_and_a_name_is_no_name_the_answer_must_mention(bot):
    # "iPhone" reads as iOS and Xcode: the paragraph on mobile builds answers without them
    reply = answered(bot, "Can Python automate the builds and tests of our iPhone app?")
    assert top_text(reply).startswith("For mobile development")
    # a word the glossary reads as a name alone still needs it: "javascript" is Node.js
    assert "Node.js" in top_text(answered(bot, "Is JavaScript better than Python?"))


def test_by_hand_asks_whether_it_is_automated(bot):
    reply = answered(bot, "Do we still deploy by hand?")
    assert "deployed at scale" in top_text(reply)


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("Are API docs written manually?", "automatic documentation"),
        ("Do you have anything for brain scientists?", "neuroscience laboratories"),
    ],
)
def test_words_the_glossary_relates_to_the_article_count_towards_answering(bot, question, passage):
    # "manually" -> automatic, "docs" -> documentation, "brain" -> neuroscience: words
    # the article lacks whose related words it has
    assert passage in top_text(answered(bot, question))


@pytest.mark.parametrize(
    "question",
    [
        "What does the next few years look like for Python?",
        "Where is backend Python heading?",
        "Hvordan ser fremtiden ut for Python?",
    ],
)
def test_asking_about_the_future_finds_the_paragraph_on_where_python_is_going(bot, question):
    # the article's future paragraph never says "future": Python "is set to remain a
    # dominant force"; the conclusion's "future-proof" and "years to come" had won
    reply = answered(bot, question)
    assert top_text(reply).startswith("Python is set to remain a dominant force")


def test_over_is_no_topic_but_still_says_control_over(bot):
    # "over the next few years" went to the Flask paragraph's "full control over components"
    for question in [
        "How will Python change over the next few years?",
        "What will Python look like over the coming years?",
    ]:
        assert "Flask" not in top_text(answered(bot, question)), question
    reply = answered(bot, "Can I have control over my architecture?")
    assert "full control over components" in top_text(reply)


@pytest.mark.parametrize("question", ["Why is Python a good choice?", "Er Python et godt valg?"])
def test_a_good_choice_is_what_makes_python_ideal(bot, question):
    # the FAQ answer says why ("readability, ... make it ideal for ..."); "good choice" had
    # been read as the "compelling choice" of the paragraph on the best language depending
    # on the project
    assert top_text(answered(bot, question)).startswith("Python's readability")


def test_everyday_words_for_a_case_study_find_it(bot):
    # "wages" is payroll and a "firm" a company: Intempus, time and payroll for construction
    reply = answered(bot, "Have you built a wages system for a construction firm?")
    assert "Intempus" in top_text(reply)
    # building sites are the construction industry, not the "cross-site" of XSS
    assert "Intempus" in top_text(answered(bot, "What have you built for building sites?"))


@pytest.mark.parametrize(
    "question",
    [
        "Should we hire an outside team for our backend?",
        "Can we get external help with our Python project?",
    ],
)
def test_an_outside_team_is_the_experienced_development_team(bot, question):
    assert "experienced development team" in top_text(answered(bot, question))


def test_outside_on_its_own_is_still_beyond(bot):
    assert "full-stack" in top_text(answered(bot, "Is Python used outside the backend?"))


def test_experience_is_known_by_the_articles_experienced(bot):
    # Snowball stems "experience" and "experienced" apart: "experience" was named as a word
    # the article lacks, and the fintech case study refused
    reply = answered(bot, "Do you have experience with fintech?")
    assert "GivePayments" in top_text(reply)
    refused = bot.ask("Do you have experience with Cobol?")
    assert refused["message"] == "The article doesn't mention Cobol."


def test_users_overseas_ask_about_serving_them_closer(bot):
    reply = answered(bot, "Can Python serve users overseas quickly?")
    assert "closer to the user" in top_text(reply)


def test_cost_as_a_topic_is_still_answered(bot):
    reply = answered(bot, "Is Python cost-effective?")
    assert "cost-effective" in top_text(reply)


def test_words_about_the_article_itself_are_not_topics(bot):
    for question, word in [
        ("What does the article say about Docker?", "Docker"),
        ("Hva sier artikkelen om Kubernetes?", "Kubernetes"),
        ("does the post mention fastapi", "FastAPI"),
    ]:
        reply = answered(bot, question)
        assert word in top_text(reply)


@pytest.mark.parametrize(
    ("question", "passage_word"),
    [
        ("How hard is it to scale a Python backend?", "scale"),
        ("is django difficult to set up", "Django"),
    ],
)
def test_asking_how_hard_something_is_is_a_question_about_ease(bot, question, passage_word):
    # were "The article doesn't mention hard." / "... mention difficult."
    assert passage_word in top_text(answered(bot, question))


@pytest.mark.parametrize(
    "request_",
    ["Can you write code for me?", "Fix my Django bug", "Kan du skrive kode for meg?"],
)
def test_a_job_for_the_assistant_is_declined_with_suggestions(bot, request_):
    # "Can you write code for me?" was answered with the paragraph on code reviews
    reply = bot.ask(request_)
    assert not reply["answered"]
    assert reply["message"].startswith("I can't do that")
    assert reply["suggestions"]


@pytest.mark.parametrize(
    "question",
    ["Are you hiring?", "Is Lasting Dynamics hiring?", "Any open positions?", "Ansetter dere?"],
)
def test_a_question_about_jobs_at_the_company_is_refused(bot, question):
    # "Are you hiring?" was answered with the paragraph on a steady flow of developers
    reply = bot.ask(question)
    assert not reply["answered"]
    assert reply["message"] == "The article doesn't cover jobs or hiring."


def test_hiring_python_developers_and_background_jobs_are_still_answered(bot):
    assert "skilled developers" in top_text(answered(bot, "Is it hard to hire Python developers?"))
    answered(bot, "Is hiring Python developers hard?")
    answered(bot, "Does Python support background jobs?")


def test_asking_for_help_with_what_the_article_covers_is_answered(bot):
    assert "best backend language" in top_text(
        answered(bot, "Can you help me choose a backend language?")
    )
    answered(bot, "Can you make our slow backend faster?")  # a curated question


@pytest.mark.parametrize("question", ["nodejs vs pyhton", "golang vs python", "web3"])
def test_another_spelling_or_name_of_a_corpus_name_counts_as_known(bot, question):
    # were refused ("The article doesn't seem to answer that."): "nodejs" and "golang"
    # counted as mere related words, half known
    answered(bot, question)


def test_asking_about_clients_gets_the_case_studies(bot):
    # Snowball stems "customers" as "custom": the paragraph on custom stacks came first;
    # "worked with" went to the paragraph on companies scaling their teams
    for question in ("Who are your customers?", "Which companies have you worked with?"):
        text = top_text(answered(bot, question))
        assert any(name in text for name in ("Intempus", "Diagnostic Biochips", "GivePayments"))


def test_going_down_asks_about_reliability(bot):
    # "going" was read as the name Go: the comparison paragraph
    reply = answered(bot, "How do you keep a Python backend from going down?")
    assert "Reliability" in top_text(reply)


def test_asking_what_can_go_wrong_is_asking_about_risks(bot):
    # was "The article doesn't mention wrong."
    reply = answered(bot, "What can go wrong with Python security?")
    assert "security" in top_text(reply).lower()


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("what is artificial intelligence", "artificial intelligence"),
        ("hva er kunstig intelligens", "kunstig intelligens"),
        ("online shop", "online shop"),
    ],
)
def test_a_question_that_is_a_glossary_phrase_is_answered(bot, question, phrase):
    # the phrase is the topic (it used to leave "no content word": "say a little more")
    reply = answered(bot, question)
    assert phrase in reply["answers"][0]["matched_terms"]
    assert not set(phrase.split()) & set(reply["answers"][0]["matched_terms"])


@pytest.mark.parametrize(
    ("said", "reply_start"),
    [
        ("hello", "Hello"),
        ("hei!", "Hello"),
        ("ok thanks!", "You're welcome"),
        ("takk", "You're welcome"),
        ("thanks, bye", "Goodbye"),
        ("no thanks", "All right"),  # declining more help is no thanks for an answer
        ("Nei takk.", "All right"),
        ("ha det bra!", "Goodbye"),
        ("help", "I answer questions"),
        ("Hva kan du?", "I answer questions"),
        # a word on the last answer, either way: not a topic ("doesn't mention perfect")
        ("Thank you so much, perfect!", "You're welcome"),
        ("great, that helped", "Glad that helped"),
        ("takk, det hjalp", "You're welcome"),
        ("no that's wrong", "Sorry, that wasn't it"),
        ("that didn't answer my question", "Sorry, that wasn't it"),
        ("not helpful", "Sorry, that wasn't it"),
        ("det var feil", "Sorry, that wasn't it"),
    ],
)
def test_a_greeting_gets_a_greeting_and_suggestions(bot, said, reply_start):
    reply = bot.ask(said)
    assert reply["answered"] is False
    assert reply["message"].startswith(reply_start)
    assert len(reply["suggestions"]) == 3


def test_a_complaint_about_an_answer_suggests_the_questions_other_answers(bot):
    history = ["What is Django good for?"]
    given = bot.ask(history[0])["answers"][0]["id"]
    alone = bot.ask("not helpful")
    reply = bot.ask("not helpful", history)
    assert reply["message"].startswith("Sorry, that wasn't it") and not reply["answered"]
    assert reply["context"] == "Django"  # about the last question, not about "helpful"
    assert given not in [a["id"] for a in reply["answers"]]
    assert any("Django" in q for q in reply["suggestions"])
    assert not any("Django" in q for q in alone["suggestions"])


def test_a_message_of_small_words_only_is_no_greeting(bot):
    assert bot.ask("and?")["message"].startswith("Could you say a little more?")
    # feedback words inside a question leave it a question
    assert answered(bot, "Was Python helpful for Intempus?")["answers"]


def test_a_follow_up_pointing_back_at_several_things_keeps_them_all(bot):
    history = ["Tell me about Flask", "and FastAPI?"]
    # "and FastAPI?" replaced Flask; "them" brings back every name of the conversation
    reply = bot.ask("which of them has everything built in?", history)
    assert {"flask", "fastapi"} <= set(reply["context"].lower().split())
    # a name of the new question does not replace the earlier one when it points back
    reply = bot.ask("which one is better for small APIs?", ["What is Django?"])
    assert "django" in reply["context"].lower().split()


def test_a_follow_up_is_read_with_the_question_before(bot):
    alone = bot.ask("and what about Flask?")
    follow = bot.ask("and what about Flask?", history=["What is Django good for?"])
    assert "Flask offers a lightweight alternative" in top_text(follow)
    assert follow["answered"] is True
    assert alone["context"] == ""


def test_asking_more_about_the_place_just_read_stays_there(bot):
    # "there" points back: was the paragraph on backend development (no follow-up), then
    # the next case study (a follow-up walks on)
    for first, then, name in [
        ("What is Intempus?", "what did python do there?", "Intempus"),
        ("Tell me about DBC Cloud", "how was Python used there?", "DBC Cloud"),
    ]:
        reply = answered(bot, then, [first])
        assert name in top_text(reply) and reply["context"] == name
    # "else" still asks for another one
    reply = answered(bot, "what else did you do there?", ["Tell me about DBC Cloud"])
    assert "DBC Cloud" not in top_text(reply)
    # an existential "there" is no pointer
    assert bot.ask("Is there a framework for small APIs?", ["What is Intempus?"])["context"] == ""


def test_asking_for_other_examples_leaves_the_first_answer_out(bot):
    first = bot.ask("What is GivePayments?")
    other = bot.ask("any other examples?", history=["What is GivePayments?"])
    assert "GivePayments" in top_text(first)
    assert other["answered"] is True
    assert top_text(other) != top_text(first)
    assert "example" in top_text(other).lower()
    assert other["context"] == "GivePayments"


@pytest.mark.parametrize(
    ("earlier", "follow_up", "expected"),
    [
        ("What is Django?", "and the next framework?", "Flask offers a lightweight"),
        ("Tell me about Intempus", "and the next example?", "Diagnostic Biochips"),
    ],
)
def test_a_follow_up_looks_first_around_the_last_answer(bot, earlier, follow_up, expected):
    """A conversation walks through the article: "the next one" is the paragraph after."""
    assert expected not in top_text(bot.ask(earlier))
    assert expected in top_text(bot.ask(follow_up, history=[earlier]))


def test_a_follow_up_naming_what_the_last_answer_was_about_gets_it_again(bot):
    # the visitor did not know the fastest framework's paragraph is FastAPI's; asking about
    # FastAPI by name is no request for something else
    history = ["Which Python framework is the fastest?"]
    assert top_text(bot.ask(history[0])).startswith("FastAPI is another rising star")
    reply = bot.ask("And what's special about FastAPI?", history)
    assert top_text(reply).startswith("FastAPI is another rising star")
    # a name the earlier question already asked about is still read as asked: "any other
    # examples?" after GivePayments leaves it out
    other = bot.ask("and other examples than GivePayments?", ["What does GivePayments do?"])
    assert "GivePayments" not in top_text(other)


def test_a_follow_up_with_words_of_its_own_reads_on_only_where_they_are(bot):
    # after the FAQ answer listing the frameworks, the next paragraph is the security
    # answer: "a small microservice" is not there, and it is Flask's paragraph that says it
    history = ["What are the best frameworks for Python backends?"]
    reply = bot.ask("And which one would you choose for a small microservice?", history)
    assert "Flask offers a lightweight alternative" in top_text(reply)


def test_a_question_opening_with_a_preposition_leans_on_the_one_before(bot):
    reply = bot.ask("with what tools?", history=["Can Python scale?"])
    assert reply["context"] == "Python scale"
    assert "Docker" in top_text(reply)
    assert bot.ask("with what tools?")["context"] == ""


def test_a_standalone_question_ignores_the_history(bot):
    reply = bot.ask("How does Django protect against CSRF?", history=["What is GivePayments?"])
    assert reply["context"] == ""
    assert "CSRF" in top_text(reply)


def test_highlight_is_a_sentence_of_the_passage_and_matched_terms_are_the_visitors_words(bot):
    reply = bot.ask("Does Django prevent SQL injection?")
    best = reply["answers"][0]
    assert best["highlight"] in best["text"]
    assert "injection" in best["highlight"]
    assert {"django", "sql", "injection"} <= set(best["matched_terms"])


def test_typos_and_norwegian_reach_the_passage(bot):
    assert "Docker" in top_text(bot.ask("kubernets and dokcer"))
    assert "FastAPI" in top_text(bot.ask("Hva er FastAPI?"))


@pytest.mark.parametrize(
    ("question", "passage_word"),
    [
        ("why doesnt python scale", "Scalability"),
        ("can u tell me about django", "Django"),
        ("wat is flask", "Flask"),
        ("wat is fastapi gud for", "FastAPI"),
        ("pls explain fastapi", "FastAPI"),
        ("ok and what is flask then", "Flask"),
        ("hi what about kubernetes?", "Kubernetes"),
        ("hei, hva er django?", "Django"),
        ("sorry, what is flask?", "Flask"),
        ("I have a question about FastAPI", "FastAPI"),
        ("jeg lurer på hva Django er", "Django"),
        ("Why choose Python instead of Java?", "Java"),
        ("Hvorfor velge Python fremfor Java?", "Java"),
    ],
)
def test_chat_spellings_of_small_words_are_not_unknown_topics(bot, question, passage_word):
    # contractions without apostrophes and phone shorthand are the words they stand for;
    # greetings, "ok", "sorry", "a question" are no topic ("The article doesn't mention ok.")
    reply = answered(bot, question)
    assert passage_word in top_text(reply)


def test_what_a_visitor_tells_before_asking_does_not_decide_the_answer(bot):
    # were refused: "The article doesn't mention bakery." / "... mention Heroku."; and the
    # bakery's "small" picked the paragraph on small services
    reply = answered(bot, "We're a small bakery with a webshop. Is Python secure enough?")
    assert "security" in top_text(reply).lower()
    reply = answered(bot, "We host on Heroku. Is Django secure?")
    assert "ecurity" in top_text(reply)
    # a name in the question itself still decides
    reply = bot.ask("We use Django. Does it support MongoDB?")
    assert reply["message"] == "The article doesn't mention MongoDB."


def test_the_visitors_own_role_is_not_what_the_question_is_about(bot):
    # was "The article doesn't mention CTO."
    reply = answered(bot, "As a CTO, should I pick Django or Flask?")
    assert "Django" in top_text(reply)
    reply = answered(bot, "I'm a beginner. How do I start a Python backend project?")
    assert "Starting a Python for backend project" in top_text(reply)
    # the rest of the question still decides
    reply = bot.ask("As a CTO, can I deploy it to Heroku?")
    assert reply["message"] == "The article doesn't mention Heroku."


@pytest.mark.parametrize(
    ("question", "passage_word"),
    [
        ("Have you done anything in fintech?", "GivePayments"),
        ("Is there anything Django does for security?", "Django"),
        ("Hva gjorde dere for GivePayments?", "GivePayments"),
        ("Hva ble gjort for DBC Cloud?", "DBC Cloud"),
    ],
)
def test_grammar_words_the_article_lacks_are_not_topics(bot, question, passage_word):
    # were refused: "The article doesn't mention anything." / "... mention ble or gjort."
    reply = answered(bot, question)
    assert passage_word in top_text(reply)


@pytest.mark.parametrize(
    "question",
    [
        "What is this article about?",
        "tl;dr",
        "summarize the post",
        "Hva handler artikkelen om?",
        "what is this site about",  # was the paragraph on cross-site scripting
    ],
)
def test_asking_what_the_article_is_about_gets_its_lead_paragraph(bot, question):
    # not "Could you say a little more?": the opening paragraph (not the one-line tagline)
    reply = answered(bot, question)
    assert top_text(reply).startswith("In 2026, Python in software development stands out")
    assert len(reply["answers"]) == 3 and reply["answers"][0]["matched_terms"] == []


def test_what_a_named_thing_is_about_is_a_question_about_it(bot):
    assert "Django" in top_text(bot.ask("What is Django about?"))
    # in a conversation, "what is it about?" is about the conversation's topic
    reply = bot.ask("what is it about?", ["Tell me about Flask"])
    assert reply["context"] == "Flask" and "In 2026" not in top_text(reply)


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        # "When evaluating backend technologies, ... Java, and Go" shares "when" with the
        # question, as a conjunction: question words do not match prose
        ("When is Java a good fit?", "Java and Go offer strong performance"),
        # "skalerer" and "systemet" occur in Norwegian alternates, which had made them known
        # words with no translation: only "hvordan" matched, and GivePayments came first
        ("Hvordan skalerer systemet?", "Scalability is a key strength"),
        # "oppstartsselskaper" was read as its parts, "oppstart" (starting) + "selskaper",
        # and "Starting a Python for backend project ..." came first
        ("Bruker oppstartsselskaper Python?", "from startups to enterprise"),
        # "erfaring" (experience) was translated as the team paragraph's "experienced"
        ("Har dere erfaring med betalinger?", "GivePayments"),
    ],
)
def test_words_that_had_led_to_the_wrong_paragraph(bot, question, passage):
    assert passage in top_text(answered(bot, question))


def test_a_word_the_stemmer_joins_to_an_everyday_name_is_not_that_name(bot):
    # "going" stems to "go": it was read as the Go language, and the paragraph comparing
    # Node.js, Java and Go came first, "going" among its matched words
    reply = answered(bot, "How is it going with Python at your company?")
    assert "Lasting Dynamics" in top_text(reply)
    assert all("going" not in a["matched_terms"] for a in reply["answers"])


def test_a_norwegian_everyday_verb_is_translated(bot):
    # "jobbet" (worked) was "The article doesn't mention jobbet."
    answered(bot, "Hvilke selskaper har dere jobbet med?")


def test_norwegian_questions_in_other_forms_than_the_glossarys_are_answered(bot):
    # definite and plural forms, a compound and an adjective ending the glossary does not list
    reply = answered(bot, "Hvilke verktøy holder systemene stabile?")
    assert "monitoring" in top_text(reply)
    reply = answered(bot, "Har Django innebygde sikkerhetsfunksjoner?")  # security features
    assert "built-in" in top_text(reply) and "ecurity" in top_text(reply)


def test_top_k_bounds_the_answers(bot):
    assert len(bot.ask("Python frameworks", top_k=1)["answers"]) == 1
    assert len(bot.ask("Python frameworks", top_k=5)["answers"]) == 5


def test_a_question_asked_again_gets_the_same_reply_and_a_copy_of_its_own(bot):
    first = bot.ask("Is Flask good for microservices?", ["What is Django?"])
    first["answers"][0]["matched_terms"].append("tampered")
    first["suggestions"].append("tampered")
    again = bot.ask("Is Flask good for microservices?", ["What is Django?"])
    assert "tampered" not in again["answers"][0]["matched_terms"]
    assert "tampered" not in again["suggestions"]
    assert again == bot.answerer.ask("Is Flask good for microservices?", ["What is Django?"], 3)
    # another history or top_k is another question
    assert len(bot.ask("Is Flask good for microservices?", top_k=1)["answers"]) == 1


def test_a_phrasing_taught_after_a_question_was_asked_answers_it_next_time():
    from assistant import Assistant

    fresh = Assistant.load()
    question = "Which framework is the lightsaber of web development?"
    before = fresh.ask(question)
    target = next(p for p in fresh.passages if p.text.startswith("For projects requiring"))
    assert not (before["answered"] and before["answers"][0]["id"] == target.id)
    fresh.set_taught([(target.id, question)])
    after = fresh.ask(question)
    assert after["answered"] and after["answers"][0]["id"] == target.id


def test_a_taught_phrasing_overrides_the_price_rule():
    from assistant import Assistant

    fresh = Assistant.load()
    target = next(p for p in fresh.passages if p.text.startswith("Python offers better"))
    question = "How much does Node.js cost to run?"
    assert not fresh.ask(question)["answered"]  # the article gives no prices...
    fresh.set_taught([(target.id, question)])  # ...but staff say this passage answers it
    after = fresh.ask(question)
    assert after["answered"] and after["answers"][0]["id"] == target.id


def test_the_reply_cache_can_be_turned_off():
    from assistant import Assistant
    from assistant.config import Settings, SettingsError

    assert Settings.from_env({}).answer_cache == 1024
    assert Settings.from_env({"ASSISTANT_ANSWER_CACHE": "0"}).answer_cache == 0
    with pytest.raises(SettingsError, match="ASSISTANT_ANSWER_CACHE"):
        Settings.from_env({"ASSISTANT_ANSWER_CACHE": "-1"})
    uncached = Assistant.load(cache_size=0)
    assert uncached.cache_info() is None
    assert uncached.ask("Is Django secure?") == uncached.ask("Is Django secure?")
