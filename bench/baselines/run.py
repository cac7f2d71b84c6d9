"""Three baseline retrievers over our passages, judged exactly as `assistant eval` judges us.

    .venv/bin/python bench/baselines/run.py [--no-embed]

Passages: `Assistant.load().passages` (the texts we answer from). Each baseline scores every
passage for a question (the question alone: baselines are single-turn, follow-ups get no
history), answers with the top 3 (ties broken by article order), and counts as answered when
its top score is at least a threshold. The threshold is tuned on the dev set only and then
applied unchanged to the holdout set. Judging: `assistant.evaluation.evaluate`.

1. tfidf: scikit-learn `TfidfVectorizer()` with its defaults fitted on the passages, cosine.
2. bm25: bm25s (defaults: Lucene BM25, k1 1.5, b 0.75), English Snowball stemmer (PyStemmer),
   English stop words.
3. minilm: all-MiniLM-L6-v2 sentence embeddings, cosine; computed by embed.py in the separate
   venv bench/baselines/.venv-embed (torch stays out of the project venv; setup_embed.sh).

Writes bench/baselines/results.json and prints one markdown table per question set.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import article_lines, evaluate, load_questions  # noqa: E402

ARTICLE = ROOT / "corpus" / "python-for-backend.txt"
SETS = {
    "dev": Path("/work/shared/eval/dev.jsonl"),
    "holdout": ROOT / "bench" / "questions" / "holdout.jsonl",
    "norwegian": ROOT / "bench" / "questions" / "norwegian.jsonl",
    "fresh": ROOT / "bench" / "questions" / "fresh.jsonl",
    "fresh_c": ROOT / "bench" / "questions" / "fresh_c.jsonl",
    "fresh_d": ROOT / "bench" / "questions" / "fresh_d.jsonl",
    "fresh_e": ROOT / "bench" / "questions" / "fresh_e.jsonl",
    "fresh_f": ROOT / "bench" / "questions" / "fresh_f.jsonl",
    "fresh_g": ROOT / "bench" / "questions" / "fresh_g.jsonl",
    "fresh_h": ROOT / "bench" / "questions" / "fresh_h.jsonl",
    "fresh_i": ROOT / "bench" / "questions" / "fresh_i.jsonl",
    "fresh_j": ROOT / "bench" / "questions" / "fresh_j.jsonl",
    "fresh_k": ROOT / "bench" / "questions" / "fresh_k.jsonl",
    "fresh_l": ROOT / "bench" / "questions" / "fresh_l.jsonl",
}
TUNE_ON = "dev"
EMBED_PY = HERE / ".venv-embed" / "bin" / "python"
OUT = HERE / "results.json"
TOP_K = 3
METHODS = {
    "tfidf": "TF-IDF (sklearn defaults), cosine",
    "bm25": "BM25 (bm25s, English stemmer + stop words)",
    "minilm": "all-MiniLM-L6-v2 embeddings, cosine",
}

Scorer = Callable[[Sequence[str], Sequence[str]], np.ndarray]


# ---------------------------------------------------------------- the three scorers


def tfidf_scores(passages: Sequence[str], queries: Sequence[str]) -> np.ndarray:
    """Cosine of each query's TF-IDF vector with each passage's (rows are L2-normalised)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer()
    p = vec.fit_transform(passages)
    q = vec.transform(queries)
    return (q @ p.T).toarray().astype(np.float64)


def bm25_scores(passages: Sequence[str], queries: Sequence[str]) -> np.ndarray:
    """bm25s scores of every passage; query words the passages never use score nothing."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    corpus = bm25s.tokenize(list(passages), stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    qtoks = bm25s.tokenize(
        list(queries), stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
    )
    out = np.zeros((len(queries), len(passages)), dtype=np.float64)
    for i, toks in enumerate(qtoks):
        known = [t for t in toks if t and t in retriever.vocab_dict]
        if known:
            out[i] = retriever.get_scores(known)
    return out


def minilm_scores(passages: Sequence[str], queries: Sequence[str]) -> tuple[np.ndarray, dict]:
    """Cosine of all-MiniLM-L6-v2 embeddings, computed by embed.py in the embedding venv."""
    if not EMBED_PY.exists():
        raise RuntimeError(f"{EMBED_PY} is missing: run bench/baselines/setup_embed.sh first")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="baselines-") as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps({"passages": list(passages), "queries": list(queries)}))
        proc = subprocess.run(
            [str(EMBED_PY), str(HERE / "embed.py"), str(src), str(dst)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"embed.py exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        data = json.loads(dst.read_text())
    scores = np.asarray(data["scores"], dtype=np.float64)
    if scores.shape != (len(queries), len(passages)):
        raise RuntimeError(f"embed.py returned shape {scores.shape}")
    return scores, data["info"]


# ---------------------------------------------------------------- answering and judging


def rankings(scores: np.ndarray) -> list[list[int]]:
    """Top-k passage indices per query: highest score first, ties in article order."""
    n = scores.shape[1]
    return [sorted(range(n), key=lambda j, row=row: (-row[j], j))[:TOP_K] for row in scores]


def judge(
    questions: list[dict], scores: np.ndarray, passages: Sequence[str], threshold: float, lines
) -> dict:
    """`evaluate` over precomputed scores: answered when the top score >= threshold."""
    ranked = rankings(scores)
    calls = iter(range(len(questions)))

    def ask(question: str, history: list[str]) -> dict[str, Any]:
        i = next(calls)
        assert questions[i]["question"] == question, "evaluate asked out of order"
        top = float(scores[i, ranked[i][0]])
        return {
            "answered": top >= threshold,
            "confidence": top,
            "answers": [{"text": passages[j]} for j in ranked[i]],
        }

    return evaluate(ask, questions, lines)


def candidate_thresholds(top_scores: Sequence[float]) -> list[float]:
    """Every distinct decision on these top scores: answer all, each midpoint, refuse all."""
    u = sorted(set(top_scores))
    mids = [(a + b) / 2 for a, b in zip(u, u[1:], strict=False)]
    return [u[0], *mids, math.nextafter(u[-1], math.inf)]


def tune(questions, scores, passages, lines) -> tuple[float, list[dict]]:
    """The threshold with the best dev score; ties go to the lowest (the one answering most)."""
    tops = [float(row.max()) for row in scores]
    curve = []
    for t in candidate_thresholds(tops):
        r = judge(questions, scores, passages, t, lines)
        curve.append(
            {"threshold": t, "score": r["score"], "answered": sum(1 for s in tops if s >= t)}
        )
    best = max(c["score"] for c in curve)
    return next(c["threshold"] for c in curve if c["score"] == best), curve


# ---------------------------------------------------------------- tables


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def table(set_name: str, rows: dict[str, dict], questions: list[dict]) -> str:
    """Markdown: the headline columns, then per-kind scores (question counts in the header)."""
    n = len(questions)
    counts = Counter(q["kind"] for q in questions)
    kinds = sorted(counts)
    head = [
        "method",
        "overall",
        "right passage first",
        "out-of-scope refused",
        "in-scope unanswered",
        "mrr@3",
        "threshold",
    ]
    out = [f"### {set_name} ({n} questions)", "", "| " + " | ".join(head) + " |"]
    out.append("|" + "---|" * len(head))
    for name, r in rows.items():
        if "report" not in r:
            out.append(f"| {name} | failed: {r['error'].splitlines()[0][:80]} |" + " |" * 5)
            continue
        rep = r["report"]
        out.append(
            f"| {name} | {pct(rep['score'])} | {pct(rep['hit1_inscope'])} | "
            f"{pct(rep['oos_rejected'])} | {pct(rep['inscope_unanswered'])} | "
            f"{rep['mrr3_inscope']:.3f} | {r['threshold']:.4f} |"
        )
    kind_head = " | ".join(f"{k} ({counts[k]})" for k in kinds)
    out += ["", f"| method | {kind_head} |", "|" + "---|" * (len(kinds) + 1)]
    for name, r in rows.items():
        if "report" in r:
            bk = r["report"]["by_kind"]
            out.append(
                f"| {name} | " + " | ".join(pct(bk[k]) if k in bk else "-" for k in kinds) + " |"
            )
    return "\n".join(out)


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-embed", action="store_true", help="skip the MiniLM baseline")
    args = ap.parse_args()

    from assistant import Assistant

    bot = Assistant.load()
    passages = [p.text for p in bot.passages]
    lines = article_lines(ARTICLE)
    qsets = {name: load_questions(path) for name, path in SETS.items()}
    # one list of distinct question texts across both sets: each scorer runs once
    queries = list(dict.fromkeys(q["question"] for qs in qsets.values() for q in qs))
    where = {text: i for i, text in enumerate(queries)}

    scorers: dict[str, Callable[[], tuple[np.ndarray, dict]]] = {
        "tfidf": lambda: (tfidf_scores(passages, queries), {}),
        "bm25": lambda: (bm25_scores(passages, queries), {}),
    }
    if not args.no_embed:
        scorers["minilm"] = lambda: minilm_scores(passages, queries)

    results: dict[str, Any] = {
        "passages": len(passages),
        "article": str(ARTICLE.relative_to(ROOT)),
        "sets": {name: {"path": str(p), "n": len(qsets[name])} for name, p in SETS.items()},
        "top_k": TOP_K,
        "threshold_rule": (
            f"answered iff top score >= threshold; threshold maximises the {TUNE_ON} score "
            "over every distinct decision (midpoints between sorted top scores), ties to the "
            "lowest; the same threshold is applied to every set"
        ),
        "methods": {},
    }
    per_set: dict[str, dict[str, dict]] = {name: {} for name in SETS}
    failed = False
    for name, make in scorers.items():
        try:
            all_scores, info = make()
        except Exception as exc:  # report it, keep the other baselines
            failed = True
            msg = f"{type(exc).__name__}: {exc}"
            print(f"{name} failed: {msg}", file=sys.stderr)
            results["methods"][name] = {"description": METHODS[name], "error": msg}
            for name_set in SETS:
                per_set[name_set][name] = {"error": msg}
            continue
        by_set = {s: all_scores[[where[q["question"]] for q in qs]] for s, qs in qsets.items()}
        threshold, curve = tune(qsets[TUNE_ON], by_set[TUNE_ON], passages, lines)
        entry: dict[str, Any] = {
            "description": METHODS[name],
            "threshold": threshold,
            "info": info,
            "tuning_curve": curve,
            "sets": {},
        }
        for s, qs in qsets.items():
            rep = judge(qs, by_set[s], passages, threshold, lines)
            rep.pop("latency_ms_p50", None)  # precomputed scores: not a latency
            # answering everything: the ranking alone, without the refusal decision
            rep_all = judge(qs, by_set[s], passages, -math.inf, lines)
            rep["hit1_inscope_answer_all"] = rep_all["hit1_inscope"]
            entry["sets"][s] = rep
            per_set[s][name] = {"report": rep, "threshold": threshold}
        results["methods"][name] = entry

    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for s in SETS:
        print(table(s, per_set[s], qsets[s]))
        print()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
