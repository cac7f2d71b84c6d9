"""Helpers shared by the benchmarks: questions, timing statistics, the bm25s baseline, memory,
processes on free ports, machine facts and result files.

Run the benchmarks from the repository root, e.g. ``.venv/bin/python bench/http_load.py``. Each
script first puts the repository root (not ``bench/``) at the front of ``sys.path``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
HOLDOUT = BENCH / "questions" / "holdout.jsonl"
PYDOCS_QUESTIONS = BENCH / "pydocs_questions.jsonl"
DOCS_CORPUS = Path("/usr/share/doc/python3.11/html")
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
IN_SCOPE = ("direct", "paraphrase", "keyword")


def assistant_index(env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """`assistant index` (build and write the snapshot) in the repository, with this
    environment; output captured as text."""
    return subprocess.run(
        [str(VENV_BIN / "assistant"), "index"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ---------------------------------------------------------------- questions


def holdout() -> list[dict]:
    """The holdout questions, each with the earlier turns of its conversation as `history`."""
    rows = [json.loads(line) for line in HOLDOUT.read_text().splitlines() if line.strip()]
    turns: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        if r.get("conversation"):
            turns.setdefault(r["conversation"], []).append((r.get("turn", 0), r["question"]))
    for r in rows:
        conv = r.get("conversation")
        earlier = sorted(t for t in turns.get(conv, []) if t[0] < r.get("turn", 0)) if conv else []
        r["history"] = [q for _, q in earlier]
    return rows


def http_mix(n_in: int = 8, n_typo: int = 4, n_no: int = 4, n_oos: int = 4) -> list[dict]:
    """About 20 holdout questions: in-scope, typo, Norwegian and out-of-scope, no follow-ups."""
    rows = holdout()
    pick: list[dict] = []
    for kinds, n in (
        (IN_SCOPE, n_in),
        (("typo",), n_typo),
        (("norwegian",), n_no),
        (("oos",), n_oos),
    ):
        chosen = [r for r in rows if r["kind"] in kinds and not r.get("conversation")]
        # spread the in-scope picks over the kinds rather than taking the first n directs
        chosen.sort(key=lambda r: (kinds.index(r["kind"]) if len(kinds) > 1 else 0, r["id"]))
        if len(kinds) > 1:
            by_kind = [[r for r in chosen if r["kind"] == k] for k in kinds]
            chosen = [r for group in zip(*by_kind, strict=False) for r in group]
        pick.extend(chosen[:n])
    return pick


def pydocs_questions() -> list[dict]:
    """The Python-documentation questions of the scale benchmark."""
    text = PYDOCS_QUESTIONS.read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------- statistics


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between closest ranks."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Iterable[float]) -> float:
    """The median, NaN for no values."""
    xs = list(values)
    return statistics.median(xs) if xs else float("nan")


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is zero."""
    return a / b if b else float("nan")


def timed_calls(fn, args_list: Sequence[tuple], repeat: int = 1) -> list[float]:
    """Latency in milliseconds of fn(*args) for each args, `repeat` passes over the list."""
    out = []
    clock = time.perf_counter
    for _ in range(repeat):
        for args in args_list:
            t = clock()
            fn(*args)
            out.append((clock() - t) * 1000.0)
    return out


# ---------------------------------------------------------------- the bm25s baseline


class BM25Baseline:
    """bm25s over passage texts: English Snowball stemming (PyStemmer), English stop words."""

    def __init__(self, k: int = 3):
        self.k = k

    def fit(self, texts: Sequence[str]) -> BM25Baseline:
        """Tokenise and index the texts."""
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self.tokenizer_ = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
        ids = self.tokenizer_.tokenize(list(texts), return_as="ids", show_progress=False)
        self.retriever_ = bm25s.BM25()
        self.retriever_.index(ids, show_progress=False)
        self.k_ = min(self.k, len(texts))
        return self

    def query(self, question: str):
        """Top-k passage indices and scores for one question."""
        ids = self.tokenizer_.tokenize(
            [question], update_vocab=False, return_as="ids", show_progress=False
        )
        return self.retriever_.retrieve(ids, k=self.k_, show_progress=False)

    def save(self, folder: str, texts: Sequence[str]) -> None:
        """bm25s's own on-disk format (arrays + JSON), with the passage texts."""
        self.retriever_.save(folder, corpus=list(texts), show_progress=False)
        self.tokenizer_.save_vocab(folder)

    @classmethod
    def load(cls, folder: str, k: int = 3) -> BM25Baseline:
        """Load what `save` wrote: index, vocabulary and passage texts."""
        import bm25s
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self = cls(k)
        self.retriever_ = bm25s.BM25.load(folder, load_corpus=True, show_progress=False)
        self.tokenizer_ = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
        self.tokenizer_.load_vocab(folder)
        self.k_ = min(k, self.retriever_.scores["num_docs"])
        return self

    def scores_only(self, question: str):
        """bm25s's scores of every passage for one question, without its top-k selection."""
        ids = self.tokenizer_.tokenize(
            [question], update_vocab=False, return_as="ids", show_progress=False
        )
        return self.retriever_.get_scores(list(ids[0]) or [0])


# ---------------------------------------------------------------- memory and processes


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak resident) of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024.0
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET, None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


def post_json(url: str, body: dict, timeout: float = 10.0) -> tuple[int, dict]:
    """POST a JSON body; the status and the decoded JSON reply."""
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def wait_ready(
    base: str, proc: subprocess.Popen, timeout: float, start: float | None = None
) -> tuple[float, str]:
    """Poll /readyz (or /healthz when /readyz is 404) until 200; the seconds since `start`
    (a perf_counter reading, by default now) and the path that answered."""
    start = time.perf_counter() if start is None else start
    path = "/readyz"
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before it was ready")
        status = http_status(base + path, timeout=0.5)
        if status == 404 and path == "/readyz":
            path = "/healthz"
            continue
        if status == 200:
            return time.perf_counter() - start, path
        time.sleep(0.02)
    raise TimeoutError(f"{base}{path} not 200 after {timeout:.0f} s")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a server we started: SIGINT (uvicorn's graceful stop), then SIGKILL."""
    if proc.poll() is None:
        proc.send_signal(2)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- machine and results


def machine() -> dict:
    """CPU, cores, RAM, OS, Python and library versions, date."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text()
    total = int(re.search(r"MemTotal:\s+(\d+)", mem).group(1)) / 1024 / 1024
    versions = {}
    for pkg in (
        "fastapi",
        "uvicorn",
        "starlette",
        "pydantic",
        "numpy",
        "scipy",
        "scikit-learn",
        "bm25s",
        "PyStemmer",
        "rapidfuzz",
        "lxml",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:  # only bench/http_load.py needs wrk; the in-process benchmarks run without it
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        wrk = "not installed"
    wrk = wrk.split("\n")[0]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "ram_gb": round(total, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "wrk": wrk.strip(),
        "versions": versions,
        "assistant_sources_sha1": hashlib.sha1(
            b"".join(p.read_bytes() for p in sorted((ROOT / "assistant").glob("*.py")))
        ).hexdigest()[:12],
        "git": subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
        ).stdout.strip(),
    }


def write_results(name: str, data: dict) -> Path:
    """Write bench/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A markdown table; floats get 3 significant-ish digits."""

    def cell(v) -> str:
        if isinstance(v, float):
            if v != v:
                return "–"
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def profile_top(profile, total_s: float, n: int = 15, prefix: str = "") -> list[dict]:
    """The n functions with the largest cumulative time of a cProfile.Profile, as dicts with
    their share of `total_s`; functions of the profiler harness are left out."""
    import pstats

    stats = pstats.Stats(profile)
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():
        where = file.replace(str(ROOT) + "/", "")
        if "site-packages/" in where:
            where = where.split("site-packages/", 1)[1]
        name = f"{where}:{line}({func})" if line else func
        rows.append({"function": name, "calls": nc, "own_s": tt, "cum_s": ct})
    rows = [r for r in rows if prefix in r["function"]]
    rows = [r for r in rows if "bench/" not in r["function"] and "profile" not in r["function"]]
    rows.sort(key=lambda r: r["cum_s"], reverse=True)
    for r in rows:
        r["cum_share"] = round(r["cum_s"] / total_s, 4) if total_s else None
        r["own_share"] = round(r["own_s"] / total_s, 4) if total_s else None
    return rows[:n]


def top_own(profile, total_s: float, n: int = 10) -> list[dict]:
    """The n functions with the largest own (exclusive) time."""
    rows = profile_top(profile, total_s, n=10_000)
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:n]


# ---------------------------------------------------------------- wrk


def lua_string(s: str) -> str:
    """A Lua string literal (decimal escapes outside printable ASCII)."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        out.append(c if 32 <= b < 127 and c not in '"\\' else f"\\{b:03d}")
    return '"' + "".join(out) + '"'


def wrk_command(url: str, script: Path, seconds: int, threads: int, conns: int) -> list[str]:
    """wrk with a Lua script, latency percentiles and a 5 s socket timeout."""
    return [
        "wrk",
        f"-t{threads}",
        f"-c{conns}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]


def wrk_result(stdout: str) -> dict:
    """The numbers the Lua script's done() printed (a "RESULT {json}" line), with
    throughput, errors (non-2xx + socket errors) and latency percentiles in ms."""
    line = next((ln for ln in stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout}")
    r = json.loads(line[len("RESULT ") :])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    for q in ("p50", "p90", "p99"):
        if f"{q}_us" in r:
            r[f"{q}_ms"] = r[f"{q}_us"] / 1e3
    return r


def run_wrk(url: str, script: Path, seconds: int, threads: int, conns: int) -> dict:
    """One wrk run, waited for; its wrk_result."""
    out = subprocess.run(
        wrk_command(url, script, seconds, threads, conns),
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    return wrk_result(out.stdout)
