"""The `assistant` command: a thin layer over the library (serve, ask, passages)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import Settings, SettingsError
from .corpus import CorpusError


def _load(settings: Settings):
    from .bot import Assistant

    return Assistant.load(settings.corpus, index_dir=settings.index_dir)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build the corpus's index snapshot now (serve then starts from it)."""
    import shutil
    import time

    from . import snapshot
    from .bot import Assistant

    folder = snapshot.folder_for(settings.index_dir, settings.corpus)
    if args.force:
        shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    bot = Assistant.load(settings.corpus, index_dir=settings.index_dir)
    print(
        f"{len(bot.passages)} passages from {len(bot.documents)} documents, "
        f"ready in {time.perf_counter() - t0:.1f} s: {folder}"
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the web app with uvicorn."""
    import uvicorn

    bot = _load(settings)  # fail fast, with the file's name, on a broken corpus
    if args.workers > 1:
        uvicorn.run(
            "assistant.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
        )
    else:
        from .app import create_app

        uvicorn.run(create_app(settings, bot), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question in the terminal."""
    reply = _load(settings).ask(args.question, args.history or [], args.top_k)
    if args.json:
        print(json.dumps(reply, ensure_ascii=False))
        return 0
    if reply["answered"]:
        best = reply["answers"][0]
        print(best["text"])
        print(f"\n— {best['document']} ({best['url']}), confidence {reply['confidence']:.0%}")
        for other in reply["answers"][1:]:
            print(
                f"\nAlso: {other['text'][:160]}…"
                if len(other["text"]) > 160
                else f"\nAlso: {other['text']}"
            )
    else:
        print(reply["message"])
        for s in reply["suggestions"]:
            print(f"  • {s}")
    return 0


def cmd_passages(args: argparse.Namespace, settings: Settings) -> int:
    """List the passages the corpus was split into."""
    bot = _load(settings)
    rows = [
        {
            "id": p.id,
            "document": p.document,
            "position": p.position,
            "section": p.section,
            "url": p.url,
            "text": p.text,
        }
        for p in bot.passages
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['id']}\t{r['text'][:100]}")
        print(f"{len(rows)} passages", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score a question file in-process, judged as ../shared/eval/evaluate.py judges."""
    from .evaluation import article_lines, evaluate, format_report, load_questions

    bot = _load(settings)
    article = args.article or next(
        (d.path for d in bot.documents if d.path.suffix == ".txt"), bot.documents[0].path
    )
    report = evaluate(
        lambda q, h: bot.ask(q, h, 3), load_questions(args.file), article_lines(article)
    )
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `assistant` command."""
    p = argparse.ArgumentParser(
        prog="assistant",
        description="Answers questions about an article with the passage that answers them.",
        epilog="Set ASSISTANT_CORPUS to a file or folder to use other documents.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "serve",
        help="serve the web app",
        description="Serve the chat page and the API.",
        epilog="example: assistant serve --port 8000",
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_serve)

    a = sub.add_parser(
        "ask",
        help="answer one question in the terminal",
        description="Answer one question in the terminal.",
        epilog='example: assistant ask "Is Django secure?" --json',
    )
    a.add_argument("question")
    a.add_argument("--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}")
    a.add_argument(
        "--history",
        action="append",
        metavar="QUESTION",
        help="an earlier question of the conversation (repeatable, oldest first)",
    )
    a.add_argument("--json", action="store_true", help="print the JSON body of POST /api/ask")
    a.set_defaults(func=cmd_ask)

    ps = sub.add_parser(
        "passages",
        help="list the passages of the corpus",
        description="List the passages the corpus was split into.",
        epilog="example: assistant passages --json",
    )
    ps.add_argument("--json", action="store_true", help="print a JSON array")
    ps.set_defaults(func=cmd_passages)

    ix = sub.add_parser(
        "index",
        help="build the index snapshot of the corpus",
        description="Read and index the corpus and save the snapshot that serve, ask and "
        "passages start from while the corpus is unchanged.",
        epilog="example: ASSISTANT_CORPUS=docs/ assistant index",
    )
    ix.add_argument("--force", action="store_true", help="rebuild even when the snapshot is fresh")
    ix.set_defaults(func=cmd_index)

    e = sub.add_parser(
        "eval",
        help="score a question file in-process",
        description="Score a question file (JSON lines) in-process: hit@1, "
        "MRR@3, out-of-scope precision/recall, per-kind scores, misses.",
        epilog="example: assistant eval ../shared/eval/dev.jsonl",
    )
    e.add_argument("file", type=Path)
    e.add_argument(
        "--article",
        type=Path,
        default=None,
        help="the file whose line numbers expect_lines refer to "
        "(default: the corpus's first .txt document)",
    )
    e.add_argument("--json", action="store_true", help="print the whole report as JSON")
    e.set_defaults(func=cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `assistant` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if getattr(args, "question", None) is not None and not args.question.strip():
            print("assistant: error: the question is empty", file=sys.stderr)
            return 2
        return args.func(args, settings)
    except (CorpusError, SettingsError) as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `assistant passages | head`: the reader is gone, and that is fine
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
