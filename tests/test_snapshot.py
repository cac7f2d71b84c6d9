"""Index snapshots: saved as arrays + JSON, used while fresh, rebuilt when the corpus changes."""

from __future__ import annotations

import json
import os

import numpy as np

from assistant import Assistant, snapshot
from assistant.cli import main
from assistant.index import Index

DOC = """Green tea is steamed or pan-fired soon after picking to stop oxidation.
Black tea is fully oxidised before it is dried, which gives it a darker colour.
Oolong sits between the two and is only partly oxidised by the tea master.
"""


def test_a_snapshot_answers_exactly_like_the_built_index(bot):
    arrays, meta = bot.index.get_state()
    json.dumps(meta)  # plain JSON, no objects
    assert all(isinstance(a, np.ndarray) and a.dtype != object for a in arrays.values())
    again = Index.from_state(arrays, meta, bot.index.alternates_)
    for q in ("flsk for microservices", "Hva er FastAPI?", "securty in djano", "pizza"):
        a, b = bot.index.search(bot.index.parse(q), k=3), again.search(again.parse(q), k=3)
        assert a.indices.tolist() == b.indices.tolist()
        assert np.allclose(a.scores, b.scores)
    # the names follow-ups swap ("and Flask?" after Django) come with it, not recomputed
    assert (
        again.proper_nouns_ == bot.index.proper_nouns_
        and {"django", "flask"} <= again.proper_nouns_
    )


def test_serving_starts_from_a_fresh_snapshot_and_rebuilds_a_stale_one(write, tmp_path):
    path = write("tea.txt", DOC)
    first = Assistant.load(path, index_dir=tmp_path / "ix")
    folder = snapshot.folder_for(tmp_path / "ix", path)
    assert (folder / "index.npz").is_file() and (folder / "snapshot.json").is_file()
    stamp = (folder / "snapshot.json").stat().st_mtime_ns

    second = Assistant.load(path, index_dir=tmp_path / "ix")  # fresh: read, not rebuilt
    assert (folder / "snapshot.json").stat().st_mtime_ns == stamp
    assert [p.id for p in second.passages] == [p.id for p in first.passages]
    assert second.ask("what is oolong?") == first.ask("what is oolong?")

    path.write_text(DOC + "White tea is made from young leaves and buds, barely processed.\n")
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    third = Assistant.load(path, index_dir=tmp_path / "ix")
    assert len(third.passages) == 4
    assert "White tea" in third.ask("what is white tea?")["answers"][0]["text"]


def test_a_damaged_snapshot_is_rebuilt_not_trusted(write, tmp_path):
    path = write("tea.txt", DOC)
    Assistant.load(path, index_dir=tmp_path / "ix")
    folder = snapshot.folder_for(tmp_path / "ix", path)
    (folder / "index.npz").write_bytes(b"not an npz file")
    bot = Assistant.load(path, index_dir=tmp_path / "ix")
    assert "Oolong" in bot.ask("oolong")["answers"][0]["text"]


def test_index_command_builds_the_snapshot(capsys, monkeypatch, write, tmp_path):
    path = write("tea.txt", DOC)
    monkeypatch.setenv("ASSISTANT_CORPUS", str(path))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "ix"))
    assert main(["index"]) == 0
    assert "3 passages from 1 documents" in capsys.readouterr().out
    assert (snapshot.folder_for(tmp_path / "ix", path) / "index.npz").is_file()
    assert main(["index", "--force"]) == 0


def test_a_server_builds_in_a_child_and_never_imports_the_builder(write, tmp_path):
    import subprocess
    import sys

    path = write("tea.txt", DOC)
    code = (
        "import sys; from pathlib import Path; from assistant import Assistant;"
        f"b = Assistant.load(Path({str(path)!r}), index_dir=Path({str(tmp_path / 'ix')!r}),"
        " build_in_child=True);"
        "assert 'Oolong' in b.ask('what is oolong?')['answers'][0]['text'];"
        "print(any(m.startswith('sklearn') for m in sys.modules), 'wordfreq' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_broken_corpus_fails_the_child_build_with_the_files_name(write, tmp_path):
    import pytest

    from assistant import CorpusError

    bad = write("bad.txt", b"\xff\xfe\x00")
    with pytest.raises(CorpusError, match="bad.txt"):
        Assistant.load(bad, index_dir=tmp_path / "ix", build_in_child=True)
