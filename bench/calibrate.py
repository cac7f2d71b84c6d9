"""Fit the answerability model (assistant/calibration.json) on data independent of the eval sets.

Positives and in-scope negatives: every curated alternate question, asked with itself left out
of the alternates channel (leave-one-out), once as written and once with a synthetic typo; its
label is whether the top passage is the passage it was written for. Keyword searches: each passage's most distinctive words. Out-of-scope negatives:
bench/questions/calibration_oos.txt. Questions that the hard rules already decide (small talk,
no content word, every content word unknown) are not used: the model never sees them.

    .venv/bin/python bench/calibrate.py [--write]

Prints cross-validated log-loss, accuracy of the decisions and the chosen threshold.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from assistant import Assistant
from assistant.text import stem

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "assistant" / "calibration.json"
# A small model generalises best here: richer sets (coverage, alt, word, char, typo share)
# scored no better on held-out questions (bench/quality.md).
NAMES = ("top", "margin", "known", "unknown")
MAX_REFUSED = 0.10


def typo(question: str, rng: random.Random) -> str:
    """The question with one content word mistyped (swap, drop or double a letter)."""
    words = question.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return question
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif kind == "drop":
        w = w[:j] + w[j + 1 :]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def samples(bot: Assistant, log=print) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Feature rows, labels and questions for the model, hard-rule cases left out."""
    rng = random.Random(7)
    rows, labels, questions = [], [], []
    answerer = bot.answerer
    answerer.every_feature = True  # NAMES may hold features the current model does not use

    def add(question: str, label: int) -> None:
        a = answerer.analyze(question, [], 3)
        decided_by_rule = answerer.decide(a)[2] and not (
            a.own.content_terms and any(t.known or t.expansions for t in a.own.content_terms)
        )
        if decided_by_rule or not len(a.ranked.indices):
            return
        rows.append([a.features[n] for n in NAMES])
        labels.append(label)
        questions.append(question)

    alts = list(bot.index.alternates_)
    top1: list[bool] = []
    for j, (i, q) in enumerate(alts):
        bot.index.set_alternates(alts[:j] + alts[j + 1 :])
        for variant in (q, typo(q, rng)):
            add(variant, 1)
            a = answerer.analyze(variant, [], 1)
            top1.append(len(a.ranked.indices) > 0 and int(a.ranked.indices[0]) == i)
    bot.index.set_alternates(alts)
    # keyword searches: each passage's two most distinctive words, alone and as a pair
    idx = bot.index
    for i in range(idx.n_passages_):
        terms = idx.passage_terms(i)
        rare = sorted(terms, key=lambda t: (-float(idx.idf_[idx.vocabulary_[t]]), t))[:2]
        words = [w for w in idx.raw_words_ if stem(w) in rare][:2]
        for q in [*words, " ".join(words)]:
            if q:
                add(q, 1)
    log(f"leave-one-out alternates: top-1 right {sum(top1) / len(top1):.3f} of {len(top1)}")
    oos = (HERE / "questions" / "calibration_oos.txt").read_text(encoding="utf-8").splitlines()
    for q in oos:
        if q.strip() and not q.startswith("#"):
            add(q.strip(), 0)
    return np.array(rows), np.array(labels), questions


def fit(bot: Assistant, log=print) -> dict:
    """Fit the model on the calibration data of this assistant; returns calibration.json's data."""
    X, y, _ = samples(bot, log)
    log(f"{len(y)} samples, {int(y.sum())} positive")
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    best = None
    for C in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0):
        model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
        prob = cross_val_predict(model, X, y, cv=cv, method="predict_proba")[:, 1]
        loss = log_loss(y, prob)
        log(f"C={C:<5} cv log-loss {loss:.4f}")
        if best is None or loss < best[0]:
            best = (loss, C, prob)
    loss, C, prob = best
    thresholds = [round(float(t), 3) for t in np.linspace(0.2, 0.8, 61)]
    # balanced accuracy: refusing out-of-scope questions counts as much as answering in-scope ones
    acc = [
        ((prob >= t) & (y == 1)).sum() / y.sum() / 2
        + ((prob < t) & (y == 0)).sum() / (y == 0).sum() / 2
        for t in thresholds
    ]
    # the product prefers answering: at most 10% of in-scope calibration questions (harder than
    # real ones: their own phrasing is left out) may be refused
    refused = [((prob < t) & (y == 1)).sum() / y.sum() for t in thresholds]
    allowed = [i for i, r in enumerate(refused) if r <= MAX_REFUSED] or [0]
    best_i = max(allowed, key=lambda i: acc[i])
    t = thresholds[best_i]
    answered = prob >= t
    log(
        f"chosen C={C}, threshold {t:.2f}: cv balanced accuracy {acc[best_i]:.3f}, "
        f"no-answer precision {((~answered) & (y == 0)).sum() / max(1, (~answered).sum()):.3f}, "
        f"in-scope refused {((~answered) & (y == 1)).sum() / max(1, y.sum()):.3f}"
    )
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit(X, y)
    return {
        "names": list(NAMES),
        "coef": [round(float(c), 4) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 4),
        "threshold": round(t, 3),
        "note": "fitted by bench/calibrate.py (alternates leave-one-out + calibration_oos.txt)",
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = p.parse_args()
    data = fit(Assistant.load())
    print(json.dumps(data, indent=2))
    if args.write:
        OUT.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
