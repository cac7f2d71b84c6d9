"""Passages to TF-IDF matrices to ranked (passage, score): three channels, fused by a weighted sum.

- word: stemmed words, scikit-learn counts + TfidfTransformer with sublinear tf and an IDF
  without sklearn's +1, so a word found in every passage ("python" here) weighs nothing;
- char: ``char_wb`` 3-5-grams, for typos and word forms. ``char_wb`` n-grams never cross a
  word, so a passage's n-gram counts are its word counts times each word's n-grams: the
  n-grams are computed once per vocabulary word, not once per occurrence;
- alt: curated and taught alternate questions, matched question to question; a passage
  scores its best-matching alternate. Refitted on its own when staff teach a phrasing.

Questions are read by ``query.QueryReader`` (which Index extends): tokens, typo corrections,
glossary expansions. They are encoded without sklearn's ``transform``: look the stems up in
the fitted vocabularies and add up the matching matrix columns.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .query import Query, QueryReader, QueryTerm, phrasing_key, split_words
from .text import (
    COMPARING_WORDS,
    common_words,
    contrasts,
    everyday_words,
    normalize,
    proper_nouns,
    split_sentences,
    stem,
    tokenize,
)

__all__ = ["Index", "Query", "QueryTerm", "Ranked", "char_wb_ngrams"]

DENSE_LIMIT = 4_000_000  # matrices up to this many cells are kept dense for speed
_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.float32))


class Ranked(NamedTuple):
    """Passage indices, best first, with their fused scores and per-channel scores."""

    indices: np.ndarray
    scores: np.ndarray
    word: np.ndarray
    char: np.ndarray
    alt: np.ndarray


def _adjust(
    fused: np.ndarray, factors: dict[int, float] | None, bonus: dict[int, float] | None
) -> None:
    """Multiply some passages' scores (a factor of 0 leaves the passage out: -1), then add
    a bonus to some (not to those left out)."""
    for i, f in (factors or {}).items():
        fused[i] = fused[i] * f if f > 0 else -1.0
    for i, b in (bonus or {}).items():
        if fused[i] >= 0:
            fused[i] += b


class _Columns:
    """A passages x features matrix laid out for scoring a few query features fast."""

    def __init__(self, matrix: sp.csr_matrix):
        self.shape = matrix.shape
        self.csr = matrix.tocsr().astype(np.float32)
        small = matrix.shape[0] * matrix.shape[1] <= DENSE_LIMIT
        # features x rows, C order: a query's few features are a few contiguous rows
        self.dense_t = np.ascontiguousarray(self.csr.toarray().T) if small else None
        self.dense = self.dense_t.T if small else None
        self.csc = None if small else self.csr.tocsc()

    def score(self, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Dot product of every row with the sparse query (idx, w)."""
        if self.dense_t is not None:
            return w @ self.dense_t[idx]
        out = np.zeros(self.shape[0], np.float32)
        indptr, indices, data = self.csc.indptr, self.csc.indices, self.csc.data
        for j, wj in zip(idx.tolist(), w.tolist(), strict=True):
            s, e = indptr[j], indptr[j + 1]
            out[indices[s:e]] += data[s:e] * wj
        return out

    def rows_with(self, j: int) -> np.ndarray:
        """The rows where feature j is not zero."""
        if self.dense_t is not None:
            return np.flatnonzero(self.dense_t[j])
        return self.csc.indices[self.csc.indptr[j] : self.csc.indptr[j + 1]]

    def score_rows(self, rows: np.ndarray, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Dot product of the given rows with the sparse query (idx, w)."""
        if self.dense is not None:
            return self.dense[np.ix_(rows, idx)] @ w
        return np.asarray(self.csr[rows][:, idx] @ w).ravel()


def _idf_without_floor(df: np.ndarray, n: int, offset: float) -> np.ndarray:
    """ln((1+n)/(1+df)) + offset: sklearn's smooth IDF with its +1 replaced by `offset`."""
    return np.log((1.0 + n) / (1.0 + df)) + offset


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _count_matrix(rows: list[dict[int, float]], n_features: int) -> sp.csr_matrix:
    """Term counts ({feature id: count} per row), as a rows x features CSR matrix."""
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.fromiter((j for r in rows for j in r), np.int64, int(indptr[-1]))
    data = np.fromiter((c for r in rows for c in r.values()), np.float32, int(indptr[-1]))
    m = sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_features))
    m.sort_indices()
    return m


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf x idf, rows L2-normalised: what sklearn's TfidfTransformer(sublinear_tf=True)
    computes, for the small alternates channel, without importing scikit-learn at serving time."""
    m = counts.astype(np.float32).tocsr(copy=True)
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ m)


def char_wb_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """The char n-grams of one word padded with spaces, exactly as scikit-learn's char_wb
    analyzer makes them (tests/test_index.py checks it against sklearn)."""
    w = f" {word} "
    out = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        if len(w) <= n:  # sklearn counts a short word once, and stops there
            out.append(w)
            break
        out.extend(w[i : i + n] for i in range(len(w) - n + 1))
    return out


class Index(QueryReader):
    """TF-IDF retriever over passages (word + char channels) and their alternate questions.

    ``__init__`` stores parameters; ``fit`` sets the attributes ending in ``_``.
    """

    def __init__(
        self,
        word_weight: float = 0.35,
        char_weight: float = 0.3,
        alt_weight: float = 0.35,
        ngram_range: tuple[int, int] = (3, 5),
        idf_offset: float = 0.0,
        char_candidates: int = 300,
        max_edits: int = 2,
        pool_weight: float = 0.6,
        pivot: float = 0.4,
        question_weight: float = 0.3,
        prose_question_factor: float = 0.0,
        related_factor: float = 0.6,
        unknown_in_norm: bool = True,
        guard_common_words: bool = True,
        compound_part_weight: float = 0.5,
        name_factor: float = 0.7,
        contrast_factor: float = 0.8,
    ):
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.alt_weight = alt_weight
        self.ngram_range = ngram_range
        self.idf_offset = idf_offset
        self.char_candidates = char_candidates
        self.max_edits = max_edits
        self.pool_weight = pool_weight
        self.pivot = pivot
        # "what", "how", "best"... say what kind of answer is wanted, not what it is about
        self.question_weight = question_weight
        # ...and "when", "which", "how" (text.INTERROGATIVES) weigh this factor of that in the
        # word and char channels, which read a passage's prose, where such words join clauses
        # ("When evaluating backend technologies, ..."); against the alternates, which are
        # questions, they weigh in full. The query's norm keeps their full weight: the
        # question did ask "when", and a passage matching nothing else should not gain by it
        self.prose_question_factor = prose_question_factor
        self.related_factor = related_factor  # a synonym weighs this much of a translation
        self.unknown_in_norm = unknown_in_norm
        self.guard_common_words = guard_common_words
        # "batteries-included" is a word of its own; "included" inside it counts this much
        self.compound_part_weight = compound_part_weight
        # a question that names something (Flask, Node.js, Kubernetes) is about it: a passage
        # that mentions none of the names it asks about scores this factor of its score
        self.name_factor = name_factor
        # a question that compares named things wants a passage that compares (comparing):
        # one with no contrast word ("than", "however", "whereas"; text.CONTRAST_WORDS) in
        # its text or its alternates scores this factor of its score
        self.contrast_factor = contrast_factor

    def get_params(self) -> dict:
        """The constructor's parameters, as given."""
        names = inspect.signature(type(self).__init__).parameters
        return {k: getattr(self, k) for k in names if k != "self"}

    # ------------------------------------------------------------ fitting

    def fit(
        self,
        texts: Sequence[str],
        alternates: Iterable[tuple[int, str]] = (),
        expansions: dict[str, list[str]] | None = None,
        synonyms: dict[str, list[str]] | None = None,
    ) -> Index:
        """Index passage texts; alternates are (passage index, question) pairs; expansions map
        a visitor's word or phrase to corpus words (a translation: Norwegian glossary);
        synonyms map to related words, which weigh less than translations."""
        # scikit-learn only where the index is built: serving from a snapshot never imports it
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        n = len(texts)
        words, parts = [], []
        normalized = [normalize(t) for t in texts]  # read once, for the words and the names
        for text, norm in zip(texts, normalized, strict=True):
            toks, wholes, inside = split_words(text, norm)
            words.append(toks + wholes)
            parts.append(inside)

        # one counting pass over the words; the stems' counts follow by a sparse product with a
        # word -> stem map, each distinct word stemmed once. A hyphenated word counts as a word
        # of its own, and its parts count compound_part_weight each where they occur in it.
        raw = CountVectorizer(analyzer=_identity)
        raw_counts = raw.fit_transform(words)
        weighted = raw_counts.astype(np.float64)
        if self.compound_part_weight != 1.0 and any(parts):
            vocab = raw.vocabulary_
            rows: list[dict[int, float]] = []
            for inside in parts:  # mostly empty: a dict per passage beats a second sklearn pass
                row: dict[int, float] = {}
                for t in inside:
                    row[vocab[t]] = row.get(vocab[t], 0.0) + 1.0
                rows.append(row)
            inside_counts = _count_matrix(rows, len(vocab))
            weighted = (weighted - (1.0 - self.compound_part_weight) * inside_counts).tocsr()
            weighted.eliminate_zeros()
        self.raw_vocabulary_: dict[str, int] = {k: int(v) for k, v in raw.vocabulary_.items()}
        raw_words = sorted(self.raw_vocabulary_, key=self.raw_vocabulary_.__getitem__)
        word_stems = [stem(w) for w in raw_words]
        stems = sorted(set(word_stems))
        self.vocabulary_: dict[str, int] = {s: j for j, s in enumerate(stems)}
        to_stem = sp.csr_matrix(
            (
                np.ones(len(raw_words)),
                (np.arange(len(raw_words)), [self.vocabulary_[s] for s in word_stems]),
            ),
            shape=(len(raw_words), len(stems)),
        )
        word_counts = (weighted @ to_stem).tocsr()
        word_counts.sort_indices()
        tfidf = TfidfTransformer(sublinear_tf=True).fit(word_counts)
        df = np.bincount(word_counts.indices, minlength=word_counts.shape[1])
        self.df_ = df
        tfidf.idf_ = _idf_without_floor(df, n, self.idf_offset)
        self.idf_ = tfidf.idf_.astype(np.float32)
        self.word_ = _Columns(self._pivot(tfidf.transform(word_counts)))

        self.raw_df_ = np.bincount(raw_counts.indices, minlength=raw_counts.shape[1])
        ngrams = CountVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, lowercase=False)
        self.word_ngrams_ = ngrams.fit_transform(raw_words).tocsr()
        self.ngram_vocabulary_: dict[str, int] = {k: int(v) for k, v in ngrams.vocabulary_.items()}
        self._ngram_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # char n-grams of the words, compound parts discounted (a compound's are its parts')
        single = np.array(["-" not in w for w in raw_words], dtype=np.float64)
        char_counts = (weighted @ sp.diags(single) @ self.word_ngrams_).tocsr()
        char_tfidf = TfidfTransformer(sublinear_tf=True).fit(char_counts)
        self.char_idf_ = char_tfidf.idf_.astype(np.float32)
        self.char_ = _Columns(char_tfidf.transform(char_counts))
        self.raw_words_ = raw_words

        self.n_passages_ = n
        self.texts_ = list(texts)
        self.proper_nouns_ = proper_nouns(normalized, normalized=True)
        self.everyday_names_ = everyday_words(self.proper_nouns_)
        self.common_words_ = common_words() if self.guard_common_words else frozenset()
        self._init_lookups()
        self.expansions_ = {k.lower(): list(v) for k, v in (synonyms or {}).items()}
        self.related_ = frozenset(self.expansions_) - {k.lower() for k in expansions or {}}
        for k, v in (expansions or {}).items():
            self.expansions_.setdefault(k.lower(), []).extend(v)
        self._index_phrases()
        self.set_alternates(alternates)
        return self

    def _init_lookups(self) -> None:
        """Derived lookups, built after fitting or loading."""
        self.max_idf_ = float(self.idf_.max(initial=1.0))
        self.terms_by_id_ = [""] * len(self.vocabulary_)
        for term, j in self.vocabulary_.items():
            self.terms_by_id_[j] = term
        self._sentence_cache: dict[int, list[tuple[str, frozenset[str]]]] = {}
        self._sentence_stems: dict[int, dict[str, list[int]]] = {}  # stem -> its sentences
        self._terms_cache: dict[int, frozenset[str]] = {}
        self._text_contrasts: np.ndarray | None = None  # _contrast_row
        # the stems of the corpus's names (see text.proper_nouns), but not those nearly every
        # passage has ("Python" in an article about Python)
        df = np.bincount(self.word_.csr.indices, minlength=len(self.vocabulary_))
        half = self.n_passages_ / 2
        self.name_stems_ = frozenset(
            s
            for s in map(stem, self.proper_nouns_)
            if s in self.vocabulary_ and df[self.vocabulary_[s]] <= half
        )

    def passage_terms(self, i: int) -> frozenset[str]:
        """The stems of passage i (from its row of the word matrix; cached)."""
        found = self._terms_cache.get(i)
        if found is None:
            m = self.word_.csr
            ids = m.indices[m.indptr[i] : m.indptr[i + 1]].tolist()
            found = frozenset(self.terms_by_id_[j] for j in ids)
            if len(self._terms_cache) < 20_000:
                self._terms_cache[i] = found
        return found

    def _mentioning(self, s: str) -> frozenset[int]:
        """The passages that mention the stem s, in their text or their alternates (cached
        until the alternates change)."""
        found = self._mentions.get(s)
        if found is None:
            rows: list[int] = []
            j = self.vocabulary_.get(s)
            if j is not None:
                rows.extend(self.word_.rows_with(j).tolist())
            a = self.alt_vocabulary_.get(s)
            if a is not None and self.alt_ is not None:
                rows.extend(self.alt_pool_owner_[self.alt_pool_.rows_with(a)].tolist())
            found = frozenset(rows)
            if len(self._mentions) < 2_000:
                self._mentions[s] = found
        return found

    def names(self, query: Query) -> list[tuple[str, list[str]]]:
        """The names the question asks about: each visitor's word with the name stems it
        may be found by (read with each word, see QueryReader._read_token; a follow-up's
        merged query carries the names of the question itself)."""
        if query.names is None:
            query.names = [(t.token, list(t.names)) for t in query.terms if t.names]
        return query.names

    def only_names(self, query: Query) -> list[tuple[str, list[str]]]:
        """The names of Index.names that the question asks about as names alone: a corpus
        name (or a typo of one), or a word the glossary reads as names only ("javascript" ->
        Node.js), not one it also reads as a topic ("iphone" -> Xcode, a name, and iOS, no
        name of the corpus's)."""
        names = self.names(query)
        if not names:
            return names
        by_token = {t.token: t for t in query.terms if t.names}
        return [
            (w, stems)
            for w, stems in names
            if (t := by_token.get(w)) is None
            or t.stem in self.name_stems_
            or self.name_stems_.issuperset(t.expansions)
        ]

    def mentions(self, i: int, stems: list[str]) -> bool:
        """Whether passage i mentions one of these stems (in its text or alternates)."""
        return any(i in self._mentioning(s) for s in stems)

    def _name_row(self, s: str) -> np.ndarray:
        """Each passage's score factor for one name: 1 where it is mentioned, name_factor
        elsewhere (kept for small corpora; the passages mentioning it are kept for all)."""
        row = self._name_rows.get(s)
        if row is None:
            row = np.full(self.n_passages_, self.name_factor, dtype=np.float32)
            row[list(self._mentioning(s))] = 1.0
            if self.n_passages_ <= 10_000 and len(self._name_rows) < 2_000:
                self._name_rows[s] = row
        return row

    def _by_names(self, fused: np.ndarray, query: Query) -> None:
        """Scale each passage's score between name_factor (it mentions none of the names
        the question asks about) and 1 (all of them)."""
        if self.name_factor == 1.0 or not self.name_stems_:
            return
        names = self.names(query)
        if not names:
            return
        scale = None
        for _, stems in names:
            row = self._name_row(stems[0])
            for s in stems[1:]:
                row = np.maximum(row, self._name_row(s))
            scale = row if scale is None else scale + row
        if len(names) > 1:
            scale *= np.float32(1.0 / len(names))
        fused *= scale

    def comparing(self, query: Query) -> bool:
        """Whether the question compares things the corpus names: "vs", "differ", "compare",
        "than", "better", "worse" (or their Norwegian) beside a name ("How does Node.js differ
        from Python?", "Is Node.js a better pick…"). Without a name it is left alone: in the
        Python docs, "dict vs set" went to the heading "Text Vs. Data Instead Of Unicode
        Vs. 8-bit", the one short passage that compares."""
        words = set(query.tokens)
        words.update(t.correction for t in query.terms if t.correction)
        return not words.isdisjoint(COMPARING_WORDS) and bool(self.names(query))

    def _contrast_row(self) -> np.ndarray:
        """Each passage's score factor for a comparing question: 1 where its text or one of
        its alternates has a contrast word, contrast_factor elsewhere (cached until the
        alternates change)."""
        if self._contrasts is None:
            if self._text_contrasts is None:  # texts never change: read once
                self._text_contrasts = np.fromiter(
                    map(contrasts, self.texts_), dtype=bool, count=self.n_passages_
                )
            row = np.where(self._text_contrasts, 1.0, self.contrast_factor).astype(np.float32)
            row[[i for i, q in self.alternates_ if contrasts(q)]] = 1.0
            self._contrasts = row
        return self._contrasts

    def _focus(self, fused: np.ndarray, query: Query) -> None:
        """What the question asks about and what kind of answer it wants, as score factors:
        the names it asks about (_by_names) and, for a comparison, passages that compare."""
        self._by_names(fused, query)
        if self.contrast_factor != 1.0 and self.comparing(query):
            fused *= self._contrast_row()

    def sentences(self, i: int) -> list[tuple[str, frozenset[str]]]:
        """Passage i's sentences with their stems, split on first use."""
        found = self._sentence_cache.get(i)
        if found is None:
            found = []
            for sentence in split_sentences(self.texts_[i]):
                toks, wholes, _ = split_words(sentence)
                found.append((sentence, frozenset(stem(t) for t in toks + wholes)))
            if len(self._sentence_cache) < 20_000:
                self._sentence_cache[i] = found
        return found

    def _pivot(self, unit_rows: sp.csr_matrix) -> sp.csr_matrix:
        """Pivoted unique-term normalisation (Singhal et al., 1996): L2-normalised rows are
        rescaled by their number of distinct terms against the mean, so that a short passage
        does not win on a single shared word."""
        if not self.pivot:
            return unit_rows
        lengths = np.asarray(unit_rows.getnnz(axis=1), dtype=np.float64)
        lengths = np.sqrt(np.maximum(lengths, 1.0))
        scale = lengths / ((1 - self.pivot) * lengths.mean() + self.pivot * lengths)
        return sp.diags(scale.astype(np.float32)) @ unit_rows

    # ------------------------------------------------------------ persistence

    _MATRICES = ("word", "ngrams", "char")

    def get_state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The fitted index as plain arrays and JSON-able data (no pickle); alternates are not
        part of it: they are set again on load."""
        arrays = {
            "idf": self.idf_,
            "df": self.df_,
            "raw_df": self.raw_df_,
            "char_idf": self.char_idf_,
        }
        for name, m in zip(
            self._MATRICES, (self.word_.csr, self.word_ngrams_, self.char_.csr), strict=True
        ):
            arrays |= {
                f"{name}_data": m.data,
                f"{name}_indices": m.indices,
                f"{name}_indptr": m.indptr,
                f"{name}_shape": np.array(m.shape),
            }
        ngrams = [""] * len(self.ngram_vocabulary_)
        for g, j in self.ngram_vocabulary_.items():
            ngrams[j] = g
        meta = {
            "params": self.get_params(),
            "vocabulary": self.terms_by_id_,
            "raw_words": self.raw_words_,
            "ngrams": ngrams,
            "texts": self.texts_,
            "expansions": self.expansions_,
            "related": sorted(self.related_),
            "common_words": sorted(self.common_words_),
            "proper_nouns": sorted(self.proper_nouns_),
            "everyday_names": sorted(self.everyday_names_),
        }
        return arrays, meta

    @classmethod
    def from_state(
        cls, arrays: dict[str, np.ndarray], meta: dict, alternates: Iterable[tuple[int, str]] = ()
    ) -> Index:
        """Rebuild a fitted index from get_state()'s output."""
        params = dict(meta["params"])
        params["ngram_range"] = tuple(params["ngram_range"])
        self = cls(**params)

        def csr(name: str) -> sp.csr_matrix:
            return sp.csr_matrix(
                (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"]),
                shape=tuple(int(x) for x in arrays[f"{name}_shape"]),
            )

        self.idf_, self.df_ = arrays["idf"], arrays["df"]
        self.raw_df_, self.char_idf_ = arrays["raw_df"], arrays["char_idf"]
        self.word_ = _Columns(csr("word"))
        self.word_ngrams_ = csr("ngrams")
        self.char_ = _Columns(csr("char"))
        self.vocabulary_ = {t: j for j, t in enumerate(meta["vocabulary"])}
        self.raw_words_ = list(meta["raw_words"])
        self.raw_vocabulary_ = {w: j for j, w in enumerate(self.raw_words_)}
        self.ngram_vocabulary_ = {g: j for j, g in enumerate(meta["ngrams"])}
        self._ngram_cache = {}
        self.texts_ = list(meta["texts"])
        self.n_passages_ = len(self.texts_)
        self.expansions_ = {k: list(v) for k, v in meta["expansions"].items()}
        self.related_ = frozenset(meta["related"])
        self.common_words_ = frozenset(meta["common_words"])
        self.proper_nouns_ = frozenset(meta["proper_nouns"])
        self.everyday_names_ = frozenset(meta["everyday_names"])
        self._index_phrases()
        self._init_lookups()
        return self.set_alternates(alternates)

    def set_alternates(self, alternates: Iterable[tuple[int, str]]) -> Index:
        """(Re)build the alternate-question channel alone; cheap, so staff teaching is instant."""
        alternates = [(int(i), q) for i, q in alternates if 0 <= int(i) < self.n_passages_]
        self.alternates_ = alternates
        self._mentions: dict[str, frozenset[int]] = {}  # stem -> passages naming it
        self._name_rows: dict[str, np.ndarray] = {}  # stem -> score factors (_name_row)
        self._contrasts: np.ndarray | None = None  # _contrast_row
        self._build_dictionary()
        # a question asked with the very words of an alternate (taught ones last: they win)
        self._phrasings: dict[frozenset[str], int] = {}
        for i, q in alternates:
            key = phrasing_key(tokenize(normalize(q)))
            if len(key) >= 2:
                self._phrasings[key] = i
        if not alternates:
            self.alt_vocabulary_: dict[str, int] = {}
            self.alt_ = None
            self.alt_owner_ = np.zeros(0, np.int64)
            self._prepare_small()
            return self
        rows: list[dict[str, float]] = []
        part = self.compound_part_weight
        for _, q in alternates:
            toks, wholes, inside = split_words(q)
            row: dict[str, float] = {}
            for t in toks + wholes:
                row[stem(t)] = row.get(stem(t), 0.0) + 1.0
            for t in inside:
                row[stem(t)] -= 1.0 - part
            rows.append(row)
        vocab: dict[str, int] = {}
        for row in rows:
            for s in row:
                vocab.setdefault(s, len(vocab))
        m = _count_matrix([{vocab[s]: c for s, c in row.items()} for row in rows], len(vocab))
        self.alt_vocabulary_ = vocab
        # +0.5: questions share "python" and friends, but question words still separate them
        df = np.bincount(m.indices, minlength=m.shape[1])
        self.alt_idf_ = _idf_without_floor(df, len(alternates), 0.5).astype(np.float32)
        self.alt_max_idf_ = float(self.alt_idf_.max(initial=1.0))
        self.alt_ = _Columns(_tfidf(m, self.alt_idf_))
        self.alt_owner_ = np.array([i for i, _ in alternates], dtype=np.int64)
        # per-passage maximum by reduceat over the questions grouped by passage
        self._alt_order = np.argsort(self.alt_owner_, kind="stable")
        grouped = self.alt_owner_[self._alt_order]
        self._alt_starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
        self._alt_groups = grouped[self._alt_starts]
        # all of a passage's alternates pooled into one pseudo-document (document expansion):
        # a new phrasing may share words with several of them but be close to none alone
        owners = sorted(set(self.alt_owner_.tolist()))
        pool = sp.csr_matrix(
            (
                np.ones(len(alternates)),
                (np.searchsorted(owners, self.alt_owner_), np.arange(len(alternates))),
            ),
            shape=(len(owners), len(alternates)),
        )
        self.alt_pool_ = _Columns(_tfidf((pool @ m).tocsr(), self.alt_idf_))
        self.alt_pool_owner_ = np.array(owners, dtype=np.int64)
        self._prepare_small()
        return self

    def _prepare_small(self) -> None:
        """For a corpus small enough to keep every matrix dense (an article): one stem ->
        (word column, its IDF, alternates column, its IDF) table, and the pooled alternates'
        and the alternate questions' columns side by side, already weighted by pool_weight,
        so that a query gathers each channel once."""
        alt = getattr(self, "alt_", None)
        self._small = self.word_.dense_t is not None and self.char_.dense_t is not None
        if alt is not None:
            self._small = (
                self._small and alt.dense_t is not None and self.alt_pool_.dense_t is not None
            )
        if not self._small:
            self._lookup: dict[str, tuple[int, float, int, float]] = {}
            return
        alt_vocab = self.alt_vocabulary_ if alt is not None else {}
        idf = self.idf_.tolist()
        alt_idf = self.alt_idf_.tolist() if alt is not None else []
        lookup = {}
        for s, j in self.vocabulary_.items():
            a = alt_vocab.get(s, -1)
            lookup[s] = (j, idf[j], a, alt_idf[a] if a >= 0 else 0.0)
        for s, a in alt_vocab.items():
            lookup.setdefault(s, (-1, 0.0, a, alt_idf[a]))
        self._lookup = lookup
        if alt is not None:
            # [pooled alternates of each owner | questions grouped by owner]: a passage's alt
            # score is pw x its pool + (1 - pw) x its best question (owners = groups)
            pw = np.float32(self.pool_weight)
            self._alt_both_t = np.ascontiguousarray(
                np.hstack([pw * self.alt_pool_.dense_t, (1 - pw) * alt.dense_t[:, self._alt_order]])
            )
            self._alt_offsets = len(self._alt_groups) + self._alt_starts
            self._alt_everyone = np.array_equal(self._alt_groups, np.arange(self.n_passages_))
        self._char_rows: dict[str, tuple[np.ndarray, float]] = {}

    def _encode(
        self,
        query: Query,
        vocab: dict[str, int],
        idf: np.ndarray,
        max_idf: float,
        prose: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The query's sparse vector in a channel's vocabulary, L2-normalised together with
        the words the corpus has never seen: each unknown content word counts as a rare
        word that matched nothing, so "What is your phone number?" scores low everywhere.
        Against passages' prose, its question words weigh less (prose_question_factor)."""
        asking = query.asking if prose else frozenset()
        idx, weights, scale = [], [], []
        for s, x in query.weights.items():
            j = vocab.get(s)
            if j is not None:
                idx.append(j)
                weights.append(x)
                scale.append(self.prose_question_factor if s in asking else 1.0)
        if not idx:
            return _EMPTY
        ia = np.array(idx, dtype=np.int64)
        w = np.array(weights, dtype=np.float32) * idf[ia]
        missing = query.missing if self.unknown_in_norm else 0
        norm = float(np.sqrt(np.dot(w, w) + missing * max_idf * max_idf))
        if asking:
            w *= np.array(scale, dtype=np.float32)
        return ia, (w / norm if norm > 0 else w)

    def _token_ngrams(self, tok: str) -> tuple[np.ndarray, np.ndarray]:
        """One word's char n-gram ids and weights, (1 + ln count) x idf (cached)."""
        cached = self._ngram_cache.get(tok)
        if cached is not None:
            return cached
        row = self.raw_vocabulary_.get(tok)
        if row is not None:
            s, e = self.word_ngrams_.indptr[row], self.word_ngrams_.indptr[row + 1]
            ids = self.word_ngrams_.indices[s:e].astype(np.int64)
            counts = self.word_ngrams_.data[s:e].astype(np.float32)
        else:
            found: dict[int, float] = {}
            for g in char_wb_ngrams(tok, self.ngram_range):
                j = self.ngram_vocabulary_.get(g)
                if j is not None:
                    found[j] = found.get(j, 0.0) + 1.0
            ids = np.array(list(found), dtype=np.int64)
            counts = np.array(list(found.values()), dtype=np.float32)
        grams = (ids, (1.0 + np.log(counts)) * self.char_idf_[ids])
        if len(self._ngram_cache) < 100_000:
            self._ngram_cache[tok] = grams
        return grams

    def _encode_chars(self, query: Query) -> tuple[np.ndarray, np.ndarray]:
        """The query's char vector: each spelled word's n-grams weighted on their own (a gram
        shared by two query words appears twice, which the dot product adds up),
        L2-normalised; question words weigh prose_question_factor after the norm (as in
        _search_small)."""
        parts, square = [], 0.0
        f = self.prose_question_factor
        for t in query.terms:
            if t.spelled:
                ids, w = self._token_ngrams(t.token)
                square += float(np.dot(w, w))
                if not t.asks:
                    parts.append((ids, w))
                elif f > 0:
                    parts.append((ids, w * np.float32(f)))
        if not parts or square <= 0:
            return _EMPTY
        scale = np.float32(1.0 / math.sqrt(square))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]) * scale

    def search(
        self,
        query: Query,
        k: int = 10,
        factors: dict[int, float] | None = None,
        bonus: dict[int, float] | None = None,
    ) -> Ranked:
        """Rank passages for a parsed query: fused score, best first, at most k.

        ``factors`` multiplies the scores of some passages (0 leaves them out); ``bonus`` is
        then added to some (not to those left out)."""
        if self._small:
            return self._search_small(query, k, factors, bonus)
        n = self.n_passages_
        widx, ww = self._encode(query, self.vocabulary_, self.idf_, self.max_idf_, prose=True)
        word = self.word_.score(widx, ww) if len(widx) else np.zeros(n, np.float32)

        alt = np.zeros(n, np.float32)
        if self.alt_ is not None:
            aidx, aw = self._encode(query, self.alt_vocabulary_, self.alt_idf_, self.alt_max_idf_)
            if len(aidx):
                per_question = self.alt_.score(aidx, aw)
                alt[self._alt_groups] = np.maximum.reduceat(
                    per_question[self._alt_order], self._alt_starts
                )
                if self.pool_weight:
                    pooled = self.alt_pool_.score(aidx, aw)
                    alt[self.alt_pool_owner_] = (1 - self.pool_weight) * alt[
                        self.alt_pool_owner_
                    ] + self.pool_weight * pooled

        char = np.zeros(n, np.float32)
        cidx, cw = self._encode_chars(query)
        if len(cidx):
            if self.char_.dense is not None:
                char = self.char_.score(cidx, cw)
            else:  # large corpora: the char channel re-scores the word/alt candidates only
                pre = self.word_weight * word + self.alt_weight * alt
                m = min(self.char_candidates, n)
                rows = np.argpartition(-pre, m - 1)[:m] if m < n else np.arange(n)
                rows = rows[pre[rows] > 0]
                if len(rows):
                    char[rows] = self.char_.score_rows(rows, cidx, cw)

        fused = self.word_weight * word + self.char_weight * char + self.alt_weight * alt
        self._focus(fused, query)
        _adjust(fused, factors, bonus)
        k = max(1, min(k, n))
        if n > 4 * k + 64:  # large corpora: partition first, then order the few
            top = np.sort(np.argpartition(-fused, k - 1)[:k])
            top = top[np.argsort(-fused[top], kind="stable")]
        else:  # stable: ties go to the earlier passage
            top = np.argsort(-fused, kind="stable")[:k]
        top = top[fused[top] >= 0]
        return Ranked(top, fused[top], word[top], char[top], alt[top])

    def _search_small(
        self,
        query: Query,
        k: int,
        factors: dict[int, float] | None = None,
        bonus: dict[int, float] | None = None,
    ) -> Ranked:
        """``search`` for a corpus whose matrices are all dense: the same scores, with each
        channel's columns gathered once and each word's char scores computed once."""
        n = self.n_passages_
        lookup = self._lookup
        wid: list[int] = []
        wx: list[float] = []
        aid: list[int] = []
        ax: list[float] = []
        asking = query.asking
        wnorm = 0.0  # the norm keeps the question words' full weight
        for s, x in query.weights.items():
            row = lookup.get(s)
            if row is not None:
                if row[0] >= 0:
                    v = x * row[1]
                    wnorm += v * v
                    wid.append(row[0])
                    wx.append(v * self.prose_question_factor if s in asking else v)
                if row[2] >= 0:
                    aid.append(row[2])
                    ax.append(x * row[3])
        missing = query.missing if self.unknown_in_norm else 0

        if wid:
            norm = math.sqrt(wnorm + missing * self.max_idf_ * self.max_idf_)
            w = np.array(wx, dtype=np.float32)
            word = (w @ self.word_.dense_t[wid]) * np.float32(1.0 / norm if norm > 0 else 1.0)
        else:
            word = np.zeros(n, np.float32)

        if aid and self.alt_ is not None:
            m = self.alt_max_idf_
            norm = math.sqrt(sum(v * v for v in ax) + missing * m * m)
            w = np.array(ax, dtype=np.float32)
            if norm > 0:
                w *= np.float32(1.0 / norm)
            both = w @ self._alt_both_t[aid]
            groups = len(self._alt_groups)
            best = np.maximum.reduceat(both, self._alt_offsets)
            if self._alt_everyone:
                alt = both[:groups] + best
            else:
                alt = np.zeros(n, np.float32)
                alt[self._alt_groups] = both[:groups] + best
        else:
            alt = np.zeros(n, np.float32)

        char = None
        square = 0.0
        for t in query.terms:
            if t.spelled:
                row_, sq = self._char_row(t.token)
                square += sq
                if t.asks:  # counted in the norm; scored at prose_question_factor
                    if self.prose_question_factor <= 0:
                        continue
                    row_ = row_ * np.float32(self.prose_question_factor)
                char = row_ if char is None else char + row_
        if char is None or square <= 0:
            char = np.zeros(n, np.float32)
        else:
            char = char * np.float32(1.0 / math.sqrt(square))

        fused = word * np.float32(self.word_weight)
        fused += char * np.float32(self.char_weight)
        fused += alt * np.float32(self.alt_weight)
        self._focus(fused, query)
        _adjust(fused, factors, bonus)
        top = np.argsort(-fused, kind="stable")[: max(1, min(k, n))]
        top = top[fused[top] >= 0]
        return Ranked(top, fused[top], word[top], char[top], alt[top])

    def _char_row(self, tok: str) -> tuple[np.ndarray, float]:
        """One word's char scores against every passage, not yet normalised, and its
        squared weight norm (small corpora; cached)."""
        found = self._char_rows.get(tok)
        if found is None:
            ids, w = self._token_ngrams(tok)
            found = (w @ self.char_.dense_t[ids], float(np.dot(w, w)))
            if len(self._char_rows) < 20_000:
                self._char_rows[tok] = found
        return found

    def best_sentence(self, i: int, query: Query) -> str:
        """The sentence of passage i that holds the most query weight (IDF-weighted)."""
        weights = query.idf_weights
        if weights is None:
            vocab, idf = self.vocabulary_, self.idf_
            weights = query.idf_weights = {
                s: w * float(idf[vocab[s]]) for s, w in query.weights.items() if s in vocab
            }
        sentences = self.sentences(i)
        if not sentences:
            return ""
        where = self._sentence_stems.get(i)
        if where is None:
            where = {}
            for j, (_, stems) in enumerate(sentences):
                for st in stems:
                    where.setdefault(st, []).append(j)
            if len(self._sentence_stems) < 20_000:
                self._sentence_stems[i] = where
        scores = [0.0] * len(sentences)
        for st, w in weights.items():  # in the query's order, as a sum per sentence would
            for j in where.get(st, ()):
                scores[j] += w
        return sentences[max(range(len(scores)), key=scores.__getitem__)][0]  # first best

    def matched_terms(self, i: int, query: Query) -> list[str]:
        """The visitor's words whose stem, correction or expansion occurs in passage i (a
        glossary phrase as a whole, not also its words)."""
        terms = self.passage_terms(i)
        out = []
        phrase = False
        weights = query.weights
        for t in query.terms:
            if (t.stem in terms and t.stem in weights) or (
                t.expansions and not terms.isdisjoint(t.expansions)
            ):
                if t.token not in out:
                    out.append(t.token)
                    phrase = phrase or " " in t.token
        if phrase:
            inside = {p for w in out if " " in w for p in w.split()}
            out = [w for w in out if " " in w or w not in inside]
        return out
