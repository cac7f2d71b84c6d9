"""The product rules: what an answer is. Ranking, follow-ups, answerability, confidence,
the no-answer message, suggestions, highlight and matched terms.

Every interface (HTTP, web page, widget, CLI, Python API) shows what ``Answerer.ask`` returns.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import numpy as np

from .corpus import Passage
from .index import Index, Query, Ranked
from .text import STOP_WORDS, SUMMARY_WORDS, WORDS, normalize, word_count

# A question that leans on the one before: starts with a connective, or refers back.
_CONNECTIVE = re.compile(
    r"^\s*(?:and|but|also|or|so|then|og|men|hva med|what about|how about|what of|same for"
    # a question that opens with a preposition leans on the one before: "with what tools?"
    r"|(?:with|for|in|on|by|from|using|via|med|for|i|på|av|til)"
    r" (?:what|which|whom|how|hva|hvilke|hvilken|hvilket|hvem))\b",
    re.IGNORECASE,
)
_AFTER_SENTENCE = re.compile(r"(?<=[.!?])\s+")  # where a visitor's next sentence starts
_TOLD = 0.5  # the weight of what a visitor tells beside a question that stands on its own
_ANAPHORA = frozenset(
    """it its they them their this that these those one ones both either other others another
    else more further same den det de dem denne dette disse andre annen mer flere""".split()
)
# "there" at the end points back at a place just talked about ("what did Python do there?"),
# unlike "Is there a framework ...?"
_THERE = re.compile(r"\b(?:there|der)\W*$", re.IGNORECASE)
_OTHER = frozenset("other others another else more further andre annen flere mer".split())
# pointing back at several things: "which one", "both", "which of them" after Flask, FastAPI
_SEVERAL = frozenset("them they their both either these those one ones dem de begge disse".split())
_THANKS = frozenset("thanks thank thx ty takk tusen cheers".split())
_BYE = frozenset("bye goodbye hadet adjø".split())
_GREETINGS = (
    frozenset(
        "hi hello hey hiya yo howdy hei hallo heisann morning evening afternoon ok okay".split()
    )
    | _THANKS
    | _BYE
)
# Saying an answer helped ("that helped", "perfect, thanks"), or that it did not ("that's
# wrong", "not helpful", "that didn't answer my question", "det var feil")
_FEEDBACK = frozenset(
    """great cool nice helped helpful useful perfect awesome excellent brilliant amazing
    exactly appreciate appreciated hjalp nyttig perfekt flott supert""".split()
)
# Asking the assistant to do a job for the visitor ("Can you write code for me?", "Build me
# a website", "Kan du fikse koden min?"): a task verb, then "me"/"my"/"us" within a few words.
# Not "make" ("Can you make our slow backend faster?" asks what the article says) nor verbs
# that ask for an answer ("tell me", "explain", "help me choose").
_TASK_VERBS = frozenset(
    """write build create fix debug review generate code book order send translate develop
    implement design program install deploy set skriv skrive lag lage bygg bygge fiks fikse
    sende bestill bestille oversett oversette""".split()
)
_TASK = re.compile(
    r"^\W*(?:(?:can|could|would|will) (?:you|u) (?:please )?|please |pls "
    r"|(?:kan|vil|kunne) (?:du|dere) )?"
    rf"(?:{'|'.join(sorted(_TASK_VERBS - {'set'}))}|set up)\b"
    r"(?:\W+\w+){0,3}?\W+(?:me|my|us|our|meg|min|mitt|mine|oss|vår|vårt|våre)\b",
    re.IGNORECASE,
)
# Asking for a job, not about the article: "Are you hiring?", "Is <the company> hiring?",
# "Any open positions?", "Ansetter dere?" ("background jobs" and "jobbe" are no such
# question; "Is hiring Python developers hard?" asks about the article's topic)
_JOBS = re.compile(
    r"\b(?:(?:are|is) (?P<who>[\w.' ]{1,40}?) (?:\w+ )?(?:hiring|recruiting)"
    r"|vacanc(?:y|ies)|job openings?|open positions?|internships?|careers?|apply for"
    r"|ledige stillinger|ansetter dere)\b",
    re.IGNORECASE,
)
_JOB_WORDS = frozenset(
    """hiring recruiting vacancy vacancies opening openings position positions internship
    internships career careers apply stillinger ansetter""".split()
)
_ASKED_WHO = frozenset("you u they dere".split())  # whom a visitor asks, besides names
# Declining more help: "no thanks", "no thank you", "nei takk" (not "You're welcome!")
_DECLINE = re.compile(r"^\W*(?:no|nei)\b\W*(?:thanks|thank|takk)\b", re.IGNORECASE)
_FILLER = frozenset("much lot very really so mye veldig".split())  # "thank you so much"
_WRONG = frozenset("wrong incorrect useless unhelpful nonsense irrelevant feil ubrukelig".split())
_ABOUT_ANSWER = frozenset(
    """answer answered answers question asked help helpful helped understand svar svaret
    spørsmålet hjalp forstår""".split()
)
_ON_ANSWER = _ABOUT_ANSWER | _FEEDBACK  # negated, a complaint: "not helpful", "ikke nyttig"
_NEGATION = re.compile(
    r"\b(?:not|no|never|(?:did|does|do|is|was|are|ca|wo)n'?t|ikke)\b", re.IGNORECASE
)
# The whole message asks about the assistant itself, not the article: "help", "what can you
# do?", "who are you?", "hva kan du?" (answered like a greeting: what it does, suggestions)
_ABOUT_ME = frozenset(  # as the message's words (Analysis.tokens), joined by spaces
    [
        *("help", "help me", "what can you do", "what do you do", "who are you"),
        *("what are you", "how does this work", "how do i use this"),
        *("hjelp", "hva kan du", "hva kan du gjøre", "hva kan du hjelpe med", "hvem er du"),
        *("hvordan fungerer dette", "hvordan fungerer du"),
    ]
)
_HA_DET = frozenset(["ha det", "ha det bra", "ha det godt", "hadet bra"])  # Norwegian "bye"
# all that a small-talk message holds, stop words aside
_CHAT_WORDS = _GREETINGS | _FEEDBACK | _WRONG | _ABOUT_ANSWER | _FILLER


@dataclass(frozen=True)
class _Quantity:
    """A kind of figure a question may want (an amount of money, a count, a time span) and
    how a passage states one: a question wanting it is not answered by a passage that
    states none, however well its other words match ("How much does it cost?" is not
    answered by the paragraph on cost-effective development)."""

    words: frozenset[str]  # the words without which ``asks`` cannot match (a cheap test)
    asks: re.Pattern[str]  # the question wants this figure
    states: re.Pattern[str]  # a text states one
    reply: str  # when the best passage states none
    verbs: frozenset[str] = frozenset()  # the asking's other words, no topic ("take")


# number words both figure rules below read as a stated amount
_NUMBER_WORDS = (
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty"
)
_QUANTITIES = (
    # a price, a fee or a pay (English or Norwegian): "How much does it cost...", "What's
    # the price of...", "Hva koster..."; stated as "$20", "€ 1,500", "200 kr", "NOK 900"
    _Quantity(
        frozenset(
            """much price prices pricing priced hourly salary salaries koster kostet mye
            pris prisen priser timepris tjener""".split()
        ),
        re.compile(
            r"\b(?:how much (?:[\w'.-]+ ){0,6}?(?:cost|costs|charge|charges|pay|paid|earn"
            r"|earns|make)|prices?|pricing|priced|hourly rate|(?:what|average|the) salary"
            r"|salaries|hva (?:[\w-]+ )?(?:koster|kostet|tar dere)"
            r"|hvor mye (?:[\w'.-]+ ){0,6}?(?:koster|kostet|tjener|betaler|tar dere)"
            r"|prisen|priser|pris|timepris|hva tjener)\b",
            re.IGNORECASE,
        ),
        re.compile(
            r"[$€£¥]\s?\d|\d[\d.,]*\s?(?:k|m)?\s?(?:kr|nok|sek|dkk|usd|eur|gbp|dollars?"
            r"|euros?|pounds|kroner)\b|\b(?:usd|eur|nok|gbp)\s?\d",
            re.IGNORECASE,
        ),
        "The article doesn't give prices or pay.",
        frozenset("cost costs charge charges pay paid earn earns rate".split()),
    ),
    # a count: "How many developers work at ...?", "Hvor mange ansatte ...?"; stated as a
    # number other than a year, or a number word
    _Quantity(
        frozenset(["many", "mange"]),
        re.compile(r"\b(?:how|hvor) (?:many|mange)\b", re.IGNORECASE),
        re.compile(
            rf"\b(?!(?:19|20)\d\d\b)\d[\d.,]*|\b(?:{_NUMBER_WORDS}|dozens?|hundreds?"
            r"|thousands?|millions?|billions?)\b",
            re.IGNORECASE,
        ),
        "The article doesn't give that number.",
    ),
    # a time span: "How long does it take to learn Python?", "Hvor lang tid tar det ...?";
    # stated as an amount of a unit of time ("six to eight weeks", "a few months", "3
    # dager") or units of something ("months of work to weeks"); not "in the years to
    # come" or "in recent years"
    _Quantity(
        frozenset(["long", "lang"]),
        re.compile(
            r"\bhow long (?:does|do|did|will|would|should|could|can|is|are) (?:[\w'.-]+ ){0,8}?"
            r"(?:take|takes|last|need)\b|\bhvor lang tid(?: (?:tar|tok|trenger))?\b",
            re.IGNORECASE,
        ),
        re.compile(
            rf"(?:\b\d[\d.,]*[- ]?|\b(?:an?|one|{_NUMBER_WORDS}|few|several|couple of"
            r"|en|et|ett|to|tre|fire|fem|seks|sju|syv|åtte|ni|ti|noen|få|par)[- ])"
            r"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|sekunder?"
            r"|minutt(?:er)?|timer?|dager?|døgn|uker?|måneder?|år)\b"
            r"|\b(?:seconds|minutes|hours|days|weeks|months|years|decades) of\b"
            r"|\bto (?:seconds|minutes|hours|days|weeks|months|years)\b",
            re.IGNORECASE,
        ),
        "The article doesn't say how long that takes.",
        frozenset("take takes last need tid tar tok trenger".split()),
    ),
)

LEAD_WORDS = 25  # a lead paragraph has at least this many words
SUMMARY_CONFIDENCE = 0.9  # "what is this article about?" answered with the lead paragraph
CONTEXT_WEIGHT = 0.6  # weight of the earlier question's words in a follow-up
DEMOTE_ANSWERED = 0.6  # score factor, in a follow-up, of a passage that already answered
SAME_WORDS = 0.5  # score bonus of the passage whose alternate question has the same words
NEAR_ANSWER = 0.45  # in a follow-up, score bonus of the paragraphs around the last answer
_NEIGHBOURS = {1: 1.0, 2: 0.5, -1: 0.5}  # offset from the last answer -> share of the bonus


@dataclass
class Calibration:
    """Logistic model of P(the top passage answers the question) from ranking features."""

    names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    @classmethod
    def bundled(cls) -> Calibration:
        """The calibration fitted by bench/calibrate.py, shipped with the package."""
        data = json.loads(resources.files("assistant").joinpath("calibration.json").read_text())
        return cls(tuple(data["names"]), tuple(data["coef"]), data["intercept"], data["threshold"])

    def confidence(self, features: dict[str, float]) -> float:
        """The model's probability for these features, in [0, 1]."""
        z = self.intercept + sum(
            c * features[n] for n, c in zip(self.names, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class Analysis:
    """A question worked through: what was ranked, the ranking and its features."""

    query: Query  # what was ranked: the question, with its context for a follow-up
    own: Query  # the question alone
    topic: str  # the context's topic in the visitor's words, "" if none
    ranked: Ranked
    features: dict[str, float]
    tokens: list[str]
    phrasing: int | None = None  # the passage of an alternate in the very same words
    summary: bool = False  # asks what the article is about: ranked is its lead paragraph on
    asked: Query | None = None  # the sentences that ask, when the message also tells


def _known_share(content: list) -> float:
    """The share of a question's content words the corpus or the glossary knows."""
    return sum(t.knowledge for t in content) / len(content) if content else 0.0


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _chat_words(tokens: list[str]) -> set[str]:
    """A short message's words if they are all small talk (_CHAT_WORDS), else none."""
    if len(tokens) > 10:
        return set()
    words = {t for t in tokens if t in _CHAT_WORDS or t not in STOP_WORDS} - _FILLER
    return words if _CHAT_WORDS.issuperset(words) else set()


def _complains(words: set[str], text: str) -> bool:
    """Whether small talk says the last answer was wrong ("that's wrong", "not helpful")."""
    return not _WRONG.isdisjoint(words) or (
        not _ON_ANSWER.isdisjoint(words) and _NEGATION.search(text) is not None
    )


class Answerer:
    """Answers questions from an index of passages."""

    def __init__(
        self,
        index: Index,
        passages: list[Passage],
        calibration: Calibration | None = None,
        title: str = "the article",
    ):
        self.index = index
        self.passages = passages
        self.calibration = calibration or Calibration.bundled()
        self.title = title
        self.near_answer = NEAR_ANSWER
        self.same_words = SAME_WORDS
        self.every_feature = False  # compute features the confidence model does not use
        self._max_idf = float(index.idf_.max()) if len(index.idf_) else 1.0
        self._idf: list[float] = index.idf_.tolist()
        self._first: dict[int, str] = {}
        self._first_for: list | None = None
        # what "what is this article about?" is answered with: the first paragraph of some
        # length (not a one-line tagline); none when there are several documents
        self.lead: int | None = None
        if passages and len({p.document for p in passages}) == 1:
            long = [i for i, p in enumerate(passages) if word_count(p.text) >= LEAD_WORDS]
            self.lead = long[0] if long else 0

    # ------------------------------------------------------------ follow-ups

    def _is_followup(self, query: Query, tokens: list[str], there: bool) -> bool:
        known = [t for t in query.content_terms if t.known or t.expansions]
        if _CONNECTIVE.match(query.text):
            return True
        points_back = there or any(t in _ANAPHORA for t in tokens)
        if points_back and len(known) <= 2:
            return True
        return not known and len(tokens) <= 5

    def resolve(
        self, question: str, history: list[str], query: Query | None = None
    ) -> tuple[Query, str, dict[int, float], dict[int, float]]:
        """Parse a question, reading a follow-up together with the conversation before it.

        Returns the query to rank, the topic taken from the history ("" if none), score
        factors for passages already given as answers (a follow-up asks for something new,
        so they are demoted, and left out when the visitor asks for "other" or "more") and
        a score bonus for the paragraphs around the last answer: a conversation walks
        through the article, and what a follow-up asks for ("and then?", "the next step")
        is often right after what was just read.
        """
        own = query or self.index.parse(question)
        query, topic, demote, last, renamed = self._resolve(question, history, own)
        for i in renamed:  # for this turn only: a later follow-up counts them as given
            demote[i] = 1.0
        bonus: dict[int, float] = {}
        if last is not None and self.near_answer:
            at, score = last
            doc = self.passages[at].document
            # a follow-up with words of its own ("which would you pick for a microservice?")
            # continues the reading only into a paragraph that has one of them
            read = self.index.passage_terms(at)
            new = [
                {t.stem, *t.expansions}
                for t in own.content_terms
                if (t.known or t.expansions) and read.isdisjoint({t.stem, *t.expansions})
            ]
            own_stems = set().union(*new) if len(new) >= 2 else set()
            for offset, closeness in _NEIGHBOURS.items():
                i = at + offset
                if (
                    0 <= i < len(self.passages)
                    and self.passages[i].document == doc
                    and (not own_stems or not own_stems.isdisjoint(self.index.passage_terms(i)))
                ):
                    bonus[i] = self.near_answer * closeness * score
        return query, topic, demote, bonus

    def _resolve(
        self, question: str, history: list[str], query: Query | None = None
    ) -> tuple[Query, str, dict[int, float], tuple[int, float] | None, list[int]]:
        """``resolve`` without the bonus; with the last answer (index, score) instead, and
        the answers already given that this turn should not demote: those naming in their
        text a name the follow-up brings up anew ("And what's special about FastAPI?" after
        "Which one is best for a small API?" was answered with FastAPI's paragraph)."""
        query = query or self.index.parse(question)
        if not history:
            return query, "", {}, None, []
        tokens = query.tokens
        # "that's wrong", "not helpful": the last question again, without the answer given
        # (its other answers become the suggestions); the complaint's words are no topic
        words = _chat_words(tokens)
        complaint = bool(words) and _complains(words, query.text)
        there = _THERE.search(query.text) is not None  # ends in "there": points back
        if not complaint and not self._is_followup(query, tokens, there):
            return query, "", {}, None, []
        prev, _, prev_demote, _, _ = self._resolve(history[-1], history[:-1])
        if not prev.content_terms:
            return query, "", {}, None, []
        own_known = [] if complaint else [t for t in query.content_terms if t.known or t.expansions]
        own_names = {t.token for t in own_known if t.names}  # Flask, Node.js (Index.names)
        # the earlier question's words weigh less when the new one brings its own topic
        factor = CONTEXT_WEIGHT if not own_known else CONTEXT_WEIGHT / 2
        weights = {} if complaint else dict(query.weights)
        topic = []
        context_terms = []
        # "and Flask?" after a question about Django: Flask takes Django's place; but not
        # when the question points back ("which one is better for small APIs?")
        replace = own_names and not any(t in _ANAPHORA for t in tokens)
        for t in prev.terms:
            if replace and t.names:
                continue
            for s, w in [(t.stem, 1.0 if t.known else 0.0), *t.expansions.items()]:
                if w and s in prev.weights:
                    weights[s] = max(weights.get(s, 0.0), factor * prev.weights[s])
            if t.content and (t.known or t.expansions):
                topic.append(t.token)
                context_terms.append(t)
        if any(t in _SEVERAL for t in tokens):
            # "which of them...": the names of the whole conversation, not only the last turn
            seen = {t.token for t in context_terms} | own_names
            for earlier_question in history[:-1]:
                for t in self.index.parse(earlier_question).terms:
                    if t.names and t.token not in seen:
                        seen.add(t.token)
                        for s in t.names:
                            weights[s] = max(weights.get(s, 0.0), factor)
                        topic.append(t.token)
                        context_terms.append(t)
        merged = Query(
            question,
            [*query.terms, *context_terms],
            weights,
            query.tokens,
            names=self.index.names(query),  # the names the question itself asks about
        )
        earlier = self.index.search(prev, k=1, factors=prev_demote)
        other = complaint or any(t in _OTHER for t in tokens)
        # asking more about the place just read ("what did Python do there?") stays there
        stay = there and not other
        gone = 0.0 if other else 1.0 if stay else DEMOTE_ANSWERED
        demote = {i: f * gone for i, f in prev_demote.items()}
        demote.update({i: gone for i in earlier.indices.tolist()})
        last = (int(earlier.indices[0]), float(earlier.scores[0])) if len(earlier.indices) else None
        renamed = []  # not when asking for another one ("other"), nor after a complaint
        if not other:
            named = {s for t in own_known if t.names for s in t.names}
            named -= {s for t in prev.terms for s in t.names}
            if named:
                terms = self.index.passage_terms
                renamed = [i for i in demote if not named.isdisjoint(terms(i))]
        # no reading on past an answer the visitor says was wrong, nor away from "there"
        topic_text = " ".join(self._as_written(history[-1], topic))
        return merged, topic_text, demote, None if complaint or stay else last, renamed

    @staticmethod
    def _as_written(text: str, tokens: list[str]) -> list[str]:
        """The tokens as the visitor wrote them in text ("mongodb" -> "MongoDB"), once each."""
        words = WORDS.findall(normalize(text))
        by_lower = {w.lower(): w for w in words}
        return list(dict.fromkeys(by_lower.get(t, t) for t in tokens))

    # ------------------------------------------------------------ answering

    def features(
        self, query: Query, ranked, own: Query, asked: Query | None = None
    ) -> dict[str, float]:
        """Answerability features of a ranking (see bench/quality.md). "coverage", the one
        that takes a loop over the words, is computed when the confidence model uses it or
        every_feature is set (bench/calibrate.py)."""
        top = float(ranked.scores[0]) if len(ranked.scores) else 0.0
        second = float(ranked.scores[1]) if len(ranked.scores) > 1 else 0.0
        content = query.content_terms
        known = [t for t in content if t.known or t.expansions]
        share = _known_share(content)
        if asked is not None and query is own:  # what the visitor tells counts less
            share = max(share, _known_share(asked.content_terms))
        idf = self._idf
        vocab = self.index.vocabulary_
        matched_idf = total_idf = 0.0
        coverage = self.every_feature or "coverage" in self.calibration.names
        if coverage and len(ranked.indices):
            terms = self.index.passage_terms(int(ranked.indices[0]))
            for t in content:
                weight = -1.0
                matched = False
                for s in (t.stem, *t.expansions):
                    j = vocab.get(s)
                    if j is not None and idf[j] > weight:
                        weight = idf[j]
                    matched = matched or s in terms
                weight = weight if weight >= 0 else self._max_idf
                total_idf += weight
                if matched:
                    matched_idf += weight
        return {
            "top": top,
            "margin": top - second,
            "known": share,
            "coverage": matched_idf / total_idf if total_idf else 0.0,
            "alt": float(ranked.alt[0]) if len(ranked.alt) else 0.0,
            "word": float(ranked.word[0]) if len(ranked.word) else 0.0,
            "char": float(ranked.char[0]) if len(ranked.char) else 0.0,
            "unknown": float(len(content) - len(known)),
            "fixed": sum(t.correction is not None for t in content) / len(content)
            if content
            else 0.0,
        }

    def _asked(self, own: Query) -> Query | None:
        """The sentences that ask, parsed, when a message also tells ("We're a small bakery
        with a webshop. Is Python secure enough?"); None when no sentence asks or every one
        does. What visitors tell about themselves ("bakery", "Heroku") may be words the
        article lacks without the question being one it cannot answer."""
        parts = _AFTER_SENTENCE.split(own.text.strip())
        asks = [p for p in parts if p.endswith("?")]
        if not asks or len(asks) == len(parts):
            return None
        asked = self.index.parse(" ".join(asks))
        return asked if asked.content_terms else None

    @staticmethod
    def _told_less(own: Query, asked: Query | None) -> Query:
        """The question with what the visitor tells weighing half, when the sentences that
        ask stand on their own (two corpus words): "small" of "a small bakery" no longer
        picks the paragraph on small services for "Is Python secure enough?"."""
        if asked is None or sum(t.known for t in asked.content_terms) < 2:
            return own
        weights = {s: x if s in asked.weights else _TOLD * x for s, x in own.weights.items()}
        return replace(own, weights=weights)

    def _first_alternates(self) -> dict[int, str]:
        """Each passage's first alternate question (recomputed when the alternates change)."""
        alternates = self.index.alternates_
        if self._first_for is not alternates:
            first: dict[int, str] = {}
            for i, q in alternates:
                first.setdefault(i, q)
            self._first, self._first_for = first, alternates
        return self._first

    def suggestions(self, ranked_indices: list[int], n: int = 3) -> list[str]:
        """Questions the corpus does answer, from the alternates of the given passages."""
        first = self._first_alternates()
        out: list[str] = []
        for i in [*ranked_indices, *range(len(self.passages))]:
            q = first.get(i)
            if q and q not in out:
                out.append(q)
            if len(out) >= n:
                break
        return out

    def analyze(self, question: str, history: list[str] | None = None, k: int = 3) -> Analysis:
        """Parse, resolve follow-ups, rank and compute the answerability features."""
        history = [h for h in (history or []) if h and h.strip()][-10:]
        own = self.index.parse(question)
        asked = self._asked(own)
        own = self._told_less(own, asked)
        query, topic, demote, bonus = self.resolve(question, history, own)
        taught = self.index.phrasing(own)
        if taught is not None and demote.get(taught, 1.0) > 0 and self.same_words:
            bonus[taught] = bonus.get(taught, 0.0) + self.same_words
        if self._asks_summary(own, topic):
            assert self.lead is not None
            # the lead paragraph, then the ones after it: the article from its start
            top = np.arange(self.lead, min(self.lead + max(k, 2), len(self.passages)))
            zeros = np.zeros(len(top), np.float32)
            scores = zeros.copy()
            scores[0] = SUMMARY_CONFIDENCE  # the lead answers; the rest only follow it
            ranked = Ranked(top, scores, zeros, zeros, zeros)
            features = self.features(query, ranked, own, asked)
            return Analysis(
                query, own, topic, ranked, features, own.tokens, summary=True, asked=asked
            )
        ranked = self.index.search(query, k=max(k, 2), factors=demote, bonus=bonus)
        features = self.features(query, ranked, own, asked)
        return Analysis(query, own, topic, ranked, features, own.tokens, taught, asked=asked)

    def _asks_summary(self, own: Query, topic: str) -> bool:
        """Whether the question asks what the article as a whole is about (SUMMARY_WORDS,
        no topic of its own, none from the conversation)."""
        return (
            self.lead is not None
            and not topic
            and not own.content_terms
            and not SUMMARY_WORDS.isdisjoint(own.tokens)
        )

    def small_talk(self, message: str) -> bool:
        """Whether a message, on its own, is small talk rather than a question about the
        article (a greeting, thanks, goodbye, "help", "that's wrong"): staff's list of
        unanswered questions leaves these out."""
        return self._small_talk(self.index.parse(message).tokens, "", message) is not None

    def _small_talk(self, tokens: list[str], topic: str = "", text: str = "") -> str | None:
        """The reply to a message that is not a question about the article: a greeting,
        thanks, goodbye, a word on the last answer, or a question about the assistant itself
        ("help"). ``topic`` is the conversation's ("help" after a question about Django asks
        for help with Django); ``text`` the message as written (its negations)."""
        said = " ".join(tokens) if len(tokens) <= 5 else ""  # both kinds are short
        if said in _ABOUT_ME and not topic:
            return f"I answer questions about “{self.title}”. Try one of these:"
        if said in _HA_DET:
            return f"Goodbye! Come back with any question about “{self.title}”:"
        words = _chat_words(tokens)
        if not words:
            return None  # "and?" says nothing; a question has words of its own
        if _complains(words, text):
            return "Sorry, that wasn't it. Could you ask in other words? Or try one of these:"
        if not _GREETINGS.issuperset(words - _FEEDBACK):
            return None  # "answer", "question" on their own
        if not _BYE.isdisjoint(words):
            return f"Goodbye! Come back with any question about “{self.title}”:"
        if not _THANKS.isdisjoint(words) and _DECLINE.match(text):
            return f"All right! Ask any time you have a question about “{self.title}”."
        if not _THANKS.isdisjoint(words):
            return f"You're welcome! Anything else about “{self.title}”?"
        if not _FEEDBACK.isdisjoint(words):
            return f"Glad that helped! Anything else about “{self.title}”?"
        return f"Hello! I answer questions about “{self.title}”. Try one of these:"

    def decide(self, a: Analysis) -> tuple[bool, float, str]:
        """Whether to answer, the confidence, and the message for the visitor if not."""
        if a.summary:
            return True, SUMMARY_CONFIDENCE, ""
        confidence = self.calibration.confidence(a.features) if len(a.ranked.indices) else 0.0
        content = a.own.content_terms
        unknown = [t.token for t in content if not (t.known or t.expansions)]
        reply = self._small_talk(a.tokens, a.topic, a.own.text)
        if reply:
            return False, 0.0, reply
        if not content and not a.topic:
            return False, 0.0, "Could you say a little more? Ask about a topic of the article."
        if content and len(unknown) == len(content):
            return False, 0.0, self._not_mentioned(a, unknown)
        # a question in the very words of a curated or taught alternate has its answer
        settled = len(a.ranked.indices) and a.phrasing == int(a.ranked.indices[0])
        off = None if settled else self._off_article(a)
        if off:
            return False, min(confidence, self.calibration.threshold), off
        wanted = None if settled or not len(a.ranked.indices) else self._wanted(a)
        if wanted and not wanted.states.search(self.passages[int(a.ranked.indices[0])].text):
            # a figure wanted, and the best passage states none: the article does not give it
            confidence = min(confidence, self.calibration.threshold)
            # the words of the asking itself ("take" of "how long does it take") are no topic
            other = [w for w in unknown if w not in wanted.words and w not in wanted.verbs]
            if other:
                return False, confidence, self._not_mentioned(a, other)
            return False, confidence, wanted.reply
        names = self.index.only_names(a.own) if len(a.ranked.indices) and not settled else []
        top = int(a.ranked.indices[0]) if names else -1
        if names and not any(self.index.mentions(top, stems) for _, stems in names):
            # the best passage mentions none of the names asked about, though the ranking
            # prefers passages that do: no passage says this about them
            confidence = min(confidence, self.calibration.threshold)
            words = self._as_written(a.own.text, [w for w, _ in names])
            return False, confidence, f"The article doesn't answer that about {_join(words)}."
        if (
            confidence >= self.calibration.threshold
            and a.features["top"] > 0
            # a name the article never mentions ("Does Django support MongoDB?") is what the
            # question is about, however well its other words match
            # (in the sentences that ask: "We host on Heroku. Is Django secure?" is answered)
            and (settled or (a.asked or a.own).written.isdisjoint(unknown))
        ):
            return True, confidence, ""
        confidence = min(confidence, self.calibration.threshold)
        if unknown:
            return False, confidence, self._not_mentioned(a, unknown)
        return False, confidence, "The article doesn't seem to answer that."

    @staticmethod
    def _wanted(a: Analysis) -> _Quantity | None:
        """The kind of figure the question wants (_QUANTITIES), if any."""
        for quantity in _QUANTITIES:
            if not quantity.words.isdisjoint(a.tokens) and quantity.asks.search(
                normalize(a.own.text)
            ):
                return quantity
        return None

    def _off_article(self, a: Analysis) -> str | None:
        """The reply to a message that asks for something other than what an article says,
        whatever its words match: a job for the assistant ("Can you write code for me?" got
        the passage on code reviews) or a job at the company ("Are you hiring?" got the one
        on a steady flow of developers). Each pattern runs only when one of its words is
        there."""
        text, tokens = a.own.text, a.tokens
        if not _TASK_VERBS.isdisjoint(tokens) and _TASK.search(text):
            return f"I can't do that, but I answer questions about “{self.title}”. Try these:"
        if not _JOB_WORDS.isdisjoint(tokens):
            m = _JOBS.search(text)
            who = m and m.group("who")
            if m and (
                who is None
                or who.lower() in _ASKED_WHO
                or all(w in self.index.proper_nouns_ for w in who.lower().split())
            ):
                return "The article doesn't cover jobs or hiring."
        return None

    def _not_mentioned(self, a: Analysis, unknown: list[str]) -> str:
        """The refusal naming the question's words the article lacks, as the visitor wrote
        them ("Heroku", not "heroku")."""
        return f"The article doesn't mention {_join(self._as_written(a.own.text, unknown))}."

    def ask(
        self, question: str, history: list[str] | None = None, top_k: int = 3
    ) -> dict[str, Any]:
        """Answer one question; the reply has the shape of POST /api/ask's body."""
        a = self.analyze(question, history, top_k)
        answered, confidence, message = self.decide(a)
        answers = []
        ranked = a.ranked
        for i, score in zip(
            ranked.indices[:top_k].tolist(), ranked.scores[:top_k].tolist(), strict=True
        ):
            p = self.passages[i]
            answers.append(
                {
                    "id": p.id,
                    "text": p.text,
                    "score": round(min(1.0, max(0.0, float(score))), 4),
                    "document": p.document,
                    "url": p.url,
                    "section": p.section,
                    "highlight": self.index.best_sentence(i, a.query),
                    "matched_terms": self.index.matched_terms(i, a.query),
                }
            )
        return {
            "answered": bool(answered),
            "confidence": round(float(confidence), 4),
            "answers": answers,
            "message": message,
            "suggestions": [] if answered else self.suggestions(ranked.indices.tolist()),
            "context": a.topic,
        }
