"""Score the assistant in-process on a question file, judged exactly as ../shared/eval/evaluate.py.

A question file has one JSON object per line: {"id", "kind", "question", "expect_lines"} and,
for follow-ups, "conversation" and "turn". expect_lines are 1-based line numbers of the article
file; an answer matches line L when it holds at least 60% of L's distinct words and is at most
120 words long. An empty list means the article does not answer the question.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

COVERAGE = 0.6
MAX_WORDS = 120

Ask = Callable[[str, list[str]], dict[str, Any]]


def words(text: str) -> list[str]:
    """The judge's words: lower case, curly quotes straightened."""
    text = text.lower().replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.findall(r"[a-z0-9]+(?:[.'][a-z0-9]+)*", text)


def article_lines(path: Path) -> dict[int, set[str]]:
    """Each line number of the article with its set of words."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {i: set(words(line)) for i, line in enumerate(lines, 1)}


def matches(answer: str, line_words: set[str]) -> bool:
    """Whether an answer text counts as the given article line."""
    aw = words(answer)
    if not aw or len(aw) > MAX_WORDS or not line_words:
        return False
    return len(line_words & set(aw)) / len(line_words) >= COVERAGE


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The question file's rows."""
    text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def evaluate(ask: Ask, questions: list[dict[str, Any]], lines: dict[int, set[str]]) -> dict:
    """hit@1, MRR@3, out-of-scope precision/recall, per-kind scores and the misses."""
    history: dict[str, list[str]] = defaultdict(list)
    per_kind: dict[str, dict[str, float]] = defaultdict(
        lambda: {"n": 0, "ok": 0, "rr": 0.0, "answered": 0}
    )
    rows, latencies = [], []
    for q in questions:
        conv = q.get("conversation")
        hist = list(history[conv]) if conv else []
        t0 = time.perf_counter()
        reply = ask(q["question"], hist)
        latencies.append(time.perf_counter() - t0)
        if conv:
            history[conv].append(q["question"])
        answered = bool(reply.get("answered"))
        texts = [a.get("text", "") for a in reply.get("answers", [])][:3]
        expect = q["expect_lines"]
        if expect:
            ranks = [r for r, t in enumerate(texts, 1) if any(matches(t, lines[n]) for n in expect)]
            ok = answered and bool(ranks) and ranks[0] == 1
            rr = 1.0 / ranks[0] if ranks else 0.0
        else:
            ok, rr = not answered, 0.0
        k = per_kind[q["kind"]]
        k["n"] += 1
        k["ok"] += ok
        k["rr"] += rr
        k["answered"] += answered
        rows.append(
            {
                "id": q["id"],
                "kind": q["kind"],
                "ok": ok,
                "answered": answered,
                # as evaluate.py: a question is out of scope by its kind (a follow-up that
                # expects a refusal, "and how do I install it?", counts as in scope)
                "in_scope": q["kind"] != "oos",
                "question": q["question"],
                "confidence": reply.get("confidence", 0.0),
                "top": texts[0][:100] if texts else "",
            }
        )
    inscope = [r for r in rows if r["in_scope"]]
    oos = [r for r in rows if not r["in_scope"]]
    refused = [r for r in rows if not r["answered"]]
    return {
        "score": round(sum(r["ok"] for r in rows) / max(1, len(rows)), 4),
        "hit1_inscope": round(sum(r["ok"] for r in inscope) / max(1, len(inscope)), 4),
        "mrr3_inscope": round(sum(v["rr"] for v in per_kind.values()) / max(1, len(inscope)), 4),
        "oos_rejected": round(sum(r["ok"] for r in oos) / max(1, len(oos)), 4),
        # no-answer as a classifier: of the refusals, how many were out of scope (precision);
        # of the out-of-scope questions, how many were refused (recall)
        "no_answer_precision": round(
            sum(not r["in_scope"] for r in refused) / max(1, len(refused)), 4
        ),
        "no_answer_recall": round(sum(not r["answered"] for r in oos) / max(1, len(oos)), 4),
        "inscope_unanswered": round(
            sum(not r["answered"] for r in inscope) / max(1, len(inscope)), 4
        ),
        "by_kind": {k: round(v["ok"] / v["n"], 3) for k, v in sorted(per_kind.items())},
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 3) if latencies else 0.0,
        "n": len(rows),
        "misses": [r for r in rows if not r["ok"]],
    }


def format_report(report: dict) -> str:
    """The report as the lines `assistant eval` prints."""
    out = [
        f"miss {m['id']:8} {m['kind']:10} answered={m['answered']!s:5} "
        f"{m['question'][:60]!r} -> {m['top'][:60]!r}"
        for m in report["misses"]
    ]
    out.append("by kind: " + ", ".join(f"{k} {v:.3f}" for k, v in report["by_kind"].items()))
    out.append(
        f"score {report['score']:.3f}  hit@1 {report['hit1_inscope']:.3f}  "
        f"mrr@3 {report['mrr3_inscope']:.3f}  oos refused {report['oos_rejected']:.3f}  "
        f"no-answer precision {report['no_answer_precision']:.3f} "
        f"recall {report['no_answer_recall']:.3f}  "
        f"in-scope unanswered {report['inscope_unanswered']:.3f}  n {report['n']}"
    )
    return "\n".join(out)
