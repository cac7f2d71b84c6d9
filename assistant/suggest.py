"""Suggestions while typing: rank the answerable (curated and taught) questions against a prefix."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from .bot import Assistant
from .text import QUESTION_WORDS, STOP_WORDS, language_hits, normalize, stem, tokenize

MAX_SUGGESTIONS = 5
EXACT, PREFIX, FUZZY = 1.0, 0.85, 0.6  # how well one typed word matches a question's word
MIN_FUZZY = 80  # rapidfuzz ratio for a typo ("djnago") to count


@dataclass(frozen=True)
class _Vocabulary:
    """The questions to suggest, and which question holds which word."""

    questions: list[str]
    lowered: list[str]
    words: list[str]  # distinct lower-case words of all questions
    postings: dict[str, list[int]]  # word -> questions holding it
    by_stem: dict[str, list[str]]  # stem -> words
    idf: dict[str, float]  # word -> rarity among the questions
    languages: list[str]  # each question's language ("" when its words do not tell)
    main_language: str  # the language most questions are in


def _language(tokens: list[str]) -> str:
    hits = language_hits(tokens)
    return max(sorted(hits), key=hits.__getitem__) if hits else ""


def _build(questions: list[str]) -> _Vocabulary:
    postings: dict[str, list[int]] = defaultdict(list)
    languages = []
    for qi, question in enumerate(questions):
        tokens = tokenize(normalize(question))
        languages.append(_language(tokens))
        for word in dict.fromkeys(tokens):
            postings[word].append(qi)
    counts = Counter(lang for lang in languages if lang)
    by_stem: dict[str, list[str]] = defaultdict(list)
    for word in postings:
        by_stem[stem(word)].append(word)
    n = len(questions)
    idf = {w: math.log((1 + n) / (1 + len(ids))) + 1.0 for w, ids in postings.items()}
    return _Vocabulary(
        questions,
        [normalize(q).lower() for q in questions],
        list(postings),
        dict(postings),
        dict(by_stem),
        idf,
        languages,
        counts.most_common(1)[0][0] if counts else "en",
    )


class Suggester:
    """Ranks the questions the corpus answers against what a visitor is typing."""

    def __init__(self, bot: Assistant):
        self.bot = bot
        self._source: object = None
        self._vocab = _build([])

    def _vocabulary(self) -> _Vocabulary:
        """The vocabulary of the current alternates; rebuilt when staff teach a phrasing."""
        source = self.bot.index.alternates_
        if source is not self._source:
            self._vocab = _build(list(dict.fromkeys(q.strip() for _, q in source if q.strip())))
            self._source = source
        return self._vocab

    def _word_matches(self, vocab: _Vocabulary, word: str, partial: bool) -> dict[str, float]:
        """Question words matching one typed word, with how well they match."""
        found = {w: EXACT for w in vocab.by_stem.get(stem(word), ())}
        if word in vocab.postings:
            found[word] = EXACT
        if partial:
            for w in vocab.words:
                if w.startswith(word) and w not in found:
                    found[w] = PREFIX
        if len(word) >= 4:
            for w, score, _ in process.extract(
                word, vocab.words, scorer=fuzz.ratio, score_cutoff=MIN_FUZZY, limit=None
            ):
                found.setdefault(w, FUZZY * score / 100)
        return found

    def suggest(self, typed: str, n: int = MAX_SUGGESTIONS) -> list[str]:
        """Up to n answerable questions for the text typed so far, best first."""
        vocab = self._vocabulary()
        text = normalize(typed).lower()
        words = tokenize(text)
        if not words or not vocab.questions:
            return []
        partial_last = not typed[-1:].isspace()
        scores: dict[int, float] = defaultdict(float)
        total = 0.0
        distinct = list(dict.fromkeys(words))
        for pos, word in enumerate(distinct):
            filler = word in STOP_WORDS or word in QUESTION_WORDS
            partial = partial_last and pos == len(distinct) - 1
            weight = 0.15 if filler else vocab.idf.get(word, max(vocab.idf.values()))
            total += weight
            best: dict[int, float] = {}
            for w, quality in self._word_matches(vocab, word, partial).items():
                gain = quality * (0.15 if filler else vocab.idf[w])
                for qi in vocab.postings[w]:
                    if gain > best.get(qi, 0.0):
                        best[qi] = gain
            for qi, gain in best.items():
                scores[qi] += gain
        language = _language(words) or vocab.main_language
        ranked = []
        for qi, score in scores.items():
            coverage = score / total
            if coverage < 0.34:
                continue
            bonus = 0.5 if vocab.lowered[qi].startswith(text) else 0.0
            bonus += 0.1 if vocab.languages[qi] in (language, "") else 0.0
            ranked.append((coverage + bonus, -len(vocab.questions[qi]), qi))
        ranked.sort(reverse=True)
        out: list[str] = []
        seen: set[str] = set()
        for _, _, qi in ranked:
            key = vocab.lowered[qi].rstrip("?")
            if key not in seen:
                seen.add(key)
                question = vocab.questions[qi]
                out.append(question[:1].upper() + question[1:])
            if len(out) >= n:
                break
        return out
