"""Ingestion: readers, cleaning rules, ids, bad files."""

from __future__ import annotations

import re

import pytest
from conftest import ARTICLE

from assistant.corpus import CorpusError, load_corpus, load_document, split_long

MADE_UP = """\
Bygg noe stort med oss i dag.
Anna Berg
March 3, 2025 • 4 min read

Rust for embedded turns firmware into safe and fast code.
Rust gives embedded developers memory safety without a garbage collector, which matters on small chips with little RAM.
Sunset over the lab. Photo by Jane Doe on Unsplash: https://unsplash.com/photos/abc
Bygg noe stort med oss i dag.
The borrow checker catches data races at compile time, so concurrency bugs do not reach the field.
Contact us today!
Tooling such as cargo and probe-rs makes flashing and debugging boards routine for a small team.
Anna Berg
I write about embedded systems and drink a lot of coffee while doing it.
"""


def texts(path):
    return [p.text for d in load_corpus(path) for p in d.passages]


def test_bundled_article_keeps_one_passage_per_real_paragraph():
    passages = texts(ARTICLE)
    assert 45 <= len(passages) <= 50
    joined = "\n".join(passages)
    for debris in (
        "Unsplash",
        "min read",
        "Luis Lambert",
        "La oss bygge",
        "Stol på",
        "Jeg er multimediedesigner",
        "Kontakt Lasting Dynamics",
        "Forvandle dristige",
        # the two pull quotes (one unpunctuated sentence restating the article)
        "With Python for backend, you can transform complex ideas",
        "Python for backend empowers developers and businesses",
    ):
        assert debris not in joined
    # the five FAQ answers at the end are content
    assert any(p.startswith("Yes. Python's frameworks provide built-in security") for p in passages)
    assert any(
        p.startswith("Django, Flask, and FastAPI are among the top choices") for p in passages
    )


def test_made_up_article_with_the_same_debris_is_cleaned(write):
    passages = texts(write("rust-for-embedded.txt", MADE_UP))
    assert passages == [
        "Rust for embedded turns firmware into safe and fast code.",
        "Rust gives embedded developers memory safety without a garbage collector, which matters on small chips with little RAM.",
        "The borrow checker catches data races at compile time, so concurrency bugs do not reach the field.",
        "Tooling such as cargo and probe-rs makes flashing and debugging boards routine for a small team.",
    ]


PARAGRAPHS = [
    f"Paragraph {i} of the guide explains one more step of brewing coffee at home, "
    f"with the grind, the water and the time it takes, in plain words."
    for i in range(10)
]
PULL_QUOTE = (
    "With a good grinder and fresh beans you can brew coffee at home that rivals "
    "your favourite cafe while saving money every single morning"
)


def test_a_pull_quote_in_plain_text_is_dropped_but_not_in_html(write):
    text = "\n".join([*PARAGRAPHS[:5], PULL_QUOTE, *PARAGRAPHS[5:]])
    assert texts(write("coffee.txt", text)) == PARAGRAPHS
    html = "".join(f"<p>{p}</p>" for p in [*PARAGRAPHS[:5], PULL_QUOTE, *PARAGRAPHS[5:]])
    assert PULL_QUOTE in texts(write("coffee.html", f"<html><body>{html}</body></html>"))


def test_a_text_written_without_final_stops_keeps_its_paragraphs(write):
    unfinished = [p.rstrip(".") for p in PARAGRAPHS]
    assert texts(write("notes.txt", "\n".join(unfinished))) == unfinished


def test_document_title_slug_and_positions(write):
    doc = load_document(write("rust-for-embedded.txt", MADE_UP))
    assert doc.title == "Rust for Embedded"
    assert doc.doc_id == "rust-for-embedded"
    assert [p.position for p in doc.passages] == [0, 1, 2, 3]
    assert all(re.fullmatch(r"rust-for-embedded#p[0-9a-f]{8}", p.id) for p in doc.passages)
    assert doc.passages[0].url == f"/article/{doc.passages[0].id}"


def test_ids_survive_changes_to_other_paragraphs(write):
    before = {p.text: p.id for p in load_document(write("a.txt", MADE_UP)).passages}
    edited = MADE_UP.replace(
        "Rust for embedded turns",
        "New opening paragraph here, long enough to count.\nRust for embedded turns",
    )
    edited = edited.replace(
        "The borrow checker catches data races at compile time",
        "The borrow checker stops data races early",
    )
    after = {p.text: p.id for p in load_document(write("a.txt", edited)).passages}
    unchanged = set(before) & set(after)
    assert len(unchanged) == 3
    assert all(before[t] == after[t] for t in unchanged)


def test_long_paragraphs_are_split_at_sentences():
    sentence = "This sentence has exactly ten words in it for testing. "
    chunks = split_long(sentence * 30)
    assert len(chunks) == 3
    assert all(c.endswith(".") and len(c.split()) <= 120 for c in chunks)


def test_markdown_headings_become_sections(write):
    path = write(
        "guide.md",
        "# Deploying\n\n## Docker\n\nBuild the image with the Dockerfile in deploy.\n\n"
        "- Run the container as a non-root user always.\n\n## Kubernetes\n\nApply the manifest with kubectl apply.\n",
    )
    doc = load_document(path)
    assert doc.title == "Deploying"
    assert [(p.section, p.text) for p in doc.passages] == [
        ("Docker", "Build the image with the Dockerfile in deploy."),
        ("Docker", "Run the container as a non-root user always."),
        ("Kubernetes", "Apply the manifest with kubectl apply."),
    ]


def test_html_reads_paragraphs_list_items_and_headings_of_the_main_content(write):
    path = write(
        "page.html",
        """<html><head><title>Page title</title><script>var x = 1;</script></head>
    <body><nav><p>Home About Contact Blog</p></nav>
    <main><h1>Async in Python</h1><h2>Event loop</h2><p>The event loop runs <b>one task</b> at a time.</p>
    <ul><li>Use asyncio.run to start the loop.</li></ul><pre>code block here not a passage</pre></main>
    <footer><p>Copyright 2026 Example Company Inc.</p></footer></body></html>""",
    )
    doc = load_document(path)
    assert doc.title == "Async in Python"
    assert [(p.section, p.text) for p in doc.passages] == [
        ("Event loop", "The event loop runs one task at a time."),
        ("Event loop", "Use asyncio.run to start the loop."),
    ]


def test_a_folder_is_read_recursively_and_build_folders_are_skipped(write):
    write("a.txt", "Alpha paragraph with enough words to count as content.\n")
    write("sub/b.md", "Beta paragraph with enough words to count as content.\n")
    write("_sources/c.txt", "Gamma paragraph that is a build artefact and must be skipped.\n")
    folder = write(
        "sub/c.html", "<p>Gamma paragraph with enough words to count as content.</p>"
    ).parents[1]
    docs = load_corpus(folder)
    assert [d.doc_id for d in docs] == ["a", "sub/b", "sub/c"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("latin1.txt", "Caf\xe9 society and more words".encode("latin-1"), "not UTF-8"),
        ("empty.txt", "   \n\n", "empty"),
        ("slides.pdf", "%PDF-1.4", "unknown document type"),
    ],
)
def test_a_bad_file_is_an_error_naming_it(write, name, content, reason):
    path = write(name, content)
    with pytest.raises(CorpusError, match=reason) as err:
        load_corpus(path)
    assert name in str(err.value)


def test_a_bad_file_inside_a_folder_is_not_skipped(write):
    write("good.txt", "A good paragraph with plenty of words in it.\n")
    bad = write("bad.txt", b"\xff\xfe broken")
    with pytest.raises(CorpusError, match="bad.txt"):
        load_corpus(bad.parent)


def test_empty_folder_and_missing_path_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no documents"):
        load_corpus(tmp_path / "empty")
    with pytest.raises(CorpusError, match="no such file"):
        load_corpus(tmp_path / "missing.txt")


def _mixed_folder(write, n=24):
    """Documents of every type, with shared and repeated paragraphs, nested HTML blocks."""
    words = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega".split()
    for i in range(n):
        para = " ".join(words[(i + k) % len(words)] for k in range(9)).capitalize() + "."
        shared = "This paragraph appears in every document of the folder, word for word."
        if i % 3 == 0:
            write(f"d{i:02}.txt", f"{para}\n\n{shared}\n\n{para}\n")
        elif i % 3 == 1:
            write(f"sub/d{i:02}.md", f"# Doc {i}\n\n## Part\n\n{para}\n\n- {shared}\n")
        else:
            write(
                f"sub/deeper/d{i:02}.html",
                f"<html><title>Doc {i}</title><main><h2>Part {i}</h2><p>{para}</p>"
                f"<ul><li><p>{shared}</p><pre>x = {i}</pre> and a tail.</li></ul></main></html>",
            )
    return write("d00.txt", f"{para}\n\n{shared}\n").parent


def test_reading_in_worker_processes_gives_the_same_documents(write):
    folder = _mixed_folder(write)
    sequential = load_corpus(folder, workers=1)
    assert len(sequential) == 24 and sum(len(d.passages) for d in sequential) > 40
    assert load_corpus(folder, workers=2) == sequential
    assert load_corpus(folder, workers=5) == sequential
    assert load_corpus(folder) == sequential  # few files: read in this process


def test_reading_in_worker_processes_from_a_thread(write):
    """A server reloads from a thread: the pool then spawns rather than forks."""
    import threading

    folder = _mixed_folder(write, 6)
    out = {}
    thread = threading.Thread(target=lambda: out.update(docs=load_corpus(folder, workers=2)))
    thread.start()
    thread.join()
    assert out["docs"] == load_corpus(folder, workers=1)


def test_reading_in_worker_processes_raises_the_first_bad_file(write):
    folder = _mixed_folder(write)
    write("d07.txt", b"\xff\xfe broken")  # before the later bad file in reading order
    write("sub/deeper/zz.html", "   ")
    with pytest.raises(CorpusError) as sequential:
        load_corpus(folder, workers=1)
    with pytest.raises(CorpusError) as parallel:
        load_corpus(folder, workers=2)
    assert "d07.txt" in str(sequential.value)
    assert str(parallel.value) == str(sequential.value)
