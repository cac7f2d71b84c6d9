"""Reading a question against a fitted index: tokens, typo corrections to the corpus
vocabulary, glossary expansions (synonyms, Norwegian), hyphenated words, and the weighted
stems that score it (``QueryReader.parse``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .text import (
    CHAT_FORMS,
    GRAMMAR_WORDS,
    INTERROGATIVES,
    QUESTION_WORDS,
    STOP_WORDS,
    asker_roles,
    compounds,
    language_hits,
    normalize,
    stem,
    stem_nb,
    tokenize,
    written_names,
)

# an everyday word that is one of the corpus's names is that name beside these ("than go",
# "go vs python"), and after "or"/"and" following another name ("java or go")
_VERSUS = frozenset("vs versus than enn kontra fremfor framfor".split())
_ALONGSIDE = frozenset("or and eller og".split())


@dataclass
class QueryTerm:
    """One word of a question and what the index made of it."""

    token: str  # as the visitor wrote it (lower-cased)
    stem: str
    known: bool  # the stem is in the passages' or alternates' vocabulary
    content: bool  # neither a stop word nor a question word
    expansions: dict[str, float] = field(default_factory=dict)  # stem -> weight
    correction: str | None = None  # corpus word it was corrected to
    related: bool = False  # its expansions are synonyms (related words), not a translation
    names: tuple[str, ...] = ()  # the corpus's names it asks about, as stems (Index.names)

    @property
    def spelled(self) -> bool:
        """Whether its spelling is scored (the char channel): a topic or corpus word; a
        glossary phrase is scored by its words, which are terms of their own."""
        return (self.content or self.known) and " " not in self.token

    @property
    def asks(self) -> bool:
        """Whether it is a question word proper ("when", "which"; text.INTERROGATIVES)."""
        return not self.content and (self.correction or self.token) in INTERROGATIVES

    @property
    def knowledge(self) -> float:
        """1 for a corpus word or a translated one, 0.75 for a word with related words only
        (the glossary relates it to the article: "brain" -> neuroscience, "manually" ->
        automatic; a related word is no proof of a topic the article covers, and no sign of
        one it lacks)."""
        if self.known or (self.expansions and not self.related):
            return 1.0
        return 0.75 if self.expansions else 0.0


@dataclass
class Query:
    """A parsed question: its terms and the weighted stems that score it."""

    text: str
    terms: list[QueryTerm]
    weights: dict[str, float]  # stem -> weight, originals 1.0, expansions below
    tokens: list[str] = field(default_factory=list)  # every word of the text, lower-cased
    # stem -> weight x IDF for the stems the passages use (set by Index.best_sentence)
    idf_weights: dict[str, float] | None = field(default=None, repr=False, compare=False)
    # the names it asks about, with their stems (set by Index.names)
    names: list[tuple[str, list[str]]] | None = field(default=None, repr=False, compare=False)
    # the words the visitor wrote as names, lower-cased (text.written_names); read only
    # when one of its words is unknown to the corpus, empty otherwise
    written: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    @property
    def content_terms(self) -> list[QueryTerm]:
        """Terms that carry the question's topic."""
        return [t for t in self.terms if t.content]

    @property
    def asking(self) -> frozenset[str]:
        """The stems of its question words proper ("when", "which", "hvordan"; a typo of one
        too), as opposed to its topic."""
        return frozenset(stem(t.correction or t.token) for t in self.terms if t.asks)

    @property
    def missing(self) -> int:
        """How many content words neither the corpus nor the glossary knows."""
        return sum(1 for t in self.terms if t.content and not t.known and not t.expansions)


_QUESTION_STEMS = frozenset(stem(w) for w in QUESTION_WORDS)
_CAPITALISED = re.compile(r"\b[A-Z][\w.]*")


def _maybe_norwegian(tokens: list[str]) -> bool:
    """False when English function words outnumber Norwegian (or Danish, which bokmål
    shares many with) ones: then an unknown word is not read as a Norwegian word in
    another form."""
    hits = language_hits(tokens)
    return hits.get("en", 0) <= max(hits.get("no", 0), hits.get("da", 0))


# Norwegian adjective endings: neuter, plural/definite, comparative, superlative
_ADJECTIVE_ENDINGS = ("este", "ere", "est", "t", "e")


# a question's subject can stand inside a phrase: "kommer [jeg] i gang", "bør [vi] velge"
_SUBJECTS = frozenset("jeg du vi dere man de den det han hun i we you they it".split())


def _spells(word: str, targets: list[str]) -> bool:
    """Whether a glossary word is another spelling of one of its targets: the same letters
    without dots, hyphens or slashes ("nodejs" / "node.js", "realtime" / "real-time"), or a
    dotted name's first part ("web3" / "web3.py")."""
    bare = re.sub(r"[\W_]", "", word)
    return any(
        re.sub(r"[\W_]", "", t.lower()) == bare or t.lower().split(".")[0] == word for t in targets
    )


def _phrase_end(tokens: list[str], i: int, words: list[str]) -> int:
    """Where a glossary phrase (its words' Norwegian stems) that starts at tokens[i] ends,
    with subject pronouns allowed inside it; 0 if it does not match there."""
    j = i
    for k, w in enumerate(words):
        if k:
            while j < len(tokens) and tokens[j] in _SUBJECTS and stem_nb(tokens[j]) != w:
                j += 1
        if j >= len(tokens) or stem_nb(tokens[j]) != w:
            return 0
        j += 1
    return j


_BRITISH = [
    (re.compile(r"is(ation|ations|e|ed|es|ing|er|ers)$"), r"iz\1"),
    (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"our(s|ed|ing)?$"), r"or\1"),
    (re.compile(r"([^aeiou])tre(s)?$"), r"\1ter\2"),
    (re.compile(r"(fen|cen)ce(s)?$"), r"\1se\2"),
    (re.compile(r"([aeiou])ll(ed|ing|er|ers)$"), r"\1l\2"),
    (re.compile(r"ogue(s)?$"), r"og\1"),
]


_ENDINGS = ("d", "s", "r", "ed", "es")  # the endings _other_form tries on a word
OTHER_FORM_WEIGHT = 0.3  # weight of a word read as another form of a corpus word


def american_spelling(token: str) -> str:
    """The American spelling of a British one ("organisations" -> "organizations",
    "behaviour" -> "behavior", "centre" -> "center", "modelling" -> "modeling"); the token
    itself when no rule applies. Only ever used for words the corpus does not know."""
    for pattern, repl in _BRITISH:
        token = pattern.sub(repl, token)
    return token


def _swaps(token: str) -> list[str]:
    """The word with two neighbouring letters swapped, each way it can be."""
    return [
        token[:i] + token[i + 1] + token[i] + token[i + 2 :]
        for i in range(len(token) - 1)
        if token[i] != token[i + 1]
    ]


def phrasing_key(tokens: list[str]) -> frozenset[str]:
    """What identifies a phrasing: the stems of its words, stop words aside."""
    return frozenset(stem(t) for t in tokens if t not in STOP_WORDS)


def split_words(text: str, norm: str | None = None) -> tuple[list[str], list[str], list[str]]:
    """A text's words (no stop words), its hyphenated words whole, and the words that
    occur inside those (``norm``: the text already normalised, if the caller has it)."""
    norm = normalize(text) if norm is None else norm
    toks = [t for t in tokenize(norm) if t not in STOP_WORDS]
    wholes = compounds(norm)
    inside = [t for c in wholes for t in tokenize(c) if t not in STOP_WORDS]
    return toks, wholes, inside


class QueryReader:
    """The question-reading half of ``Index``. It uses the index's fitted vocabularies
    (``vocabulary_``, ``alt_vocabulary_``, ``raw_vocabulary_``, ``raw_df_``), its glossary
    (``expansions_``, ``related_``), ``common_words_``, its names (``proper_nouns_``,
    ``name_stems_``, ``everyday_names_``) and the parameters ``max_edits``,
    ``guard_common_words``, ``question_weight``, ``related_factor`` and
    ``compound_part_weight``."""

    def _index_phrases(self) -> None:
        """Multi-word glossary entries, by their first word's Norwegian stem, longest first
        (so "kommer i gang" meets "komme i gang"; entries whose words share their stems,
        "fall over" and "falls over", are one, their targets merged); and the translations
        by Norwegian stem ("rammeverkene" meets "rammeverk"), and the synonyms by English
        stem."""
        self._phrases: dict[str, list[tuple[str, list[str], list[str]]]] = {}
        self._phrase_starts: dict[str, list] = {}  # a word -> _phrases of its stem (cache)
        merged: dict[tuple[str, ...], list[str]] = {}
        for phrase in sorted((k for k in self.expansions_ if " " in k), key=len, reverse=True):
            words = [stem_nb(w) for w in phrase.split()]
            stems = merged.get(tuple(words))
            if stems is None:
                stems = merged[tuple(words)] = []
                self._phrases.setdefault(words[0], []).append((phrase, words, stems))
            for target in self.expansions_[phrase]:
                for t in tokenize(target):
                    if t not in STOP_WORDS and stem(t) not in stems:
                        stems.append(stem(t))
        words = [k for k in self.expansions_ if " " not in k]
        self._spellings = frozenset(k for k in words if _spells(k, self.expansions_[k]))
        self._nb_expansions = self._by_stem([k for k in words if k not in self.related_], stem_nb)
        # the synonyms by English stem: an entry for "heading" serves "headed" and "heads"
        self._related_by_stem = self._by_stem([k for k in words if k in self.related_], stem)
        self._glossary_cache: dict[tuple[str, bool], tuple[bool, list[str], bool]] = {}

    def _by_stem(self, keys: list[str], stemmer: Callable[[str], str]) -> dict[str, list[str]]:
        """Glossary entries by their word's stem, the targets of entries sharing one merged."""
        found: dict[str, list[str]] = {}
        for key in keys:
            merged = found.setdefault(stemmer(key), [])
            merged.extend(t for t in self.expansions_[key] if t not in merged)
        return found

    def _build_dictionary(self) -> None:
        """Words a typo may be corrected to, most frequent first (ties go to common words):
        the passages' words, the alternates' words, glossary words and question words."""
        freq: dict[str, int] = {}
        for w, row in self.raw_vocabulary_.items():
            freq[w] = int(self.raw_df_[row])
        for _, q in self.alternates_:
            for t in tokenize(normalize(q)):
                if t not in STOP_WORDS:
                    freq[t] = freq.get(t, 0) + 1
        for key in self.expansions_:
            if " " not in key:
                freq.setdefault(key, 1)
        for w in QUESTION_WORDS:
            freq.setdefault(w, 1)
        self.dictionary_ = sorted((w for w in freq if w.isalpha()), key=lambda w: (-freq[w], w))
        self._dictionary_words = frozenset(self.dictionary_)
        self._corrections: dict[str, str | None] = {}
        self._token_cache: dict[tuple[str, bool, bool, bool], tuple] = {}
        self._everyday_stems = frozenset(stem(w) for w in self.everyday_names_)
        # what the glossary makes of a word depends on whether the corpus knows it
        self._glossary_cache = {}

    def phrasing(self, query: Query) -> int | None:
        """The passage of the alternate question this one repeats word for word (stems, any
        order, stop words aside, typos read as corrected), if any."""
        fixed = {t.token: t.correction for t in query.terms if t.correction}
        tokens = [fixed.get(t, t) for t in query.tokens] if fixed else query.tokens
        return self._phrasings.get(phrasing_key(tokens))

    def is_known(self, stem_: str) -> bool:
        """Whether a stem occurs in the passages or the alternate questions."""
        return stem_ in self.vocabulary_ or stem_ in self.alt_vocabulary_

    def _correct(self, token: str) -> str | None:
        """The closest known word within the edit budget (optimal string alignment, so a swap
        of two letters is one edit; 1 edit for words under 6 letters, else max_edits)."""
        if self.max_edits == 0 or len(token) < 3 or not token.isalpha():
            return None
        if self.guard_common_words and token in self.common_words_:
            return None
        if token in self._corrections:
            return self._corrections[token]
        budget = 1 if len(token) < 6 else self.max_edits
        # two letters swapped is the commonest typo: it wins a tie ("waht": "what", not "want")
        swapped = [w for w in _swaps(token) if w in self._dictionary_words]
        best = (
            (swapped[0], 1)
            if swapped
            else process.extractOne(
                token, self.dictionary_, scorer=OSA.distance, score_cutoff=budget
            )
        )
        fixed = best[0] if best else None
        # a question word only for a near miss ("waht", "wat"), never two edits away
        # ("pannel" is not "annen"); a three-letter word only to a question word
        if fixed in QUESTION_WORDS:
            fixed = fixed if best[1] <= 1 else None
        elif len(token) < 4:
            fixed = None
        if len(self._corrections) < 50_000:
            self._corrections[token] = fixed
        return fixed

    def _swapped_stop_word(self, token: str, nb: bool = True) -> bool:
        """Whether a word unknown to the corpus and the glossary is a stop word with two
        letters swapped, the commonest typo ("dose" for "does", "teh", "adn"): everyday words
        are never corrected, so it would otherwise count as a topic the article lacks."""
        if len(token) < 3 or self.is_known(stem(token)) or self._glossary(token, nb)[0]:
            return False
        return any(w in STOP_WORDS for w in _swaps(token))

    def _expansions_for(self, token: str, nb: bool = True) -> tuple[list[str], bool]:
        """A word's glossary targets and whether they are related words: the entry for the
        word or its stem; for a word the corpus does not know, a translation of another form
        of it ("prosjektene" -> "prosjekt") or of its parts ("sikkerhetsfunksjoner" ->
        "sikkerhet" + "funksjoner"). A word only the alternates know counts as unknown here:
        "systemet" of a Norwegian alternate is still "system" to the passages."""
        for key in (token, stem(token)):
            targets = self.expansions_.get(key)
            if targets:
                return targets, key in self.related_
        targets = self._related_by_stem.get(stem(token))
        if targets:
            return targets, True
        if stem(token) in self.vocabulary_ or not token.isalpha() or not nb:
            return [], False
        return self._translation(token) or self._compound_parts(token), False

    def _translation(self, token: str) -> list[str]:
        """The translations of another form of a word: by Norwegian stem, then without an
        adjective ending ("stabilt", "stabile" -> "stabil"; "raskere" -> "rask")."""
        found = self._nb_expansions.get(stem_nb(token))
        if found:
            return found
        for ending in _ADJECTIVE_ENDINGS:
            base = token[: -len(ending)]
            if token.endswith(ending) and len(base) >= 3:
                found = self.expansions_.get(base) or self._nb_expansions.get(stem_nb(base))
                if found:
                    return found
        return []

    def _compound_parts(self, token: str) -> list[str]:
        """A Norwegian compound the glossary knows both halves of, optionally joined by -s- or
        -e- ("blokkjede|prosjekter", "sikkerhet|s|funksjoner"): the halves' translations,
        or a corpus word for a half ("mobil|utvikling": mobile development)."""
        if len(token) < 8:
            return []
        for cut in range(len(token) - 4, 3, -1):  # the longest head first
            head, tail = token[:cut], token[cut:]
            for h in (head, head[:-1] if head[-1] in "se" and len(head) > 4 else None):
                if not h:
                    continue
                found_head = self._half(h)
                if found_head:
                    found_tail = self._half(tail)
                    if found_tail:
                        return found_head + [t for t in found_tail if t not in found_head]
        return []

    def _half(self, part: str) -> list[str]:
        """What half of a compound means in the corpus's words (a translation, or the corpus
        word itself), or nothing."""
        if self.is_known(stem(part)) and part not in STOP_WORDS and len(part) >= 4:
            return [part]
        return self.expansions_.get(part) or self._translation(part)

    def _glossary(self, word: str, nb: bool = True) -> tuple[bool, list[str], bool]:
        """Whether the glossary has entries for a word, their stems, and whether they are
        related words (synonyms) rather than a translation (cached)."""
        found = self._glossary_cache.get((word, nb))
        if found is None:
            targets, related = self._expansions_for(word, nb)
            stems = [stem(t) for target in targets for t in tokenize(target) if t not in STOP_WORDS]
            found = (bool(targets), stems, related)
            if len(self._glossary_cache) < 100_000:
                self._glossary_cache[(word, nb)] = found
        return found

    def parse(self, text: str) -> Query:
        """Tokenise a question, correct unknown words to the corpus vocabulary and add the
        glossary's expansions at a weight below the visitor's own words."""
        norm = normalize(text)
        tokens = tokenize(norm)
        if not CHAT_FORMS.keys().isdisjoint(tokens):
            tokens = [CHAT_FORMS.get(t, t) for t in tokens]
        # an unknown word of an English question is not read as a Norwegian word in another
        # form ("list" is not "lisens" without an ending); a Norwegian or a keyword one may be
        nb = _maybe_norwegian(tokens)
        # names the visitor wrote ("Rome", "MongoDB") are typos of the corpus's names only;
        # read once a word the corpus lacks needs to know (most questions have none)
        names: frozenset[str] | None = None
        roles: frozenset[str] = frozenset()
        # a hyphenated word the corpus knows ("batteries-included") counts as a word of its
        # own, and its parts as much as they count inside it in the passages
        wholes = [(c, stem(c)) for c in compounds(norm)]
        wholes = [(c, s) for c, s in wholes if self.is_known(s)]
        inside = {t for c, _ in wholes for t in tokenize(c)} if wholes else set()
        weights: dict[str, float] = {}
        terms: list[QueryTerm] = []

        def add(s: str, w: float) -> None:
            if w > weights.get(s, 0.0):
                weights[s] = w

        covered: set[int] = set()
        # a phrase is one term of its own, in the visitor's words, carrying its translation
        # ("online shop" -> ecommerce): a topic unless it only says what kind of question
        # it is ("hva er" -> "what is"); its words stop counting one by one
        phrases: dict[int, list[QueryTerm]] = {}
        for i, first in enumerate(tokens):  # multi-word entries: "hva er", "kunstig intelligens"
            starting = self._phrase_starts.get(first)
            if starting is None:  # the phrases a word may start, by its Norwegian stem
                starting = self._phrases.get(stem_nb(first), ())
                if len(self._phrase_starts) < 100_000:
                    self._phrase_starts[first] = starting
            for phrase, words, stems in starting:
                end = _phrase_end(tokens, i, words)
                if end:
                    covered.update(range(i, end))
                    related = phrase in self.related_
                    weight = 0.8 * (self.related_factor if related else 1.0)
                    for st in stems:
                        add(st, weight)
                    if stems:
                        term = QueryTerm(
                            " ".join(tokens[i:end]),
                            stems[0],
                            False,
                            any(st not in _QUESTION_STEMS for st in stems),
                            dict.fromkeys(stems, weight),
                            None,
                            False,  # several words matched as a whole: known, not a near miss
                        )
                        phrases.setdefault(i, []).append(term)

        capitalised: frozenset[str] = frozenset()
        everyday = not self.everyday_names_.isdisjoint(tokens)
        if everyday:  # only these need to know
            capitalised = frozenset(w.lower() for w in _CAPITALISED.findall(norm))
        cache = self._token_cache
        for i, tok in enumerate(tokens):
            if i in phrases:
                terms.extend(phrases[i])
            if tok in STOP_WORDS:
                continue
            # "go", "rest": a name of the corpus that is also an everyday word, written as one
            plain = (
                everyday
                and tok in self.everyday_names_
                and tok not in capitalised
                and not self._compared(tokens, i)
            )
            key = (tok, i in covered, False, tok in inside, nb, plain)
            read = cache.get(key)
            if read is None:
                read = self._read_cached(key)
            if read and (read[3] is not None or not read[1]):  # unknown: corrected, or not
                if names is None:
                    roles = asker_roles(norm)
                    names = frozenset(w.lower() for w in written_names(norm, roles))
                if tok in roles:  # "As a CTO, ...": who asks, not a topic the article lacks
                    read = self._read_cached((tok, True, False, *key[3:]))
                elif tok in names:
                    read = self._read_cached((tok, key[1], True, *key[3:]))
            if not read:  # a stop word with two letters swapped
                continue
            (stem_, known, content, correction, related, expansions, adds, named) = read
            terms.append(
                QueryTerm(tok, stem_, known, content, dict(expansions), correction, related, named)
            )
            for st, w in adds:
                add(st, w)
        for _, s in wholes:
            add(s, 1.0)
        return Query(text, terms, weights, tokens, written=names or frozenset())

    def _compared(self, tokens: list[str], i: int) -> bool:
        """Whether the word at i is compared as a name, whatever its case: "faster than go",
        "python vs go", "go vs python", "java or go" (beside another of the corpus's names)."""
        before = tokens[i - 1] if i else ""
        if before in _VERSUS or (i + 1 < len(tokens) and tokens[i + 1] in _VERSUS):
            return True
        return before in _ALONGSIDE and i >= 2 and tokens[i - 2] in self.proper_nouns_

    def _other_form(self, token: str) -> str | None:
        """Another form of an unknown word that the corpus uses, one ending away, where the
        stemmer parts them ("experience" -> "experi", "experienced" -> "experienc")."""
        if len(token) < 5 or not token.isalpha():
            return None
        forms = [token + end for end in _ENDINGS]
        forms += [token[: -len(end)] for end in _ENDINGS if token.endswith(end)]
        for form in forms:
            if form in self._dictionary_words and self.is_known(stem(form)):
                return form
        return None

    def _read_cached(self, key: tuple) -> tuple:
        """_read_token for (token, covered, name, part, nb, plain), cached; () for a stop
        word with two letters swapped."""
        read = self._token_cache.get(key)
        if read is None:
            tok, nb = key[0], key[4]
            read = () if self._swapped_stop_word(tok, nb) else self._read_token(*key)
            if len(self._token_cache) < 100_000:
                self._token_cache[key] = read
        return read

    def _read_token(
        self, tok: str, covered: bool, name: bool, part: bool, nb: bool, plain: bool
    ) -> tuple:
        """What one word of a question is: (stem, known, content, correction, related,
        expansions, weights it adds), given whether a glossary phrase covers it, the visitor
        capitalised it as a name, it is part of a known hyphenated word, and the question may
        be Norwegian (see _expansions_for), and it is a name written as an everyday word
        ("go", "rest": it then says as little about the topic as a question word)."""
        stem_ = stem(tok)
        correction = None
        word, factor = tok, 1.0
        if stem_ in self._everyday_stems and tok not in self.proper_nouns_:
            # "going" is no Go, nor "rests" REST, though the stemmer joins them: another
            # word of an everyday name's stem matches nothing and is no topic
            plain, factor = True, 0.0
        unknown = not self.is_known(stem_) and not self._glossary(tok, nb)[0]
        content = (
            tok not in QUESTION_WORDS
            and not covered
            and not plain
            and not (unknown and tok in GRAMMAR_WORDS)
        )
        if unknown and not covered:
            us = american_spelling(tok)
            if us != tok and (self.is_known(stem(us)) or self._glossary(us, nb)[0]):
                correction, word = us, us  # "organisations", "optimise", "behaviour"
            elif other := self._other_form(tok):
                # "experience" of "experienced": known, so neither named as a topic the
                # article lacks nor counted as one; weighing little, since the stemmer
                # parted the two forms (in "Do you have experience with fintech?" the
                # topic is fintech, not the paragraph on an experienced team)
                correction, word, factor = other, other, OTHER_FORM_WEIGHT
            else:
                fixed = self._correct(tok)
                # a word capitalised as a name is a typo only of a name ("Djnago"): "Rome"
                # is no typo of "more"
                if fixed and (not name or fixed in self.proper_nouns_):
                    correction, word, factor = fixed, fixed, 0.9
                    content = content and fixed not in QUESTION_WORDS
        s = stem(word)
        known = self.is_known(s)
        if not content:
            factor *= self.question_weight
        if part:
            factor *= self.compound_part_weight
        expansions: dict[str, float] = {}
        adds: list[tuple[str, float]] = []
        if known:
            adds.append((s, factor))
            if word != tok:
                expansions[s] = factor
        _, stems, related = self._glossary(word, nb)
        if stems:
            w = (0.5 if known else 0.8) * factor
            w *= self.related_factor if related else 1.0
            for st in stems:
                expansions[st] = max(w, expansions.get(st, 0.0))
                adds.append((st, w))
        names: tuple[str, ...] = ()
        # a name itself ("last" is not "Lasting" though they share a stem), or a word the
        # passages never use that the glossary reads as names ("javascript" -> Node.js)
        if content and (
            tok in self.proper_nouns_
            or correction in self.proper_nouns_
            or (expansions and stem_ not in self.vocabulary_)
        ):
            found = (s, stem_, *expansions)
            names = tuple(dict.fromkeys(x for x in found if x in self.name_stems_))
        return (
            stem_,
            known,
            content,
            correction,
            # another spelling or name of its target ("nodejs", "golang") is no mere related
            # word for how well the question is known, though it weighs as one
            related and word not in self._spellings and not names,
            tuple(expansions.items()),
            tuple(adds),
            names,
        )
