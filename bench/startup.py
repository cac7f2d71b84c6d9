"""Start-up benchmark: process start to the first 200 on /readyz (/healthz while /readyz is
404) for `assistant serve` on the article and on the Python docs, each cold (an empty index
directory: read, index, write the snapshot) and warm (a fresh snapshot, made beforehand with
`assistant index`), and for the bare FastAPI app (the floor: interpreter, imports, uvicorn).
Runs alternate; medians. Database and index directory live in a temp folder.

    .venv/bin/python bench/startup.py [--runs 5] [--docs-runs 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/: it would shadow `http`

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from bench.common import (  # noqa: E402
    DOCS_CORPUS,
    ROOT,
    VENV_BIN,
    assistant_index,
    free_port,
    machine,
    median,
    proc_status,
    ratio,
    stop,
    table,
    wait_ready,
    write_results,
)


def environment(target: str, tmp: Path, index_dir: Path) -> dict[str, str]:
    """The server's environment: corpus, a temp database and the given index directory."""
    env = dict(os.environ)
    env.pop("ASSISTANT_CORPUS", None)
    env["ASSISTANT_DB"] = str(tmp / "assistant.db")
    env["ASSISTANT_INDEX_DIR"] = str(index_dir)
    if target.startswith("docs"):
        env["ASSISTANT_CORPUS"] = str(DOCS_CORPUS)
    return env


def start_once(target: str, tmp: Path, timeout: float) -> dict:
    """Start one server, wait until ready, read its memory, stop it. A cold target gets an
    empty index directory; a warm one the directory `prepare` filled."""
    port = free_port()
    if target.endswith("cold"):
        index_dir = Path(tempfile.mkdtemp(prefix="index-", dir=tmp))
    else:
        index_dir = tmp / f"index-{target.split('-')[0]}"
    env = environment(target, tmp, index_dir)
    if target == "bare":
        from bench.http_load import uvicorn_options

        cmd = [
            str(VENV_BIN / "python"),
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            *uvicorn_options(port, tmp),
        ]
    else:
        cmd = [str(VENV_BIN / "assistant"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = (tmp / f"{target}.log").open("w")
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    try:
        seconds, path = wait_ready(f"http://127.0.0.1:{port}", proc, timeout, start=t)
        mem = proc_status(proc.pid)
    except (RuntimeError, TimeoutError) as exc:
        stop(proc)
        tail = (tmp / f"{target}.log").read_text()[-1500:]
        return {"error": f"{exc}; log tail: {tail}"}
    finally:
        log.close()
    stop(proc)
    if target.endswith("cold"):
        shutil.rmtree(index_dir, ignore_errors=True)
    return {"seconds": seconds, "path": path, "rss_mb": mem["VmRSS"], "peak_mb": mem["VmHWM"]}


def prepare(target: str, tmp: Path) -> dict:
    """`assistant index` into the warm target's index directory (its snapshot)."""
    index_dir = tmp / f"index-{target.split('-')[0]}"
    env = environment(target, tmp, index_dir)
    out = assistant_index(env, timeout=600)
    return {"status": out.returncode, "output": (out.stdout + out.stderr).strip()[-500:]}


def main() -> int:
    """Alternate the targets, report medians."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs for bare and the article")
    ap.add_argument("--docs-runs", type=int, default=3, help="runs on the Python docs")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    plan = (
        ("bare", args.runs),
        ("article-cold", args.runs),
        ("article-warm", args.runs),
        ("docs-cold", args.docs_runs),
        ("docs-warm", args.docs_runs),
    )
    runs: dict[str, list[dict]] = {target: [] for target, _ in plan}
    prepared = {t: prepare(t, tmp) for t in ("article-warm", "docs-warm")}
    for target, p in prepared.items():
        print(f"prepare {target}: {p}", file=sys.stderr)
    for i in range(max(args.runs, args.docs_runs)):
        for target, n in plan:
            if i < n:
                r = start_once(target, tmp, args.timeout)
                runs[target].append(r)
                print(f"run {i + 1} {target}: {r}", file=sys.stderr)

    summary = {}
    for target, rs in runs.items():
        ok = [r for r in rs if "error" in r] == []
        good = [r for r in rs if "error" not in r]
        summary[target] = {
            "seconds": median(r["seconds"] for r in good),
            "min_s": min((r["seconds"] for r in good), default=float("nan")),
            "max_s": max((r["seconds"] for r in good), default=float("nan")),
            "rss_mb": median(r["rss_mb"] for r in good),
            "peak_mb": median(r["peak_mb"] for r in good),
            "path": sorted({r["path"] for r in good}),
            "runs": len(good),
            "errors": [r["error"] for r in rs if "error" in r],
            "all_ok": ok,
        }
    result = {
        "benchmark": "startup",
        "machine": machine(),
        "prepared": prepared,
        "summary": summary,
        "runs": runs,
    }
    write_results("startup", result)
    labels = {
        "bare": "bare FastAPI app (uvicorn)",
        "article-cold": "assistant serve, article, cold (no snapshot)",
        "article-warm": "assistant serve, article, warm (fresh snapshot)",
        "docs-cold": "assistant serve, Python docs, cold (no snapshot)",
        "docs-warm": "assistant serve, Python docs, warm (fresh snapshot)",
    }
    rows = []
    for target, s in summary.items():
        rows.append(
            (
                labels[target],
                ",".join(s["path"]),
                s["runs"],
                s["seconds"],
                s["min_s"],
                s["max_s"],
                ratio(s["seconds"], summary["bare"]["seconds"]),
                s["rss_mb"],
                "; ".join(s["errors"])[:80],
            )
        )
    print(
        table(
            [
                "server",
                "ready on",
                "runs",
                "median s",
                "min s",
                "max s",
                "x bare",
                "RSS when ready MB",
                "errors",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
