"""The Python API: ``Assistant.load(path).ask(question)`` — corpus, curation, index and answer rules
assembled once."""

from __future__ import annotations

import logging
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import snapshot
from .answer import Answerer, Calibration
from .config import bundled
from .corpus import Document, Passage, load_corpus
from .curation import Curation, load_curation
from .index import Index

log = logging.getLogger(__name__)
ANSWER_CACHE = 1024  # replies kept for repeated questions (starters, suggestions, FAQs)


class Assistant:
    """A loaded corpus, ready to answer questions."""

    def __init__(
        self,
        corpus: Path,
        docs: list[Document],
        curation: Curation,
        index: Index,
        answerer: Answerer,
        cache_size: int = ANSWER_CACHE,
    ):
        self.corpus = corpus
        self.taught: list[tuple[str, str]] = []  # (passage id, question) taught by staff
        self.documents = docs
        self.curation = curation
        self.index = index
        self.answerer = answerer
        # replies by (generation, question, history, top_k); the generation moves on when the
        # alternates change, so a reply computed before teaching is never served after it
        self._generation = 0
        self._cached = None
        if cache_size:  # through a weak reference: no cycle keeps an old index alive
            me = weakref.ref(self)

            def answer(generation: int, question: str, history: tuple, top_k: int) -> dict:
                return me().answerer.ask(question, list(history), top_k)  # type: ignore[union-attr]

            self._cached = lru_cache(maxsize=cache_size)(answer)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        extra_questions: list[tuple[str, str]] | None = None,
        calibration: Calibration | None = None,
        index_dir: Path | None = None,
        build_in_child: bool = False,
        cache_size: int = ANSWER_CACHE,
    ) -> Assistant:
        """Read and index a corpus (a file or folder; the bundled article by default).

        ``extra_questions`` are taught (passage id, question) pairs added to the curated ones.
        With ``index_dir``, a snapshot there is used while it is fresh, and (re)written when it
        is not; with ``build_in_child`` too, that build runs in a child process, so a server
        never holds the builder's memory (scikit-learn, HTML parsing) afterwards.
        ``cache_size`` replies to repeated questions are kept (0: none; see ``ask``).
        Raises CorpusError naming the file when the corpus cannot be read.
        """
        corpus = Path(path) if path else bundled("corpus")
        params = Index().get_params()
        folder = fp = None
        loaded = None
        if index_dir is not None:
            folder = snapshot.folder_for(Path(index_dir), corpus)
            fp = snapshot.fingerprint(corpus, params)
            loaded = snapshot.load(folder, fp)
            if loaded is None and build_in_child:
                _build_in_child(corpus, Path(index_dir))
                loaded = snapshot.load(folder, fp)
        if loaded is not None:
            docs, index = loaded
            curation = load_curation(corpus, docs)
            passages = [p for d in docs for p in d.passages]
            index.set_alternates(cls._alternates(passages, curation, extra_questions))
        else:
            docs = load_corpus(corpus)
            curation = load_curation(corpus, docs)
            passages = [p for d in docs for p in d.passages]
            index = Index(**params).fit(
                [p.text for p in passages],
                cls._alternates(passages, curation, extra_questions),
                curation.expansions,
                curation.synonyms,
            )
            if folder is not None and fp is not None:
                try:
                    snapshot.save(folder, docs, index, fp)
                except OSError as exc:  # a read-only disk costs only the next start's time
                    log.warning("could not save the index snapshot in %s: %s", folder, exc)
        title = docs[0].title if len(docs) == 1 else "the documentation"
        answerer = Answerer(index, passages, calibration, title=title)
        bot = cls(corpus, docs, curation, index, answerer, cache_size=cache_size)
        bot.taught = list(extra_questions or [])
        return bot

    @staticmethod
    def _alternates(
        passages: list[Passage], curation: Curation, extra: list[tuple[str, str]] | None
    ) -> list[tuple[int, str]]:
        position = {p.id: i for i, p in enumerate(passages)}
        taught = [(position[pid], q) for pid, q in (extra or []) if pid in position]
        return [*curation.alternates, *taught]

    @property
    def passages(self) -> list[Passage]:
        """All passages, in corpus order."""
        return self.answerer.passages

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with this id, if any."""
        return next((p for p in self.passages if p.id == passage_id), None)

    def set_taught(self, taught: list[tuple[str, str]]) -> None:
        """Replace the taught phrasings (passage id, question); takes effect at once."""
        self.taught = list(taught)
        self.index.set_alternates(self._alternates(self.passages, self.curation, taught))
        self._generation += 1  # after the swap: replies cached from now on see the new ones
        if self._cached is not None:
            self._cached.cache_clear()

    def ask(
        self, question: str, history: list[str] | None = None, top_k: int = 3
    ) -> dict[str, Any]:
        """Answer a question: a dict of the same shape as POST /api/ask's reply.

        A question asked again with the same history is answered from a cache of the last
        ``cache_size`` replies (thread-safe); each call gets its own copy of the reply."""
        if self._cached is None:
            return self.answerer.ask(question, list(history or ()), top_k)
        reply = self._cached(self._generation, question, tuple(history or ()), top_k)
        return {
            **reply,
            "answers": [{**a, "matched_terms": list(a["matched_terms"])} for a in reply["answers"]],
            "suggestions": list(reply["suggestions"]),
        }

    def cache_info(self) -> Any:
        """Hits, misses and size of the reply cache (None when it is off)."""
        return self._cached.cache_info() if self._cached is not None else None


def _build_snapshot(corpus: Path, index_dir: Path) -> None:
    """Read, index and save a corpus's snapshot (the child process's whole job)."""
    Assistant.load(corpus, index_dir=index_dir)


def _build_in_child(corpus: Path, index_dir: Path) -> None:
    """Build the snapshot in a fresh process; a CorpusError there is raised here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_build_snapshot, corpus, index_dir).result()
