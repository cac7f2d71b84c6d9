"""Scale benchmark: the Python 3.11 documentation (Debian's python3.11-doc) as the corpus.

Each measured phase runs in a fresh subprocess of this script (``--phase``), so that peak
memory (VmHWM) is the phase's own:

- ours: ``Assistant.load(/usr/share/doc/python3.11/html)`` (ingestion + index build, with a
  breakdown), then ``ask`` over 50 Python-docs questions (bench/pydocs_questions.jsonl), the
  reply cache off (``cache_size=0``: every call parses and ranks);
- ours_snapshot: ``Assistant.load(..., index_dir=D)``: build + write once, then load from disk;
- bm25s: index build from the same passage texts, then top-3 queries for the same questions;
  bm25s_snapshot: its own save / load (arrays + JSON, with the passage texts);
- curve: the first N passages (1k, 10k, 50k, all) indexed by ``Index().fit(texts)`` and by
  bm25s: query p50/p99 and memory against corpus size, plotted to bench/scale.png;
- profile: cProfile of the docs query mix (and, in its own subprocess, of the load).

ours and bm25s alternate over `--rounds`; medians over rounds, ratios ours / bm25s.

    .venv/bin/python bench/scale.py [--rounds 3] [--repeat 5] [--no-profile-load]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/: it would shadow `http`

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from bench.common import (  # noqa: E402
    BENCH,
    DOCS_CORPUS,
    PYTHON,
    ROOT,
    BM25Baseline,
    machine,
    median,
    pct,
    proc_status,
    profile_top,
    pydocs_questions,
    ratio,
    table,
    timed_calls,
    top_own,
    write_results,
)

SIZES = (1_000, 10_000, 50_000, 0)  # 0: all passages
PHASE_TIMEOUT = 400

# ---------------------------------------------------------------- phases (in a subprocess)


def _timed(owner, name: str, into: dict, key: str) -> None:
    """Wrap owner.name so that its wall time is added to into[key] (a breakdown, not a hack:
    the wrapped function runs unchanged)."""
    fn = getattr(owner, name, None)
    if fn is None:
        return

    def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            into[key] = into.get(key, 0.0) + time.perf_counter() - t

    setattr(owner, name, wrapper)


def phase_ours(args) -> dict:
    """Load the docs with Assistant.load, then time ask over the questions."""
    import assistant.bot as bot_module
    from assistant import Assistant, CorpusError
    from assistant.index import Index

    breakdown: dict[str, float] = {}
    _timed(bot_module, "load_corpus", breakdown, "ingest_s")
    _timed(bot_module, "load_curation", breakdown, "curation_s")
    _timed(Index, "fit", breakdown, "index_fit_s")
    base = proc_status()
    t = time.perf_counter()
    try:
        bot = Assistant.load(args.corpus, cache_size=0)  # every ask parses and ranks
    except CorpusError as exc:
        return {"error": f"CorpusError: {exc}"}
    build_s = time.perf_counter() - t
    breakdown["other_s"] = build_s - sum(breakdown.values())
    after_build = proc_status()
    out = {
        "build_s": build_s,
        "breakdown": breakdown,
        # load_corpus reads in worker processes: the largest one's peak (0: none ran)
        "workers_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "rss_start_mb": base["VmRSS"],
        "peak_after_build_mb": after_build["VmHWM"],
        "rss_after_build_mb": after_build["VmRSS"],
        "passages": len(bot.passages),
        "documents": len(bot.documents),
    }
    if args.dump:
        texts = [p.text for p in bot.passages]
        Path(args.dump).write_text(json.dumps(texts, ensure_ascii=False))
    qs = [(q["question"], [], 3) for q in pydocs_questions()]
    timed_calls(bot.ask, qs)  # warm-up
    gc.collect()
    lat = timed_calls(bot.ask, qs, args.repeat)
    end = proc_status()
    out.update(
        {
            "p50_ms": pct(lat, 50),
            "p99_ms": pct(lat, 99),
            "mean_ms": sum(lat) / len(lat),
            "n": len(lat),
            "peak_mb": end["VmHWM"],
            "rss_end_mb": end["VmRSS"],
            "by_question_ms": {q[0]: pct(lat[i :: len(qs)], 50) for i, q in enumerate(qs)},
        }
    )
    if args.profile:
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        for _ in range(3):
            for q in qs:
                bot.ask(*q)
        prof.disable()
        total = time.perf_counter() - t
        out["profile"] = {
            "seconds": total,
            "calls": 3 * len(qs),
            "top_cumulative": profile_top(prof, total, 20),
            "top_own": top_own(prof, total, 12),
        }
    return out


def phase_ours_snapshot(args) -> dict:
    """Assistant.load with an index directory: build + write when it is empty, load from
    disk when it holds a fresh snapshot; then the same queries."""
    from assistant import Assistant

    empty = not any(Path(args.index_dir).glob("*/snapshot.json"))
    base = proc_status()
    t = time.perf_counter()
    bot = Assistant.load(args.corpus, index_dir=Path(args.index_dir), cache_size=0)
    seconds = time.perf_counter() - t
    after = proc_status()
    qs = [(q["question"], [], 3) for q in pydocs_questions()]
    timed_calls(bot.ask, qs)
    gc.collect()
    lat = timed_calls(bot.ask, qs, args.repeat)
    end = proc_status()
    size = sum(f.stat().st_size for f in Path(args.index_dir).rglob("*") if f.is_file())
    return {
        "mode": "build+write" if empty else "load",
        "seconds": seconds,
        "rss_start_mb": base["VmRSS"],
        "peak_after_load_mb": after["VmHWM"],
        "rss_after_load_mb": after["VmRSS"],
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "peak_mb": end["VmHWM"],
        "rss_end_mb": end["VmRSS"],
        "disk_mb": size / 1e6,
        "passages": len(bot.passages),
    }


def phase_bm25s_snapshot(args) -> dict:
    """bm25s save (when the folder is empty) or load from its own on-disk format."""
    import bm25s.utils.json_functions as bm25s_json

    # bm25s writes JSON with orjson when it is installed (ours depends on it now), and
    # orjson refuses the int keys of a vocabulary built from ids: the standard library's
    bm25s_json.dumps, bm25s_json.loads = bm25s_json.dumps_with_builtin, json.loads
    folder = Path(args.index_dir)
    if not any(folder.glob("*.json")):
        texts = _texts(args)
        bm = BM25Baseline(k=3).fit(texts)
        t = time.perf_counter()
        bm.save(str(folder), texts)
        return {"mode": "write", "seconds": time.perf_counter() - t}
    base = proc_status()
    t = time.perf_counter()
    bm = BM25Baseline.load(str(folder))
    seconds = time.perf_counter() - t
    qs = [(q["question"],) for q in pydocs_questions()]
    timed_calls(bm.query, qs)
    lat = timed_calls(bm.query, qs, args.repeat)
    end = proc_status()
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return {
        "mode": "load",
        "seconds": seconds,
        "rss_start_mb": base["VmRSS"],
        "p50_ms": pct(lat, 50),
        "peak_mb": end["VmHWM"],
        "rss_end_mb": end["VmRSS"],
        "disk_mb": size / 1e6,
    }


def phase_profile_load(args) -> dict:
    """cProfile of Assistant.load on the docs (where ingestion and the build spend time).
    Ingestion runs in this process here (workers=1): in worker processes the profile would
    see only the wait for them."""
    import functools

    import assistant.bot as bot_module
    from assistant import Assistant
    from assistant.corpus import load_corpus

    bot_module.load_corpus = functools.partial(load_corpus, workers=1)

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    Assistant.load(args.corpus)
    prof.disable()
    total = time.perf_counter() - t
    return {
        "seconds": total,
        "top_cumulative": profile_top(prof, total, 30),
        "top_own": top_own(prof, total, 15),
    }


def _texts(args) -> list[str]:
    texts = json.loads(Path(args.texts).read_text())
    return texts[: args.size] if args.size else texts


def phase_bm25s(args) -> dict:
    """Build bm25s over the passage texts, then time top-3 queries."""
    texts = _texts(args)
    gc.collect()
    base = proc_status()
    t = time.perf_counter()
    bm = BM25Baseline(k=3).fit(texts)
    build_s = time.perf_counter() - t
    after_build = proc_status()
    qs = [(q["question"],) for q in pydocs_questions()]
    timed_calls(bm.query, qs)
    gc.collect()
    lat = timed_calls(bm.query, qs, args.repeat)
    end = proc_status()
    scoring = timed_calls(bm.scores_only, qs, args.repeat) if args.phase == "bm25s" else [0.0]
    return {
        "build_s": build_s,
        "passages": len(texts),
        "rss_start_mb": base["VmRSS"],
        "scoring_only_p50_ms": pct(scoring, 50),
        "peak_after_build_mb": after_build["VmHWM"],
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "mean_ms": sum(lat) / len(lat),
        "n": len(lat),
        "peak_mb": end["VmHWM"],
        "rss_end_mb": end["VmRSS"],
        "peak_delta_mb": end["VmHWM"] - base["VmRSS"],
        "rss_delta_mb": end["VmRSS"] - base["VmRSS"],
    }


def phase_curve_ours(args) -> dict:
    """Index().fit on the first N passages, then time parse + search (top 3)."""
    from assistant.index import Index

    texts = _texts(args)
    gc.collect()
    base = proc_status()
    t = time.perf_counter()
    idx = Index().fit(texts)
    build_s = time.perf_counter() - t
    qs = [(q["question"],) for q in pydocs_questions()]

    def query(q: str):
        return idx.search(idx.parse(q), k=3)

    timed_calls(query, qs)
    gc.collect()
    lat = timed_calls(query, qs, args.repeat)
    end = proc_status()
    return {
        "build_s": build_s,
        "passages": len(texts),
        "rss_start_mb": base["VmRSS"],
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "mean_ms": sum(lat) / len(lat),
        "peak_mb": end["VmHWM"],
        "rss_end_mb": end["VmRSS"],
        "peak_delta_mb": end["VmHWM"] - base["VmRSS"],
        "rss_delta_mb": end["VmRSS"] - base["VmRSS"],
    }


PHASES = {
    "ours": phase_ours,
    "bm25s": phase_bm25s,
    "curve_ours": phase_curve_ours,
    "curve_bm25s": phase_bm25s,
    "profile_load": phase_profile_load,
    "ours_snapshot": phase_ours_snapshot,
    "bm25s_snapshot": phase_bm25s_snapshot,
}

# ---------------------------------------------------------------- orchestration


def run_phase(name: str, **kw) -> dict:
    """Run one phase in a fresh interpreter; its JSON result (or the error it ended with)."""
    cmd = [PYTHON, str(BENCH / "scale.py"), "--phase", name]
    for k, v in kw.items():
        if v is True:
            cmd.append(f"--{k}")
        elif v not in (None, False):
            cmd += [f"--{k}", str(v)]
    t = time.perf_counter()
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=PHASE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": f"phase {name} did not finish in {PHASE_TIMEOUT} s"}
    wall = time.perf_counter() - t
    line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{")), None)
    if out.returncode or line is None:
        return {"error": f"phase {name} exited {out.returncode}: {out.stderr[-2000:]}"}
    res = json.loads(line)
    res["process_wall_s"] = wall
    print(
        f"  {name} {kw.get('size') or ''}: "
        + ", ".join(f"{k}={v:.4g}" for k, v in res.items() if isinstance(v, float)),
        file=sys.stderr,
    )
    return res


def summarize(rounds: list[dict], keys: tuple[str, ...]) -> dict:
    """Medians over rounds of the given keys."""
    return {k: median(r[k] for r in rounds if k in r) for k in keys}


def plot(curve: list[dict], path: Path) -> None:
    """Query latency and memory against corpus size, ours and bm25s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, style in (("ours", "o-"), ("bm25s", "s--")):
        pts = [c for c in curve if c["engine"] == name and "error" not in c]
        n = [c["passages"] for c in pts]
        ax1.plot(n, [c["p50_ms"] for c in pts], style, label=f"{name} p50")
        ax1.plot(n, [c["p99_ms"] for c in pts], style, alpha=0.45, label=f"{name} p99")
        ax2.plot(n, [c["peak_delta_mb"] for c in pts], style, label=f"{name} build peak")
        ax2.plot(
            n,
            [c["rss_delta_mb"] for c in pts],
            style,
            alpha=0.45,
            label=f"{name} resident after queries",
        )
    for ax, title, unit in (
        (ax1, "query latency", "ms"),
        (ax2, "memory above the loaded texts", "MB"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("passages (first N of the Python 3.11 docs)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax1.set_title(
        "query latency (ours: Index.parse + search; bm25s: tokenize + retrieve)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    """Parse arguments; run one phase, or orchestrate them all."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="passes over the questions")
    ap.add_argument("--corpus", default=str(DOCS_CORPUS))
    ap.add_argument("--no-profile-load", action="store_true")
    ap.add_argument("--no-curve", action="store_true")
    ap.add_argument("--curve-rounds", type=int, default=2)
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--dump", help=argparse.SUPPRESS)
    ap.add_argument("--index-dir", help=argparse.SUPPRESS)
    ap.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    texts = tmp / "texts.json"
    ours_rounds: list[dict] = []
    bm_rounds: list[dict] = []
    snap, bm_snap = tmp / "index", tmp / "bm25s-index"
    bm_snap.mkdir()
    snap_rounds: list[dict] = []
    bm_snap_rounds: list[dict] = []
    snap_write: dict = {}
    bm_snap_write: dict = {}
    started = time.perf_counter()
    result: dict = {
        "benchmark": "scale",
        "machine": machine(),
        "corpus": args.corpus,
        "loadavg_start": os.getloadavg(),  # a shared machine: how busy it was
        "settings": {
            "rounds": args.rounds,
            "repeat": args.repeat,
            "questions": len(pydocs_questions()),
            "top_k": 3,
        },
    }
    for i in range(args.rounds):
        last = i == args.rounds - 1
        ours = run_phase(
            "ours",
            corpus=args.corpus,
            repeat=args.repeat,
            dump=texts if i == 0 else None,
            profile=last,
        )
        if "error" in ours:
            result["error"] = ours["error"]
            print(f"ours failed: {ours['error']}", file=sys.stderr)
            break
        ours_rounds.append(ours)
        # index snapshot: built and written once (empty folder), loaded in every round
        if i == 0:
            snap_write = run_phase(
                "ours_snapshot", corpus=args.corpus, repeat=args.repeat, **{"index-dir": snap}
            )
        snap_rounds.append(
            run_phase(
                "ours_snapshot", corpus=args.corpus, repeat=args.repeat, **{"index-dir": snap}
            )
        )
        bm_rounds.append(run_phase("bm25s", texts=texts, repeat=args.repeat))
        if i == 0:
            bm_snap_write = run_phase("bm25s_snapshot", texts=texts, **{"index-dir": bm_snap})
        bm_snap_rounds.append(
            run_phase("bm25s_snapshot", texts=texts, repeat=args.repeat, **{"index-dir": bm_snap})
        )
    if "error" not in result:
        keys = ("build_s", "p50_ms", "p99_ms", "mean_ms", "peak_mb", "rss_end_mb")
        ours_s = summarize(ours_rounds, keys)
        ours_s["workers_peak_mb"] = median(r.get("workers_peak_mb", 0.0) for r in ours_rounds)
        ours_s["breakdown"] = {
            k: median(r["breakdown"].get(k, 0.0) for r in ours_rounds)
            for k in ours_rounds[0]["breakdown"]
        }
        bm_s = summarize([r for r in bm_rounds if "error" not in r], (*keys, "scoring_only_p50_ms"))
        result.update(
            {
                "passages": ours_rounds[0]["passages"],
                "documents": ours_rounds[0]["documents"],
                "ours": ours_s,
                "bm25s": bm_s,
                "ratio_ours_over_bm25s": {k: ratio(ours_s[k], bm_s[k]) for k in keys},
                "profile_queries": ours_rounds[-1].get("profile"),
                "rounds": {
                    "ours": [{k: v for k, v in r.items() if k != "profile"} for r in ours_rounds],
                    "bm25s": bm_rounds,
                },
                "snapshot": {
                    "ours_build_and_write": snap_write,
                    "ours_load": summarize(
                        [r for r in snap_rounds if "error" not in r],
                        ("seconds", "p50_ms", "p99_ms", "peak_mb", "rss_end_mb", "disk_mb"),
                    ),
                    "bm25s_write": bm_snap_write,
                    "bm25s_load": summarize(
                        [r for r in bm_snap_rounds if "error" not in r],
                        ("seconds", "p50_ms", "peak_mb", "rss_end_mb", "disk_mb"),
                    ),
                    "rounds": {"ours": snap_rounds, "bm25s": bm_snap_rounds},
                    "errors": [
                        r["error"]
                        for r in [snap_write, bm_snap_write, *snap_rounds, *bm_snap_rounds]
                        if "error" in r
                    ],
                },
            }
        )
        curve = []
        if not args.no_curve:
            raw: dict[tuple[int, str], list[dict]] = {}
            for _ in range(args.curve_rounds):
                for size in SIZES:
                    for engine in ("ours", "bm25s"):
                        r = run_phase(f"curve_{engine}", texts=texts, size=size, repeat=args.repeat)
                        raw.setdefault((size, engine), []).append(r)
            for (size, engine), rs in raw.items():
                good = [r for r in rs if "error" not in r]
                if not good:
                    curve.append({"engine": engine, "size": size or "all", "error": rs[0]["error"]})
                    continue
                point = {
                    k: median(r[k] for r in good)
                    for k, v in good[0].items()
                    if isinstance(v, int | float)
                }
                point.update({"engine": engine, "size": size or "all", "rounds": len(good)})
                point["passages"] = int(point["passages"])
                curve.append(point)
            plot(curve, BENCH / "scale.png")
        result["curve"] = curve
        if not args.no_profile_load:
            result["profile_load"] = run_phase("profile_load", corpus=args.corpus)
    result["wall_s"] = time.perf_counter() - started
    result["loadavg_end"] = os.getloadavg()
    write_results("scale", result)
    report(result)
    return 1 if "error" in result else 0


def report(r: dict) -> None:
    """Print the markdown tables."""
    if "error" in r:
        print(f"**The docs corpus did not load:** {r['error']}")
        return
    o, b, x = r["ours"], r["bm25s"], r["ratio_ours_over_bm25s"]
    snap = r["snapshot"]
    sl, bl = snap["ours_load"], snap["bm25s_load"]
    sw, bw = snap["ours_build_and_write"], snap["bm25s_write"]
    for err in snap["errors"]:
        print(f"snapshot phase failed: {err}")

    def verdict(ok: bool) -> str:
        return "MET" if ok else "NOT MET"

    print(
        f"{r['documents']} documents, {r['passages']} passages; medians of "
        f"{r['settings']['rounds']} rounds; {r['settings']['questions']} questions x "
        f"{r['settings']['repeat']}; load average (1, 5, 15 min) at the start "
        f"{r.get('loadavg_start')}, at the end {r.get('loadavg_end')}\n"
    )
    rows = [
        (
            "ingestion + index build, s",
            o["build_s"],
            b["build_s"],
            x["build_s"],
            f"<= 5x: {verdict(x['build_s'] <= 5)}",
        ),
        (
            "index load from disk (fresh snapshot), s",
            sl["seconds"],
            bl["seconds"],
            ratio(sl["seconds"], bl["seconds"]),
            f"a fraction of the build: {sl['seconds'] / o['build_s']:.0%} of it",
        ),
        (
            "snapshot write (build+write minus build), s",
            sw.get("seconds", float("nan")) - o["build_s"],
            bw.get("seconds", float("nan")),
            "",
            "",
        ),
        (
            "snapshot on disk, MB",
            sl["disk_mb"],
            bl["disk_mb"],
            ratio(sl["disk_mb"], bl["disk_mb"]),
            "",
        ),
        (
            "peak memory, loading the snapshot, MB",
            sl["peak_mb"],
            bl["peak_mb"],
            ratio(sl["peak_mb"], bl["peak_mb"]),
            "",
        ),
        (
            "query p50 after a snapshot load, ms",
            sl["p50_ms"],
            bl["p50_ms"],
            ratio(sl["p50_ms"], bl["p50_ms"]),
            "",
        ),
        (
            "query p50, ms",
            o["p50_ms"],
            b["p50_ms"],
            x["p50_ms"],
            f"<= 3x: {verdict(x['p50_ms'] <= 3)}",
        ),
        ("query p99, ms", o["p99_ms"], b["p99_ms"], x["p99_ms"], ""),
        (
            "bm25s scoring only (no top-k), p50 ms",
            "",
            b["scoring_only_p50_ms"],
            ratio(o["p50_ms"], b["scoring_only_p50_ms"]),
            "see README",
        ),
        (
            "peak memory (VmHWM), MB",
            o["peak_mb"],
            b["peak_mb"],
            x["peak_mb"],
            f"<= 2048 MB: {verdict(o['peak_mb'] <= 2048)}",
        ),
        ("resident after queries, MB", o["rss_end_mb"], b["rss_end_mb"], x["rss_end_mb"], ""),
        ("peak memory of one ingestion worker, MB", o.get("workers_peak_mb", 0.0), "", "", ""),
    ]
    print(table(["", "ours", "bm25s", "ours/bm25s", "target"], rows))
    bd = o["breakdown"]
    print(
        "\nours' load, broken down (s): "
        + ", ".join(f"{k.removesuffix('_s')} {v:.1f}" for k, v in bd.items())
    )
    if r.get("curve"):
        print(
            "\nCurve (first N passages; ours = Index().fit + parse/search; bm25s build and "
            "query; memory = peak above the process after reading the texts):\n"
        )
        rows = []
        for c in r["curve"]:
            if "error" in c:
                rows.append((c["size"], c["engine"], c["error"][:60], "", "", "", ""))
                continue
            rows.append(
                (
                    c["passages"],
                    c["engine"],
                    c["build_s"],
                    c["p50_ms"],
                    c["p99_ms"],
                    c["peak_delta_mb"],
                    c["peak_mb"],
                )
            )
        print(
            table(
                ["passages", "engine", "build s", "p50 ms", "p99 ms", "peak delta MB", "peak MB"],
                rows,
            )
        )
    for label, key in (("docs query mix", "profile_queries"), ("docs load", "profile_load")):
        prof = r.get(key)
        if prof and "top_cumulative" in prof:
            print(f"\nHot spots, {label} (cProfile, {prof['seconds']:.1f} s):\n")
            print(
                table(
                    ["function", "calls", "cumulative", "own"],
                    [
                        (
                            h["function"],
                            h["calls"],
                            f"{h['cum_share']:.0%}",
                            f"{h['own_share']:.0%}",
                        )
                        for h in prof["top_cumulative"][:15]
                    ],
                )
            )
            print(f"\nLargest own time, {label}:\n")
            print(
                table(
                    ["function", "calls", "own"],
                    [
                        (h["function"], h["calls"], f"{h['own_share']:.0%}")
                        for h in prof["top_own"][:10]
                    ],
                )
            )


if __name__ == "__main__":
    sys.exit(main())
