"""Curated extras beside the documents: alternate questions per passage and the glossary.

- ``<document>.questions.toml`` beside a document: ``[[passage]]`` tables with a ``phrase``
  (verbatim text of one passage) and the ``questions`` visitors ask that it answers.
- ``glossary.toml`` (or ``*.glossary.toml``) in the corpus folder: ``[synonyms]`` and
  ``[norwegian]`` tables mapping a visitor's word or phrase to words the documents use.

Both are plain, reviewable files; a phrase that matches no passage, or several, is an error
that names the file, so that editing the article cannot silently orphan curated questions.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import CorpusError, Document, document_files
from .text import normalize


@dataclass
class Curation:
    """Alternate questions as (passage index, question) and query expansions."""

    alternates: list[tuple[int, str]] = field(default_factory=list)
    expansions: dict[str, list[str]] = field(default_factory=dict)  # translations
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # related words


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: not a readable TOML file ({exc})") from None


def _questions_file(doc: Document) -> Path:
    return doc.path.with_name(doc.path.stem + ".questions.toml")


def _glossary_files(corpus: Path) -> list[Path]:
    folder = corpus if corpus.is_dir() else corpus.parent
    return sorted(p for p in folder.glob("*glossary.toml") if p.is_file())


def load_curation(corpus: Path, docs: list[Document]) -> Curation:
    """Read the curated files that go with the documents of a corpus."""
    cur = Curation()
    offset = 0
    for doc in docs:
        qfile = _questions_file(doc)
        if qfile.is_file():
            texts = [normalize(p.text).lower() for p in doc.passages]
            for entry in _load_toml(qfile).get("passage", []):
                phrase = normalize(str(entry.get("phrase", ""))).lower()
                hits = [i for i, t in enumerate(texts) if phrase and phrase in t]
                if len(hits) != 1:
                    what = "no passage" if not hits else f"{len(hits)} passages"
                    raise CorpusError(f"{qfile}: phrase {entry.get('phrase')!r} matches {what}")
                for q in entry.get("questions", []):
                    if isinstance(q, str) and q.strip():
                        cur.alternates.append((offset + hits[0], q.strip()))
        offset += len(doc.passages)
    for gfile in _glossary_files(Path(corpus)):
        data = _load_toml(gfile)
        for table, target in (("synonyms", cur.synonyms), ("norwegian", cur.expansions)):
            for key, values in data.get(table, {}).items():
                values = [values] if isinstance(values, str) else list(values)
                target.setdefault(normalize(key).lower(), []).extend(str(v) for v in values)
    return cur


__all__ = ["Curation", "load_curation", "document_files"]
