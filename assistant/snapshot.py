"""A built corpus on disk: passages as JSON and index arrays as .npz — never pickle, which would
run code on load. A snapshot is used only while its fingerprint (every document and curated
file's path, size and modification time, the index parameters and the package version) still
matches; otherwise the corpus is read and indexed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .corpus import Document, Passage, document_files
from .index import Index

FORMAT = 11  # bump whenever Index.get_state's layout, or how texts are read (stop words), changes


def _curated_files(corpus: Path) -> list[Path]:
    folder = corpus if corpus.is_dir() else corpus.parent
    return sorted(p for p in folder.rglob("*.toml") if p.is_file())


def fingerprint(corpus: Path, params: dict) -> str:
    """What a snapshot was built from: files (path, size, mtime), parameters, code version."""
    from . import __version__

    h = hashlib.sha256(json.dumps([FORMAT, __version__, params], default=str).encode())
    for f in [*document_files(corpus), *_curated_files(corpus)]:
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def folder_for(base: Path, corpus: Path) -> Path:
    """The snapshot folder of one corpus under the index directory."""
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:16]
    return base / key


def save(folder: Path, docs: list[Document], index: Index, fp: str) -> None:
    """Write the snapshot atomically: a half-written one is never read."""
    arrays, meta = index.get_state()
    documents = [
        {
            "doc_id": d.doc_id,
            "title": d.title,
            "path": str(d.path),
            "language": d.language,
            "passages": [[p.id, p.position, p.text, p.section] for p in d.passages],
        }
        for d in docs
    ]
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        np.savez(tmp / "index.npz", **arrays)
        data = {"format": FORMAT, "fingerprint": fp, "documents": documents, "index": meta}
        (tmp / "snapshot.json").write_text(json.dumps(data, ensure_ascii=False))
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load(folder: Path, fp: str) -> tuple[list[Document], Index] | None:
    """The snapshot's documents and index, or None when it is missing, stale or unreadable."""
    try:
        data = json.loads((folder / "snapshot.json").read_text())
        if data.get("format") != FORMAT or data.get("fingerprint") != fp:
            return None
        with np.load(folder / "index.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, KeyError):
        return None
    try:
        docs = []
        for d in data["documents"]:
            doc = Document(d["doc_id"], d["title"], Path(d["path"]), d["language"])
            doc.passages = [
                Passage(pid, d["title"], d["doc_id"], pos, text, section)
                for pid, pos, text, section in d["passages"]
            ]
            docs.append(doc)
        return docs, Index.from_state(arrays, data["index"])
    except (KeyError, ValueError, TypeError, IndexError):  # written by another layout: rebuild
        return None
