"""In-process benchmark: `Assistant.ask` latency on the article against bm25s top-3 retrieval
over the same passages, in the same process, alternating runs; then a cProfile of the mix.

Every run times each of the 135 holdout questions (follow-ups with their conversation's
earlier turns as history) `--repeat` times, one call at a time; p50/p99 per run, medians over
runs. `ask` runs with the reply cache off (`cache_size=0`): every call parses and ranks; a
last row times the same mix with the cache on, after one pass (every call a hit), for
scale. bm25s: English Snowball stemming (PyStemmer) and English stop words, query tokenisation
included in its time, as `ask` includes its own.

    .venv/bin/python bench/inprocess.py [--runs 7] [--repeat 10]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/: it would shadow `http`

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import time  # noqa: E402

from bench.common import (  # noqa: E402
    BM25Baseline,
    holdout,
    machine,
    median,
    pct,
    profile_top,
    ratio,
    table,
    timed_calls,
    top_own,
    write_results,
)


def main() -> int:
    """Time both, alternating, and profile ours."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=10, help="passes over the mix per run")
    args = ap.parse_args()

    from assistant import Assistant

    t = time.perf_counter()
    bot = Assistant.load(cache_size=0)
    load_s = time.perf_counter() - t
    texts = [p.text for p in bot.passages]
    t = time.perf_counter()
    bm = BM25Baseline(k=3).fit(texts)
    bm_build_s = time.perf_counter() - t

    mix = holdout()
    ours_args = [(r["question"], r["history"], 3) for r in mix]
    bm_args = [(r["question"],) for r in mix]
    timed_calls(bot.ask, ours_args)  # warm-up: caches, first-call costs
    timed_calls(bm.query, bm_args)

    runs: dict[str, list[dict]] = {"ours": [], "bm25s": []}
    per_kind: dict[str, list[float]] = {}
    gc.collect()
    for i in range(args.runs):
        order = ("ours", "bm25s") if i % 2 == 0 else ("bm25s", "ours")
        for name in order:
            if name == "ours":
                lat = timed_calls(bot.ask, ours_args, args.repeat)
                for j, r in enumerate(mix):
                    ks = lat[j :: len(mix)]
                    per_kind.setdefault(r["kind"], []).extend(ks)
            else:
                lat = timed_calls(bm.query, bm_args, args.repeat)
            runs[name].append(
                {
                    "p50_ms": pct(lat, 50),
                    "p99_ms": pct(lat, 99),
                    "mean_ms": sum(lat) / len(lat),
                    "n": len(lat),
                }
            )

    def summary(name: str) -> dict:
        return {m: median(r[m] for r in runs[name]) for m in ("p50_ms", "p99_ms", "mean_ms")}

    ours, base = summary("ours"), summary("bm25s")
    cached_bot = Assistant.load()
    timed_calls(cached_bot.ask, ours_args)  # fills the cache
    hits = timed_calls(cached_bot.ask, ours_args, args.repeat)
    cached = {"p50_ms": pct(hits, 50), "p99_ms": pct(hits, 99), "mean_ms": sum(hits) / len(hits)}
    ratios = {m: ratio(ours[m], base[m]) for m in ours}
    kinds = {k: {"p50_ms": pct(v, 50), "p99_ms": pct(v, 99)} for k, v in per_kind.items()}

    # where ask spends its time: three passes over the mix under cProfile
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for _ in range(3):
        for a in ours_args:
            bot.ask(*a)
    prof.disable()
    prof_s = time.perf_counter() - t
    hot = profile_top(prof, prof_s, n=20)
    own = top_own(prof, prof_s, n=12)

    result = {
        "benchmark": "inprocess",
        "machine": machine(),
        "settings": {
            "runs": args.runs,
            "repeat": args.repeat,
            "questions": len(mix),
            "passages": len(texts),
            "top_k": 3,
        },
        "ours_load_s": load_s,
        "bm25s_build_s": bm_build_s,
        "ours": ours,
        "ours_cache_hits": cached,
        "bm25s": base,
        "ratio_ours_over_bm25s": ratios,
        "ours_by_kind": kinds,
        "runs": runs,
        "profile": {
            "seconds": prof_s,
            "calls": 3 * len(mix),
            "top_cumulative": hot,
            "top_own": own,
        },
        "targets": {"p50_ratio_max": 3.0},
    }
    write_results("inprocess", result)
    print(
        table(
            ["", "p50 ms", "p99 ms", "mean ms"],
            [
                ("Assistant.ask (cache off)", ours["p50_ms"], ours["p99_ms"], ours["mean_ms"]),
                ("bm25s top-3", base["p50_ms"], base["p99_ms"], base["mean_ms"]),
                ("ratio ours/bm25s", ratios["p50_ms"], ratios["p99_ms"], ratios["mean_ms"]),
                ("Assistant.ask, asked before (cache hit)", *cached.values()),
            ],
        )
    )
    print(
        f"\n{len(texts)} passages, {len(mix)} questions x {args.repeat} per run, "
        f"{args.runs} runs; target p50 <= 3x bm25s: "
        f"{'MET' if ratios['p50_ms'] <= 3 else 'NOT MET'}\n"
    )
    print(
        table(
            ["kind", "ours p50 ms", "ours p99 ms"],
            [(k, v["p50_ms"], v["p99_ms"]) for k, v in sorted(kinds.items())],
        )
    )
    print("\nHot spots (cProfile, 3 passes over the mix; share of the total):\n")
    print(
        table(
            ["function", "calls", "cumulative", "own"],
            [
                (h["function"], h["calls"], f"{h['cum_share']:.0%}", f"{h['own_share']:.0%}")
                for h in hot
            ],
        )
    )
    print("\nLargest own time:\n")
    print(
        table(
            ["function", "calls", "own"],
            [(h["function"], h["calls"], f"{h['own_share']:.0%}") for h in own],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
