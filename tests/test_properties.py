"""Properties of ingestion and of the answer module, on arbitrary text (hypothesis).

Run with ``--hypothesis-show-statistics`` to see how many examples each property tried.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ARTICLE
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from assistant import Assistant
from assistant.corpus import Block, CorpusError, clean_blocks, load_document

# No example database (nothing written into the checkout), no per-example deadline (a loaded
# CI machine is slow at times); the whole file stays well under a minute.
COMMON = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}

# Words of the bundled article, so that generated text also reaches the "answered" paths,
# plus markup, punctuation and scripts that documents and visitors throw at the readers.
ARTICLE_WORDS = sorted(set(re.findall(r"[A-Za-z][A-Za-z'-]{2,}", ARTICLE.read_text("utf-8"))))
ODD_WORDS = [
    "#", "##", "-", "*", "1.", ">", "```", "<p>", "</p>", "<div>", "<script>alert(1)</script>",
    "<h2>", "</h2>", "<li>", "&amp;", "&#0;", "[link](http://x.y)", "http://example.com/a?b=c",
    "©", "é", "日本語", "🙂", "\u200b", "\u00a0", "\ufeff", "\t", "…", "—", "?", "!", ".",
    "Photo by Jane Doe on Unsplash", "March 3, 2025", "4 min read", "Contact us today!",
    "and", "what", "about", "it", "hi", "thanks",
]  # fmt: skip
word = st.one_of(
    st.sampled_from(ARTICLE_WORDS),
    st.sampled_from(ODD_WORDS),
    st.text(min_size=1, max_size=15),
)
sentence = st.lists(word, min_size=1, max_size=40).map(" ".join)
document = st.lists(
    st.tuples(sentence, st.sampled_from(["\n", "\n\n", " ", "\r\n", "\n\n\n"])), max_size=40
).map(lambda parts: "".join(text + sep for text, sep in parts))
any_text = st.one_of(st.text(max_size=3000), document)


def trimmed_length_ok(text: str) -> bool:
    return 1 <= len(text.strip()) <= 1000


question = st.one_of(st.text(min_size=1, max_size=1000), sentence.map(lambda s: s[:1000])).filter(
    trimmed_length_ok
)
history = st.lists(st.one_of(st.text(max_size=1000), sentence.map(lambda s: s[:1000])), max_size=10)


# ---------------------------------------------------------------- ingestion


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property-docs")


def check_document(path: Path) -> None:
    """load_document raises nothing but CorpusError, and its ids are unique and stable."""
    try:
        doc = load_document(path)
    except CorpusError as exc:
        assert path.name in str(exc)  # the message names the file
        event("CorpusError")
        return
    event("no passages" if not doc.passages else "passages")
    ids = [p.id for p in doc.passages]
    assert len(set(ids)) == len(ids)
    assert [p.position for p in doc.passages] == list(range(len(ids)))
    assert all(p.text.strip() and p.id.startswith(f"{doc.doc_id}#p") for p in doc.passages)
    again = load_document(path)
    assert [(p.id, p.text) for p in again.passages] == [(p.id, p.text) for p in doc.passages]


@settings(max_examples=300, **COMMON)
@given(text=any_text, suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_load_document_on_any_text(folder: Path, text: str, suffix: str) -> None:
    path = folder / f"any{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_document(path)


def test_html_with_control_characters_is_read_not_crashed(folder: Path) -> None:
    """Found by test_load_document_on_any_text: lxml raised ValueError dropping an element
    after a control character; such characters are now read as spaces."""
    path = folder / "control.html"
    path.write_text("\x08<SCRIPT></SCRIPT>0 and four more words<p>A para\x0bgraph here.</p>")
    doc = load_document(path)
    assert [p.text for p in doc.passages] == ["A para graph here."]


@settings(max_examples=100, **COMMON)
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_load_document_on_any_bytes(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"bytes{suffix}"
    path.write_bytes(data)
    check_document(path)


block = st.builds(
    Block,
    text=st.one_of(st.text(max_size=300), sentence),
    kind=st.sampled_from(["p", "li", "h"]),
    section=st.none() | st.text(max_size=30),
)


@settings(max_examples=300, **COMMON)
@given(blocks=st.lists(block, max_size=40))
def test_clean_blocks_keeps_a_subset_in_order(blocks: list[Block]) -> None:
    originals = list(blocks)
    kept, language = clean_blocks(blocks)
    assert isinstance(language, str)
    positions = [next(i for i, b in enumerate(originals) if b is k) for k in kept]
    assert positions == sorted(positions)  # a subset of the blocks, in their order
    assert all(k.text for k in kept)


# ---------------------------------------------------------------- answers


@settings(max_examples=400, **COMMON)
@given(q=question, earlier=history, top_k=st.integers(1, 10))
def test_ask_on_any_question(bot: Assistant, q: str, earlier: list[str], top_k: int) -> None:
    reply = bot.ask(q, earlier, top_k)
    event("answered" if reply["answered"] else "not answered")
    assert 0.0 <= reply["confidence"] <= 1.0
    assert len(reply["answers"]) <= top_k
    if reply["answered"]:
        assert reply["answers"]
        assert not reply["message"]
    else:
        assert reply["message"]
    ids = {p.id for p in bot.passages}
    for answer in reply["answers"]:
        assert answer["id"] in ids
        assert 0.0 <= answer["score"] <= 1.0
    scores = [a["score"] for a in reply["answers"]]
    assert scores == sorted(scores, reverse=True)  # best first
    assert bot.ask(q, list(earlier), top_k) == reply  # deterministic
