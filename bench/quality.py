"""Ablation: what each answer-quality method contributes, on the dev set and our held-out set.

Each variant switches one method off, refits the confidence model for it (bench/calibrate.py:
the features change when a method is gone), and is judged as ../shared/eval/evaluate.py
judges. Also reported: leave-one-out top-1 on the curated alternates (a ranking check that
uses neither evaluation set).

    .venv/bin/python bench/quality.py            # writes bench/results/quality.json
    .venv/bin/python bench/quality.py --shipped  # every variant with the shipped model
                                                 # (bench/results/quality_shipped.json)
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import calibrate  # noqa: E402

from assistant import Assistant  # noqa: E402
from assistant import answer as answer_module  # noqa: E402
from assistant import query as query_module  # noqa: E402
from assistant import text as text_module  # noqa: E402
from assistant.answer import Answerer, Calibration  # noqa: E402
from assistant.evaluation import article_lines, evaluate, load_questions  # noqa: E402
from assistant.index import Index  # noqa: E402

SETS = {
    "dev": ROOT.parent / "shared" / "eval" / "dev.jsonl",
    "held-out": HERE / "questions" / "holdout.jsonl",
    "norwegian": HERE / "questions" / "norwegian.jsonl",
    "fresh": HERE / "questions" / "fresh.jsonl",
    "fresh C": HERE / "questions" / "fresh_c.jsonl",
    "fresh D": HERE / "questions" / "fresh_d.jsonl",
    "fresh E": HERE / "questions" / "fresh_e.jsonl",
    "fresh F": HERE / "questions" / "fresh_f.jsonl",
    "fresh G": HERE / "questions" / "fresh_g.jsonl",
    "fresh H": HERE / "questions" / "fresh_h.jsonl",
    "fresh I": HERE / "questions" / "fresh_i.jsonl",
    "fresh J": HERE / "questions" / "fresh_j.jsonl",
    "fresh K": HERE / "questions" / "fresh_k.jsonl",
    "fresh L": HERE / "questions" / "fresh_l.jsonl",
}
HAND_SET = Calibration(("top", "margin", "known", "unknown"), (6.0, 4.0, 3.0, -1.0), -4.5, 0.5)

VARIANTS: dict[str, dict] = {
    "full method": {},
    "no alternate questions (alt channel off)": {"alt_weight": 0.0, "pool_weight": 0.0},
    "no pooled alternates (max over questions only)": {"pool_weight": 0.0},
    "no char n-gram channel": {"char_weight": 0.0},
    "no glossary (synonyms, Norwegian)": {"glossary": False},
    "no typo correction": {"max_edits": 0},
    "typo correction without the common-word guard": {"guard_common_words": False},
    "no length pivot": {"pivot": 0.0},
    "unknown words left out of the query norm": {"unknown_in_norm": False},
    "question words at full weight": {"question_weight": 1.0},
    "question words ('when', 'which') match passages' prose too": {"prose_question_factor": 1.0},
    "no follow-up handling (history ignored)": {"history": False},
    "follow-ups without the reading-order prior": {"near_answer": 0.0},
    "hyphenated words' parts at full weight": {"compound_part_weight": 1.0},
    "no name factor (passages naming what the question names)": {"name_factor": 1.0},
    "no comparison factor (a comparing question, passages that compare)": {"contrast_factor": 1.0},
    "comparatives not read as their adjective (smaller / small)": {"degree_forms": False},
    "chat spellings of small words not read ('doesnt', 'u')": {"chat_forms": False},
    "no 'no passage names that' rule (names the best passage lacks)": {"name_rule": False},
    "no figure rules (a price, count or time span wanted, none in the passage)": {
        "figure_rules": False
    },
    "English questions' words also read as Norwegian forms": {"language_gate": False},
    "hand-set confidence instead of the fitted one": {"calibration": "hand"},
}


@contextmanager
def tables(options: dict):
    """The word tables switched off for a variant: the degree forms (text.stem) and the
    chat spellings (Index.parse), restored afterwards."""
    degree, chat = dict(text_module._DEGREE), query_module.CHAT_FORMS
    figures, mentions = answer_module._QUANTITIES, Index.mentions
    gate = query_module._maybe_norwegian
    if options.get("degree_forms", True) is False:
        text_module._DEGREE.clear()
        text_module._STEM_CACHE.clear()
    if options.get("chat_forms", True) is False:
        query_module.CHAT_FORMS = {}
    if options.get("figure_rules", True) is False:
        answer_module._QUANTITIES = ()
    if options.get("name_rule", True) is False:
        Index.mentions = lambda self, i, stems: True
    if options.get("language_gate", True) is False:
        query_module._maybe_norwegian = lambda tokens: True
    try:
        yield
    finally:
        text_module._DEGREE.update(degree)
        text_module._STEM_CACHE.clear()
        query_module.CHAT_FORMS = chat
        answer_module._QUANTITIES, Index.mentions = figures, mentions
        query_module._maybe_norwegian = gate


def build(options: dict) -> Assistant:
    """The bundled assistant with one method switched off."""
    answer_options = ("glossary", "history", "calibration", "near_answer")
    answer_options += ("degree_forms", "chat_forms", "figure_rules", "name_rule", "language_gate")
    params = {k: v for k, v in options.items() if k not in answer_options}
    bot = Assistant.load(cache_size=0)
    cur = bot.curation
    expansions = cur.expansions if options.get("glossary", True) else {}
    synonyms = cur.synonyms if options.get("glossary", True) else {}
    index = Index(**params).fit(
        [p.text for p in bot.passages], cur.alternates, expansions, synonyms
    )
    bot.index = index
    bot.answerer = Answerer(index, bot.passages, HAND_SET, title=bot.answerer.title)
    bot.answerer.near_answer = options.get("near_answer", bot.answerer.near_answer)
    if options.get("calibration") == "shipped":
        bot.answerer.calibration = Calibration.bundled()
    elif options.get("calibration") != "hand":
        data = calibrate.fit(bot, log=lambda *a: None)
        bot.answerer.calibration = Calibration(
            tuple(data["names"]), tuple(data["coef"]), data["intercept"], data["threshold"]
        )
    return bot


def leave_one_out(bot: Assistant) -> float:
    """Top-1 accuracy of each alternate question asked with itself left out."""
    idx = bot.index
    alts = list(idx.alternates_)
    ok = 0
    for j, (i, q) in enumerate(alts):
        idx.set_alternates(alts[:j] + alts[j + 1 :])
        ok += int(idx.search(idx.parse(q), k=1).indices[0]) == i
    idx.set_alternates(alts)
    return ok / len(alts)


def run_variant(name: str, options: dict, lines: dict) -> dict:
    """One variant built and judged on every question set."""
    bot = build(options)
    use_history = options.get("history", True)
    row = {"variant": name, "loo_top1": round(leave_one_out(bot), 3)}
    for set_name, path in SETS.items():
        report = evaluate(
            lambda q, h, bot=bot, keep=use_history: bot.ask(q, h if keep else [], 3),
            load_questions(path),
            lines,
        )
        report.pop("misses")
        row[set_name] = report
    return row


FRESH = [k for k in SETS if k not in ("dev", "held-out")]
LABELS = {"norwegian": "fresh Norwegian", "fresh": "fresh other kinds"}


def table(rows: list[dict]) -> str:
    """The rows as the Markdown table of bench/quality.md."""
    head = (
        "| variant | dev overall | dev hit@1 | dev oos refused | held-out overall | "
        "held-out hit@1 | held-out oos refused | held-out unanswered | "
        + " | ".join(LABELS.get(k, k) for k in FRESH)
        + " | alternates LOO top-1 |"
    )
    out = [head, "|" + "---|" * (9 + len(FRESH))]
    for r in rows:
        d, h = r["dev"], r["held-out"]
        cells = [
            r["variant"],
            *(f"{x:.3f}" for x in (d["score"], d["hit1_inscope"], d["oos_rejected"])),
            *(f"{h[k]:.3f}" for k in ("score", "hit1_inscope", "oos_rejected")),
            f"{h['inscope_unanswered']:.3f}",
            *(f"{r[k]['score']:.3f}" for k in FRESH),
            f"{r['loo_top1']:.3f}",
        ]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--shipped",
        action="store_true",
        help="judge every variant with the shipped confidence model instead of a refit",
    )
    args = ap.parse_args()
    lines = article_lines(ROOT / "corpus" / "python-for-backend.txt")
    rows = []
    for name, options in VARIANTS.items():
        if args.shipped and options.get("calibration") != "hand":
            options = {**options, "calibration": "shipped"}
        with tables(options):
            row = run_variant(name, options, lines)
        rows.append(row)
        scores = "  ".join(f"{k} {row[k]['score']:.3f}" for k in SETS)
        print(f"{name:48} {scores}  loo {row['loo_top1']:.3f}", flush=True)
    out = HERE / "results" / ("quality_shipped.json" if args.shipped else "quality.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")

    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
